import Foundation
import KClinic
import KStore

/// Every correction in the log, resolved: which events are voided and which amendments apply.
///
/// Built by one raw pass that decodes only `EventAmended`/`EventVoided` records, so a full
/// replay can apply corrections as it streams (protocol.md, Conventions: a correction takes
/// effect whatever its own date) instead of refolding each corrected patient from its stream.
/// The resolution is the fold's: walking back in log order settles every void before the event
/// it names (voiding a void undoes it); amendments not voided apply in log order.
struct CorrectionIndex {
    enum Action {
        case void
        case amend([[(String, JSONValue)]])
    }

    /// Corrected events by their sequence, ascending: a replay streaming in log order walks
    /// them with a cursor, with no hashing per event.
    private(set) var targets: [(sequence: UInt64, action: Action)] = []

    var isEmpty: Bool { targets.isEmpty }

    ///
    /// With `workers` > 1 the log is split into that many sequence ranges, scanned in parallel
    /// (each in its own read transactions) and their corrections joined in log order.
    static func build(_ log: EventLog, through: UInt64, workers: Int = 1) throws -> CorrectionIndex {
        let head = min(through, try log.count())
        var corrections: [Recorded] = []
        if workers <= 1 || head < 2 * UInt64(workers) {
            corrections = try scan(log, from: 1, through: head)
        } else {
            let n = UInt64(workers)
            let results = ShardResults<[Recorded]>(count: workers)
            let shared = UncheckedShared(log)
            DispatchQueue.concurrentPerform(iterations: workers) { k in
                let from = head * UInt64(k) / n + 1
                let to = head * UInt64(k + 1) / n
                results.store(k, Result { try scan(shared.value, from: from, through: to) })
            }
            for k in 0..<workers {
                guard let part = results.take(k) else { throw AppError.internal("correction scan \(k) returned nothing") }
                corrections += try part.get()
            }
        }
        return try resolve(corrections, log: log)
    }

    /// The corrections among `from`…`through`, decoded, in log order (only their records are
    /// decoded; every other record is skipped by its type code).
    private static func scan(_ log: EventLog, from: UInt64, through: UInt64) throws -> [Recorded] {
        let amendedCode = EventType.eventAmended.code
        let voidedCode = EventType.eventVoided.code
        var corrections: [Recorded] = []
        try log.scanRaw(from: from, through: through) { seq, bytes in
            guard let code = RecordView.peekTypeCode(bytes), code == amendedCode || code == voidedCode else { return true }
            do {
                corrections.append(try EventMapping.recorded(try RecordView(bytes)))
            } catch {
                throw StoreError.corrupt(sequence: seq, detail: "\(error)")
            }
            return true
        }
        return corrections
    }

    private static func resolve(_ corrections: [Recorded], log: EventLog) throws -> CorrectionIndex {
        guard !corrections.isEmpty else { return CorrectionIndex() }
        var voided: Set<UUID> = []
        for c in corrections.reversed() {
            if voided.contains(c.eventId) { continue }
            if case .eventVoided(let v) = c.event { voided.insert(v.target) }
        }
        var amendments: [UUID: [[(String, JSONValue)]]] = [:]
        for c in corrections where !voided.contains(c.eventId) {
            if case .eventAmended(let a) = c.event { amendments[a.target, default: []].append(a.data) }
        }
        var index = CorrectionIndex()
        try log.read { reader in
            // Random lookups map pages all over the file (each fault maps its cached
            // neighbours too): release them every so often, so memory stays bounded.
            var lookups = 0
            func lookUp(_ id: UUID) throws -> UInt64? {
                lookups += 1
                if lookups % 64 == 0 { reader.releaseResidentPagesIfOverBudget() }
                return try reader.sequence(forEventId: EventMapping.uuidBytes(id))
            }
            for id in voided {
                if let seq = try lookUp(id) { index.targets.append((seq, .void)) }
            }
            for (id, list) in amendments where !voided.contains(id) {
                if let seq = try lookUp(id) { index.targets.append((seq, .amend(list))) }
            }
            reader.releaseResidentPagesIfOverBudget()
        }
        index.targets.sort { $0.sequence < $1.sequence }
        return index
    }

    /// Walks `targets` alongside a scan in ascending sequence order.
    struct Cursor {
        let index: CorrectionIndex
        var position = 0

        init(_ index: CorrectionIndex) { self.index = index }

        /// What corrects the event at `sequence` (nil: nothing). Sequences must come in
        /// ascending order.
        mutating func action(at sequence: UInt64) -> Action? {
            let targets = index.targets
            while position < targets.count && targets[position].sequence < sequence { position += 1 }
            guard position < targets.count, targets[position].sequence == sequence else { return nil }
            return targets[position].action
        }
    }

    /// Applies amendments in log order (one that no longer fits the event is skipped, as the
    /// fold does).
    static func amend(_ r: inout Recorded, _ list: [[(String, JSONValue)]]) {
        for fields in list {
            if let e = try? r.event.amended(with: fields) { r.event = e }
        }
    }
}
