import Foundation
import Testing

@testable import KStore

/// The format-2 `streams` index (`MDB_DUPSORT|MDB_DUPFIXED`), `check`, and the format-1 upgrade.
@Suite struct StreamsIndexTests {
    @Test func streamSequencesSurviveEveryLMDBValueLayout() throws {
        // 1 value (in the node), a few (a sub-page), hundreds (a sub-database, several pages).
        try withTemporaryLog { log, _ in
            var n = 0
            func batch(_ stream: String, _ count: Int) -> [NewEvent] {
                (0..<count).map { _ in
                    n += 1
                    return event(n, stream: stream)
                }
            }
            try log.append(batch("one", 1), clockMicros: clock)
            try log.append(batch("few", 3), clockMicros: clock)
            for _ in 0..<5 { try log.append(batch("many", 500) + batch("few", 1), clockMicros: clock) }
            try log.read { (r: LogReader) throws in
                #expect(try r.streamSequences("one") == [1])
                #expect(try r.streamVersion("one") == 1)
                let few = try r.streamSequences("few")
                #expect(few.count == 8)
                #expect(few == few.sorted())
                let many = try r.streamSequences("many")
                #expect(many.count == 2500)
                #expect(many == many.sorted())
                #expect(Set(many).count == 2500)
                #expect(try r.streamVersion("many") == 2500)
                #expect(try r.streamSequences("none") == [])
                #expect(try r.streamVersion("none") == 0)
                #expect(try r.streams().map(\.stream) == ["few", "many", "one"])
                #expect(try r.streams().map(\.version) == [8, 2500, 1])
                // Every indexed sequence is a record of that stream at that version.
                for (i, seq) in many.enumerated() {
                    let v = try #require(try r.record(seq))
                    #expect(v.stream == "many")
                    #expect(v.streamVersion == UInt64(i + 1))
                }
            }
            #expect(try log.verify().ok)
        }
    }

    @Test func newStoresAreFormat2WithoutHeads() throws {
        try withTemporaryLog { log, _ in
            try log.env.read { (txn: Transaction) throws in
                #expect(try txn.get(log.meta, Array("format".utf8))?.copiedBytes == [2])
                #expect(try txn.openDatabase("heads") == nil)
                #expect(try txn.flags(log.streams).isSuperset(of: [.dupSort, .dupFixed]))
            }
        }
    }

    @Test func insideAnAppendTheBatchsEarlierEventsAreInTheirStreams() throws {
        // `streams` is written at the end of the transaction (StreamAppends); every read before
        // that, the hooks' included, sees the batch's earlier events in their streams.
        try withTemporaryLog { log, _ in
            try log.append([event(1), event(2, stream: "B")], clockMicros: clock)
            var seen: [(UInt64, [UInt64], [String])] = []
            try log.append(
                [event(3), event(4, stream: "C"), event(5)], clockMicros: clock,
                validate: { reader, e, _ in
                    seen.append(
                        (
                            try reader.streamVersion(e.stream), try reader.streamSequences(e.stream),
                            try reader.streams().map { "\($0.stream)=\($0.version)" }
                        ))
                    var inStream: [UInt64] = []
                    try reader.forEachInStream(e.stream, typeCodes: [4]) { inStream.append($0.sequence) }
                    #expect(inStream == seen.last?.1)
                },
                thenInSameTransaction: { (reader: LogReader, _: [AppendOutcome]) throws in
                    #expect(try reader.streamSequences("P-1") == [1, 3, 5])
                    #expect(try reader.streams().map(\.version) == [1, 1, 3])
                })
            #expect(seen.map(\.0) == [1, 0, 2])
            #expect(seen.map(\.1) == [[1], [], [1, 3]])
            #expect(seen.map(\.2) == [["B=1", "P-1=1"], ["B=1", "P-1=2"], ["B=1", "C=1", "P-1=2"]])
            #expect(try log.read { try $0.streamSequences("P-1") } == [1, 3, 5])
            #expect(try log.verify().ok)
        }
    }

    // MARK: verify over the new index

    @Test func verifyFindsAMissingAnExtraAndAMovedStreamEntry() throws {
        for damage in ["missing", "extra", "moved", "phantom"] {
            try withTemporaryLog { log, _ in
                try log.append((1...10).map { event($0, stream: $0 % 2 == 0 ? "A" : "B") }, clockMicros: clock)
                try log.env.write { txn in
                    switch damage {
                    case "missing": try txn.delete(log.streams, Keys.stream("A"), value: Keys.sequence(4))
                    case "extra": try txn.put(log.streams, Keys.stream("A"), Keys.sequence(5))
                    case "moved":
                        try txn.delete(log.streams, Keys.stream("A"), value: Keys.sequence(4))
                        try txn.put(log.streams, Keys.stream("B"), Keys.sequence(4))
                    default: try txn.put(log.streams, Keys.stream("Z"), Keys.sequence(3))
                    }
                }
                let report = try log.verify()
                #expect(!report.ok, "\(damage)")
                #expect(report.problems.allSatisfy { $0.kind == .index }, "\(damage): \(report.problems)")
                if damage == "missing" || damage == "moved" {
                    #expect(report.problems.first?.sequence == 4, "\(damage): \(report.problems)")
                }
            }
        }
    }

