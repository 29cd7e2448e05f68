/// Every event type the log holds. The raw value is the stable name of events.md; `code` is the
/// stable number stored in the envelope. Neither may ever change or be reused. The `code` switch
/// is the one case → code table; `init?(code:)` is derived from it (`StableCodeTests` pins it).
public enum EventType: String, CaseIterable, Sendable, Hashable {
    case patientEnrolled = "PatientEnrolled"
    case consentRecorded = "ConsentRecorded"
    case infusionAdministered = "InfusionAdministered"
    case scoreRecorded = "ScoreRecorded"
    case labResulted = "LabResulted"
    case vitalsRecorded = "VitalsRecorded"
    case sideEffectReported = "SideEffectReported"
    case screeningRecorded = "ScreeningRecorded"
    case assessmentRecorded = "AssessmentRecorded"
    case medicationChanged = "MedicationChanged"
    case scheduleAdjusted = "ScheduleAdjusted"
    case drugHolidayStarted = "DrugHolidayStarted"
    case drugHolidayEnded = "DrugHolidayEnded"
    case taperStarted = "TaperStarted"
    case maintenanceDiscontinued = "MaintenanceDiscontinued"
    case pregnancyStatusRecorded = "PregnancyStatusRecorded"
    case alertAcknowledged = "AlertAcknowledged"
    case auditReviewed = "AuditReviewed"
    case eventAmended = "EventAmended"
    case eventVoided = "EventVoided"
    // The infusion session and the controlled-substance log (session.md).
    case observationRecorded = "ObservationRecorded"
    case dischargeRecorded = "DischargeRecorded"
    case remsFormSubmitted = "RemsFormSubmitted"
    case stockReceived = "StockReceived"
    case stockWasted = "StockWasted"
    case stockDisposed = "StockDisposed"
    case stockAdjusted = "StockAdjusted"
    case inventoryCounted = "InventoryCounted"
    // System streams (no patient): the store's own administration.
    case ruleSetAdopted = "RuleSetAdopted"
    case actorRegistered = "ActorRegistered"
    case actorRetired = "ActorRetired"
    /// A web password set or a bearer token issued or revoked (the credential itself is kept
    /// outside the log; this records who changed whose, and when).
    case actorCredentialChanged = "ActorCredentialChanged"

    /// Stable storage code: the one table of them.
    public var code: UInt16 {
        switch self {
        case .patientEnrolled: 1
        case .consentRecorded: 2
        case .infusionAdministered: 3
        case .scoreRecorded: 4
        case .labResulted: 5
        case .vitalsRecorded: 6
        case .sideEffectReported: 7
        case .screeningRecorded: 8
        case .assessmentRecorded: 9
        case .medicationChanged: 10
        case .scheduleAdjusted: 11
        case .drugHolidayStarted: 12
        case .drugHolidayEnded: 13
        case .taperStarted: 14
        case .maintenanceDiscontinued: 15
        case .pregnancyStatusRecorded: 16
        case .alertAcknowledged: 17
        case .auditReviewed: 18
        case .eventAmended: 19
        case .eventVoided: 20
        case .observationRecorded: 21
        case .dischargeRecorded: 22
        case .remsFormSubmitted: 23
        case .stockReceived: 24
        case .stockWasted: 25
        case .stockDisposed: 26
        case .stockAdjusted: 27
        case .inventoryCounted: 28
        case .ruleSetAdopted: 100
        case .actorRegistered: 101
        case .actorRetired: 102
        case .actorCredentialChanged: 103
        }
    }

    /// The type stored as `code` (a replay decodes one per event: an array indexed by the code).
    public init?(code: UInt16) {
        guard let t = EventType.byCode.lookup(code) else { return nil }
        self = t
    }

    static let byCode = _CodeIndex(EventType.self, \.code)

    /// Types that may arrive through `import`/`append` (the rest are written by kstore itself).
    public var isImportable: Bool {
        switch self {
        case .auditReviewed, .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged: false
        default: true
        }
    }

    /// Types recorded in a system stream rather than a patient's.
    public var isSystem: Bool {
        switch self {
        case .auditReviewed, .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged: true
        default: false
        }
    }
}

/// Who an actor is in the clinic (events.md, "Who may record what").
public enum Role: String, CaseIterable, Sendable, Hashable {
    case clinician, nurse, compliance, admin, interface

    /// Stable storage code (the envelope's actor role): the one table of them; `init?(code:)`
    /// is derived from it. Never change or reuse one.
    public var code: UInt8 {
        switch self {
        case .clinician: 1
        case .nurse: 2
        case .compliance: 3
        case .admin: 4
        case .interface: 5
        }
    }

    public init?(code: UInt8) {
        guard let r = Role.byCode.lookup(code) else { return nil }
        self = r
    }

    static let byCode = _CodeIndex(Role.self, \.code)
}

public struct Actor: Hashable, Sendable {
    public var id: String
    public var role: Role
    public init(id: String, role: Role) {
        self.id = id
        self.role = role
    }
}
