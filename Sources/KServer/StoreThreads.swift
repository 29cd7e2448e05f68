import Foundation
import KApp

/// The store as the server's threads share it. LMDB read transactions may run on any thread
/// (the environment is opened with `MDB_NOTLS`); writes run only on `StoreWriter`'s thread. The
/// `ClinicStore` object itself is only read after it is opened (its map size is fixed:
/// `EventLog.fixedMapSize`), which is what makes sharing it sound.
final class SharedStore: @unchecked Sendable {
    let store: ClinicStore
    init(_ store: ClinicStore) { self.store = store }
}

/// A job for a thread of the server's own, with the continuation of the request that waits.
private final class Job: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// A queue of jobs guarded by a condition variable.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closed = false

    func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Waits for jobs; returns up to `max` of them (all waiting ones for the writer), or nil
    /// when the queue is closed and empty.
    func take(max: Int) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        if jobs.isEmpty { return nil }
        let n = Swift.min(max, jobs.count)
        let taken = Array(jobs.prefix(n))
        jobs.removeFirst(n)
        return taken
    }

    /// Whether no job is waiting.
    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return jobs.isEmpty
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The server is stopping: no new store work is taken.
struct StoreClosed: Error {}

/// Threads that run read-only store work (LMDB read transactions), never on an event loop:
/// a request awaits its job's result and its event loop stays free.
final class StoreReaders: @unchecked Sendable {
    private let queue = JobQueue()
    private let shared: SharedStore
    private var threads: [Thread] = []

    init(_ shared: SharedStore, threads count: Int) {
        self.shared = shared
        for i in 0..<max(1, count) {
            let queue = self.queue
            let t = Thread {
                while let jobs = queue.take(max: 1) { for j in jobs { j.run() } }
            }
            t.name = "kstore-reader-\(i)"
            t.start()
            threads.append(t)
        }
    }

    /// Runs `body` on a reader thread with the store and returns its result. `body` must only
    /// read (a `ProjectionEngine` it makes has `persists` false).
    func run<T: Sendable>(_ body: @escaping @Sendable (ClinicStore) throws -> T) async throws -> T {
        let shared = self.shared
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let job = Job {
                do { c.resume(returning: try body(shared.store)) } catch { c.resume(throwing: error) }
            }
            if !queue.push(job) { c.resume(throwing: StoreClosed()) }
        }
    }

    func close() { queue.close() }
}

/// The one thread that writes. Requests hand it closures; it takes every one that is waiting
/// and runs them in one write transaction (each in a nested transaction of its own: one that
/// fails leaves nothing and the others stand), commits once, durably (group commit), and only
/// then answers each request. So a hundred nurses saving at once cost one sync, and nothing is
/// acknowledged before it is on disk. After a group that appended events it catches the stored
/// projections up, so the readers' queries stay cheap.
final class StoreWriter: @unchecked Sendable {
    private let queue = JobQueue()
    private let shared: SharedStore
    private var thread: Thread?
    /// Jobs in one group at most (bounds a transaction's size and a request's wait); 1 turns
    /// group commit off (one durable transaction a request), for the measurement.
    let maxGroup: Int
    /// Groups committed and jobs in them (for the measurements in BENCHMARKS.md).
    private let stats = NSLock()
    private var groupsCommitted = 0
    private var jobsCommitted = 0
    private let done = DispatchSemaphore(value: 0)

    init(_ shared: SharedStore, maxGroup: Int = 256) {
        self.shared = shared
        self.maxGroup = max(1, maxGroup)
        let maxGroup = self.maxGroup
        let queue = self.queue
        let done = self.done
        let shared = self.shared
        let t = Thread { [unowned self] in
            while let jobs = queue.take(max: maxGroup) { self.commit(jobs) }
            if self.uncaught > 0 {
                _ = try? ProjectionEngine(store: shared.store).catchUp()
                _ = try? LedgerReader.ledger(shared.store, persist: true)
            }
            done.signal()
        }
        t.name = "kstore-writer"
        thread = t
        t.start()
    }

    /// One pending write: its body, where its result goes until the group commits, and what
    /// answers the request.
    private final class Pending: @unchecked Sendable {
        let body: (ClinicStore) -> Void
        let finish: (Result<Void, any Error>) -> Void
        init(body: @escaping (ClinicStore) -> Void, finish: @escaping (Result<Void, any Error>) -> Void) {
            self.body = body
            self.finish = finish
        }
    }

    private var batch: [Pending] = []
    /// Events appended since the stored projections were last caught up, and when that was.
    private var uncaught: UInt64 = 0
    private var lastCatchUp: UInt64 = 0

    private func commit(_ jobs: [Job]) {
        // Each Job registers its Pending in `batch` when run.
        batch.removeAll(keepingCapacity: true)
        for j in jobs { j.run() }
        let store = shared.store
        let before = (try? store.log.count()) ?? 0
        let outcome: Result<Void, any Error>
        do {
            try store.log.group {
                for p in batch { p.body(store) }
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        stats.lock()
        groupsCommitted += 1
        jobsCommitted += batch.count
        stats.unlock()
        for p in batch { p.finish(outcome) }
        batch.removeAll(keepingCapacity: true)
        // Keep the stored projections near the head, so the readers' in-memory catch-up stays
        // small: when nothing else is waiting, else at most every second or 2,000 new events
        // (each catch-up is a durable write of its own; after every group under load it would
        // cost a second sync a group).
        if case .success = outcome, let after = try? store.log.count(), after > before { uncaught += after - before }
        if uncaught > 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            if queue.isEmpty || uncaught >= 2_000 || now - lastCatchUp >= 1_000_000_000 {
                _ = try? ProjectionEngine(store: store).catchUp()
                // R15's stored ledger too (incremental: the records since it was stored).
                _ = try? LedgerReader.ledger(store, persist: true)
                uncaught = 0
                lastCatchUp = now
            }
        }
    }

    /// Runs `body` on the writer thread inside the next group; returns once the group's
    /// transaction is durably committed (or throws what `body` threw, having written nothing,
    /// or the commit's error).
    func run<T: Sendable>(_ body: @escaping @Sendable (ClinicStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let job = Job { [unowned self] in
                var result: Result<T, any Error> = .failure(StoreClosed())
                self.batch.append(
                    Pending(
                        body: { store in
                            // A group that meets a full map runs again: each run starts afresh.
                            do { result = .success(try body(store)) } catch { result = .failure(error) }
                        },
                        finish: { committed in
                            switch committed {
                            case .success: c.resume(with: result)
                            case .failure(let error):
                                // Nothing of the group was written; a job that failed says why.
                                if case .failure(let own) = result { c.resume(throwing: own) } else { c.resume(throwing: error) }
                            }
                        }))
            }
            if !queue.push(job) { c.resume(throwing: StoreClosed()) }
        }
    }

    /// (groups, jobs) committed so far.
    var counts: (groups: Int, jobs: Int) {
        stats.lock()
        defer { stats.unlock() }
        return (groupsCommitted, jobsCommitted)
    }

    /// Stops taking jobs, lets the thread commit what is queued, and waits for it.
    func close() {
        queue.close()
        done.wait()
    }
}
