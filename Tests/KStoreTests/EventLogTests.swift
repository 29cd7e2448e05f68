import Foundation
import Testing

@testable import KStore

@Suite struct EventLogTests {
    @Test func appendsGetGaplessSequencesAndContiguousStreamVersions() throws {
        try withTemporaryLog { log, _ in
            let first = try log.append((1...5).map { event($0, stream: $0 % 2 == 0 ? "A" : "B") }, clockMicros: clock)
            #expect(
                first == [
                    .appended(sequence: 1, streamVersion: 1), .appended(sequence: 2, streamVersion: 1),
                    .appended(sequence: 3, streamVersion: 2), .appended(sequence: 4, streamVersion: 2),
                    .appended(sequence: 5, streamVersion: 3),
                ])
            let second = try log.append([event(6, stream: "A")], clockMicros: clock)
            #expect(second == [.appended(sequence: 6, streamVersion: 3)])
            try log.read { (r: LogReader) throws in
                #expect(try r.streamVersion("A") == 3)
                #expect(try r.streamVersion("B") == 3)
                #expect(try r.streamVersion("C") == 0)
                #expect(try r.streamSequences("A") == [2, 4, 6])
                #expect(try r.streamSequences("B") == [1, 3, 5])
            }
            var seen: [UInt64] = []
            try log.scan(chunk: 2) {
                seen.append($0.sequence)
                return true
            }
            #expect(seen == [1, 2, 3, 4, 5, 6])
            #expect(try log.verify().ok)
        }
    }

    @Test func recordRoundTripsEveryEnvelopeField() throws {
        try withTemporaryLog { log, _ in
            let e = event(7, stream: "P-0001", payload: Array(0..<200).map { UInt8($0) })
            try log.append([e], clockMicros: { 42 })
            let rec = try log.read { try $0.record(1)?.materialize() }
            #expect(rec?.eventId == e.eventId)
            #expect(rec?.typeCode == e.typeCode)
            #expect(rec?.stream == "P-0001")
            #expect(rec?.occurredAtMillis == e.occurredAtMillis)
            #expect(rec?.offsetMinutes == -300)
            #expect(rec?.recordedAtMicros == 42)
            #expect(rec?.actorId == "rn.kim")
            #expect(rec?.actorRole == 2)
            #expect(rec?.osUser == "tester")
            #expect(rec?.payload == e.payload)
            #expect(rec?.hash.count == 32)
        }
    }

    @Test func staleExpectedVersionIsAConflictAndWritesNothing() throws {
        try withTemporaryLog { log, _ in
            try log.append([event(1), event(2)], clockMicros: clock)
            #expect(throws: LogError.conflict(index: 1, stream: "P-1", expected: 1, actual: 3)) {
                try log.append([event(3, expected: 2), event(4, expected: 1)], clockMicros: clock)
            }
            #expect(try log.count() == 2)
            try log.append([event(3, expected: 2)], clockMicros: clock)
            #expect(try log.count() == 3)
            // 0 means: the stream must be new.
            #expect(throws: LogError.self) { try log.append([event(9, expected: 0)], clockMicros: clock) }
            try log.append([event(10, stream: "NEW", expected: 0)], clockMicros: clock)
        }
    }

    @Test func resendingTheSameEventsIsIdempotentButAChangedOneIsRefused() throws {
        try withTemporaryLog { log, _ in
            let batch = (1...3).map { event($0) }
            try log.append(batch, clockMicros: clock)
            let again = try log.append(batch + [event(4)], clockMicros: clock)
            #expect(
                again == [
                    .duplicate(sequence: 1), .duplicate(sequence: 2), .duplicate(sequence: 3), .appended(sequence: 4, streamVersion: 4),
                ])
            var changed = event(2)
            changed.payload = [9, 9]
            #expect(throws: LogError.eventIdReused(index: 0, eventId: uuidBytes(2), existingSequence: 2)) {
                try log.append([changed], clockMicros: clock)
            }
            // The same id twice in one batch with different content.
            var twin = event(5)
            twin.payload = [1]
            #expect(throws: LogError.self) { try log.append([event(5), twin], clockMicros: clock) }
            #expect(try log.count() == 4)
        }
    }

    @Test func aRefusedEventLeavesTheStoreUntouched() throws {
        try withTemporaryLog { log, _ in
            try log.append([event(1)], clockMicros: clock)
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try log.append((2...50).map { event($0) }, clockMicros: clock) { _, _, index in
                    if index == 30 { throw Refused() }
                }
            }
            #expect(try log.count() == 1)
            #expect(try log.read { try $0.streamVersion("P-1") } == 1)
            #expect(try log.verify().ok)
        }
    }

    @Test func theMapGrowsFromATinyInitialSize() throws {
        try withTemporaryLog(mapSize: 64 << 10) { log, dir in
            let before = log.env.mapSize
            let payload = [UInt8](repeating: 7, count: 1000)
            for b in 0..<20 {
                try log.append((0..<100).map { event(b * 100 + $0, stream: "S\($0 % 7)", payload: payload) }, clockMicros: clock)
            }
            #expect(try log.count() == 2000)
            #expect(log.env.mapSize > before)
            #expect(try log.verify().ok)
            // A second handle opened with the tiny size still reads everything.
            let reopened = try EventLog.open(at: dir, mapSize: 64 << 10)
            #expect(try reopened.count() == 2000)
        }
    }

    @Test func verifyFindsAChangedPayloadByte() throws {
        try withTemporaryLog { log, _ in
            try log.append((1...10).map { event($0) }, clockMicros: clock)
            try log.env.write { txn in
                guard var bytes = try txn.get(log.events, Keys.sequence(6))?.copiedBytes else { return }
                bytes[bytes.count - 40] ^= 0x01  // inside the payload
                try txn.put(log.events, Keys.sequence(6), bytes)
            }
            let report = try log.verify()
            #expect(!report.ok)
            #expect(report.problems.first?.sequence == 6)
            #expect(report.problems.first?.kind == .hashMismatch)
        }
    }

    @Test func verifyFindsARemovedEvent() throws {
        try withTemporaryLog { log, _ in
            try log.append((1...10).map { event($0) }, clockMicros: clock)
            try log.env.write { txn in _ = try txn.delete(log.events, Keys.sequence(4)) }
            let report = try log.verify()
            #expect(report.problems.first?.sequence == 4)
            #expect(report.problems.first?.kind == .missing)
            #expect(report.problems.contains { $0.kind == .hashMismatch && $0.sequence == 5 })
        }
    }

    @Test func verifyFindsSwappedEvents() throws {
        try withTemporaryLog { log, _ in
            try log.append((1...10).map { event($0) }, clockMicros: clock)
            try log.env.write { txn in
                guard let a = try txn.get(log.events, Keys.sequence(3))?.copiedBytes,
                    let b = try txn.get(log.events, Keys.sequence(7))?.copiedBytes
                else { return }
                try txn.put(log.events, Keys.sequence(3), b)
                try txn.put(log.events, Keys.sequence(7), a)
            }
            let report = try log.verify()
            #expect(report.problems.first?.sequence == 3)
            #expect(report.problems.contains { $0.kind == .sequenceMismatch && $0.sequence == 3 })
        }
    }

    @Test func openingAMissingStoreSaysSo() throws {
        #expect(throws: StoreError.notFound(path: "/nonexistent/kstore")) {
            _ = try EventLog.open(at: "/nonexistent/kstore")
        }
    }

    @Test func theStoreIsOwnerOnly() throws {
        try withTemporaryLog { _, dir in
            let attrs = try FileManager.default.attributesOfItem(atPath: dir)
            #expect((attrs[.posixPermissions] as? Int) == 0o700)
            let data = try FileManager.default.attributesOfItem(atPath: dir + "/data.mdb")
            #expect(((data[.posixPermissions] as? Int) ?? 0) & 0o077 == 0)
        }
    }
}
