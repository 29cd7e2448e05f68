import Foundation
import KApp
import KClinic
@_spi(Drill) import KStore
import Testing

/// The tamper drill (tools/tamper-drill.sh) in short: `kstore-drill tamper` damages a store of the
/// four case fixtures; `audit verify` names the first bad sequence of a changed byte, a removed
/// event and two swapped events by itself, and of a tail rewritten with recomputed hashes given a
/// checkpoint taken before. Plus keys, checkpoints and the projection check.
@Suite(.serialized) final class TamperTests {
    /// Keys and checkpoint files of one test, removed after it.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-tamper-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    static let fixtures = [
        "case1-long-term-maintenance", "case2-successful-transition", "case3-tolerance-management", "case4-poorly-documented",
    ]

    /// A store with the four case fixtures (about 1,400 events).
    func fixtureStore(_ body: (ClinicStore) throws -> Void) throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            for name in TamperTests.fixtures {
                let bytes = try #require(
                    FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
                _ = try importer.importNDJSON([UInt8](bytes), source: name)
            }
            #expect(try store.log.count() > 1_000)
            try body(store)
        }
    }

    func temporaryPath(_ name: String) -> String {
        scratch + "/\(UUID().uuidString)-\(name)"
    }

    /// A fresh key pair in a temporary directory: (private key file, public key file).
    func keyPair() throws -> (String, String) {
        let dir = temporaryPath("keys")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let keys = try SigningKeys.generate(prefix: dir + "/reviewer")
        return (keys.privatePath, keys.publicPath)
    }

    func drill(_ store: ClinicStore, _ mode: String, at: UInt64) throws -> String {
        let drill = try #require(executable("kstore-drill"), "kstore-drill is not built; run `swift build --build-tests` first")
        let r = try run(drill, ["tamper", "--store", store.path, "--mode", mode, "--at", String(at)])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    /// A fresh handle: the drill changed the store in another process.
    func reopened(_ store: ClinicStore) throws -> ClinicStore { try ClinicStore.open(at: store.path) }

    // MARK: The four tampers

    @Test func aChangedPayloadByteIsNamedByPlainVerify() throws {
        try fixtureStore { store in
            let out = try drill(store, "byte", at: 700)
            #expect(out.hasPrefix("byte: record 700 "))
            let report = try LogAudit.verify(try reopened(store))
            #expect(!report.ok)
            #expect(report.problems.first?.sequence == 700)
            #expect(report.problems.first?.kind == .hashMismatch)
        }
    }

    @Test func aDeletedEventIsNamedByPlainVerify() throws {
        try fixtureStore { store in
            _ = try drill(store, "delete", at: 700)
            let report = try LogAudit.verify(try reopened(store))
            #expect(report.problems.first?.sequence == 700)
            #expect(report.problems.first?.kind == .missing)
        }
    }

    @Test func swappedEventsAreNamedByPlainVerify() throws {
        try fixtureStore { store in
            _ = try drill(store, "swap", at: 700)
            let report = try LogAudit.verify(try reopened(store))
            #expect(report.problems.first?.sequence == 700)
            #expect(report.problems.contains { $0.sequence == 700 && $0.kind == .sequenceMismatch })
            #expect(report.problems.allSatisfy { $0.sequence >= 700 })
        }
    }

    @Test func aRewrittenTailPassesPlainVerifyButNotACheckpointTakenBefore() throws {
        try fixtureStore { store in
            // Stored projections too: the forger rebuilds them, so they give nothing away.
            try ProjectionEngine(store: store).catchUp()
            let (priv, pub) = try keyPair()
            let n = try store.log.count()
            let exact = try Checkpoint.take(store, through: n, key: try SigningKeys.loadPrivate(priv), stride: 1)
            let sparse = try Checkpoint.take(store, through: n, key: try SigningKeys.loadPrivate(priv), stride: 64)
            let byDefault = try Checkpoint.take(store, through: n, key: try SigningKeys.loadPrivate(priv))
            #expect(byDefault.stride == Checkpoint.defaultStride(for: n) && UInt64(byDefault.marks.count) <= Checkpoint.maxMarks)
            let out = try drill(store, "rewrite", at: 700)
            #expect(out.contains("stored projections rebuilt"), "\(out)")

            let forged = try reopened(store)
            let plain = try LogAudit.audit(forged)
            #expect(plain.report.ok, "\(plain.report.problems)")
            #expect(plain.projections == .compared(checkpoint: n, patients: 4))

            // Every mark: exactly the first rewritten record.
            let caught = try LogAudit.audit(forged, checkpoint: exact)
            #expect(caught.extendsCheckpoint == false)
            #expect(caught.report.problems.count == 1)
            #expect(caught.report.problems.first?.sequence == 700)
            #expect(caught.report.problems.first?.kind == .checkpoint)
            #expect(caught.report.problems.first?.detail.contains("record 700 is the first") == true)

            // Every 64th: the range after the last matching mark (640) through the first failing (704).
            let ranged = try LogAudit.audit(forged, checkpoint: sparse).report.problems
            #expect(ranged.map(\.sequence) == [641])
            #expect(ranged.first?.detail.contains("641–704") == true, "\(ranged)")

            // The whole way through the CLI, with the files a reviewer keeps.
            let kstore = try #require(executable("kstore"))
            let file = temporaryPath("checkpoint.json")
            try Data(JSONWriter.string(exact.json).utf8).write(to: URL(fileURLWithPath: file))
            let r = try run(kstore, ["audit", "verify", "--store", store.path, "--checkpoint", file, "--public-key", pub])
            #expect(r.status == 1)
            #expect(r.stdout.contains("first bad sequence 700"), "\(r.stdout)")
            #expect(try run(kstore, ["audit", "verify", "--store", store.path]).status == 0)
        }
    }

    // MARK: Keys and checkpoints

    @Test func keygenCheckpointVerifyRoundTripThroughTheCLI() throws {
        let kstore = try #require(executable("kstore"))
        try fixtureStore { store in
            let dir = temporaryPath("round-trip")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let prefix = dir + "/reviewer"
            let keygen = try run(kstore, ["audit", "keygen", "--out", prefix])
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: prefix)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let pubText = try String(contentsOfFile: prefix + ".pub", encoding: .utf8)
            #expect(pubText.hasPrefix("ed25519-public:") && pubText.count == "ed25519-public:".count + 64 + 1)
            // Never overwritten.
            let again = try run(kstore, ["audit", "keygen", "--out", prefix])
            #expect(again.status == 64)
            #expect(try String(contentsOfFile: prefix + ".pub", encoding: .utf8) == pubText)

            let cp = try run(kstore, ["audit", "checkpoint", "--store", store.path, "--key", prefix])
            #expect(cp.status == 0, "\(cp.stderr)")
            let file = dir + "/checkpoint.json"
            try Data(cp.stdout.utf8).write(to: URL(fileURLWithPath: file))
            let parsed = try Checkpoint.parse(Array(cp.stdout.utf8), source: file)
            #expect(parsed.sequence == (try store.log.count()))
            #expect(parsed.storeId == hex(store.log.storeId))
            #expect(pubText.contains(parsed.publicKey))

            let ok = try run(
                kstore, ["audit", "verify", "--store", store.path, "--checkpoint", file, "--public-key", prefix + ".pub", "--json"])
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
            let json = try JSONParser.parse(ok.stdout)
            #expect(json["ok"] == .bool(true))
            #expect(json["checkpoint"]?["extended"] == .bool(true))
            // A log that grew still extends it.
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line("ScoreRecorded", patient: "C1", at: "2026-11-20T09:00:00-05:00", data: #"{"instrument":"MADRS","value":8}"#).utf8),
                source: "more")
            #expect(
                try run(kstore, ["audit", "verify", "--store", store.path, "--checkpoint", file, "--public-key", prefix + ".pub"]).status
                    == 0)

            // Usage and bad files.
            #expect(try run(kstore, ["audit", "verify", "--store", store.path, "--checkpoint", file]).status == 64)
            #expect(try run(kstore, ["audit", "verify", "--store", store.path, "--checkpoint", file, "--public-key", prefix]).status == 65)
            #expect(try run(kstore, ["audit", "checkpoint", "--store", store.path, "--key", prefix + ".pub"]).status == 65)
            try Data("not json".utf8).write(to: URL(fileURLWithPath: dir + "/garbage.json"))
            #expect(
                try run(
                    kstore,
                    ["audit", "verify", "--store", store.path, "--checkpoint", dir + "/garbage.json", "--public-key", prefix + ".pub"]
                ).status == 65)
        }
    }

    @Test func aCheckpointIsRefusedUnderAnotherKeyOrWhenAltered() throws {
        try fixtureStore { store in
            let (priv, pub) = try keyPair()
            let (_, otherPub) = try keyPair()
            let cp = try Checkpoint.take(store, through: try store.log.count(), key: try SigningKeys.loadPrivate(priv))
            let file = temporaryPath("cp.json")
            try Data(JSONWriter.string(cp.json).utf8).write(to: URL(fileURLWithPath: file))
            #expect(try Checkpoint.load(path: file, publicKeyPath: pub) == cp)
            // Another reviewer's key.
            #expect { try Checkpoint.load(path: file, publicKeyPath: otherPub) } throws: { error in
                guard case AppError.badInput(let lines) = error else { return false }
                return lines.first?.description.contains("publicKey: signed by key") == true
            }
            // Any field changed after signing (here: a shorter log vouched for, marks adjusted).
            var altered = cp
            altered.sequence -= cp.stride
            altered.marks.removeLast()
            try Data(JSONWriter.string(altered.json).utf8).write(to: URL(fileURLWithPath: file))
            #expect { try Checkpoint.load(path: file, publicKeyPath: pub) } throws: { error in
                guard case AppError.badInput(let lines) = error else { return false }
                return lines.first?.description.contains("signature: does not verify") == true
            }
            // An unsigned extra field.
            guard case .object(var members) = cp.json else { return }
            members.append(("note", .string("trust me")))
            try Data(JSONWriter.string(.object(members)).utf8).write(to: URL(fileURLWithPath: file))
            #expect(throws: AppError.self) { try Checkpoint.load(path: file, publicKeyPath: pub) }
        }
    }

    @Test func aCheckpointOfAnotherStoreIsRefused() throws {
        let (priv, _) = try keyPair()
        let key = try SigningKeys.loadPrivate(priv)
        try fixtureStore { other in
            let foreign = try Checkpoint.take(other, through: try other.log.count(), key: key)
            try fixtureStore { store in
                let result = try LogAudit.audit(store, checkpoint: foreign)
                #expect(result.extendsCheckpoint == false)
                #expect(result.report.problems.map(\.kind) == [.checkpoint])
                #expect(result.report.problems.first?.detail.contains("not the one checkpointed") == true)
            }
        }
    }

    @Test func aTruncatedLogNoLongerExtendsTheCheckpoint() throws {
        try fixtureStore { store in
            let (priv, _) = try keyPair()
            let n = try store.log.count()
            let cp = try Checkpoint.take(store, through: n, key: try SigningKeys.loadPrivate(priv), stride: 1)
            let tamper = LogTamper(drillsOnly: store.log)
            for seq in (n - 2)...n { try tamper.deleteRaw(seq) }
            let problems = try LogAudit.audit(store, checkpoint: cp).report.problems
            #expect(problems.contains { $0.kind == .checkpoint && $0.sequence == n - 2 })
        }
    }

    // MARK: Projections

    @Test func storedProjectionsAfterCatchUpsWithLateEventsAndCorrectionsEqualAFreshReplay() throws {
        try fixtureStore { store in
            let engine = ProjectionEngine(store: store)
            #expect(try LogAudit.audit(store).projections == .noneStored)
            try engine.catchUp()
            let importer = Importer(store: store)
            // A late-recorded score (refolds that patient) and one dated after everything.
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "ScoreRecorded", patient: "C1", at: "2025-03-05T08:00:00-05:00",
                        data: #"{"instrument":"MADRS","value":9}"#
                    ).utf8), source: "late")
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "ScoreRecorded", patient: "C2", at: "2026-11-20T08:00:00-05:00",
                        data: #"{"instrument":"MADRS","value":7}"#
                    ).utf8), source: "new")
            try engine.catchUp()
            // A correction: void the event just appended (refolds that patient in the catch-up).
            let target = try store.log.read { reader in
                try reader.record(try store.log.count()).map { EventMapping.uuid($0.eventId).uuidString.lowercased() }
            }
            let voidLine = line(
                "EventVoided", patient: "C2", at: "2026-11-21T08:00:00-05:00", actor: "dr.hale", role: "clinician",
                data: #"{"target":"\#(target ?? "")","reason":"wrong patient"}"#)
            _ = try importer.importNDJSON(Array(voidLine.utf8), source: "void")
            try engine.catchUp()
            let result = try LogAudit.audit(store)
            #expect(result.report.ok, "\(result.report.problems)")
            #expect(result.projections == .compared(checkpoint: try store.log.count(), patients: 4))
        }
    }

    @Test func projectionsStoredByAnAdoptedRuleSetEqualAFreshReplayUnderIt() throws {
        try fixtureStore { store in
            let engine = ProjectionEngine(store: store)
            var rules = RuleSet.default
            rules.version = "tamper-7x6"
            rules.ladder[0].treatments = 6
            // Stored through the event before the adoption, under the adopted rules.
            _ = try engine.replay(newRules: rules, apply: true, on: try #require(Day(iso: "2026-11-20")))
            let result = try LogAudit.audit(store)
            #expect(result.report.ok, "\(result.report.problems)")
            #expect(result.projections == .compared(checkpoint: try store.log.count() - 1, patients: 4))
            // Then a catch-up past the adoption.
            try engine.catchUp()
            #expect(try LogAudit.audit(store).projections == .compared(checkpoint: try store.log.count(), patients: 4))
        }
    }

    @Test func aChangedStoredProjectionIsNamedByPatient() throws {
        try fixtureStore { store in
            let engine = ProjectionEngine(store: store)
            try engine.catchUp()
            // Put C3's projection under C1's name.
            try store.log.writeAuxiliary { writer in
                guard let db = writer.auxiliary("projections"), let c3 = try writer.txn.get(db, Array("C3".utf8))?.copiedBytes else {
                    return
                }
                try writer.txn.put(db, Array("C1".utf8), c3)
            }
            let n = try store.log.count()
            let report = try LogAudit.verify(store)
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.kind == .content)
            #expect(report.problems.first?.sequence == n)
            #expect(report.problems.first?.detail.contains("patient C1") == true, "\(report.problems)")
        }
    }
}

