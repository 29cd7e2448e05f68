import Foundation
import KClinic
import KStore

extension ProjectionEngine {
    /// Every projection from the whole log under `rules`: memory grows with patients, not events.
    ///
    /// On a machine with more than one core and a log of at least `parallelThreshold` events,
    /// patients are split into one shard a core by a hash of their id, and each shard is folded
    /// by its own thread in its own read transactions over the same sequence range (every
    /// worker walks the whole log, but decodes and folds only its own patients' records; a
    /// patient's events stay in one worker, in log order, so the result is the single-threaded
    /// fold's exactly). Measured in ARCHITECTURE.md ("Parallel replay"). Returns the states, the
    /// last sequence folded, the events read and the seconds it took.
    func rebuild(rules: RuleSet, through: UInt64? = nil) throws -> (set: FoldStateSet, checkpoint: UInt64, events: UInt64, seconds: Double)
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let elapsed = { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let count = try store.log.count()
        let head = through.map { min($0, count) } ?? count
        let workers = max(1, replayThreads ?? (head >= ProjectionEngine.parallelThreshold ? ProjectionEngine.replayWorkers : 1))
        let corrections = try CorrectionIndex.build(store.log, through: head, workers: workers)
        if workers <= 1 {
            var set = FoldStateSet()
            let n = try fold(from: 1, through: head, rules: rules, into: &set, corrections: corrections, load: { _ in nil })
            eventsFolded += n
            return (set, head, n, elapsed())
        }
        let results = ShardResults<(FoldStateSet, UInt64)>(count: workers)
        // The workers only read: the engine's store (LMDB read transactions are thread-safe,
        // one per worker, the environment opened with MDB_NOTLS), the rules and the corrections.
        // `progress` is called by worker 0 alone while the calling thread waits here.
        let shared = UncheckedShared((engine: self, rules: rules, corrections: corrections))
        DispatchQueue.concurrentPerform(iterations: workers) { k in
            let (engine, rules, corrections) = shared.value
            var set = FoldStateSet()
            do {
                let n = try engine.fold(
                    from: 1, through: head, rules: rules, into: &set, corrections: corrections,
                    shard: Shard(index: k, count: workers), load: { _ in nil })
                // Encoding the states for storage is per patient too: done here, in parallel.
                set.encoded = set.entries.map(\.bytes)
                results.store(k, .success((set, n)))
            } catch {
                results.store(k, .failure(error))
            }
        }
        var merged = FoldStateSet()
        var read: UInt64 = 0
        for k in 0..<workers {
            guard let result = results.take(k) else { throw AppError.internal("replay worker \(k) returned nothing") }
            let (set, n) = try result.get()
            read = max(read, n)
            merged.absorb(set)
        }
        eventsFolded += read
        return (merged, head, read, elapsed())
    }

    /// Events from which a full replay is split across cores (below it, thread start-up and the
    /// extra header reads cost more than they save).
    static let parallelThreshold: UInt64 = 50_000

    /// Replay threads: the cores available, at most 8; `KSTORE_REPLAY_THREADS` overrides (1
    /// turns the parallel replay off, e.g. to measure the single-threaded cost).
    static var replayWorkers: Int {
        if let text = ProcessInfo.processInfo.environment["KSTORE_REPLAY_THREADS"], let n = Int(text), n >= 1 {
            return min(n, 64)
        }
        return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// Rebuilds every projection from the whole log under the rules in force and stores them
    /// (what `kstore replay` does, without comparing). Returns the events replayed.
    @discardableResult
    public func rebuildStored() throws -> UInt64 {
        let rules = try rulesInForce()
        let built = try rebuild(rules: rules.rules)
        try store.log.writeAuxiliary { writer in
            try persist(built.set, checkpoint: built.checkpoint, rules: rules, full: true, in: writer)
        }
        return built.events
    }
}
