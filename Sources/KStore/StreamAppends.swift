/// The sequences an `append` has written to `events` in its transaction whose `streams` values
/// are put at the end of that transaction, stream by stream in key order, each stream's new
/// sequences together (`flush`). In a bulk import that fills the main tree of `streams` in key
/// order instead of growing every patient's node a little at a time all over it (which left
/// ~1,000 half-empty leaves and a tree one level deeper for 2,000 patients); a single append
/// is unchanged. Until the flush, a `LogReader` of the transaction adds them to what `streams`
/// holds, so every check sees the batch's earlier events in their streams.
final class StreamAppends {
    private var sequences: [String: [UInt64]] = [:]
    /// Sequences held (not yet put).
    private(set) var held = 0

    func add(_ stream: String, _ sequence: UInt64) {
        sequences[stream, default: []].append(sequence)
        held += 1
    }

    /// This transaction's sequences of `stream` not in `streams` yet, ascending.
    func sequences(of stream: String) -> [UInt64] { sequences[stream] ?? [] }

    /// Streams with such sequences, with how many.
    var counts: [String: Int] { sequences.mapValues(\.count) }

    /// Puts every held sequence into `db` and forgets them.
    func flush(into txn: Transaction, _ db: Database, key keyOf: (String) -> [UInt8]) throws {
        guard !sequences.isEmpty else { return }
        let lastKey = try txn.withCursor(db) { try $0.last()?.key.copiedBytes }
        // In key order (a pseudonym's order in an encrypted store), so the tree fills in order.
        let keyed = sequences.keys.map { (keyOf($0), $0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        for (key, stream) in keyed {
            guard let seqs = sequences[stream] else { continue }
            // A key after every key present is appended (its leaf is split off full, not halved);
            // keys come in order, so once one is past the old last key, all later ones are too.
            var pastEnd = lastKey.map { $0.lexicographicallyPrecedes(key) } ?? true
            for seq in seqs {
                // Each new sequence is the stream's largest: appended to its values.
                try txn.put(db, key, Keys.sequence(seq), flags: pastEnd ? .append : .appendDup)
                pastEnd = false
            }
        }
        sequences = [:]
        held = 0
    }
}

@available(*, unavailable)
extension StreamAppends: Sendable {}
