/// Who may record what (events.md, "Who may record what"): the event types each role may record
/// in its own name. A rule-set parameter (`RuleSet.permissions`, the rule file's `permissions`
/// key); `default` is the table. Corrections (`EventAmended`, `EventVoided`) are never in
/// the table: they follow a fixed rule, a clinician or the actor who recorded the original
/// (`mayCorrect`). `interface` accounts never record in their own name: they run imports on
/// behalf of registered actors, so their row stays empty.
public struct PermissionTable: Sendable, Equatable {
    public var allowed: [Role: Set<EventType>]

    public init(allowed: [Role: Set<EventType>]) { self.allowed = allowed }

    static let clinical: Set<EventType> = Set(EventType.allCases.filter { !$0.isSystem && !$0.isCorrection })

    public static let `default` = PermissionTable(allowed: [
        .clinician: clinical,
        .nurse: [
            .infusionAdministered, .scoreRecorded, .vitalsRecorded, .labResulted, .screeningRecorded, .sideEffectReported,
            .observationRecorded, .dischargeRecorded, .remsFormSubmitted, .stockWasted,
        ],
        .compliance: [.auditReviewed],
        // session.md: an admin may also acknowledge a lot alert (an AlertAcknowledged naming a
        // lot; `mayAcknowledgeLotAlert`), never a patient's.
        .admin: [
            .patientEnrolled, .actorRegistered, .actorRetired, .ruleSetAdopted, .stockReceived, .stockDisposed, .stockAdjusted,
            .inventoryCounted, .remsFormSubmitted,
        ],
        .interface: [],
    ])

    public func may(_ role: Role, record type: EventType) -> Bool {
        allowed[role]?.contains(type) ?? false
    }

    /// session.md: the acknowledgement of a lot alert, by a clinician or an admin.
    public static func mayAcknowledgeLotAlert(_ role: Role) -> Bool { role == .clinician || role == .admin }

    /// A correction: a clinician, or whoever recorded the original.
    /// events.md: a clinician, or the actor who recorded the original; once a clinician has
    /// corrected the event, only a clinician (revision 4: the recorder may not quietly undo a
    /// clinician's correction).
    public func mayCorrect(actor: Actor, originalActorId: String, correctedByClinician: Bool = false) -> Bool {
        actor.role == .clinician || (actor.id == originalActorId && !correctedByClinician)
    }

    /// The types `role` may record, by name (the rule file's order: sorted).
    public func names(_ role: Role) -> [String] {
        (allowed[role] ?? []).map(\.rawValue).sorted()
    }
}

extension EventType {
    /// `EventAmended` and `EventVoided`: allowed by `PermissionTable.mayCorrect`, never by a row.
    public var isCorrection: Bool { self == .eventAmended || self == .eventVoided }
}