/// Stored projections are a cache of the folds: made by other folds, or damaged, they are
/// rebuilt from the log, never caught up from what they say.
@Suite struct StoredProjectionStalenessTests {
    func phaseJSON(_ engine: ProjectionEngine, on: Day) throws -> String {
        try engine.phase(patient: nil, on: on, asOf: nil).map { JSONWriter.string(Views.phase($0)) }.joined(separator: "\n")
    }

    @Test func projectionsMadeByAnOlderFoldAreRebuiltAndVerifySaysSo() throws {
        try (try TamperTests()).fixtureStore { store in
            let engine = ProjectionEngine(store: store)
            let on = try #require(Day(year: 2026, month: 11, day: 30))
            let expected = try phaseJSON(engine, on: on)
            // As an older kstore left them: no fold version, and (say) one patient's state wrong.
            try store.log.writeAuxiliary { writer in
                guard let meta = writer.auxiliary("projmeta"), let db = writer.auxiliary("projections"),
                    let c3 = try writer.txn.get(db, Array("C3".utf8))?.copiedBytes
                else { return }
                _ = try writer.txn.delete(meta, Array("foldVersion".utf8))
                try writer.txn.put(db, Array("C1".utf8), c3)
            }
            let report = try LogAudit.audit(store)
            #expect(report.report.problems.isEmpty, "\(report.report.problems)")
            guard case .skipped(let why) = report.projections else {
                Issue.record("expected the projection check to be skipped, got \(report.projections)")
                return
            }
            #expect(why.contains("before protocol revision 4"))
            // The next query rebuilds (it does not catch up from C1's wrong state).
            #expect(try phaseJSON(ProjectionEngine(store: store), on: on) == expected)
            let after = try LogAudit.audit(store)
            #expect(after.report.problems.isEmpty)
            guard case .compared = after.projections else {
                Issue.record("expected a comparison after the rebuild, got \(after.projections)")
                return
            }
        }
    }

