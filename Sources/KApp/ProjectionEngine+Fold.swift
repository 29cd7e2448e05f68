import KBinary
import KClinic
import KStore

extension ProjectionEngine {
    // MARK: Folding the log

    /// Folds events `from`…`through` into `set`, streaming the log in bounded read transactions.
    ///
    /// With `corrections` (a full replay) voids and amendments are applied as events stream by.
    /// Without (a catch-up), a patient that receives a correction is refolded from all its
    /// events at the end; so is one that receives an event older than its last applied one.
    /// Returns the number of events read.
    @discardableResult
    func fold(
        from: UInt64, through: UInt64, rules: RuleSet, into set: inout FoldStateSet,
        corrections: CorrectionIndex? = nil, shard: Shard? = nil, load: (String) throws -> PatientFoldState?
    ) throws -> UInt64 {
        var read: UInt64 = 0
        let amended = EventType.eventAmended.code
        let voided = EventType.eventVoided.code
        let total = through >= from ? through - from + 1 : 0
        let fix = corrections.flatMap { $0.isEmpty ? nil : $0 }
        set.encoded = []
        let reportProgress = shard.map { $0.index == 0 } ?? true
        // Patients by a hash of their stream id's bytes: no String hashing per event (it cost
        // ~6% of a replay); the slot's patient is compared, and a collision falls back to the
        // dictionary.
        var slots = SlotTable()
        let cipher = store.log.cipher
        // Each view is consumed (decoded into a `Recorded`) before the next record is opened.
        let scratch = cipher.map { _ in OpenedBytes() }
        try store.log.scanRaw(from: from, through: through) { seq, bytes in
            read += 1
            if reportProgress, let progress, read % 250_000 == 0 { progress(read, total) }
            guard let streamBytes = RecordView.peekStream(bytes) else {
                throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
            }
            let hash = Shard.hash(streamBytes)
            if let shard, !shard.owns(hash) { return true }
            // Folds never read who recorded an event: skip the actor and OS user strings.
            let view = try EventMapping.decodeView(bytes, sequence: seq, names: false, cipher: cipher, scratch: scratch)
            let stream = view.stream
            if SystemStream.isSystem(stream) { return true }
            let i: Int
            if let s = slots.find(hash), set.entries[s].patient == stream {
                i = s
            } else {
                i = try set.slot(stream, load: load)
                if slots.find(hash) == nil { slots.insert(hash, i) }
            }
            if set.dirty[i] { return true }
            if view.typeCode == amended || view.typeCode == voided {
                // A full replay has applied it through `corrections`; a catch-up refolds.
                if corrections == nil { set.dirty[i] = true }
                return true
            }
            // The correction (if any) decides before decoding: a voided event is not decoded.
            let action = fix?.action(for: view.eventId) ?? nil
            if case .void? = action { return true }
            var rec = try EventMapping.recorded(view)
            if case .amend(let list)? = action { CorrectionIndex.amend(&rec, list) }
            if !set.entries[i].state.isInOrder(rec) {
                set.dirty[i] = true
                return true
            }
            set.entries[i].evolve(rec, rules: rules)
            let day = rec.occurredAt.clinicalDay
            if day > set.entries[i].maxDay { set.entries[i].maxDay = day }
            set.touched[i] = true
            return true
        }
        for i in set.dirty.indices where set.dirty[i] {
            set.entries[i] = try refold(set.entries[i].state.patient, rules: rules, throughSequence: through)
            set.dirty[i] = false
            set.touched[i] = true
        }
        return read
    }

    /// One patient from all its events (up to a log position, a knowledge time, a date).
    func refold(
        _ patient: String, rules: RuleSet, throughSequence: UInt64 = .max, day: Day? = nil, asOf: Int64? = nil
    ) throws -> PatientFoldState {
        var events: [Recorded] = []
        try store.log.read { reader in
            try reader.forEachInStream(patient) { view in
                if view.sequence <= throughSequence { events.append(try EventMapping.recorded(view)) }
            }
        }
        let (state, monitoring) = PatientProjection.fold(
            patient: patient, events: events, rules: rules, through: day, recordedAtOrBefore: asOf, amend: ProjectionEngine.amend)
        var maxDay = Day(ordinal: .min)
        for e in events where (asOf.map { e.recordedAtMicros <= $0 } ?? true) {
            let d = e.occurredAt.clinicalDay
            if (day.map { d <= $0 } ?? true) && d > maxDay { maxDay = d }
        }
        return PatientFoldState(state: state, monitoring: monitoring, maxDay: maxDay)
    }
}
