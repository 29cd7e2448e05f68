import Foundation
import Glibc
import KApp
import KClinic
@_spi(Drill) import KStore
import Testing

/// Issue 11, item 13: verify checks the chain in chunks on several threads, and reports exactly
/// what one walk does.
@Suite(.serialized) struct ParallelVerifyTests {
    /// `count` vitals of 40 patients (enough to be verified in parallel).
    func fill(_ store: ClinicStore, count: Int) throws {
        var ndjson = ""
        for i in 0..<count {
            let at = Timestamp(epochMillis: 1_735_700_000_000 + Int64(i) * 60_000, offsetMinutes: -300).rfc3339
            ndjson +=
                line(
                    "VitalsRecorded", patient: "P-\(i % 40)", at: at,
                    data: #"{"systolic":\#(110 + i % 30),"diastolic":\#(70 + i % 15),"heartRate":72}"#) + "\n"
        }
        _ = try Importer(store: store).importNDJSON(Array(ndjson.utf8), source: "vitals")
    }

    @Test func verifyUsesMoreThanOneThreadOnALargeLog() throws {
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return }
        try withStore { store in
            try fill(store, count: 20_000)
            let seen = ThreadSet()
            let report = try store.log.verify { _ in
                seen.insert(pthread_self())
                return nil
            }
            #expect(report.ok, "\(report.problems.prefix(3))")
            #expect(seen.count >= 2, "verify ran on \(seen.count) thread(s)")
        }
    }

    @Test func theReportIsTheSameWhateverTheNumberOfThreads() throws {
        try withStore { store in
            try fill(store, count: 20_000)
            let total = try store.log.count()
            let tamper = LogTamper(drillsOnly: store.log)
            // Damage at and around the chunk boundaries of 2, 3 and 4 threads, and elsewhere:
            // a changed byte, a removed record, two swapped, a short value.
            for k in [2, 3, 4] {
                let boundary = 1 + total / UInt64(k)
                if var bytes = try tamper.rawRecord(boundary) {
                    bytes[bytes.count / 2] ^= 0x20
                    try tamper.overwriteRaw(boundary, bytes)
                }
                try tamper.deleteRaw(boundary + 2)
            }
            try tamper.swapRaw(1 + total / 2 - 1, 1 + total / 2 + 3)
            try tamper.overwriteRaw(1 + total / 3 - 1, [1, 2, 3])
            try tamper.deleteRaw(1 + total / 4 - 1)
            try tamper.deleteRaw(total)
            let single = try store.log.verify(threads: 1)
            #expect(!single.ok)
            #expect(single.problems.count > 10)
            for threads in [2, 3, 4, 5, 8] {
                let parallel = try store.log.verify(threads: threads)
                #expect(parallel.problems == single.problems, "\(threads) threads")
                #expect(parallel.events == single.events && parallel.headHash == single.headHash, "\(threads) threads")
            }
            // The cut at maxProblems keeps the same first problems.
            let few = try store.log.verify(maxProblems: 5, threads: 1)
            for threads in [2, 4] {
                #expect(try store.log.verify(maxProblems: 5, threads: threads).problems == few.problems, "\(threads) threads")
            }
        }
    }
}

/// Threads seen by verify's `inspect`.
final class ThreadSet: @unchecked Sendable {
    private let lock = NSLock()
    private var threads: Set<UInt> = []
    func insert(_ t: pthread_t) {
        lock.lock()
        threads.insert(UInt(t))
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return threads.count
    }
}