    @Test func aStoredProjectionThatDoesNotDecodeIsRefoldedFromItsStream() throws {
        try (try TamperTests()).fixtureStore { store in
            let engine = ProjectionEngine(store: store)
            let on = try #require(Day(year: 2026, month: 11, day: 30))
            let expected = try phaseJSON(engine, on: on)
            try store.log.writeAuxiliary { writer in
                guard let db = writer.auxiliary("projections") else { return }
                try writer.txn.put(db, Array("C1".utf8), [0xFF, 0x00, 0x01])
            }
            #expect(try phaseJSON(ProjectionEngine(store: store), on: on) == expected)
            let one = try ProjectionEngine(store: store).phase(patient: "C1", on: on, asOf: nil)
            #expect(
                one.map { JSONWriter.string(Views.phase($0)) }
                    == expected.split(separator: "\n").map(String.init).filter { $0.contains("\"C1\"") })
        }
    }
}

/// issue 11: every reader can write the store, so the access log's length and head are signed
/// into checkpoints; backup and `replay --rules` are audited reads.
@Suite struct AccessLogCheckpointTests {
    func readSomething(_ store: ClinicStore, _ patients: [String]) throws {
        try AccessLog.record(store, command: "kstore query phase", patients: patients)
    }

    @Test func aCheckpointSignsTheAccessLogAndVerifyNamesACutOrARewrite() throws {
        let t = try TamperTests()
        try t.fixtureStore { store in
            let (priv, pub) = try t.keyPair()
            for p in ["C1", "C2", "C3"] { try readSomething(store, [p]) }
            let cp = try Checkpoint.take(store, through: try store.log.count(), key: try SigningKeys.loadPrivate(priv))
            #expect(cp.accessLength == 3)
            // Signed and loaded back with the fields.
            let file = t.temporaryPath("cp.json")
            try Data(JSONWriter.string(cp.json).utf8).write(to: URL(fileURLWithPath: file))
            #expect(try Checkpoint.load(path: file, publicKeyPath: pub) == cp)
            #expect(JSONWriter.string(cp.json).contains(#""format":"kstore-checkpoint-2""#))
            // More reads later: the log still extends the checkpoint.
            try readSomething(store, ["C4"])
            #expect(try LogAudit.audit(store, checkpoint: cp).report.problems.isEmpty)
            // A reader erases the record of their reads (the last two): cut.
            try store.log.writeAuxiliary { writer in
                guard let db = writer.auxiliary("access") else { return }
                for k in [UInt64(4), 3] { _ = try writer.txn.delete(db, withUnsafeBytes(of: k.bigEndian) { Array($0) }) }
            }
            let cut = try LogAudit.audit(store, checkpoint: cp).report.problems
            #expect(cut.map(\.kind) == [.checkpoint])
            #expect(
                cut.first?.detail.contains(
                    "the access log was cut: the checkpoint of \(cp.createdAt) signed 3 recorded reads, the store now holds 2") == true,
                "\(cut)")
            // Re-adding a forged read 3 with a consistent chain: rewritten (its hash differs).
            try readSomething(store, ["C9"])
            let forged = try LogAudit.audit(store, checkpoint: cp).report.problems
            #expect(forged.first?.detail.contains("the access log was rewritten: read 3 is not the one") == true, "\(forged)")
        }
    }

    @Test func aCheckpointOfTheOlderFormatStillVerifiesTheEventLog() throws {
        let t = try TamperTests()
        try t.fixtureStore { store in
            let (priv, pub) = try t.keyPair()
            let key = try SigningKeys.loadPrivate(priv)
            var cp = try Checkpoint.take(store, through: try store.log.count(), key: key)
            cp.accessLength = nil
            cp.accessHead = nil
            cp.signature = cp.signedBytes.isEmpty ? "" : try key.signature(for: cp.signedBytes).map { String(format: "%02x", $0) }.joined()
            #expect(JSONWriter.string(cp.json).contains(#""format":"kstore-checkpoint-1""#))
            let file = t.temporaryPath("cp1.json")
            try Data(JSONWriter.string(cp.json).utf8).write(to: URL(fileURLWithPath: file))
            let loaded = try Checkpoint.load(path: file, publicKeyPath: pub)
            #expect(loaded.accessLength == nil)
            #expect(try LogAudit.audit(store, checkpoint: loaded).report.problems.isEmpty)
        }
    }
}
