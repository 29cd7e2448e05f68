/// Who may record what (events.md, "Who may record what"): the event types each role may record
/// in its own name. Corrections (`EventAmended`, `EventVoided`) are allowed to a clinician, or to
/// the actor who recorded the original (`mayCorrect`). `interface` accounts never record in their
/// own name: they run imports on behalf of registered actors.
public struct PermissionTable: Sendable, Equatable {
    public var allowed: [Role: Set<EventType>]

    public init(allowed: [Role: Set<EventType>]) { self.allowed = allowed }

    static let clinical: Set<EventType> = Set(EventType.allCases.filter { !$0.isSystem && $0 != .eventAmended && $0 != .eventVoided })

    public static let `default` = PermissionTable(allowed: [
        .clinician: clinical,
        .nurse: [.infusionAdministered, .scoreRecorded, .vitalsRecorded, .labResulted, .screeningRecorded, .sideEffectReported],
        .compliance: [.auditReviewed],
        .admin: [.patientEnrolled, .actorRegistered, .actorRetired, .ruleSetAdopted],
        .interface: [],
    ])

    public func may(_ role: Role, record type: EventType) -> Bool {
        allowed[role]?.contains(type) ?? false
    }

    /// A correction: a clinician, or whoever recorded the original.
    public func mayCorrect(actor: Actor, originalActorId: String) -> Bool {
        actor.role == .clinician || actor.id == originalActorId
    }
}
