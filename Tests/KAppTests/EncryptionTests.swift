import Foundation
import KApp
import KBinary
import KClinic
@_spi(Drill) import KStore
import Testing

/// Encryption at rest (issue 16): through the real command, on real stores.
@Suite(.serialized) struct EncryptionTests {
    static func kstore() throws -> String {
        guard let k = executable("kstore") else { throw CocoaError(.fileNoSuchFile) }
        return k
    }

    /// A scratch directory with an owner-only `keys/` beside (never inside) the store.
    struct Scratch {
        let dir: String
        var store: String { dir + "/store" }
        func key(_ name: String) -> String { dir + "/keys/" + name }
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-enc-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
            chmod(dir + "/keys", 0o700)
        }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// An encrypted store holding the fixtures' first case, opened by `kstore` with `key`.
    static func encryptedStore(_ s: Scratch, key: String = "m1") throws -> String {
        let k = try kstore()
        #expect(try run(k, ["key", "generate", "--out", s.key(key)]).status == 0)
        let r = try run(k, ["init", "--store", s.store, "--encrypt", "--key-file", s.key(key)])
        #expect(r.status == 0, "\(r.stderr)")
        try populate(s.store, key: s.key(key))
        return k
    }

    static func populate(_ store: String, key: String?) throws {
        let k = try kstore()
        let keyArgs = key.map { ["--key-file", $0] } ?? []
        let reg = try run(
            "/usr/bin/env",
            ["KSTORE_KEY_FILE=\(key ?? "")", "bash", packageRoot.appendingPathComponent("tools/register-actors.sh").path, store, k])
        #expect(reg.status == 0, "\(reg.stderr)")
        let imp = try run(
            k,
            ["import", "--store", store] + keyArgs + [
                packageRoot.appendingPathComponent("fixtures/case1-long-term-maintenance.ndjson").path
            ])
        #expect(imp.status == 0, "\(imp.stderr)")
    }

    static func eventCount(_ store: String) throws -> UInt64 {
        let log = try EventLog.open(at: store, auxiliary: ClinicStore.auxiliaryDatabases, readOnly: true, keyless: true)
        return try log.read { try $0.lastSequence() }
    }

    @Test func aCanaryWrittenThroughEveryPathIsInNoFileOfAnEncryptedStoreButIsInAPlainOne() throws {
        let k = try Self.kstore()
        let script = packageRoot.appendingPathComponent("tools/canary-check.sh").path
        let plain = try run("/bin/bash", [script, k, "plain"])
        #expect(plain.status == 0, "plain: \(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("CanaryNote-X81K web: found in"), "the web path wrote its canary: \(plain.stdout)")
        let encrypted = try run("/bin/bash", [script, k, "encrypted"])
        #expect(encrypted.status == 0, "encrypted: \(encrypted.stdout)\(encrypted.stderr)")
        #expect(encrypted.stdout.contains("ok: no canary in any byte"))
    }

