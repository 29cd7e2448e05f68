import Foundation
import KClinic
import Testing

// Test-only helpers for the monitoring projection (R10, R11): documentation events on a
// History, the standard documented start, and expected rows spelled out.

extension History {
    @discardableResult
    mutating func consent(_ at: String, _ kind: ConsentKind = .initial) -> Recorded {
        add(at, .consentRecorded(ConsentRecorded(kind: kind)), defaultTime: "08:05")
    }
    @discardableResult
    mutating func moca(_ at: String, _ value: Int = 27) -> Recorded {
        add(at, .scoreRecorded(ScoreRecorded(instrument: .moca, value: value)), defaultTime: "08:12")
    }
    @discardableResult
    mutating func phq9(_ at: String, _ value: Int = 4) -> Recorded {
        add(at, .scoreRecorded(ScoreRecorded(instrument: .phq9, value: value)), defaultTime: "08:30")
    }
    @discardableResult
    mutating func lab(_ at: String, _ test: LabTest, abnormal: Bool = false) -> Recorded {
        add(at, .labResulted(LabResulted(test: test, abnormal: abnormal)), defaultTime: "08:15")
    }
    @discardableResult
    mutating func vitals(_ at: String) -> Recorded {
        add(at, .vitalsRecorded(VitalsRecorded(systolic: 124, diastolic: 78)), defaultTime: "08:40")
    }
    @discardableResult
    mutating func screening(_ at: String, _ kind: ScreeningKind, positive: Bool = false) -> Recorded {
        add(at, .screeningRecorded(ScreeningRecorded(kind: kind, positive: positive)), defaultTime: "08:45")
    }
    @discardableResult
    mutating func assessment(_ at: String, _ kind: AssessmentKind) -> Recorded {
        add(at, .assessmentRecorded(AssessmentRecorded(kind: kind)), defaultTime: "11:00")
    }
    @discardableResult
    mutating func sideEffect(_ at: String, _ category: SideEffectCategory) -> Recorded {
        add(at, .sideEffectReported(SideEffectReported(category: category, severity: .mild)), defaultTime: "10:30")
    }

    /// A fully documented visit (R11): PHQ-9, vitals, substance-use and urological screenings,
    /// the infusion at 09:30, side-effects review and treatment-response assessment; `omit`
    /// leaves items out by their R11 name.
    mutating func documentedVisit(_ date: String, _ series: Series = .maintenance, omit: Set<String> = []) {
        if !omit.contains("symptom-scale") { phq9(date + "T08:30") }
        if !omit.contains("vital-signs") { vitals(date + "T08:40") }
        if !omit.contains("substance-use-screening") { screening(date + "T08:45", .substanceUse) }
        if !omit.contains("urological-inquiry") { screening(date + "T08:46", .urologicalSymptoms) }
        infusion(date, series)
        if !omit.contains("side-effects-review") { screening(date + "T10:30", .sideEffectsReview) }
        if !omit.contains("response-assessment") {
            add(date + "T10:35", .assessmentRecorded(AssessmentRecorded(kind: .treatmentResponse)))
        }
    }

