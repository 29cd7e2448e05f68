import struct Foundation.UUID

/// R7: how urgent an alert is.
public enum AlertSeverity: String, CaseIterable, Sendable, Equatable, Codable {
    case info, warning, critical
}

/// R7: the kinds of alert, with their stable names.
public enum AlertKind: String, CaseIterable, Sendable, Equatable, Codable {
    case doseAboveLimit = "dose-above-limit"
    case moreFrequentThanWeekly = "more-frequent-than-weekly"
    case symptomRise = "symptom-rise"
    case toleranceReview = "tolerance-review"
    case nonResponse = "non-response"
    case lftAbnormal = "lft-abnormal"
    case urologyReferral = "urology-referral"
    case substanceUse = "substance-use"
    case psychoticSymptoms = "psychotic-symptoms"
    case bpHigh = "bp-high"
    case pregnancyPlanning = "pregnancy-planning"
    case infusionDuringPregnancy = "infusion-during-pregnancy"
    case holidayOverrun = "holiday-overrun"
    case boosterIndicated = "booster-indicated"
    case relapse
    case discontinuationEligible = "discontinuation-eligible"
    // R13 (session.md)
    case dosedAboveBpLimit = "dosed-above-bp-limit"
    case sessionBpHigh = "session-bp-high"
    case desaturation
    case deepSedation = "deep-sedation"
    case earlyDischarge = "early-discharge"
    case dischargedWithoutCriteria = "discharged-without-criteria"
    case dischargedWithoutEscort = "discharged-without-escort"
    case transferred
    // R15: lot alerts (never in a patient's state; listed by `query inventory`)
    case inventoryDiscrepancy = "inventory-discrepancy"
    case lotOverdrawn = "lot-overdrawn"

    public var severity: AlertSeverity {
        switch self {
        case .pregnancyPlanning, .discontinuationEligible: .info
        case .psychoticSymptoms, .infusionDuringPregnancy: .critical
        case .desaturation, .dischargedWithoutCriteria, .transferred, .inventoryDiscrepancy, .lotOverdrawn: .critical
        default: .warning
        }
    }

    /// Stable storage code (binary state), the one case → code table. Never change or reuse one.
    public var code: UInt8 {
        switch self {
        case .doseAboveLimit: 1
        case .moreFrequentThanWeekly: 2
        case .symptomRise: 3
        case .toleranceReview: 4
        case .nonResponse: 5
        case .lftAbnormal: 6
        case .urologyReferral: 7
        case .substanceUse: 8
        case .psychoticSymptoms: 9
        case .bpHigh: 10
        case .pregnancyPlanning: 11
        case .infusionDuringPregnancy: 12
        case .holidayOverrun: 13
        case .boosterIndicated: 14
        case .relapse: 15
        case .discontinuationEligible: 16
        case .dosedAboveBpLimit: 17
        case .sessionBpHigh: 18
        case .desaturation: 19
        case .deepSedation: 20
        case .earlyDischarge: 21
        case .dischargedWithoutCriteria: 22
        case .dischargedWithoutEscort: 23
        case .transferred: 24
        case .inventoryDiscrepancy: 25
        case .lotOverdrawn: 26
        }
    }

    /// The kind stored as `code`: the reverse of the one table above.
    public init?(code: UInt8) {
        guard let k = AlertKind.byCode.lookup(code) else { return nil }
        self = k
    }

    static let byCode = _CodeIndex(AlertKind.self, \.code)
}

/// What the detail sentence of an alert is made from (kept as numbers, rendered on demand).
public enum AlertFacts: Sendable, Equatable {
    case none
    /// dose-above-limit
    case dose(mgPerKg: Double, limit: Double)
    /// more-frequent-than-weekly
    case interval(days: Int, minimum: Int)
    /// symptom-rise: the MADRS, the nadir it rose from, the interval before and after the step back.
    case symptomRise(score: Int, nadir: Int, fromDays: Int, toDays: Int)
    /// tolerance-review
    case stepBacks(count: Int, windowDays: Int)
    /// non-response: the assessment score and the baseline.
    case score(value: Int, baseline: Int)
    /// bp-high
    case bloodPressure(systolic: Int, diastolic: Int)
    /// urology-referral, psychotic-symptoms: from a screening (true) or a side-effect report (false).
    case finding(screening: Bool)
    /// relapse: class, whole days since the discontinuation date, the MADRS, the baseline, and
    /// the discontinuation date (R8, revision 4).
    case relapse(RelapseClass, days: Int, score: Int, baseline: Int, discontinuedOn: Day)
    /// holiday-overrun: planned weeks and the last planned day of the holiday.
    case holiday(plannedWeeks: Int, plannedEnd: Day)
    /// discontinuation-eligible: the taper's start.
    case taper(start: Day)
    /// booster-indicated: the PHQ-2, its baseline, the run length.
    case trigger(value: Int, baseline: Int, days: Int)
    /// desaturation (R13): the SpO2 if read, and whether respiratory depression was observed.
    case saturation(spo2: Double?, respiratoryDepression: Bool)
    /// deep-sedation (R13): the MOAA/S.
    case sedation(moaas: Int)
    /// early-discharge (R13): whole minutes observed, the drug's minimum.
    case observationTime(minutes: Int, minimum: Int)
}

