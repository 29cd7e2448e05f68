/// The `PatientFoldState`s of one pass over the log (a full replay or a catch-up), in memory,
/// all at one log position under one rule set, with what the pass did to each.
///
/// `entries[i]` is one patient's state, found by `index[patient]`; `touched[i]` says it changed
/// in this pass (a catch-up stores only those), `dirty[i]` that it must be refolded from its
/// stream (an event older than its last applied one, or, in a catch-up, a correction). A full
/// replay holds every patient with events; a catch-up first only those with new events, then
/// `ProjectionEngine.current` adds the stored states of the rest.
struct FoldStateSet {
    var index: [String: Int] = [:]
    var entries: [PatientFoldState] = []
    /// Per entry: changed since loaded (to be stored), and to be refolded from its stream.
    var touched: [Bool] = []
    var dirty: [Bool] = []
    /// Each entry's stored bytes, encoded by a parallel replay's workers (so the one writer
    /// only puts them); empty unless one per entry, and cleared when a fold changes entries.
    var encoded: [[UInt8]] = []

    /// Entry `i` as stored.
    func bytes(at i: Int) -> [UInt8] {
        encoded.count == entries.count ? encoded[i] : entries[i].bytes
    }

    mutating func slot(_ patient: String, load: (String) throws -> PatientFoldState?) rethrows -> Int {
        if let i = index[patient] { return i }
        let p = try load(patient) ?? PatientFoldState(patient: patient)
        entries.append(p)
        touched.append(false)
        dirty.append(p.needsRefold)
        index[patient] = entries.count - 1
        return entries.count - 1
    }

    var touchedIndices: [Int] { touched.indices.filter { touched[$0] } }

    /// Adds `other`'s patients (a disjoint shard of a parallel replay).
    mutating func absorb(_ other: FoldStateSet) {
        let keepEncoded = encoded.count == entries.count && other.encoded.count == other.entries.count
        if keepEncoded { encoded += other.encoded } else { encoded = [] }
        for i in other.entries.indices {
            index[other.entries[i].patient] = entries.count
            entries.append(other.entries[i])
            touched.append(other.touched[i])
            dirty.append(other.dirty[i])
        }
    }
}