    /// The standard documented start: enrolled, consent, MADRS 32, MoCA, urinalysis and LFT on
    /// 2026-01-05 before the first infusion (T0 = 2026-01-05); six documented acute visits (Jan 5,
    /// 7, 9, 12, 14, 16); MADRS 4 on Jan 19 (a responder). `omit` leaves baseline items out by
    /// their R11 name (consent, madrs, moca, urinalysis, liver-function).
    mutating func monitoredStart(_ p: TreatmentProtocol = .intervalExtension, omit: Set<String> = []) {
        enrolled(p)
        if !omit.contains("consent") { consent("2026-01-05T08:05") }
        if !omit.contains("madrs") { add("2026-01-05T08:10", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 32))) }
        if !omit.contains("moca") { moca("2026-01-05T08:12") }
        if !omit.contains("urinalysis") { lab("2026-01-05T08:15", .urinalysis) }
        if !omit.contains("liver-function") { lab("2026-01-05T08:16", .lft) }
        for d in ["2026-01-05", "2026-01-07", "2026-01-09", "2026-01-12", "2026-01-14", "2026-01-16"] {
            documentedVisit(d, .acute)
        }
        madrs("2026-01-19T10:00", 4)
    }

    /// The three quarter items on `date`.
    mutating func quarterItems(_ date: String) {
        assessment(date + "T11:00", .comprehensivePsychiatric)
        assessment(date + "T11:05", .treatmentPlanReview)
        assessment(date + "T11:10", .goalSetting)
    }

    func clinic(through date: String, rules: RuleSet = .default, asOf: Int64? = nil, amend: PhaseProjection.Amend? = nil)
        -> (phase: PhaseState, monitoring: MonitoringState)
    {
        PatientProjection.fold(
            patient: patient, events: events, rules: rules, through: day(date), recordedAtOrBefore: asOf, amend: amend)
    }

    func due(on date: String, rules: RuleSet = .default, asOf: Int64? = nil, amend: PhaseProjection.Amend? = nil) -> [DueItem] {
        let (phase, m) = clinic(through: date, rules: rules, asOf: asOf, amend: amend)
        return MonitoringProjection.due(m, phase: phase, on: day(date), rules: rules)
    }

    func audit(on date: String, rules: RuleSet = .default, asOf: Int64? = nil, amend: PhaseProjection.Amend? = nil) -> [AuditFinding] {
        let (phase, m) = clinic(through: date, rules: rules, asOf: asOf, amend: amend)
        return MonitoringProjection.audit(m, phase: phase, on: day(date), rules: rules)
    }
}

/// An expected `query due` row.
func row(_ item: String, _ last: String?, _ from: String?, _ by: String?, _ status: DueStatus, patient: String = "P") -> DueItem {
    DueItem(patient: patient, item: item, lastDone: last.map(day), dueFrom: from.map(day), dueBy: by.map(day), status: status)
}

/// The five period items with nothing documented yet (lastDone null): quarter items due in the
/// quarter `q` (or overdue), year items in the year `y`.
func undocumentedPeriods(
    quarter q: (String, String), _ qs: DueStatus, year y: (String, String), _ ys: DueStatus, patient: String = "P"
) -> [DueItem] {
    [
        row("continuation-discussion", nil, y.0, y.1, ys, patient: patient),
        row("goal-setting", nil, q.0, q.1, qs, patient: patient),
        row("psychiatric-assessment", nil, q.0, q.1, qs, patient: patient),
        row("safety-assessment", nil, y.0, y.1, ys, patient: patient),
        row("treatment-plan-review", nil, q.0, q.1, qs, patient: patient),
    ]
}

/// Rows sorted as `query due` sorts them (by item name).
func sortedRows(_ rows: [DueItem]) -> [DueItem] { rows.sorted { $0.item < $1.item } }

func visitFinding(_ date: String, _ missing: [String], patient: String = "P") -> AuditFinding {
    AuditFinding(patient: patient, scope: .visit, date: day(date), missing: missing)
}
func baselineFinding(_ date: String, _ missing: [String], patient: String = "P") -> AuditFinding {
    AuditFinding(patient: patient, scope: .baseline, date: day(date), missing: missing)
}
func windowFinding(_ scope: AuditScope, _ start: String, _ end: String, _ missing: [String], patient: String = "P") -> AuditFinding {
    AuditFinding(patient: patient, scope: scope, periodStart: day(start), periodEnd: day(end), missing: missing)
}
let allQuarterItems = ["goal-setting", "psychiatric-assessment", "treatment-plan-review"]
let allYearItems = ["cognitive-screening", "consent", "continuation-discussion", "safety-assessment"]
