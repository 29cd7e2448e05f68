import Foundation
import Glibc
import KApp
import KStore
import Testing

/// Short versions of tools/crash-drill.sh and tools/concurrency-drill.sh, driving the built
/// `kstore` and `kstore-drill` executables as real processes.
@Suite(.serialized) struct DrillTests {
    @Test func crashDrillShort() throws {
        guard let drill = executable("kstore-drill"), executable("kstore") != nil else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ClinicStore.create(at: dir)
        var rng = SystemRandomNumberGenerator()
        for kill in 1...6 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: drill)
            p.arguments = ["write-loop", "--store", dir, "--batch", String(Int.random(in: 1...120, using: &rng))]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 60_000...300_000, using: &rng))
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let done = text.split(separator: "\n").filter { $0.hasPrefix("done ") }
            let store = try ClinicStore.open(at: dir)
            let report = try LogAudit.verify(store)
            #expect(report.ok, "kill \(kill): \(report.problems)")
            if let last = done.last {
                let parts = last.split(separator: " ")
                let seq = try #require(UInt64(parts[2]))
                let id = String(parts[3])
                #expect(seq <= report.events, "kill \(kill): acknowledged \(seq), store holds \(report.events)")
                let stored = try store.log.read { try $0.record(seq).map { EventMapping.uuid($0.eventId).uuidString.lowercased() } }
                #expect(stored == id, "kill \(kill): sequence \(seq)")
            }
        }
    }

    @Test func concurrencyDrillShort() throws {
        guard let drill = executable("kstore-drill") else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-conc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ClinicStore.create(at: dir)
        let procs = (1...4).map { tag -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: drill)
            p.arguments = ["append", "--store", dir, "--count", "150", "--tag", String(tag)]
            p.standardOutput = FileHandle.nullDevice
            return p
        }
        for p in procs { try p.run() }
        for p in procs {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let store = try ClinicStore.open(at: dir)
        let report = try LogAudit.verify(store)
        #expect(report.ok, "\(report.problems)")
        #expect(report.events == 600)
        // Each of the 4 × 5 streams holds exactly its 30 events, versions 1…30.
        try store.log.read { reader in
            let streams = try reader.streams()
            #expect(streams.count == 20)
            #expect(streams.allSatisfy { $0.version == 30 })
        }
    }
}