    // MARK: format 1

    @Test func aFormat1StoreIsUpgradedOnOpen() throws {
        let dir = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let streams = (1...1200).map { i in i % 3 == 0 ? "P-a" : (i % 3 == 1 ? "P-b" : "$actors") } + ["solo"]
        try buildFormat1Store(at: dir, streams: streams)
        let log = try EventLog.open(at: dir)
        try log.env.read { (txn: Transaction) throws in
            #expect(try txn.get(log.meta, Array("format".utf8))?.copiedBytes == [2])
            #expect(try txn.openDatabase("heads") == nil)
        }
        try log.read { (r: LogReader) throws in
            #expect(try r.streams().map(\.stream) == ["$actors", "P-a", "P-b", "solo"])
            #expect(try r.streamVersion("P-a") == 400)
            #expect(try r.streamSequences("P-a") == Array(stride(from: 3, through: 1200, by: 3)).map(UInt64.init))
            #expect(try r.streamSequences("solo") == [1201])
        }
        #expect(try log.verify().ok)
        // It keeps working as a format-2 store, and opening it again changes nothing.
        #expect(try log.append([event(5000, stream: "P-a")], clockMicros: clock) == [.appended(sequence: 1202, streamVersion: 401)])
        let again = try EventLog.open(at: dir)
        #expect(try again.count() == 1202)
        #expect(try again.verify().ok)
    }

    @Test func aFormat1StoreWhoseIndexDisagreesIsNotUpgraded() throws {
        let dir = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try buildFormat1Store(at: dir, streams: ["A", "B", "A", "A"], damage: true)
        do {
            _ = try EventLog.open(at: dir)
            Issue.record("expected a refusal")
        } catch let e as StoreError {
            guard case .upgradeRefused(_, let detail) = e else {
                Issue.record("\(e)")
                return
            }
            #expect(detail.contains("v2 does not point at sequence 3"), "\(detail)")
            #expect(e.description.contains("nothing was changed"))
        }
        // Untouched: still format 1, `heads` still there.
        let env = try Environment(path: dir, maxDatabases: 8, mapSize: 1 << 24)
        try env.read { (txn: Transaction) throws in
            let meta = try #require(try txn.openDatabase("meta"))
            #expect(try txn.get(meta, Array("format".utf8))?.copiedBytes == [1])
            #expect(try txn.openDatabase("heads") != nil)
        }
    }

    @Test func aStoreOfANewerFormatIsRefused() throws {
        try withTemporaryLog { log, dir in
            try log.env.write { txn in try txn.put(log.meta, Array("format".utf8), [3]) }
            #expect(throws: StoreError.newerFormat(path: dir, format: 3)) { _ = try EventLog.open(at: dir) }
        }
    }
}

func temporaryStorePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("kstore-test-\(UUID().uuidString)").path
}

/// A store as kstore wrote it before format 2: `streams` keyed `stream ‖ 0 ‖ version`, a `heads`
/// database, `meta.format` 1. With `damage`, the streams entry of the third event points elsewhere.
func buildFormat1Store(at dir: String, streams: [String], damage: Bool = false) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    let env = try Environment(path: dir, maxDatabases: 8, mapSize: 1 << 24)
    let dbs = try env.openDatabases(["events", "streams", "heads", "ids", "meta"])
    func db(_ name: String) throws -> Database { try #require(dbs[name]) }
    try env.write { txn in
        try txn.put(try db("meta"), Array("storeId".utf8), [UInt8](repeating: 7, count: 16))
        try txn.put(try db("meta"), Array("format".utf8), [1])
        try txn.put(try db("meta"), Array("createdAt".utf8), Keys.sequence(1))
        var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
        var versions: [String: UInt64] = [:]
        for (i, stream) in streams.enumerated() {
            let seq = UInt64(i + 1)
            let version = (versions[stream] ?? 0) + 1
            versions[stream] = version
            let e = event(i + 1, stream: stream)
            let record = EventRecord(
                sequence: seq, eventId: e.eventId, typeCode: e.typeCode, schemaVersion: e.schemaVersion, stream: stream,
                streamVersion: version, occurredAtMillis: e.occurredAtMillis, offsetMinutes: e.offsetMinutes,
                recordedAtMicros: clock(), actorId: e.actorId, actorRole: e.actorRole, osUser: e.osUser, payload: e.payload, hash: [])
            var bytes = record.encodedBody()
            prevHash = EventRecord.chainHash(previous: prevHash, body: bytes)
            bytes += prevHash
            try txn.put(try db("events"), Keys.sequence(seq), bytes, flags: .append)
            let target = damage && seq == 3 ? seq + 1 : seq
            try txn.put(try db("streams"), Keys.format1Stream(stream, version: version), Keys.sequence(target))
            try txn.put(try db("ids"), e.eventId, Keys.sequence(seq))
            try txn.put(try db("heads"), Array(stream.utf8), Keys.sequence(version) + Keys.sequence(seq))
        }
    }
}
