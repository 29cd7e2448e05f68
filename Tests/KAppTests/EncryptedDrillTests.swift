import Foundation
import Glibc
import KApp
import KClinic
import KStore
import Testing

/// issue 16: the short drills of DrillTests and TamperTests on encrypted stores. Each test makes
/// a master key in a 0700 directory of its own (outside the store), creates the store with it,
/// and hands it to the `kstore` and `kstore-drill` processes as `KSTORE_KEY_FILE`.
@Suite(.serialized) final class EncryptedDrillTests {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-encdrill-\(UUID().uuidString)").path
    let keyFile: String
    var store: String { scratch + "/store" }

    init() throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let keys = scratch + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        keyFile = keys + "/master.key"
        _ = try MasterKeys.generate(out: keyFile)
    }
    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    /// A process with the key in its environment (or, with `key: false`, without any).
    func process(_ path: String, _ args: [String], key: Bool = true) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["KSTORE_KEY_FILE"] = key ? keyFile : nil
        p.environment = env
        return p
    }

    func runWith(_ path: String, _ args: [String], key: Bool = true) throws -> RunResult {
        let p = process(path, args, key: key)
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return RunResult(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func created() throws -> ClinicStore {
        let s = try ClinicStore.create(at: store, masterKeyFile: keyFile)
        #expect(s.log.isEncrypted)
        try registerTestActors(s)
        return s
    }

    func opened() throws -> ClinicStore { try ClinicStore.open(at: store, keyFile: keyFile) }

    @Test func crashDrillShortEncrypted() throws {
        guard let drill = executable("kstore-drill") else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        _ = try created()
        var rng = SystemRandomNumberGenerator()
        for kill in 1...5 {
            let p = process(drill, ["write-loop", "--store", store, "--batch", String(Int.random(in: 1...120, using: &rng))])
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 80_000...300_000, using: &rng))
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let done = text.split(separator: "\n").filter { $0.hasPrefix("done ") }
            let s = try opened()
            let report = try LogAudit.verify(s)
            #expect(report.ok, "kill \(kill): \(report.problems)")
            let keyless = try LogAudit.verify(try ClinicStore.open(at: store, keyless: true))
            #expect(keyless.ok && keyless.events == report.events, "kill \(kill) (without the key): \(keyless.problems)")
            if let last = done.last {
                let parts = last.split(separator: " ")
                let seq = try #require(UInt64(parts[2]))
                #expect(seq <= report.events)
                let stored = try s.log.read { try $0.record(seq).map { EventMapping.uuid($0.eventId).uuidString.lowercased() } }
                #expect(stored == String(parts[3]), "kill \(kill): sequence \(seq)")
            }
        }
    }

    @Test func concurrencyDrillShortEncrypted() throws {
        guard let drill = executable("kstore-drill") else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        let base = try created().log.count()
        let procs = (1...4).map { tag -> Process in
            let p = process(drill, ["append", "--store", store, "--count", "100", "--tag", String(tag)])
            p.standardOutput = FileHandle.nullDevice
            return p
        }
        for p in procs { try p.run() }
        for p in procs {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let s = try opened()
        let report = try LogAudit.verify(s)
        #expect(report.ok, "\(report.problems)")
        #expect(report.events == base + 400)
        #expect(try LogAudit.verify(try ClinicStore.open(at: store, keyless: true)).ok)
    }

    @Test func replayApplyKilledOnAnEncryptedStoreLeavesOldOrNew() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let s = try created()
        let importer = Importer(store: s)
        for name in ["case1-long-term-maintenance", "case2-successful-transition", "case3-tolerance-management"] {
            let bytes = try #require(
                FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
            _ = try importer.importNDJSON([UInt8](bytes), source: name)
        }
        let a = scratch + "/a.json"
        let b = scratch + "/b.json"
        try #"{"version":"drill-a","ladder":[{"intervalDays":7,"treatments":2},{"intervalDays":28,"treatments":null}]}"#.write(
            toFile: a, atomically: true, encoding: .utf8)
        try #"{"version":"drill-b","ladder":[{"intervalDays":7,"treatments":6},{"intervalDays":35,"treatments":null}]}"#.write(
            toFile: b, atomically: true, encoding: .utf8)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<4 {
            let p = process(kstore, ["replay", "--store", store, "--rules", i % 2 == 0 ? b : a, "--apply"])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 1_000...60_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let shown = try runWith(kstore, ["rules", "show", "--store", store, "--json"])
            let doc = try JSONParser.parse(shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .string(let hash)? = doc["contentHash"] else {
                Issue.record("rules show: \(shown.stdout) \(shown.stderr)")
                return
            }
            if case .object? = doc["projections"] {
                #expect(doc["projections"]?["rulesHash"] == .string(hash), "kill \(i): \(shown.stdout)")
            }
            #expect(try runWith(kstore, ["audit", "verify", "--store", store]).status == 0)
        }
    }

    /// The tamper drill on an encrypted store: each case on a fresh store of the four fixtures.
    func tampered(_ mode: String, at: UInt64 = 700) throws -> (withKey: VerifyReport, keyless: VerifyReport, out: String) {
        let drill = try #require(executable("kstore-drill"), "kstore-drill is not built; run `swift build --build-tests` first")
        let s = try created()
        let importer = Importer(store: s)
        for name in TamperTests.fixtures {
            let bytes = try #require(
                FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
            _ = try importer.importNDJSON([UInt8](bytes), source: name)
        }
        try ProjectionEngine(store: s).catchUp()
        let r = try runWith(drill, ["tamper", "--store", store, "--mode", mode, "--at", String(at)], key: mode != "flip")
        #expect(r.status == 0, "\(r.stderr)")
        return (try LogAudit.verify(try opened()), try LogAudit.verify(try ClinicStore.open(at: store, keyless: true)), r.stdout)
    }

    @Test func aResealedPayloadByteIsNamedWithAndWithoutTheKey() throws {
        let (withKey, keyless, out) = try tampered("byte")
        #expect(out.contains("sealed again with the key"), "\(out)")
        #expect(withKey.problems.first?.sequence == 700 && withKey.problems.first?.kind == .hashMismatch, "\(withKey.problems)")
        #expect(keyless.problems.first?.sequence == 700 && keyless.problems.first?.kind == .hashMismatch, "\(keyless.problems)")
    }

    @Test func aDeletedOrSwappedSealedRecordIsNamed() throws {
        let (deleted, deletedKeyless, _) = try tampered("delete")
        #expect(deleted.problems.first?.sequence == 700 && deleted.problems.first?.kind == .missing)
        #expect(deletedKeyless.problems.first?.sequence == 700 && deletedKeyless.problems.first?.kind == .missing)
        try FileManager.default.removeItem(atPath: store)
        let (swapped, swappedKeyless, _) = try tampered("swap")
        #expect(swapped.problems.contains { $0.sequence == 700 && $0.kind == .sequenceMismatch }, "\(swapped.problems)")
        #expect(swappedKeyless.problems.first?.sequence == 700, "\(swappedKeyless.problems)")
    }

    @Test func aRewriteWithRecomputedHashesPassesButNotACheckpoint() throws {
        let t = try TamperTests()
        let (priv, _) = try t.keyPair()
        let signing = try SigningKeys.loadPrivate(priv)
        defer { withExtendedLifetime(t) {} }
        // The checkpoint before the rewrite: made on a store built the same way.
        let drill = try #require(executable("kstore-drill"))
        let s = try created()
        let importer = Importer(store: s)
        for name in TamperTests.fixtures {
            let bytes = try #require(
                FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
            _ = try importer.importNDJSON([UInt8](bytes), source: name)
        }
        try ProjectionEngine(store: s).catchUp()
        let cp = try Checkpoint.take(s, through: try s.log.count(), key: signing, stride: 1)
        let r = try runWith(drill, ["tamper", "--store", store, "--mode", "rewrite", "--at", "700"])
        #expect(r.status == 0, "\(r.stderr)")
        let forged = try opened()
        #expect(try LogAudit.verify(forged).ok)
        #expect(try LogAudit.verify(try ClinicStore.open(at: store, keyless: true)).ok)
        let caught = try LogAudit.audit(forged, checkpoint: cp).report.problems
        #expect(caught.first?.sequence == 700 && caught.first?.kind == .checkpoint, "\(caught)")
        let caughtKeyless = try LogAudit.audit(try ClinicStore.open(at: store, keyless: true), checkpoint: cp, projections: false).report
            .problems
        #expect(caughtKeyless.first?.sequence == 700 && caughtKeyless.first?.kind == .checkpoint, "\(caughtKeyless)")
    }

    @Test func aFlippedCiphertextByteIsNamedAsTamperingNotACrash() throws {
        let (withKey, keyless, out) = try tampered("flip")
        #expect(out.contains("sealed ciphertext"), "\(out)")
        #expect(withKey.problems.first?.sequence == 700, "\(withKey.problems)")
        #expect(withKey.problems.contains { $0.sequence == 700 && $0.kind == .tampered }, "\(withKey.problems)")
        #expect(keyless.problems.first?.sequence == 700 && keyless.problems.first?.kind == .hashMismatch, "\(keyless.problems)")
        // Through the CLI: exit 1 (not a crash), with and without the key.
        let kstore = try #require(executable("kstore"))
        let cli = try runWith(kstore, ["audit", "verify", "--store", store])
        #expect(cli.status == 1, "\(cli.stdout)\(cli.stderr)")
        #expect(try runWith(kstore, ["audit", "verify", "--store", store], key: false).status == 1)
    }
}
