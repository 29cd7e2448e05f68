/// A 64-bit hash → an index, open addressing with linear probing: what a replay consults for
/// every event (a patient's slot by its stream id's hash; a correction by its target's id hash).
/// Keys are hashes, not the things hashed: callers compare the thing found and handle a
/// collision themselves (keys that differ only in their lowest bit are one key here).
struct SlotTable {
    private var keys: [UInt64]
    private var values: [Int]
    private var mask: Int
    private var count = 0

    init(capacity: Int = 1024) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        keys = Array(repeating: 0, count: n)
        values = Array(repeating: -1, count: n)
        mask = n - 1
    }

    /// 0 marks an empty bucket, so keys are stored with their low bit set.
    func find(_ hash: UInt64) -> Int? {
        let key = hash | 1
        var i = Int(truncatingIfNeeded: key >> 7) & mask
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ hash: UInt64, _ value: Int) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = hash | 1
        var i = Int(truncatingIfNeeded: key >> 7) & mask
        while keys[i] != 0 && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == 0 { count += 1 }
        keys[i] = key
        values[i] = value
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.0 != 0 }
        let n = keys.count * 2
        keys = Array(repeating: 0, count: n)
        values = Array(repeating: -1, count: n)
        mask = n - 1
        count = 0
        for (k, v) in old { insert(k, v) }
    }
}