    @Test func withoutTheKeyQueriesAndWritesRefuseWith77AndVerifyChecksWhatItCan() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.encryptedStore(s)
        let before = try Self.eventCount(s.store)
        for args in [
            ["query", "phase"], ["query", "due"], ["log", "--patient", "C1"], ["audit", "trail"],
            [
                "append", "--patient", "C1", "--type", "ScoreRecorded", "--at", "2026-11-05T08:30:00-05:00", "--actor", "rn.kim", "--role",
                "nurse",
                "--data", "{\"instrument\":\"MADRS\",\"value\":12}",
            ],
            ["import", packageRoot.appendingPathComponent("fixtures/case2-successful-transition.ndjson").path],
        ] {
            let r = try run("/usr/bin/env", ["-u", "KSTORE_KEY_FILE", k] + args + ["--store", s.store])
            #expect(r.status == 77, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("is encrypted and no master key was given"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one sentence: \(r.stderr)")
        }
        #expect(try Self.eventCount(s.store) == before, "nothing written")
        // verify without the key: the chain, the indexes; says what it could not check.
        let v = try run("/usr/bin/env", ["-u", "KSTORE_KEY_FILE", k, "audit", "verify", "--store", s.store, "--json"])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        let doc = try JSONParser.parse(Array(v.stdout.utf8))
        #expect(doc["ok"] == .bool(true))
        #expect(doc["encrypted"] == .bool(true))
        guard case .array(let unchecked)? = doc["unchecked"] else {
            Issue.record("no `unchecked` in \(v.stdout)")
            return
        }
        #expect(unchecked.count == 4)
        // With the key: everything, projections included (stored by a query first).
        #expect(try run(k, ["query", "phase", "--store", s.store, "--key-file", s.key("m1")]).status == 0)
        let full = try run(k, ["audit", "verify", "--store", s.store, "--key-file", s.key("m1")])
        #expect(full.status == 0 && full.stdout.contains("projections: all"), "\(full.stdout)")
    }

    @Test func aSignedCheckpointIsCheckedWithoutTheKey() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.encryptedStore(s)
        let key = s.key("m1")
        #expect(try run(k, ["audit", "keygen", "--out", s.dir + "/keys/review"]).status == 0)
        #expect(try run(k, ["query", "due", "--store", s.store, "--key-file", key]).status == 0)  // a read for the access log
        let cp = try run(k, ["audit", "checkpoint", "--key", s.dir + "/keys/review", "--store", s.store, "--key-file", key])
        #expect(cp.status == 0, "\(cp.stderr)")
        let file = s.dir + "/checkpoint.json"
        FileManager.default.createFile(atPath: file, contents: Data(cp.stdout.utf8))
        let args = ["audit", "verify", "--store", s.store, "--checkpoint", file, "--public-key", s.dir + "/keys/review.pub"]
        let v = try run("/usr/bin/env", ["-u", "KSTORE_KEY_FILE", k] + args)
        #expect(v.status == 0 && v.stdout.contains("checkpoint: the log extends"), "\(v.stdout)\(v.stderr)")
        // A later event is fine; a rewritten record is caught without the key.
        let store = try ClinicStore.open(at: s.store, keyFile: key)
        try LogTamper(drillsOnly: store.log).rewrite(from: 20) { r in r.recordedAtMicros += 1 }
        let t = try run("/usr/bin/env", ["-u", "KSTORE_KEY_FILE", k] + args + ["--json"])
        #expect(t.status == 1, "\(t.stdout)")
        #expect(t.stdout.contains("\"kind\":\"checkpoint\""), "\(t.stdout)")
    }

    @Test func aWrongOrCarelessKeyIsRefusedAndNothingIsWritten() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.encryptedStore(s)
        let before = try Self.eventCount(s.store)
        #expect(try run(k, ["key", "generate", "--out", s.key("other")]).status == 0)
        let append = [
            "append", "--patient", "C1", "--type", "ScoreRecorded", "--at", "2026-11-05T08:30:00-05:00", "--actor", "rn.kim", "--role",
            "nurse", "--data", "{\"instrument\":\"MADRS\",\"value\":12}", "--store", s.store,
        ]
        let wrong = try run(k, append + ["--key-file", s.key("other")])
        #expect(wrong.status == 77 && wrong.stderr.contains("is not the one this store is wrapped by"), "\(wrong.stderr)")
        // Readable by others: refused before it is read.
        chmod(s.key("m1"), 0o644)
        let open = try run(k, ["query", "phase", "--store", s.store, "--key-file", s.key("m1")])
        #expect(open.status == 77 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        chmod(s.key("m1"), 0o600)
        // Kept inside the store directory: refused.
        let inside = s.store + "/master.key"
        #expect(try run(k, ["key", "generate", "--out", inside]).status == 0)
        let r = try run(k, ["query", "phase", "--store", s.store, "--key-file", inside])
        #expect(r.status == 77 && r.stderr.contains("inside the store's directory"), "\(r.stderr)")
        unlink(inside)
        // A key file is never overwritten.
        #expect(try run(k, ["key", "generate", "--out", s.key("m1")]).status == 64)
        // A key whose id was edited to match: the data key does not unwrap.
        let text = try String(contentsOfFile: s.key("m1"), encoding: .utf8)
        let forgedId = text.split(separator: " ")[1]
        let other = try String(contentsOfFile: s.key("other"), encoding: .utf8).split(separator: " ")
        let forged = s.key("forged")
        FileManager.default.createFile(
            atPath: forged, contents: Data("kstore-master-key-1 \(forgedId) \(other[2])".utf8), attributes: [.posixPermissions: 0o600])
        let f = try run(k, append + ["--key-file", forged])
        #expect(f.status == 77, "\(f.stderr)")
        #expect(try Self.eventCount(s.store) == before, "nothing written")
        #expect(try run(k, append + ["--key-file", s.key("m1")]).status == 0)
    }

    @Test func aFlippedCiphertextByteIsNamedAsTamperingNotACrash() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.encryptedStore(s)
        let target: UInt64 = 40
        do {
            let store = try ClinicStore.open(at: s.store, keyFile: s.key("m1"))
            let tamper = LogTamper(drillsOnly: store.log)
            guard var bytes = try tamper.rawRecord(target) else { throw CocoaError(.fileNoSuchFile) }
            bytes[bytes.count - 40] ^= 0x01  // inside the sealed part (before the 32-byte hash)
            try tamper.overwriteRaw(target, bytes)
        }
        for keyArgs in [[String](), ["--key-file", s.key("m1")]] {
            let v = try run("/usr/bin/env", ["-u", "KSTORE_KEY_FILE", k, "audit", "verify", "--store", s.store, "--json"] + keyArgs)
            #expect(v.status == 1, "\(v.stdout)\(v.stderr)")
            let doc = try JSONParser.parse(Array(v.stdout.utf8))
            guard case .array(let problems)? = doc["problems"] else {
                Issue.record("no problems in \(v.stdout)")
                continue
            }
            #expect(problems.first?["sequence"] == .int(Int64(target)), "\(v.stdout)")
            let kinds = problems.compactMap { p -> String? in if case .string(let k)? = p["kind"] { k } else { nil } }
            #expect(kinds.contains("hash-mismatch"))
            if !keyArgs.isEmpty { #expect(kinds.contains("tampered"), "with the key the record fails to open: \(kinds)") }
        }
        // A command that reads it reports tampering at that sequence, and exits: no crash.
        let q = try run(k, ["log", "--patient", "C1", "--store", s.store, "--key-file", s.key("m1")])
        #expect(q.status != 0 && q.status < 128, "\(q.status)")
        #expect(q.stderr.contains("sequence \(target)") && q.stderr.contains("tampering"), "\(q.stderr)")
    }

    @Test func aSealedRecordMovedElsewhereDoesNotOpen() throws {
        let s = try Scratch()
        defer { s.remove() }
        _ = try Self.encryptedStore(s)
        let store = try ClinicStore.open(at: s.store, keyFile: s.key("m1"))
        let tamper = LogTamper(drillsOnly: store.log)
        guard let a = try tamper.rawRecord(30), let b = try tamper.rawRecord(31) else { throw CocoaError(.fileNoSuchFile) }
        // Record 31's sealed part under record 30's header: its associated data no longer matches.
        let moved: [UInt8] = try a.withUnsafeBytes { ra in
            try b.withUnsafeBytes { rb in
                let ha = try RecordHeader(ra)
                let hb = try RecordHeader(rb)
                var w = BinaryWriter(capacity: a.count)
                w.writeRaw(Array(ha.associated))
                w.writeBlob(Array(hb.sealed))
                return w.bytes + Array(repeating: 0, count: 32)
            }
        }
        #expect(throws: BinaryError.self) { try moved.withUnsafeBytes { try RecordView($0, cipher: store.log.cipher) } }
        // And the untouched record still opens.
        #expect(try a.withUnsafeBytes { try RecordView($0, cipher: store.log.cipher) }.sequence == 30)
    }

    @Test func rotationRewrapsTheDataKeyAndRekeyReencryptsEverything() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.encryptedStore(s)
        let phase = try run(k, ["query", "phase", "--json", "--on", "2026-06-01", "--store", s.store, "--key-file", s.key("m1")])
        #expect(try run(k, ["key", "generate", "--out", s.key("m2")]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: s.store + "/data.mdb"))
        let rot = try run(k, ["key", "rotate", "--store", s.store, "--key-file", s.key("m1"), "--new-key-file", s.key("m2")])
        #expect(rot.status == 0, "\(rot.stderr)")
        #expect(
            try run(k, ["query", "phase", "--store", s.store, "--key-file", s.key("m1")]).status == 77, "the old key no longer opens it")
        let after = try run(k, ["query", "phase", "--json", "--on", "2026-06-01", "--store", s.store, "--key-file", s.key("m2")])
        #expect(after.stdout == phase.stdout)
        // The records themselves are untouched by a rotation: the same chain head.
        let v1 = try run(k, ["audit", "verify", "--store", s.store, "--key-file", s.key("m2"), "--json"])
        let head = try JSONParser.parse(Array(v1.stdout.utf8))["head"]
        _ = before
        // rekey: a new data key, every record sealed again, a new chain; same answers.
        let rekey = try run(k, ["key", "rekey", "--store", s.store, "--key-file", s.key("m2"), "--json"])
        #expect(rekey.status == 0, "\(rekey.stderr)")
        let v2 = try run(k, ["audit", "verify", "--store", s.store, "--key-file", s.key("m2"), "--json"])
        #expect(v2.status == 0, "\(v2.stdout)")
        #expect(try JSONParser.parse(Array(v2.stdout.utf8))["head"] != head, "re-encrypted bytes, a new chain")
        let again = try run(k, ["query", "phase", "--json", "--on", "2026-06-01", "--store", s.store, "--key-file", s.key("m2")])
        #expect(again.stdout == phase.stdout)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.dir).filter { $0.hasPrefix("store.") }
        #expect(leftovers.isEmpty, "the old store was removed: \(leftovers)")
    }

    @Test func aPlainStoreIsEncryptedInPlaceAndAnswersTheSame() throws {
        let s = try Scratch()
        defer { s.remove() }
        let k = try Self.kstore()
        #expect(try run(k, ["init", "--store", s.store]).status == 0)
        try Self.populate(s.store, key: nil)
        let phase = try run(k, ["query", "phase", "--json", "--on", "2026-06-01", "--store", s.store])
        let due = try run(k, ["query", "due", "--json", "--on", "2026-06-01", "--store", s.store])
        let plainBytes = try Data(contentsOf: URL(fileURLWithPath: s.store + "/data.mdb"))
        #expect(plainBytes.range(of: Data("dr.hale".utf8)) != nil)
        #expect(try run(k, ["key", "generate", "--out", s.key("m1")]).status == 0)
        let enc = try run(k, ["encrypt", "--store", s.store, "--key-file", s.key("m1")])
        #expect(enc.status == 0, "\(enc.stdout)\(enc.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.store + "/data.mdb"))
        #expect(bytes.range(of: Data("dr.hale".utf8)) == nil, "no actor id left in the encrypted file")
        #expect(bytes.range(of: Data("interval-extension".utf8)) == nil)
        #expect(try run(k, ["query", "phase", "--store", s.store]).status == 77)
        let p2 = try run(k, ["query", "phase", "--json", "--on", "2026-06-01", "--store", s.store, "--key-file", s.key("m1")])
        let d2 = try run(k, ["query", "due", "--json", "--on", "2026-06-01", "--store", s.store, "--key-file", s.key("m1")])
        #expect(p2.stdout == phase.stdout)
        #expect(d2.stdout == due.stdout)
        #expect(try run(k, ["audit", "verify", "--store", s.store, "--key-file", s.key("m1")]).status == 0)
        // Twice: refused, nothing changed.
        #expect(try run(k, ["encrypt", "--store", s.store, "--key-file", s.key("m1")]).status == 64)
    }

    @Test func theTypePeekedFromTheFirstBlockIsTheOpenedRecordsType() throws {
        let s = try Scratch()
        defer { s.remove() }
        _ = try Self.encryptedStore(s)
        let store = try ClinicStore.open(at: s.store, keyFile: s.key("m1"))
        var n = 0
        try store.log.scanRaw { seq, bytes in
            let view = try store.log.view(bytes, sequence: seq)
            #expect(store.log.typeCode(of: bytes) == view.typeCode, "sequence \(seq)")
            #expect(RecordView.peekTypeCode(bytes) == nil, "a sealed record has no plain type")
            n += 1
            return true
        }
        #expect(n > 300)
    }

    @Test func theCipherSealsOpensAndNamesByDomain() throws {
        let cipher = try StoreCipher(dataKey: .init(size: .bits256), storeId: Array(repeating: 7, count: 16))
        let sealed = cipher.seal(Array("a note".utf8), ad: [1, 2, 3])
        #expect(sealed.count == 6 + StoreCipher.overhead)
        #expect(cipher.open(sealed, ad: [1, 2, 3]) == Array("a note".utf8))
        #expect(cipher.open(sealed, ad: [1, 2, 4]) == nil, "other associated data")
        #expect(cipher.open(sealed, ad: [1, 2, 3], auxiliary: true) == nil, "another key")
        var flipped = sealed
        flipped[13] ^= 1
        #expect(cipher.open(flipped, ad: [1, 2, 3]) == nil)
        #expect(cipher.seal(Array("a note".utf8), ad: [1, 2, 3]) != sealed, "a fresh nonce each time")
        #expect(cipher.pseudonym("P-1", .stream) == cipher.pseudonym("P-1", .stream))
        #expect(cipher.pseudonym("P-1", .stream) != cipher.pseudonym("P-1", .auxiliary))
        let other = try StoreCipher(dataKey: .init(size: .bits256), storeId: Array(repeating: 7, count: 16))
        #expect(other.pseudonym("P-1", .stream) != cipher.pseudonym("P-1", .stream))
    }
}
