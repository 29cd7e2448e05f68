/// Every parameter of protocol.md's "Rule set" section, with the project's defaults.
///
/// Ratios (`responseReduction`, `stepBackRise`, `triggerRise`) are kept as the `Double` the rule
/// file gave, and compared exactly through a fixed-point form (millionths, see `ppm(_:)`): a
/// threshold such as 31 × 0.5 = 15.5 or 30 × 0.7 = 21 is then exact, with no binary rounding.
public struct RuleSet: Sendable, Equatable {
    /// One rung of the R4 interval ladder.
    public struct Rung: Sendable, Equatable {
        public var intervalDays: Int
        /// Treatments at this interval before the ladder may extend; nil on the open-ended rung.
        /// The last rung never extends, whatever this says (see `load(json:base:)`).
        public var treatments: Int?
        public init(intervalDays: Int, treatments: Int?) {
            self.intervalDays = intervalDays
            self.treatments = treatments
        }
    }

    /// A monitoring interval: calendar months (clamped to month end) or days.
    public enum Span: Sendable, Equatable {
        case months(Int)
        case days(Int)

        public func added(to day: Day) -> Day {
            switch self {
            case .months(let n): day.adding(months: n)
            case .days(let n): day.adding(days: n)
            }
        }
    }

    /// A rolling monitoring item of R10.
    public struct MonitoringItem: Sendable, Equatable {
        public var name: String
        public var dueFrom: Span
        public var dueBy: Span
        public var baseline: Bool
        public init(name: String, dueFrom: Span, dueBy: Span, baseline: Bool) {
            self.name = name
            self.dueFrom = dueFrom
            self.dueBy = dueBy
            self.baseline = baseline
        }
    }

    public var version: String
    // R2
    public var acuteSeriesLength: Int
    public var acuteIntervalDays: Int
    public var responseReduction: Double
    // R5
    public var remissionMax: Int
    // R4
    public var ladder: [Rung]
    // R6
    public var stepBackRise: Double
    public var stepBackMinPoints: Int
    // R7
    public var maxDoseMgPerKg: Double
    public var minMaintenanceIntervalDays: Int
    public var toleranceStepBacks: Int
    public var toleranceWindowDays: Int
    public var bpSystolicMax: Int
    public var bpDiastolicMax: Int
    // R8
    public var taperSteps: [TaperStep]
    public var relapseEarlyDays: Int
    public var relapseLateDays: Int
    // R10
    public var monitoring: [MonitoringItem]
    // R11
    public var quarterMonths: Int
    public var yearMonths: Int
    public var visitWindowDays: Int
    public var visitConsentMonths: Int
    // R12
    public var triggerRise: Double
    public var triggerMinPoints: Int
    public var phq2BaselineDays: Int
    public var triggerDays: Int
    public var hybridBaseDays: Int
    // R3
    public var phaseEndWeeks: [Int]
    // Audit trail (not a protocol rule): an event recorded more than this many hours after it
    // occurred is flagged as a late entry by `kstore audit trail`.
    public var lateEntryHours: Int
    // Who may record what (events.md; not a protocol rule): the event types each role may record
    // in its own name. Corrections are not in it: a clinician or the original recorder, always.
    public var permissions: PermissionTable
    // session.md R13–R15
    public var session = SessionRules.default

    /// The names of R10's rolling items, in the order `monitoring` keeps them.
    public static let monitoringItemNames = [
        "cognitive-screening", "urinalysis", "liver-function", "ecg", "consent", "symptom-tracking",
    ]

    /// The defaults of protocol.md (and of `rules/default.json`).
    public static let `default` = RuleSet(
        version: "kstore-default-1",
        acuteSeriesLength: 6,
        acuteIntervalDays: 3,
        responseReduction: 0.5,
        remissionMax: 10,
        ladder: [
            Rung(intervalDays: 7, treatments: 4), Rung(intervalDays: 10, treatments: 3),
            Rung(intervalDays: 14, treatments: 4), Rung(intervalDays: 21, treatments: 3),
            Rung(intervalDays: 28, treatments: nil),
        ],
        stepBackRise: 0.25,
        stepBackMinPoints: 2,
        maxDoseMgPerKg: 0.5,
        minMaintenanceIntervalDays: 7,
        toleranceStepBacks: 2,
        toleranceWindowDays: 180,
        bpSystolicMax: 140,
        bpDiastolicMax: 90,
        taperSteps: [
            TaperStep(intervalDays: 21, months: 3), TaperStep(intervalDays: 28, months: 3),
            TaperStep(intervalDays: 42, months: 3),
        ],
        relapseEarlyDays: 30,
        relapseLateDays: 90,
        monitoring: [
            MonitoringItem(name: "cognitive-screening", dueFrom: .months(6), dueBy: .months(6), baseline: true),
            MonitoringItem(name: "urinalysis", dueFrom: .months(3), dueBy: .months(6), baseline: true),
            MonitoringItem(name: "liver-function", dueFrom: .months(3), dueBy: .months(6), baseline: true),
            MonitoringItem(name: "ecg", dueFrom: .months(12), dueBy: .months(12), baseline: false),
            MonitoringItem(name: "consent", dueFrom: .months(12), dueBy: .months(12), baseline: true),
            MonitoringItem(name: "symptom-tracking", dueFrom: .days(7), dueBy: .days(7), baseline: false),
        ],
        quarterMonths: 3,
        yearMonths: 12,
        visitWindowDays: 0,
        visitConsentMonths: 12,
        triggerRise: 0.25,
        triggerMinPoints: 1,
        phq2BaselineDays: 28,
        triggerDays: 3,
        hybridBaseDays: 28,
        phaseEndWeeks: [12, 24],
        lateEntryHours: 24,
        permissions: .default
    )

