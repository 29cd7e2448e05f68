/// The fold state of one patient's monitoring projection: R10's due dates and R11's
/// documentation audit.
///
/// It is what `MonitoringProjection.evolve` leaves after the patient's effective events in
/// protocol order, and it does not depend on an evaluation date: `MonitoringProjection.due` and
/// `.audit` answer for any date on or after the last event applied (a state folded through D).
///
/// Bounded by what the rules look back at, not by the events:
/// - per documentation class (16 of them), the clinical date of the last event applied (R10
///   `lastDone`) and its three latest distinct clinical dates (enough for every R11 visit window
///   and every pre-T0 event, see `Track`);
/// - which R11 baseline items existed at or before the first infusion's instant;
/// - the visits (infusion dates) still missing something (complete visits are dropped: nothing
///   can take documentation away, a correction refolds);
/// - per quarter and year window that holds any period documentation, which items it holds;
/// - the spans of days on which the underlying status (R9) was `discontinued`.
public struct MonitoringState: Sendable, Equatable {
    /// What R10 and R11 remember of one documentation class.
    struct Track: Sendable, Equatable {
        /// Clinical date of the last event applied (protocol order): R10's `last`.
        var last: Day?
        /// The three latest distinct clinical dates seen, newest first (`none` when fewer).
        ///
        /// Why three are enough: offsets are at most ±23:59, so an event applied before another
        /// (an instant no later) has a clinical date at most 2 days after the other's. When an
        /// infusion on day v is applied, at most two distinct dates already seen lie after
        /// v + visitWindowDays (v + 1, v + 2), so the latest date on or before it is among the
        /// three; likewise every event applied before the first infusion with a date on or after
        /// T0 (T0, T0 + 1, T0 + 2) is among them.
        var d0: Int32 = Track.none
        var d1: Int32 = Track.none
        var d2: Int32 = Track.none

        static let none = Int32.min

        mutating func note(_ day: Day) {
            last = day
            let o = day.ordinal
            if o == d0 || o == d1 || o == d2 { return }
            if o > d0 {
                d2 = d1
                d1 = d0
                d0 = o
            } else if o > d1 {
                d2 = d1
                d1 = o
            } else if o > d2 {
                d2 = o
            }
        }

        /// Whether a recent date lies in `lo...hi`.
        @inline(__always)
        func has(from lo: Day, through hi: Day) -> Bool {
            // `none` is below every real date, so only the lower bound needs it.
            let l = max(lo.ordinal, Track.none + 1)
            let h = hi.ordinal
            return (d0 >= l && d0 <= h) || (d1 >= l && d1 <= h) || (d2 >= l && d2 <= h)
        }

        var recent: [Day] { [d0, d1, d2].filter { $0 != Track.none }.map { Day(ordinal: $0) } }
    }

    /// An infusion date (R11 visit) still missing some documentation.
    struct Visit: Sendable, Equatable {
        var day: Day
        /// Bits of `MonitoringDoc.visitItems` documented within the visit's window.
        var have: UInt8
    }

    /// A quarter or year window (by index from T0) holding some period documentation.
    struct WindowMark: Sendable, Equatable {
        var index: Int
        var mask: UInt8
    }

    /// Days on which the underlying status was `discontinued`: `from` inclusive, `until`
    /// exclusive (the day of the event that ended it), nil while it lasts.
    struct DaySpan: Sendable, Equatable {
        var from: Day
        var until: Day?
    }

    public internal(set) var patient: String
    /// The latest clinical date of any event applied. `due`/`audit` on a date before it need a
    /// state folded through that date.
    public internal(set) var latestEventDay: Day?
    /// T0: clinical date of the first infusion applied (any series).
    public internal(set) var t0: Day?
    /// The first infusion's instant (R11 baseline: "occurredAt ≤ the first infusion's").
    public internal(set) var t0Millis: Int64?
    /// Bits of `MonitoringDoc.baselineItems` documented at or before the first infusion's instant.
    var baseline: UInt8 = 0
    /// Indexed by `MonitoringDoc.rawValue`.
    var tracks: [Track]
    /// Sorted by day, at most one per day.
    var visits: [Visit] = []
    /// Sorted by index.
    var quarters: [WindowMark] = []
    var years: [WindowMark] = []
    /// Sorted, disjoint, not touching.
    var discontinued: [DaySpan] = []

    public init(patient: String) {
        self.patient = patient
        self.tracks = Array(repeating: Track(), count: MonitoringDoc.count)
    }

    /// R10 `lastDone` of an item (rolling or period) by its name: the clinical date of the last
    /// satisfying event applied. nil for an unknown name or nothing yet.
    public func lastDone(_ item: String) -> Day? {
        guard let doc = MonitoringDoc(rollingItem: item) ?? MonitoringDoc(periodItem: item) else { return nil }
        return tracks[doc.rawValue].last
    }
}

