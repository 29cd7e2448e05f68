import Foundation
import Glibc
import KApp
import KClinic
@_spi(Drill) import KStore
import Testing

/// Issue 11, item 4: damaged pages never crash `audit verify` or `backup` (they run the walk in
/// a child process and report its death, or LMDB's damage codes, as damage: exit 1, a sentence),
/// and writes into a store whose last verify failed warn.
@Suite(.serialized) struct DamageTests {
    func scratch(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kstore-dmg-\(tag)-\(UUID().uuidString)").path
    }

    /// Short version of tools/damage-drill.sh: 12 random page damages (a fixed seed, which
    /// crashed verify or backup in 3 of them before the walk ran in a child process).
    @Test func damageDrillShort() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["bash", packageRoot.appendingPathComponent("tools/damage-drill.sh").path, "12", kstore]
        p.environment = ProcessInfo.processInfo.environment.merging(["DRILL_SEED": "7"]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains(" 0 crashed"), "\(text)")
        #expect(text.contains("damage drill: passed"), "\(text)")
    }

    /// Both meta pages overwritten: verify says the file is damaged (exit 1, valid JSON with
    /// ok false), not "no store" (66); backup exits 1 too and leaves nothing behind.
    @Test func verifyAndBackupOfAStoreWithDamagedMetaPagesExitOne() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        try withStore { store in
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let dir = scratch("meta")
            try FileSystem.makeDirectory(dir, mode: 0o700)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let copy = dir + "/store"
            try FileSystem.makeDirectory(copy, mode: 0o700)
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.path + "/data.mdb")))
            var rng = SystemRandomNumberGenerator()
            for i in 16..<min(bytes.count, 2 * 4096) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            try Data(bytes).write(to: URL(fileURLWithPath: copy + "/data.mdb"))

            let text = try run(kstore, ["audit", "verify", "--store", copy])
            #expect(text.status == 1, "\(text.stderr)")
            #expect(text.stdout.hasPrefix("FAILED: the store's file") && text.stdout.contains("is damaged"), "\(text.stdout)\(text.stderr)")
            let json = try run(kstore, ["audit", "verify", "--store", copy, "--json"])
            #expect(json.status == 1)
            let doc = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(doc["ok"] == .bool(false), "\(json.stdout)")
            let backup = try run(kstore, ["backup", "--store", copy, dir + "/backup"])
            #expect(backup.status == 1, "\(backup.stderr)")
            #expect(backup.stderr.contains("damaged"), "\(backup.stderr)")
            #expect(try FileSystem.entries(dir) == ["store"])
        }
    }

    @Test func aWriteIntoAStoreWhoseLastVerifyFailedWarns() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        try withStore { store in
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let append = [
                "append", "--store", store.path, "--patient", "W1", "--type", "VitalsRecorded", "--at", "2026-01-05T09:30:00-05:00",
                "--actor", "rn.kim", "--role", "nurse",
            ]
            // A verify that passes: no warning.
            #expect(try run(kstore, ["audit", "verify", "--store", store.path]).status == 0)
            let quiet = try run(kstore, append + ["--data", #"{"systolic":120,"diastolic":80,"heartRate":70}"#])
            #expect(quiet.status == 0, "\(quiet.stderr)")
            #expect(!quiet.stderr.contains("warning"), "\(quiet.stderr)")
            #expect(try FileSystem.permissions(store.path + "/" + VerifyVerdict.fileName) == 0o600)
            // A changed byte: verify fails, and the next write says so on one line.
            let tamper = LogTamper(drillsOnly: store.log)
            var bytes = try #require(try tamper.rawRecord(3))
            bytes[bytes.count - 40] ^= 1
            try tamper.overwriteRaw(3, bytes)
            #expect(try run(kstore, ["audit", "verify", "--store", store.path]).status == 1)
            let warned = try run(kstore, append + ["--data", #"{"systolic":121,"diastolic":80,"heartRate":70}"#])
            #expect(warned.status == 0, "\(warned.stderr)")
            let lines = warned.stderr.split(separator: "\n")
            #expect(
                lines.count == 1 && lines[0].hasPrefix("kstore: warning: the last `kstore audit verify` of this store"), "\(warned.stderr)")
            #expect(warned.stderr.contains("first bad sequence 3"), "\(warned.stderr)")
        }
    }
}