    public init(
        version: String, acuteSeriesLength: Int, acuteIntervalDays: Int, responseReduction: Double,
        remissionMax: Int, ladder: [Rung], stepBackRise: Double, stepBackMinPoints: Int,
        maxDoseMgPerKg: Double, minMaintenanceIntervalDays: Int, toleranceStepBacks: Int,
        toleranceWindowDays: Int, bpSystolicMax: Int, bpDiastolicMax: Int, taperSteps: [TaperStep],
        relapseEarlyDays: Int, relapseLateDays: Int, monitoring: [MonitoringItem], quarterMonths: Int,
        yearMonths: Int, visitWindowDays: Int, visitConsentMonths: Int, triggerRise: Double,
        triggerMinPoints: Int, phq2BaselineDays: Int, triggerDays: Int, hybridBaseDays: Int,
        phaseEndWeeks: [Int], lateEntryHours: Int = 24, permissions: PermissionTable = .default
    ) {
        self.version = version
        self.acuteSeriesLength = acuteSeriesLength
        self.acuteIntervalDays = acuteIntervalDays
        self.responseReduction = responseReduction
        self.remissionMax = remissionMax
        self.ladder = ladder
        self.stepBackRise = stepBackRise
        self.stepBackMinPoints = stepBackMinPoints
        self.maxDoseMgPerKg = maxDoseMgPerKg
        self.minMaintenanceIntervalDays = minMaintenanceIntervalDays
        self.toleranceStepBacks = toleranceStepBacks
        self.toleranceWindowDays = toleranceWindowDays
        self.bpSystolicMax = bpSystolicMax
        self.bpDiastolicMax = bpDiastolicMax
        self.taperSteps = taperSteps
        self.relapseEarlyDays = relapseEarlyDays
        self.relapseLateDays = relapseLateDays
        self.monitoring = monitoring
        self.quarterMonths = quarterMonths
        self.yearMonths = yearMonths
        self.visitWindowDays = visitWindowDays
        self.visitConsentMonths = visitConsentMonths
        self.triggerRise = triggerRise
        self.triggerMinPoints = triggerMinPoints
        self.phq2BaselineDays = phq2BaselineDays
        self.triggerDays = triggerDays
        self.hybridBaseDays = hybridBaseDays
        self.phaseEndWeeks = phaseEndWeeks
        self.lateEntryHours = lateEntryHours
        self.permissions = permissions
    }

    /// The rolling item called `name`, if the rule set has one.
    public func monitoringItem(_ name: String) -> MonitoringItem? {
        monitoring.first(where: { $0.name == name })
    }

    /// A ratio as whole millionths (0.5 → 500_000), the fixed-point form every threshold uses.
    @inlinable
    public static func ppm(_ ratio: Double) -> Int64 {
        Int64((ratio * 1_000_000).rounded())
    }
}

extension RuleSet {
    /// R2/R5/R8: `score ≤ baseline × (1 − responseReduction)`, exactly.
    func isResponse(score: Int, baseline: Int) -> Bool {
        Int64(score) * 1_000_000 <= Int64(baseline) * (1_000_000 - RuleSet.ppm(responseReduction))
    }

    /// R5: stable at a maintenance infusion, judged with the latest MADRS (nil: none → not stable).
    func isStable(score: Int?, baseline: Int?) -> Bool {
        guard let score else { return false }
        if score <= remissionMax { return true }
        guard let baseline else { return false }
        return isResponse(score: score, baseline: baseline)
    }

    /// R6: `score > nadir × (1 + stepBackRise)` and `score − nadir ≥ stepBackMinPoints`, exactly.
    func isSymptomRise(score: Int, nadir: Int) -> Bool {
        Int64(score) * 1_000_000 > Int64(nadir) * (1_000_000 + RuleSet.ppm(stepBackRise))
            && score - nadir >= stepBackMinPoints
    }

    /// R12: a PHQ-2 `value` raised over `baseline`, exactly.
    func isTriggerRaised(value: Int, baseline: Int) -> Bool {
        Int64(value) * 1_000_000 > Int64(baseline) * (1_000_000 + RuleSet.ppm(triggerRise))
            && value >= baseline + triggerMinPoints
    }

    /// A count of days bounded to ±100 000 (about 270 years), so day arithmetic on anything an
    /// event or a state carries can never overflow.
    static func boundedDays(_ d: Int) -> Int { min(max(d, -100_000), 100_000) }

    /// Months from a taper start to the start of step `index` (the sum of the steps before it).
    static func monthsBefore(step index: Int, of steps: [TaperStep]) -> Int {
        var m = 0
        var i = 0
        while i < index && i < steps.count {
            m += min(max(steps[i].months, 0), 1200)  // bounded: day arithmetic never overflows
            i += 1
        }
        return m
    }
}
