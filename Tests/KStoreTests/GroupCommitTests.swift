import Foundation
import Testing

@testable import KStore

/// Group commit (issue 13): the server's one writer runs every waiting request's writes in
/// nested transactions of one write transaction, committed once.
@Suite struct GroupCommitTests {
    struct Refused: Error {}

    @Test func aFailingWriteLeavesNothingOfItselfAndTheOthersCommitTogether() throws {
        try withTemporaryLog { log, _ in
            var outcomes: [Result<UInt64, any Error>] = []
            try log.group { () throws in
                for n in 1...5 {
                    do {
                        let appended = try log.append([event(n, stream: "S\(n % 2)")], clockMicros: clock) { _, _, _ in
                            if n == 3 { throw Refused() }
                        }
                        guard case .appended(let seq, _)? = appended.first else { throw Refused() }
                        outcomes.append(.success(seq))
                    } catch {
                        outcomes.append(.failure(error))
                    }
                }
                // Inside the group, nothing is visible to a reader yet (nothing is committed).
                #expect(try log.count() == 0)
            }
            #expect(outcomes.compactMap { try? $0.get() } == [1, 2, 3, 4])
            #expect((try? outcomes[2].get()) == nil)
            #expect(try log.count() == 4)
            // Sequences gapless, stream versions contiguous, the chain intact: the nested writes
            // each saw the ones before them.
            try log.read { (r: LogReader) throws in
                #expect(try r.streamSequences("S1") == [1, 4])  // events 1 and 5 (3 was refused)
                #expect(try r.streamSequences("S0") == [2, 3])  // events 2 and 4
            }
            #expect(try log.verify().ok)
        }
    }

    @Test func aGroupThatThrowsWritesNothing() throws {
        try withTemporaryLog { log, _ in
            #expect(throws: Refused.self) {
                try log.group { () throws in
                    try log.append([event(1)], clockMicros: clock)
                    try log.append([event(2)], clockMicros: clock)
                    throw Refused()
                }
            }
            #expect(try log.count() == 0)
            try log.append([event(3)], clockMicros: clock)
            #expect(try log.count() == 1)
            #expect(try log.verify().ok)
        }
    }

    @Test func auxiliaryWritesNestToo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try EventLog.create(at: dir, auxiliary: ["side"], clockMicros: 1_700_000_000_000_000)
        let side = try #require(log.auxiliary["side"])
        try log.group { () throws in
            try log.writeAuxiliary { w in try w.txn.put(side, [1], [1]) }
            _ = try? log.writeAuxiliary { w -> Void in
                try w.txn.put(side, [2], [2])
                throw Refused()
            }
            try log.append([event(1)], clockMicros: clock)
        }
        try log.read { (r: LogReader) throws in
            #expect(try r.txn.get(side, [1]) != nil)
            #expect(try r.txn.get(side, [2]) == nil)
        }
        #expect(try log.count() == 1)
    }
}
