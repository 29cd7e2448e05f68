import struct Foundation.UUID

/// The `data` of every event type of events.md, one case per type, each a struct of its fields.
/// Values held here have passed validation; projections only ever see this newest shape (older
/// stored payloads are upcast by the codec).
public enum ClinicalEvent: Sendable, Equatable {
    case patientEnrolled(PatientEnrolled)
    case consentRecorded(ConsentRecorded)
    case infusionAdministered(InfusionAdministered)
    case scoreRecorded(ScoreRecorded)
    case labResulted(LabResulted)
    case vitalsRecorded(VitalsRecorded)
    case sideEffectReported(SideEffectReported)
    case screeningRecorded(ScreeningRecorded)
    case assessmentRecorded(AssessmentRecorded)
    case medicationChanged(MedicationChanged)
    case scheduleAdjusted(ScheduleAdjusted)
    case drugHolidayStarted(DrugHolidayStarted)
    case drugHolidayEnded(DrugHolidayEnded)
    case taperStarted(TaperStarted)
    case maintenanceDiscontinued(MaintenanceDiscontinued)
    case pregnancyStatusRecorded(PregnancyStatusRecorded)
    case alertAcknowledged(AlertAcknowledged)
    case auditReviewed(AuditReviewed)
    case eventAmended(EventAmended)
    case eventVoided(EventVoided)
    case ruleSetAdopted(RuleSetAdopted)
    case actorRegistered(ActorRegistered)
    case actorRetired(ActorRetired)
    case actorCredentialChanged(ActorCredentialChanged)
    case observationRecorded(ObservationRecorded)
    case dischargeRecorded(DischargeRecorded)
    case remsFormSubmitted(RemsFormSubmitted)
    case stockReceived(StockReceived)
    case stockWasted(StockWasted)
    case stockDisposed(StockDisposed)
    case stockAdjusted(StockAdjusted)
    case inventoryCounted(InventoryCounted)

    public var type: EventType {
        switch self {
        case .patientEnrolled: .patientEnrolled
        case .consentRecorded: .consentRecorded
        case .infusionAdministered: .infusionAdministered
        case .scoreRecorded: .scoreRecorded
        case .labResulted: .labResulted
        case .vitalsRecorded: .vitalsRecorded
        case .sideEffectReported: .sideEffectReported
        case .screeningRecorded: .screeningRecorded
        case .assessmentRecorded: .assessmentRecorded
        case .medicationChanged: .medicationChanged
        case .scheduleAdjusted: .scheduleAdjusted
        case .drugHolidayStarted: .drugHolidayStarted
        case .drugHolidayEnded: .drugHolidayEnded
        case .taperStarted: .taperStarted
        case .maintenanceDiscontinued: .maintenanceDiscontinued
        case .pregnancyStatusRecorded: .pregnancyStatusRecorded
        case .alertAcknowledged: .alertAcknowledged
        case .auditReviewed: .auditReviewed
        case .eventAmended: .eventAmended
        case .eventVoided: .eventVoided
        case .ruleSetAdopted: .ruleSetAdopted
        case .actorRegistered: .actorRegistered
        case .actorRetired: .actorRetired
        case .actorCredentialChanged: .actorCredentialChanged
        case .observationRecorded: .observationRecorded
        case .dischargeRecorded: .dischargeRecorded
        case .remsFormSubmitted: .remsFormSubmitted
        case .stockReceived: .stockReceived
        case .stockWasted: .stockWasted
        case .stockDisposed: .stockDisposed
        case .stockAdjusted: .stockAdjusted
        case .inventoryCounted: .inventoryCounted
        }
    }
}

public enum TreatmentProtocol: String, CaseIterable, Sendable {
    case intervalExtension = "interval-extension"
    case symptomTriggered = "symptom-triggered"
    case hybrid
}

