import Foundation
import KClinic
import KStore

/// Every correction in the log, resolved: which events are voided and which amendments apply.
///
/// Built by one raw pass that decodes only `EventAmended`/`EventVoided` records, so a full
/// replay can apply corrections as it streams (protocol.md, Conventions: a correction takes
/// effect whatever its own date) instead of refolding each corrected patient from its stream.
/// The resolution is KClinic's `CorrectionResolution`, the same the folds, the write checks and
/// the audit trail use; this type only makes its answers findable by raw id bytes.
struct CorrectionIndex {
    enum Action {
        case void
        case amend([CorrectionResolution.Amendment])
    }

    /// The corrected events' actions, found by eventId: the scan looks each record's 16 id
    /// bytes up in a `SlotTable` on a hash of them (no lookups in the `ids`
    /// index, whose random reads cost more than the whole scan of a million records).
    private var ids: [UUID] = []
    private var actions: [Action] = []
    private var table = SlotTable()
    /// Ids whose hash another id already holds in `table` (practically never).
    private var collided: [UUID: Int] = [:]

    var isEmpty: Bool { actions.isEmpty }
    var count: Int { actions.count }

    /// Both halves of the id, mixed (ids are often sequential in one half and constant in the
    /// other, e.g. a generator's or a content-derived one).
    private static func key(_ id: UnsafeRawBufferPointer) -> UInt64 {
        let a = id.loadUnaligned(as: UInt64.self)
        let b = id.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        // splitmix64's finalizer: every input bit reaches the low bits the table uses.
        var h = a ^ ((b << 32) | (b >> 32))
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    private mutating func add(_ id: UUID, _ action: Action) {
        let i = ids.count
        ids.append(id)
        actions.append(action)
        let k = withUnsafeBytes(of: id.uuid) { CorrectionIndex.key($0) }
        if table.find(k) == nil { table.insert(k, i) } else { collided[id] = i }
    }

    /// What corrects the event whose 16 id bytes are `eventId` (nil: nothing).
    func action(for eventId: UnsafeRawBufferPointer) -> Action? {
        guard !actions.isEmpty, eventId.count == 16 else { return nil }
        guard let i = table.find(CorrectionIndex.key(eventId)) else { return nil }
        if withUnsafeBytes(of: ids[i].uuid, { $0.elementsEqual(eventId) }) { return actions[i] }
        guard !collided.isEmpty else { return nil }
        let id = UUID(uuid: eventId.loadUnaligned(as: uuid_t.self))
        return collided[id].map { actions[$0] }
    }

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
        return resolve(corrections)
    }

    /// The corrections among `from`…`through`, decoded, in log order (only their records are
    /// decoded; every other record is skipped by its type code).
    private static func scan(_ log: EventLog, from: UInt64, through: UInt64) throws -> [Recorded] {
        let amendedCode = EventType.eventAmended.code
        let voidedCode = EventType.eventVoided.code
        var corrections: [Recorded] = []
        try log.scanRaw(from: from, through: through) { seq, bytes in
            guard let code = log.typeCode(of: bytes), code == amendedCode || code == voidedCode else { return true }
            corrections.append(try EventMapping.decodeRecorded(bytes, sequence: seq, cipher: log.cipher))
            return true
        }
        return corrections
    }

    private static func resolve(_ corrections: [Recorded]) -> CorrectionIndex {
        guard !corrections.isEmpty else { return CorrectionIndex() }
        let resolution = CorrectionResolution(events: corrections)
        var index = CorrectionIndex()
        for id in resolution.voidedIds { index.add(id, .void) }
        for (id, list) in resolution.amendedIds { index.add(id, .amend(list)) }
        return index
    }

    /// Applies amendments in log order (one that no longer fits the event is skipped, as the
    /// fold does).
    static func amend(_ r: inout Recorded, _ list: [CorrectionResolution.Amendment]) {
        r.event = CorrectionResolution.applying(list, to: r.event)
    }
}
