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

    static func build(_ log: EventLog, through: UInt64) throws -> CorrectionIndex {
        let amendedCode = EventType.eventAmended.code
        let voidedCode = EventType.eventVoided.code
        var corrections: [Recorded] = []
        try log.scanRaw(through: through) { seq, bytes in
            guard let code = RecordView.peekTypeCode(bytes), code == amendedCode || code == voidedCode else { return true }
            do {
                corrections.append(try EventMapping.recorded(try RecordView(bytes)))
            } catch {
                throw StoreError.corrupt(sequence: seq, detail: "\(error)")
            }
            return true
        }
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
            for id in voided {
                if let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)) { index.targets.append((seq, .void)) }
            }
            for (id, list) in amendments where !voided.contains(id) {
                if let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)) { index.targets.append((seq, .amend(list))) }
            }
        }
        index.targets.sort { $0.sequence < $1.sequence }
        return index
    }

    /// Walks `targets` alongside a scan in ascending sequence order.
    struct Cursor {
        let index: CorrectionIndex
        var position = 0

        init(_ index: CorrectionIndex) { self.index = index }

        /// The event as the protocol reads it: nil when voided, else with its amendments applied.
        mutating func effective(_ r: Recorded) -> Recorded? {
            let targets = index.targets
            while position < targets.count && targets[position].sequence < r.sequence { position += 1 }
            guard position < targets.count, targets[position].sequence == r.sequence else { return r }
            switch targets[position].action {
            case .void:
                return nil
            case .amend(let list):
                var out = r
                for fields in list {
                    if let e = try? out.event.amended(with: fields) { out.event = e }
                }
                return out
            }
        }
    }
}
