import Foundation
import KApp
import KClinic
import KStore
import Testing

@Suite(.serialized) struct AccessLogTests {
    @Test func aQueryIsRecordedInTheAccessLogBeforeItIsShown() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-access-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registerTestActors(try ClinicStore.create(at: dir))
        let store = try ClinicStore.open(at: dir)
        _ = try Importer(store: store).importNDJSON(try exampleBytes("w2.ndjson"), source: "w2")
        // Importing is not a read; nothing recorded yet.
        #expect(try AccessLog.entries(store).entries.isEmpty)
        #expect(try run(kstore, ["query", "phase", "--store", dir, "--patient", "W2", "--on", "2026-04-25", "--json"]).status == 0)
        #expect(try run(kstore, ["query", "alerts", "--store", dir, "--on", "2026-04-25"]).status == 0)
        let (entries, broken) = try AccessLog.entries(store)
        #expect(broken.isEmpty)
        #expect(entries.map(\.sequence) == [1, 2])
        #expect(entries[0].patients == ["W2"])
        #expect(entries[0].command.hasPrefix("kstore query phase --store"))
        #expect(entries[0].osUser == store.osUser)
        #expect(entries[1].command.contains("query alerts"))
        // The clinical log is untouched by reads.
        #expect(try LogAudit.verify(store).ok)
        // `kstore audit access` lists them; a changed access record breaks its chain (exit 1).
        let listed = try run(kstore, ["audit", "access", "--store", dir, "--json"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains(#""chainIntact":true"#))
        guard let db = store.log.auxiliary["access"] else {
            Issue.record("no access database")
            return
        }
        try store.log.writeAuxiliary { w in
            let key = withUnsafeBytes(of: UInt64(1).bigEndian) { Array($0) }
            guard var bytes = try w.txn.get(db, key)?.copiedBytes else { return }
            if let i = bytes.firstIndex(of: UInt8(ascii: "W")) { bytes[i] = UInt8(ascii: "X") }
            try w.txn.put(db, key, bytes)
        }
        #expect(try AccessLog.entries(store).broken == [1])
        #expect(try run(kstore, ["audit", "access", "--store", dir]).status == 1)
    }

    /// issue 11: a backup (a copy of every patient) and `replay --rules` (per-patient changes) are
    /// audited reads.
    @Test func backupAndAReplayOfOtherRulesAreRecordedReads() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-access-\(UUID().uuidString)").path
        let dest = dir + "-backup"
        let rules = dir + "-rules.json"
        defer {
            for p in [dir, dest, rules] { try? FileManager.default.removeItem(atPath: p) }
        }
        try registerTestActors(try ClinicStore.create(at: dir))
        let store = try ClinicStore.open(at: dir)
        _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
        _ = try Importer(store: store).importNDJSON(try exampleBytes("w2.ndjson"), source: "w2")
        #expect(try run(kstore, ["backup", "--store", dir, dest]).status == 0)
        try Data(
            #"{"version":"short-first-rung","ladder":[{"intervalDays":5,"treatments":4},{"intervalDays":10,"treatments":3},{"intervalDays":14,"treatments":4},{"intervalDays":21,"treatments":3},{"intervalDays":28,"treatments":null}]}"#
                .utf8
        )
        .write(to: URL(fileURLWithPath: rules))
        let replay = try run(kstore, ["replay", "--store", dir, "--rules", rules, "--on", "2026-04-25", "--json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let entries = try AccessLog.entries(store).entries
        #expect(entries.count == 2)
        #expect(entries.first?.command.hasPrefix("kstore backup") == true)
        #expect(entries.first?.patients == ["W1", "W2"])
        #expect(entries.last?.command.hasPrefix("kstore replay") == true)
        #expect(entries.last.map { !$0.patients.isEmpty && Set($0.patients).isSubset(of: ["W1", "W2"]) } == true)
    }
}

@Suite(.serialized) struct ExportTests {
    @Test func ndjsonExportHoldsEveryEnvelopeRecordedInTheRangeAndIsAnAuditedRead() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-export-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registerTestActors(try ClinicStore.create(at: dir))
        let store = try ClinicStore.open(at: dir)
        _ = try Importer(store: store).importNDJSON(try exampleBytes("w3.ndjson"), source: "w3")
        let total = try store.log.count()
        let today = EventMapping.formatMicros(SystemClock.nowMicros()).prefix(10)
        let out = try run(kstore, ["audit", "export", "--store", dir, "--from", "2000-01-01", "--to", String(today), "--format", "ndjson"])
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == Int(total))
        let last = try JSONParser.parse(String(lines[lines.count - 1]))
        #expect(last["sequence"] == .int(Int64(total)))
        #expect(last["patient"] == .string("W3"))
        #expect(try run(kstore, ["audit", "export", "--store", dir, "--from", "2000-01-01", "--to", "2000-01-02"]).stdout.isEmpty)
        #expect(
            try run(kstore, ["audit", "export", "--store", dir, "--from", "2000-01-01", "--to", "2000-01-02", "--format", "xml"]).status
                == 64)
        #expect(try AccessLog.entries(store).entries.count == 2)
    }
}
