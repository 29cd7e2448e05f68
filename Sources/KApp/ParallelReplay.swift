import Foundation

/// One worker's share of a parallel replay: the patients whose id hashes to `index`.
struct Shard: Sendable {
    var index: Int
    var count: Int

    /// FNV-1a of a stream id's bytes: stable, cheap, and spreads `P-00001`-style ids evenly.
    static func hash(_ stream: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in stream {
            h = (h ^ UInt64(b)) &* 0x100_0000_01b3
        }
        return h
    }

    func owns(_ hash: UInt64) -> Bool {
        Int(hash % UInt64(count)) == index
    }
}

/// Read-only values handed to the workers of a parallel replay (see `rebuild(rules:)`).
struct UncheckedShared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The results of parallel workers, each slot written once by its own worker.
final class ShardResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ k: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        slots[k] = result
    }

    func take(_ k: Int) -> Result<Value, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return slots[k]
    }
}
