import KClinic
import KStore

extension ProjectionEngine {
    /// Brings the stored projections up to the head of the log (what every query does first).
    /// Returns the number of patients whose projection is now in memory.
    @discardableResult
    public func catchUp() throws -> Int {
        try current().set.entries.count
    }

    // MARK: Stored projections

    /// Which log position and rule set produced the stored projections (nil: none stored yet).
    public func storedCheckpoint() throws -> (checkpoint: UInt64, rulesHash: String)? {
        try store.log.read { reader in try storedMeta(reader).map { ($0.checkpoint, $0.rulesHash) } }
    }

    struct StoredMeta {
        var checkpoint: UInt64
        var rulesHash: String
        /// nil: made before the fold version was stored (before protocol revision 4).
        var foldVersion: UInt8?

        /// Made by these folds under `rules`: they can be caught up rather than rebuilt.
        func isCurrent(_ rules: RulesInForce) -> Bool {
            rulesHash == rules.hash && foldVersion == ProjectionEngine.foldVersion
        }
    }

    func storedMeta(_ reader: LogReader) throws -> StoredMeta? {
        guard let meta = metaDB,
            let cp = try reader.auxGet(meta, Array("checkpoint".utf8), keys: .ordered), cp.count == 8,
            let hash = try reader.auxGet(meta, Array("rulesHash".utf8), keys: .ordered)
        else { return nil }
        var v: UInt64 = 0
        for b in cp { v = (v << 8) | UInt64(b) }
        let fold = try reader.auxGet(meta, Array("foldVersion".utf8), keys: .ordered).flatMap { $0.count == 1 ? $0[0] : nil }
        return StoredMeta(checkpoint: v, rulesHash: String(decoding: hash, as: UTF8.self), foldVersion: fold)
    }

    /// The stored projection of `patient` (nil: none). One that does not decode (damaged) comes
    /// back empty and marked `needsRefold`: the pass refolds that patient from its stream
    /// instead of catching up from nothing.
    func loadStored(_ patient: String, _ reader: LogReader) throws -> PatientFoldState? {
        guard let db = projectionsDB else { return nil }
        do {
            guard let bytes = try reader.auxGet(db, Array(patient.utf8)) else { return nil }
            return try bytes.withUnsafeBytes { try PatientFoldState.decode($0) }
        } catch {
            var p = PatientFoldState(patient: patient)
            p.needsRefold = true
            return p
        }
    }

    /// Writes `set`'s touched projections (all of them, replacing everything, when `full`) and
    /// the checkpoint, in the given write transaction. Skips a catch-up that another process
    /// already overtook.
    func persist(_ set: FoldStateSet, checkpoint: UInt64, rules: RulesInForce, full: Bool, in reader: LogReader) throws {
        guard let db = projectionsDB, let meta = metaDB else { return }
        let txn = reader.txn
        if !full, let stored = try storedMeta(reader), stored.checkpoint >= checkpoint || !stored.isCurrent(rules) {
            return
        }
        if full { try txn.clear(db) }
        let indices = full ? Array(set.entries.indices) : set.touchedIndices
        for i in indices {
            try reader.auxPut(db, Array(set.entries[i].state.patient.utf8), set.bytes(at: i))
        }
        try reader.auxPut(meta, Array("checkpoint".utf8), withUnsafeBytes(of: checkpoint.bigEndian) { Array($0) }, keys: .ordered)
        try reader.auxPut(meta, Array("rulesHash".utf8), Array(rules.hash.utf8), keys: .ordered)
        let seq = rules.adoptedAt ?? 0
        try reader.auxPut(meta, Array("rulesSeq".utf8), withUnsafeBytes(of: seq.bigEndian) { Array($0) }, keys: .ordered)
        try reader.auxPut(meta, Array("foldVersion".utf8), [ProjectionEngine.foldVersion], keys: .ordered)
    }

    /// Brings the stored projections up to the head of the log and returns them with the rules.
    ///
    /// Only events after the checkpoint are read; a patient with a late-recorded or corrected
    /// event is refolded alone. Under a different rule set than the stored one (or none stored)
    /// everything is rebuilt and stored; `rebuilt` then says so (the events that full replay read
    /// and its seconds), so a caller about to replay the whole log need not fold it again.
    func current(patient: String? = nil) throws -> (
        set: FoldStateSet, rules: RulesInForce, checkpoint: UInt64, rebuilt: (events: UInt64, seconds: Double)?
    ) {
        let (rules, meta, head) = try store.log.read { reader in
            (try rulesInForce(reader), try storedMeta(reader), try reader.lastRecord()?.sequence ?? 0)
        }
        if let meta, meta.isCurrent(rules), meta.checkpoint <= head {
            var set = FoldStateSet()
            if meta.checkpoint < head {
                try store.log.read { reader in
                    eventsFolded += try fold(from: meta.checkpoint + 1, through: head, rules: rules.rules, into: &set) { p in
                        try loadStored(p, reader)
                    }
                }
                if persists {
                    try store.log.writeAuxiliary { writer in
                        try persist(set, checkpoint: head, rules: rules, full: false, in: writer)
                    }
                }
            }
            // Add what the catch-up did not touch.
            var unreadable: [Int] = []
            var unopened = false
            try store.log.read { reader in
                if let patient {
                    let i = try set.slot(patient) { p in try loadStored(p, reader) }
                    if set.entries[i].needsRefold { unreadable.append(i) }
                } else if let db = projectionsDB {
                    // A sealed entry that does not open names nobody: everything is rebuilt below.
                    try reader.auxForEach(db, unopened: { _ in unopened = true }) { key, value in
                        let name = String(decoding: key, as: UTF8.self)
                        if set.index[name] == nil {
                            var p = PatientFoldState(patient: name)
                            do { p = try value.withUnsafeBytes { try PatientFoldState.decode($0) } } catch { p.needsRefold = true }
                            let i = set.slot(name) { _ in p }
                            if p.needsRefold { unreadable.append(i) }
                        }
                        return true
                    }
                }
            }
            // A damaged stored projection is refolded from its stream, never left out.
            if unopened { return try rebuildAndStore(rules) }
            for i in unreadable {
                set.entries[i] = try refold(set.entries[i].patient, rules: rules.rules, throughSequence: head)
            }
            return (set, rules, head, nil)
        }
        return try rebuildAndStore(rules)
    }

    private func rebuildAndStore(_ rules: RulesInForce) throws -> (
        set: FoldStateSet, rules: RulesInForce, checkpoint: UInt64, rebuilt: (events: UInt64, seconds: Double)?
    ) {
        let built = try rebuild(rules: rules.rules)
        if persists {
            try store.log.writeAuxiliary { writer in
                try persist(built.set, checkpoint: built.checkpoint, rules: rules, full: true, in: writer)
            }
        }
        return (built.set, rules, built.checkpoint, (built.events, built.seconds))
    }
}