/// What one event documents for R10 and R11 (at most one class per event).
enum MonitoringDoc: Int, CaseIterable, Sendable {
    // R11 visit items: bits 0–6 of a visit mask, in this order.
    /// MADRS, PHQ-9 or PHQ-2 (R11 `symptom-scale`, R10 `symptom-tracking`).
    case symptomScale = 0
    /// Screening `side-effects-review` or any side effect report.
    case sideEffectsReview
    case vitalSigns
    case substanceUseScreening
    /// Screening `urological-symptoms`.
    case urologicalInquiry
    /// Assessment `treatment-response`.
    case responseAssessment
    /// Consent of either kind (R10 rolling, R11 baseline, visit and year).
    case consent
    // R10 rolling items, R11 baseline (MoCA also in the year window).
    case moca
    case urinalysis
    case liverFunction
    case ecg
    // R10 period items, R11 quarter and year windows.
    case psychiatricAssessment
    case treatmentPlanReview
    case goalSetting
    case safetyAssessment
    case continuationDiscussion

    static let count = MonitoringDoc.allCases.count

    /// The class an event documents, and whether it is a MADRS (R11 baseline `madrs`).
    @inline(__always)
    static func of(_ event: ClinicalEvent) -> (MonitoringDoc, isMadrs: Bool)? {
        switch event {
        case .scoreRecorded(let s):
            switch s.instrument {
            case .madrs: return (.symptomScale, true)
            case .phq2, .phq9: return (.symptomScale, false)
            case .moca: return (.moca, false)
            }
        case .consentRecorded: return (.consent, false)
        case .labResulted(let l):
            switch l.test {
            case .urinalysis: return (.urinalysis, false)
            case .lft: return (.liverFunction, false)
            case .ecg: return (.ecg, false)
            }
        case .vitalsRecorded: return (.vitalSigns, false)
        case .sideEffectReported: return (.sideEffectsReview, false)
        case .screeningRecorded(let s):
            switch s.kind {
            case .sideEffectsReview: return (.sideEffectsReview, false)
            case .substanceUse: return (.substanceUseScreening, false)
            case .urologicalSymptoms: return (.urologicalInquiry, false)
            case .dissociativeSymptoms, .psychoticSymptoms: return nil
            }
        case .assessmentRecorded(let a):
            switch a.kind {
            case .treatmentResponse: return (.responseAssessment, false)
            case .comprehensivePsychiatric: return (.psychiatricAssessment, false)
            case .treatmentPlanReview: return (.treatmentPlanReview, false)
            case .goalSetting: return (.goalSetting, false)
            case .fullSafety: return (.safetyAssessment, false)
            case .continuationDiscussion: return (.continuationDiscussion, false)
            }
        default: return nil
        }
    }

    // MARK: R10 items

    /// R10's rolling items by the rule set's name.
    init?(rollingItem name: String) {
        switch name {
        case "cognitive-screening": self = .moca
        case "urinalysis": self = .urinalysis
        case "liver-function": self = .liverFunction
        case "ecg": self = .ecg
        case "consent": self = .consent
        case "symptom-tracking": self = .symptomScale
        default: return nil
        }
    }

    /// R10's period items: name, class, and whether the window is a year (else a quarter).
    static let periodItems: [(name: String, doc: MonitoringDoc, year: Bool)] = [
        ("continuation-discussion", .continuationDiscussion, true),
        ("goal-setting", .goalSetting, false),
        ("psychiatric-assessment", .psychiatricAssessment, false),
        ("safety-assessment", .safetyAssessment, true),
        ("treatment-plan-review", .treatmentPlanReview, false),
    ]

    init?(periodItem name: String) {
        guard let p = MonitoringDoc.periodItems.first(where: { $0.name == name }) else { return nil }
        self = p.doc
    }

    // MARK: R11 items

    /// R11 visit items, bit i = class rawValue i.
    static let visitItems = [
        "symptom-scale", "side-effects-review", "vital-signs", "substance-use-screening", "urological-inquiry",
        "response-assessment", "consent",
    ]
    static let visitComplete: UInt8 = 0b111_1111

    /// R11 baseline items (bit order) and the bit a class sets (MADRS: `baselineMadrs`).
    static let baselineItems = ["consent", "liver-function", "madrs", "moca", "urinalysis"]
    static let baselineMadrs: UInt8 = 1 << 2
    static let baselineComplete: UInt8 = 0b1_1111
    var baselineBit: UInt8 {
        switch self {
        case .consent: 1 << 0
        case .liverFunction: 1 << 1
        case .moca: 1 << 3
        case .urinalysis: 1 << 4
        default: 0
        }
    }

    /// R11 quarter items (bit order) and the bit a class sets.
    static let quarterItems = ["goal-setting", "psychiatric-assessment", "treatment-plan-review"]
    static let quarterComplete: UInt8 = 0b111
    var quarterBit: UInt8 {
        switch self {
        case .goalSetting: 1 << 0
        case .psychiatricAssessment: 1 << 1
        case .treatmentPlanReview: 1 << 2
        default: 0
        }
    }

    /// R11 year items (bit order) and the bit a class sets.
    static let yearItems = ["cognitive-screening", "consent", "continuation-discussion", "safety-assessment"]
    static let yearComplete: UInt8 = 0b1111
    var yearBit: UInt8 {
        switch self {
        case .moca: 1 << 0
        case .consent: 1 << 1
        case .continuationDiscussion: 1 << 2
        case .safetyAssessment: 1 << 3
        default: 0
        }
    }

    /// Classes that count in quarter or year windows.
    static let windowed: [MonitoringDoc] = [
        .psychiatricAssessment, .treatmentPlanReview, .goalSetting, .safetyAssessment, .continuationDiscussion,
        .moca, .consent,
    ]
}
