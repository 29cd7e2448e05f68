import Foundation
import Glibc
import KApp
import KClinic
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
        try registerTestActors(try ClinicStore.create(at: dir))
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
        try registerTestActors(try ClinicStore.create(at: dir))
        let base = try ClinicStore.open(at: dir).log.count()
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
        #expect(report.events == base + 600)
        // Each of the 4 × 5 streams holds exactly its 30 events, versions 1…30.
        try store.log.read { reader in
            let streams = try reader.streams()
            let patients = streams.filter { !$0.stream.hasPrefix("$") }
            #expect(patients.count == 20)
            #expect(patients.allSatisfy { $0.version == 30 })
        }
    }
}

/// Short version of tools/replay-kill-drill.sh: `kstore replay --rules --apply` killed at random
/// moments leaves the rules in force and the stored projections consistent.
@Suite(.serialized) struct ReplayKillDrillTests {
    @Test func replayApplyKilledLeavesOldOrNewNeverAMix() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-rkill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = dir.appendingPathComponent("store").path
        let a = dir.appendingPathComponent("a.json").path
        let b = dir.appendingPathComponent("b.json").path
        try #"{"version":"drill-a","ladder":[{"intervalDays":7,"treatments":2},{"intervalDays":28,"treatments":null}]}"#.write(
            toFile: a, atomically: true, encoding: .utf8)
        try #"{"version":"drill-b","ladder":[{"intervalDays":7,"treatments":6},{"intervalDays":35,"treatments":null}]}"#.write(
            toFile: b, atomically: true, encoding: .utf8)
        #expect(try run(kstore, ["init", "--store", store]).status == 0)
        let registered = try run(
            "/usr/bin/env", ["bash", packageRoot.appendingPathComponent("tools/register-actors.sh").path, store, kstore])
        #expect(registered.status == 0, "\(registered.stderr)")
        var files: [String] = []
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            let path = dir.appendingPathComponent(name).path
            try Data(try exampleBytes(name)).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        for name in ["case1-long-term-maintenance.ndjson", "case2-successful-transition.ndjson", "case3-tolerance-management.ndjson"] {
            files.append(packageRoot.appendingPathComponent("fixtures/\(name)").path)
        }
        #expect(try run(kstore, ["import", "--store", store] + files).status == 0)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<6 {
            let target = i % 2 == 0 ? b : a
            let p = Process()
            p.executableURL = URL(fileURLWithPath: kstore)
            p.arguments = ["replay", "--store", store, "--rules", target, "--apply"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 1_000...60_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let shown = try run(kstore, ["rules", "show", "--store", store, "--json"])
            let doc = try JSONParser.parse(shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .string(let hash)? = doc["contentHash"] else {
                Issue.record("rules show: \(shown.stdout)")
                return
            }
            // Either no projections stored yet, or stored under exactly the rules in force.
            if case .object? = doc["projections"] {
                #expect(doc["projections"]?["rulesHash"] == .string(hash), "kill \(i): \(shown.stdout)")
            }
            #expect(try run(kstore, ["audit", "verify", "--store", store]).status == 0)
        }
    }
}

/// Short version of tools/import-kill-drill.sh (issue 11 item 5): an import SIGKILLed at a random
/// moment, mid-transaction after some lines, and the moment anything of it is visible, leaves
/// all of its file or none, and a store that verifies.
@Suite(.serialized) struct ImportKillDrillTests {
    @Test func importKilledLeavesAllOrNoneOfTheFile() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let bin = URL(fileURLWithPath: kstore).deletingLastPathComponent().path
        let drill = packageRoot.appendingPathComponent("tools/import-kill-drill.sh").path
        let result = try run("/usr/bin/env", ["bash", drill, "3", bin, "30"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("import-kill drill: 3 kills"), "\(result.stdout)")
    }

    @Test func anImportKilledMidTransactionLeavesNothing() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-ikill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = dir.appendingPathComponent("store").path
        try registerTestActors(try ClinicStore.create(at: store))
        let base = try ClinicStore.open(at: store).log.count()
        let file = dir.appendingPathComponent("f.ndjson").path
        let lines = (0..<5000).map {
            line(
                "VitalsRecorded", patient: "P-\($0 % 11)", at: "2026-01-05T09:00:00-05:00",
                data: #"{"systolic":\#(100 + $0 % 100),"diastolic":70,"heartRate":\#(40 + $0 % 150)}"#)
        }
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        for after in [1, 2500, 4999] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: kstore)
            p.arguments = ["import", "--store", store, file]
            p.environment = ProcessInfo.processInfo.environment.merging(["KSTORE_DRILL_KILL_AFTER": String(after)]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL, "killed after \(after) lines")
            let opened = try ClinicStore.open(at: store)
            #expect(try opened.log.count() == base, "killed after \(after) of 5,000 lines")
            #expect(try LogAudit.verify(opened).ok)
        }
        #expect(try run(kstore, ["import", "--store", store, file]).status == 0)
        #expect(try ClinicStore.open(at: store).log.count() == base + UInt64(Set(lines).count))  // identical lines are one event
    }
}

/// Short version of tools/trail-memory-drill.sh (issue 11 item 11): the peak memory of
/// `kstore audit trail` (JSON and table) does not grow with the entries it prints.
@Suite(.serialized) struct TrailMemoryDrillTests {
    @Test func auditTrailPeakMemoryDoesNotGrowWithTheEntries() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let bin = URL(fileURLWithPath: kstore).deletingLastPathComponent().path
        let drill = packageRoot.appendingPathComponent("tools/trail-memory-drill.sh").path
        // ~10k events, then ~41k: holding the entries grew the peak by ~37 MB; streaming, ~5 MB.
        let result = try run("/usr/bin/env", ["bash", drill, bin, "20", "20"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("trail memory drill: peak anonymous memory grew"), "\(result.stdout)")
    }
}
