import Foundation
import KClinic
import KStore

/// `AuditTrail` read in bounded memory: the trail's entries are produced one at a time
/// (`forEachEntry`) from a pass over the log, never held together, so `kstore audit trail` of a
/// store of any size prints (table or JSON) without holding its entries.
///
/// Opening it reads the log's corrections (a pass decoding only `EventAmended`/`EventVoided`,
/// type code peeked), the events they name, and then the selected entries once, for what has to
/// be known before the first entry is printed: how many there are, the per-actor summary (the
/// JSON document's first key) and the patients read (recorded in the access log before anything
/// is shown); `visit` sees each entry of that pass (the table measures its columns with it).
/// Every pass stops at the log's last sequence when it was opened, so the entries printed are
/// the ones counted even while another process appends. Memory grows with the corrections in
/// the log, the actors and the patients, not with the entries.
public final class AuditTrailReader {
    public let filter: AuditTrail.Filter
    public let lateEntryHours: Int
    public let rulesVersion: String
    /// Entries selected.
    public private(set) var count = 0
    public private(set) var actors: [AuditTrail.ActorSummary] = []
    /// The patients (streams) of the entries, each once, in byte order.
    public private(set) var patients: [String] = []

    private let store: ClinicStore
    /// The last sequence every pass reads.
    private let through: UInt64
    private let thresholdMicros: Int64
    private var history = CorrectionLog()
    /// Corrections and the events they name (or the roots of their chains), by id.
    private var known: [UUID: Recorded] = [:]
    private var histories: [UUID: [AuditTrail.Correction]] = [:]

    /// Opens the trail of `store` under `filter`. `lateEntryHours` overrides the rule set in force.
    public init(
        _ store: ClinicStore, filter: AuditTrail.Filter = AuditTrail.Filter(), lateEntryHours: Int? = nil,
        visit: (AuditTrail.Entry) throws -> Void = { _ in }
    ) throws {
        let rules = try ProjectionEngine(store: store).rulesInForce().rules
        self.store = store
        self.filter = filter
        self.lateEntryHours = max(1, lateEntryHours ?? rules.lateEntryHours)
        rulesVersion = rules.version
        thresholdMicros = Int64(self.lateEntryHours) * 3_600_000_000
        through = try store.log.count()

        // 1. Every correction that can bear on the entries (a patient's are all in its stream).
        if let patient = filter.patient {
            try store.log.read { reader in
                try reader.forEachInStream(patient, typeCodes: [CorrectionLog.amendedCode, CorrectionLog.voidedCode]) { view in
                    if view.sequence <= through { history.add(try EventMapping.recorded(view)) }
                }
            }
        } else {
            try store.log.scanRaw(through: through) { seq, bytes in
                guard let code = store.log.typeCode(of: bytes),
                    code == CorrectionLog.amendedCode || code == CorrectionLog.voidedCode
                else { return true }
                history.add(try EventMapping.decodeRecorded(bytes, sequence: seq, cipher: store.log.cipher))
                return true
            }
        }
        history.resolve()

        // 2. The events corrections name and the originals at the roots of their chains, read
        // by id in one read transaction.
        known = history.byId
        var wanted: Set<UUID> = []
        for c in history.list {
            if let target = CorrectionLog.target(of: c.event), known[target] == nil { wanted.insert(target) }
            let root = history.root(of: c.eventId)
            if known[root] == nil { wanted.insert(root) }
        }
        if !wanted.isEmpty {
            try store.log.read { reader in
                for id in wanted {
                    guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), seq <= through,
                        let view = try reader.record(seq)
                    else { continue }
                    known[id] = try EventMapping.recorded(view)
                }
            }
        }

        // 3. The entries once: their number, the actors' summary, the patients.
        var summaries: [String: AuditTrail.ActorSummary] = [:]
        var streams: Set<String> = []
        try forEachEntry { e in
            count += 1
            streams.insert(e.record.patient)
            AuditTrail.count(e, into: &summaries)
            try visit(e)
        }
        actors = summaries.values.sorted { $0.id < $1.id }
        patients = streams.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Calls `body` with each entry in log order, built as it is read.
    public func forEachEntry(_ body: (AuditTrail.Entry) throws -> Void) throws {
        if let patient = filter.patient {
            // The stream's sequences, read a chunk of records per read transaction.
            let sequences = try store.log.read { reader in try reader.streamSequences(patient) }.filter { $0 <= through }
            var start = 0
            while start < sequences.count {
                let end = min(start + 65_536, sequences.count)
                let records: [Recorded] = try store.log.read { reader in
                    var out: [Recorded] = []
                    for seq in sequences[start..<end] {
                        guard let view = try reader.record(seq) else {
                            throw StoreError.corrupt(sequence: seq, detail: "indexed in stream \(patient) but missing")
                        }
                        if filter.matches(view) { out.append(try EventMapping.recorded(view)) }
                    }
                    return out
                }
                for r in records { try body(entry(r)) }
                start = end
            }
        } else {
            try store.log.scan(through: through) { view in
                if filter.matches(view) { try body(entry(try EventMapping.recorded(view))) }
                return true
            }
        }
    }

    /// One entry: its delay, its correction history and what stands of it now.
    private func entry(_ r: Recorded) -> AuditTrail.Entry {
        let delay = r.recordedAtMicros &- r.occurredAt.epochMillis &* 1000
        let root = history.root(of: r.eventId)
        var corrections = correctionsOf(root: root)
        if root != r.eventId {
            // A correction's own history: the voids naming it, directly or through others.
            corrections = corrections.filter { history.descends($0.record.eventId, from: r.eventId) }
        }
        let voidedBy = history.voidInForce(naming: r.eventId)
        var effective: JSONValue? = nil
        if voidedBy == nil {
            if root == r.eventId, let last = corrections.last {
                effective = last.effectiveData
            } else {
                effective = r.event.dataJSON
            }
        }
        var corrects: AuditTrail.Reference?
        if let target = CorrectionLog.target(of: r.event) {
            corrects = AuditTrail.Reference(eventId: target, record: known[target])
        }
        return AuditTrail.Entry(
            record: r, delayMicros: delay, late: delay > thresholdMicros, voided: voidedBy != nil, voidedBy: voidedBy,
            effectiveData: effective, corrects: corrects, corrections: corrections)
    }

    /// The history of original `id` (kept: there is one per corrected original).
    private func correctionsOf(root id: UUID) -> [AuditTrail.Correction] {
        if let h = histories[id] { return h }
        let h = history.corrections(ofRoot: id, original: known[id], known: known)
        if !h.isEmpty { histories[id] = h }
        return h
    }

    /// The bytes of `JSONWriter.writeLine(trail.json)` of the same trail (keys sorted, one
    /// line), written entry by entry and handed to `flush` in chunks of about `chunk` bytes.
    public func writeJSONLine(chunk: Int = 1 << 20, _ flush: ([UInt8]) -> Void) throws {
        try AuditTrail.writeJSONLine(
            filter: filter, lateEntryHours: lateEntryHours, rulesVersion: rulesVersion, actors: actors, chunk: chunk,
            entries: forEachEntry, flush)
    }
}

@available(*, unavailable)
extension AuditTrailReader: Sendable {}