public struct PatientEnrolled: Sendable, Equatable {
    public var `protocol`: TreatmentProtocol
    public var birthYear: Int?
    public var substanceUseHistory: Bool?
    public init(protocol: TreatmentProtocol = .intervalExtension, birthYear: Int? = nil, substanceUseHistory: Bool? = nil) {
        self.protocol = `protocol`
        self.birthYear = birthYear
        self.substanceUseHistory = substanceUseHistory
    }
}

public enum ConsentKind: String, CaseIterable, Sendable { case initial, reaffirmation }

public struct ConsentRecorded: Sendable, Equatable {
    public var kind: ConsentKind
    public init(kind: ConsentKind) { self.kind = kind }
}

public enum Route: String, CaseIterable, Sendable {
    case iv = "IV"
    case im = "IM"
    case intranasal, sublingual, oral
}
public enum DoseUnit: String, CaseIterable, Sendable {
    case mgPerKg = "mg/kg"
    case mg
}
public enum Series: String, CaseIterable, Sendable { case acute, maintenance, booster }

public struct Dose: Sendable, Equatable {
    public var value: Double
    public var unit: DoseUnit
    public init(value: Double, unit: DoseUnit) {
        self.value = value
        self.unit = unit
    }
}

public struct InfusionAdministered: Sendable, Equatable {
    public var route: Route
    public var dose: Dose
    public var series: Series
    public var justification: String?
    /// session.md (schema v3): nil as recorded before the field existed, read as ketamine.
    public var drug: Drug?
    public var weightKg: Double?
    public var lot: String?
    public var durationMinutes: Int?
    public init(
        route: Route, dose: Dose, series: Series, justification: String? = nil, drug: Drug? = nil, weightKg: Double? = nil,
        lot: String? = nil, durationMinutes: Int? = nil
    ) {
        self.route = route
        self.dose = dose
        self.series = series
        self.justification = justification
        self.drug = drug
        self.weightKg = weightKg
        self.lot = lot
        self.durationMinutes = durationMinutes
    }

    /// The drug given (ketamine when the record names none).
    public var givenDrug: Drug { drug ?? .ketamine }

    /// session.md "Amount given", exact: the dose in mg, or mg/kg × `weightKg`; nil when unknown.
    public var amountGiven: Milligrams? {
        switch dose.unit {
        case .mg: Milligrams(dose.value)
        case .mgPerKg: weightKg.flatMap { w in Milligrams(dose.value).flatMap { v in Milligrams(w).flatMap { v.times($0) } } }
        }
    }
}

public enum Instrument: String, CaseIterable, Sendable {
    case madrs = "MADRS"
    case phq2 = "PHQ2"
    case phq9 = "PHQ9"
    case moca = "MOCA"
    public var range: ClosedRange<Int> {
        switch self {
        case .madrs: 0...60
        case .phq2: 0...6
        case .phq9: 0...27
        case .moca: 0...30
        }
    }
}

public struct ScoreRecorded: Sendable, Equatable {
    public var instrument: Instrument
    public var value: Int
    public init(instrument: Instrument, value: Int) {
        self.instrument = instrument
        self.value = value
    }
}

public enum LabTest: String, CaseIterable, Sendable {
    case urinalysis
    case lft = "LFT"
    case ecg = "ECG"
}

public struct LabResulted: Sendable, Equatable {
    public var test: LabTest
    public var abnormal: Bool
    /// Named numeric results, in input order.
    public var values: [(String, Double)]?
    public init(test: LabTest, abnormal: Bool, values: [(String, Double)]? = nil) {
        self.test = test
        self.abnormal = abnormal
        self.values = values
    }
    public static func == (a: LabResulted, b: LabResulted) -> Bool {
        a.test == b.test && a.abnormal == b.abnormal
            && a.values?.map(\.0) == b.values?.map(\.0) && a.values?.map(\.1) == b.values?.map(\.1)
    }
}

public struct VitalsRecorded: Sendable, Equatable {
    public var systolic: Int
    public var diastolic: Int
    public var heartRate: Int?
    public init(systolic: Int, diastolic: Int, heartRate: Int? = nil) {
        self.systolic = systolic
        self.diastolic = diastolic
        self.heartRate = heartRate
    }
}