/// One alert of R7, as the fold keeps it.
public struct ProtocolAlert: Sendable, Equatable {
    public var kind: AlertKind
    /// The event that raised it.
    public var source: EventRef
    /// The date raised: the source's clinical date unless R7 says otherwise (holiday-overrun,
    /// discontinuation-eligible are raised later; the fold keeps them with that future date).
    public var raisedOn: Day
    /// The acknowledgement that closed it, if any.
    public var acknowledged: EventRef?
    public var facts: AlertFacts

    public init(kind: AlertKind, source: EventRef, raisedOn: Day, acknowledged: EventRef? = nil, facts: AlertFacts) {
        self.kind = kind
        self.source = source
        self.raisedOn = raisedOn
        self.acknowledged = acknowledged
        self.facts = facts
    }

    /// `<kind>:<eventId of the event that raised it>`, the event id in lower case.
    public var id: String { kind.rawValue + ":" + source.eventId.uuidString.lowercased() }

    public var severity: AlertSeverity { kind.severity }

    /// Whether it is raised and not acknowledged on `day` (for a state folded through `day`).
    public func isActive(on day: Day) -> Bool {
        raisedOn <= day && (acknowledged.map { $0.day > day } ?? true)
    }

    /// The detail sentence.
    public var detail: String {
        switch facts {
        case .none:
            return AlertKind.genericDetail(kind)
        case .dose(let v, let limit):
            return
                "Infusion dose \(ProtocolAlert.number(v)) mg/kg is above \(ProtocolAlert.number(limit)) mg/kg with no justification recorded."
        case .interval(let days, let minimum):
            return "Maintenance infusion \(days) days after the previous one, less than \(minimum) days."
        case .symptomRise(let score, let nadir, let from, let to):
            return
                "MADRS \(score) rose more than the step-back threshold above the maintenance nadir \(nadir): interval stepped back from \(from) to \(to) days."
        case .stepBacks(let count, let window):
            return "\(count) step backs within \(window) days: review tolerance; shorten the interval before increasing the dose."
        case .score(let value, let baseline):
            return "Response assessment MADRS \(value) against baseline \(baseline) is not a response: the acute series did not respond."
        case .bloodPressure(let s, let d):
            switch kind {
            case .dosedAboveBpLimit:
                return "Dosed with a pre-dose blood pressure of \(s)/\(d) mmHg, above the limit, and no justification recorded."
            case .sessionBpHigh:
                return "Blood pressure \(s)/\(d) mmHg during the session is above the session limit."
            default:
                return "Blood pressure \(s)/\(d) mmHg is above the pre-dose limit."
            }
        case .saturation(let spo2, let depression):
            var parts: [String] = []
            if let spo2 { parts.append("SpO2 \(ProtocolAlert.number(spo2))%") }
            if depression { parts.append("respiratory depression observed") }
            return "Desaturation during the session: " + parts.joined(separator: ", ") + "."
        case .sedation(let m):
            return "MOAA/S \(m) during the session: moderate or deeper sedation."
        case .observationTime(let minutes, let minimum):
            return "Discharged \(minutes) minutes after the end of dosing, less than the \(minimum) minutes of observation required."
        case .finding(let screening):
            return AlertKind.genericDetail(kind) + (screening ? " (positive screening)." : " (side effect reported).")
        case .relapse(let cls, let days, let score, let baseline, _):
            return
                "Relapse (\(cls.rawValue)) \(days) days after discontinuation: MADRS \(score) against baseline \(baseline); \(cls.action)."
        case .holiday(let weeks, let end):
            return "Drug holiday planned for \(weeks) weeks (to \(end)) has not ended."
        case .taper(let start):
            return "The taper started \(start) has run its course: eligible for discontinuation."
        case .trigger(let value, let baseline, let days):
            return "PHQ-2 \(value) raised above baseline \(baseline) for \(days) consecutive days: booster infusion indicated."
        }
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(v)
    }
}

extension AlertKind {
    static func genericDetail(_ kind: AlertKind) -> String {
        switch kind {
        case .lftAbnormal: "Abnormal liver function test: consider frequency reduction or cessation."
        case .urologyReferral: "Urological symptoms: refer to urology"
        case .substanceUse: "Positive substance-use screening: additional monitoring."
        case .psychoticSymptoms: "Psychotic symptoms: review before further treatment"
        case .pregnancyPlanning: "Pregnancy planned: discuss discontinuation well before conception."
        case .infusionDuringPregnancy: "Infusion given during pregnancy: ketamine should be avoided."
        case .dischargedWithoutCriteria: "Discharged although the discharge criteria were not met."
        case .dischargedWithoutEscort: "Discharged without an escort: the patient must not drive after a session."
        case .transferred: "Transferred to emergency or hospital care from the session: review the adverse event."
        default: kind.rawValue
        }
    }
}
