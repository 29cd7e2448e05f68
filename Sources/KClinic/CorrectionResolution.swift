import struct Foundation.UUID

/// protocol.md, Conventions, "Corrections", in one place: which events are voided and which
/// amendments apply.
///
/// - A void is in force unless a void in force names it (voiding a void undoes it). A
///   correction can only name an earlier event, so walking the corrections back in log order
///   settles every void before the event it names.
/// - The amendments in force (not named by a void in force) of an event that is not voided
///   apply in log order, the latest winning field by field. An amendment of a correction is
///   recorded here like any other; the folds never apply it (a correction is not a clinical
///   event), and the write checks refuse it.
///
/// Every reader of corrections uses this: the folds (`PhaseProjection.fold`,
/// `PatientProjection.fold`), the full replay's correction index, the write checks of a new
/// correction, and the audit trail.
public struct CorrectionResolution: Sendable {
    /// One correction as the log holds it.
    public struct Correction: Sendable {
        public enum Action: Sendable {
            case void
            case amend([(String, JSONValue)])
        }

        public var id: UUID
        public var sequence: UInt64
        public var target: UUID
        public var action: Action
        /// The actor's role when it was recorded (a clinician's correction restricts who may
        /// correct the event again, events.md "Who may record what").
        public var role: Role
        /// When it was recorded: the moment its merged data was last validated (an amendment is
        /// merged again under the same "now", so a replay never depends on today's date).
        public var recordedAt: Timestamp

        public init(id: UUID, sequence: UInt64, target: UUID, action: Action, role: Role, recordedAt: Timestamp) {
            self.id = id
            self.sequence = sequence
            self.target = target
            self.action = action
            self.role = role
            self.recordedAt = recordedAt
        }

        /// The correction `r` is, or nil when it is not a correction.
        public init?(_ r: Recorded) {
            let action: Action
            let target: UUID
            switch r.event {
            case .eventVoided(let v):
                action = .void
                target = v.target
            case .eventAmended(let a):
                action = .amend(a.data)
                target = a.target
            default:
                return nil
            }
            self.init(
                id: r.eventId, sequence: r.sequence, target: target, action: action, role: r.actor.role,
                recordedAt: Timestamp(epochMillis: r.recordedAtMicros / 1000, offsetMinutes: 0))
        }

        public var isVoid: Bool {
            if case .void = action { return true }
            return false
        }
    }

    /// One amendment in force: its fields and the time they were validated at.
    public struct Amendment: Sendable {
        public var fields: [(String, JSONValue)]
        public var recordedAt: Timestamp
        public init(fields: [(String, JSONValue)], recordedAt: Timestamp) {
            self.fields = fields
            self.recordedAt = recordedAt
        }
    }

    /// Every correction, in log order.
    public private(set) var corrections: [Correction]
    /// Each id named by a void in force → that void's sequence (the latest such void).
    private var voidedBy: [UUID: UInt64] = [:]
    /// Each event not voided → its amendments in force, in log order.
    private var amendments: [UUID: [Amendment]] = [:]
    /// Each target → whether a clinician has corrected it (in force or not).
    private var clinicianCorrected: Set<UUID> = []

    /// Resolves `corrections`, given in any order (duplicates by id are kept once).
    public init(_ corrections: [Correction]) {
        var list = corrections
        if !list.indices.dropFirst().allSatisfy({ list[$0 - 1].sequence < list[$0].sequence }) {
            list.sort { $0.sequence < $1.sequence }
            var seen = Set<UUID>()
            list.removeAll { !seen.insert($0.id).inserted }
        }
        self.corrections = list
        for c in list.reversed() {
            if voidedBy[c.id] != nil { continue }
            if c.isVoid, voidedBy[c.target] == nil { voidedBy[c.target] = c.sequence }
        }
        for c in list {
            if c.role == .clinician { clinicianCorrected.insert(c.target) }
            guard case .amend(let fields) = c.action, voidedBy[c.id] == nil, voidedBy[c.target] == nil else { continue }
            amendments[c.target, default: []].append(Amendment(fields: fields, recordedAt: c.recordedAt))
        }
    }

    /// The corrections among `events` (any order; other events are skipped), resolved.
    public init(events: [Recorded]) {
        self.init(events.compactMap(Correction.init))
    }

    public var isEmpty: Bool { corrections.isEmpty }

    /// The sequence of the void in force naming `id` (nil: `id` is in force).
    public func voidInForce(naming id: UUID) -> UInt64? { voidedBy[id] }

    /// Whether a void in force names `id`.
    public func isVoided(_ id: UUID) -> Bool { voidedBy[id] != nil }

    /// The amendments in force of `id`, in log order (none when `id` is voided).
    public func amendmentsInForce(of id: UUID) -> [Amendment] { amendments[id] ?? [] }

    /// Whether a clinician has recorded a correction naming `id` (in force or since undone).
    public func correctedByClinician(_ id: UUID) -> Bool { clinicianCorrected.contains(id) }

    /// Every id a void in force names.
    public var voidedIds: Dictionary<UUID, UInt64>.Keys { voidedBy.keys }

    /// Every event with amendments in force, with them in log order.
    public var amendedIds: [UUID: [Amendment]] { amendments }

    /// `event` read with `list` applied in log order; an amendment that no longer fits the
    /// event's type (impossible when written through the checks) is skipped.
    public static func applying(_ list: [Amendment], to event: ClinicalEvent) -> ClinicalEvent {
        var current = event
        for a in list {
            if let merged = try? current.amended(with: a.fields, now: a.recordedAt) { current = merged }
        }
        return current
    }
}