public enum SideEffectCategory: String, CaseIterable, Sendable {
    case urological, hepatic, cognitive, dissociative, cardiovascular, psychotic, nausea, other
}
public enum Severity: String, CaseIterable, Sendable { case mild, moderate, severe }

public struct SideEffectReported: Sendable, Equatable {
    public var category: SideEffectCategory
    public var severity: Severity
    public var note: String?
    public init(category: SideEffectCategory, severity: Severity, note: String? = nil) {
        self.category = category
        self.severity = severity
        self.note = note
    }
}

public enum ScreeningKind: String, CaseIterable, Sendable {
    case substanceUse = "substance-use"
    case urologicalSymptoms = "urological-symptoms"
    case sideEffectsReview = "side-effects-review"
    case dissociativeSymptoms = "dissociative-symptoms"
    case psychoticSymptoms = "psychotic-symptoms"
}

public struct ScreeningRecorded: Sendable, Equatable {
    public var kind: ScreeningKind
    public var positive: Bool
    public init(kind: ScreeningKind, positive: Bool) {
        self.kind = kind
        self.positive = positive
    }
}

public enum AssessmentKind: String, CaseIterable, Sendable {
    case treatmentResponse = "treatment-response"
    case comprehensivePsychiatric = "comprehensive-psychiatric"
    case treatmentPlanReview = "treatment-plan-review"
    case goalSetting = "goal-setting"
    case fullSafety = "full-safety"
    case continuationDiscussion = "continuation-discussion"
}

public struct AssessmentRecorded: Sendable, Equatable {
    public var kind: AssessmentKind
    public var note: String?
    public init(kind: AssessmentKind, note: String? = nil) {
        self.kind = kind
        self.note = note
    }
}

public enum MedicationAction: String, CaseIterable, Sendable { case start, stop, change }

public struct MedicationChanged: Sendable, Equatable {
    public var name: String
    public var action: MedicationAction
    /// Free text (e.g. "120 mg daily"); events.md gives no structure.
    public var dose: String?
    public init(name: String, action: MedicationAction, dose: String? = nil) {
        self.name = name
        self.action = action
        self.dose = dose
    }
}

public struct ScheduleAdjusted: Sendable, Equatable {
    public var intervalDays: Int
    public var reason: String
    public init(intervalDays: Int, reason: String) {
        self.intervalDays = intervalDays
        self.reason = reason
    }
}

public struct DrugHolidayStarted: Sendable, Equatable {
    public var plannedWeeks: Int
    public init(plannedWeeks: Int) { self.plannedWeeks = plannedWeeks }
}

public struct DrugHolidayEnded: Sendable, Equatable {
    public var resumeIntervalDays: Int?
    public init(resumeIntervalDays: Int? = nil) { self.resumeIntervalDays = resumeIntervalDays }
}

public struct TaperStep: Sendable, Equatable {
    public var intervalDays: Int
    public var months: Int
    public init(intervalDays: Int, months: Int) {
        self.intervalDays = intervalDays
        self.months = months
    }
}

public struct TaperStarted: Sendable, Equatable {
    /// nil: the rule set's `taperSteps`.
    public var steps: [TaperStep]?
    public init(steps: [TaperStep]? = nil) { self.steps = steps }
}

public struct MaintenanceDiscontinued: Sendable, Equatable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

public enum PregnancyStatus: String, CaseIterable, Sendable {
    case planning, pregnant
    case notPregnant = "not-pregnant"
    case postpartum
}

public struct PregnancyStatusRecorded: Sendable, Equatable {
    public var status: PregnancyStatus
    public init(status: PregnancyStatus) { self.status = status }
}

public struct AlertAcknowledged: Sendable, Equatable {
    public var alertId: String
    public var note: String?
    /// A lot alert's acknowledgement (R15) names the lot instead of a patient (schema v2).
    public var lot: String?
    public init(alertId: String, note: String? = nil, lot: String? = nil) {
        self.alertId = alertId
        self.note = note
        self.lot = lot
    }
}

public struct AuditReviewed: Sendable, Equatable {
    public var throughSequence: UInt64
    public var checkpointHash: String?
    public var note: String?
    /// The electronic signature of a review signed with a password (the web); nil for a review
    /// recorded by the reviewer's own OS user with `kstore audit review` (schema v1 and v2).
    public var signature: ElectronicSignature?
    public init(throughSequence: UInt64, checkpointHash: String? = nil, note: String? = nil, signature: ElectronicSignature? = nil) {
        self.throughSequence = throughSequence
        self.checkpointHash = checkpointHash
        self.note = note
        self.signature = signature
    }
}

/// What a signature means (21 CFR 11.50(a)(3)).
public enum SignatureMeaning: String, CaseIterable, Sendable { case reviewed, approved, responsibility }

/// An electronic signature (21 CFR 11.50): the signer's actor id, printed name, the instant
/// of signing and its meaning. Recorded in the event it signs; the password that made it never is.
public struct ElectronicSignature: Sendable, Equatable {
    public var actorId: String
    public var name: String
    public var meaning: SignatureMeaning
    public var signedAt: Timestamp
    public init(actorId: String, name: String, meaning: SignatureMeaning, signedAt: Timestamp) {
        self.actorId = actorId
        self.name = name
        self.meaning = meaning
        self.signedAt = signedAt
    }

    /// "Dana Ruiz (cm.ruiz), 2026-12-02T17:40:00Z, reviewed": every human-readable view shows it so.
    public var description: String { "\(name) (\(actorId)), \(signedAt.rfc3339), \(meaning.rawValue)" }
}

public struct EventAmended: Sendable, Equatable {
    public var target: UUID
    public var reason: String
    /// The corrected fields: top-level keys replace the original's (a nested object whole).
    public var data: [(String, JSONValue)]
    public init(target: UUID, reason: String, data: [(String, JSONValue)]) {
        self.target = target
        self.reason = reason
        self.data = data
    }
    public static func == (a: EventAmended, b: EventAmended) -> Bool {
        a.target == b.target && a.reason == b.reason && JSONValue.object(a.data) == JSONValue.object(b.data)
    }
}

public struct EventVoided: Sendable, Equatable {
    public var target: UUID
    public var reason: String
    public init(target: UUID, reason: String) {
        self.target = target
        self.reason = reason
    }
}

public struct RuleSetAdopted: Sendable, Equatable {
    public var version: String
    /// SHA-256 of the rule file's canonical JSON, hex.
    public var contentHash: String
    /// The full rule set as canonical JSON text, so the log alone can reproduce every schedule.
    public var content: String
    /// The adopter's electronic signature when adopted from the web (schema v2); nil otherwise.
    public var signature: ElectronicSignature?
    public init(version: String, contentHash: String, content: String, signature: ElectronicSignature? = nil) {
        self.version = version
        self.contentHash = contentHash
        self.content = content
        self.signature = signature
    }
}

public struct ActorRegistered: Sendable, Equatable {
    public var id: String
    public var role: Role
    public var osUser: String
    /// The printed name signatures show (schema v2); nil for actors registered without one.
    public var name: String?
    public init(id: String, role: Role, osUser: String, name: String? = nil) {
        self.id = id
        self.role = role
        self.osUser = osUser
        self.name = name
    }
}

/// What changed about an actor's credentials for the web interface.
public enum CredentialChange: String, CaseIterable, Sendable {
    case passwordSet = "password-set"
    case tokenIssued = "token-issued"
    case tokenRevoked = "token-revoked"
}

/// A credential of `id` changed (by the event's actor). The password's hash and the token are
/// kept outside the log (a credential is replaceable, the log is not); never in this event.
public struct ActorCredentialChanged: Sendable, Equatable {
    public var id: String
    public var change: CredentialChange
    public init(id: String, change: CredentialChange) {
        self.id = id
        self.change = change
    }
}

public struct ActorRetired: Sendable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}
