import Foundation
import KClinic
import Testing

/// examples.md W3: the `query due` table and the two `query audit` findings on 2026-04-10.
@Suite struct MonitoringWorkedExampleTests {
    static func w3() -> [Recorded] {
        do {
            return try loadNDJSON(ProtocolExampleData.w3)
        } catch {
            Issue.record("W3 did not load: \(error)")
            return []
        }
    }

    @Test func W3_dueTableOn20260410() {
        let (phase, m) = PatientProjection.fold(patient: "W3", events: Self.w3(), rules: .default, through: day("2026-04-10"))
        let due = MonitoringProjection.due(m, phase: phase, on: day("2026-04-10"), rules: .default)
        #expect(
            due == [
                row("cognitive-screening", "2026-01-05", "2026-07-05", "2026-07-05", .ok, patient: "W3"),
                row("consent", "2026-01-05", "2027-01-05", "2027-01-05", .ok, patient: "W3"),
                row("continuation-discussion", nil, "2026-01-05", "2027-01-04", .due, patient: "W3"),
                row("ecg", nil, "2027-01-05", "2027-01-05", .ok, patient: "W3"),
                row("goal-setting", nil, "2026-04-05", "2026-07-04", .overdue, patient: "W3"),
                row("liver-function", "2026-01-05", "2026-04-05", "2026-07-05", .due, patient: "W3"),
                row("psychiatric-assessment", "2026-03-20", "2026-04-05", "2026-07-04", .due, patient: "W3"),
                row("safety-assessment", nil, "2026-01-05", "2027-01-04", .due, patient: "W3"),
                row("treatment-plan-review", "2026-03-20", "2026-04-05", "2026-07-04", .due, patient: "W3"),
                row("urinalysis", "2026-01-05", "2026-04-05", "2026-07-05", .due, patient: "W3"),
            ])
    }

    @Test func W3_auditFindsExactlyTwoThingsOn20260410() {
        let (phase, m) = PatientProjection.fold(patient: "W3", events: Self.w3(), rules: .default, through: day("2026-04-10"))
        #expect(
            MonitoringProjection.audit(m, phase: phase, on: day("2026-04-10"), rules: .default) == [
                windowFinding(.quarter, "2026-01-05", "2026-04-04", ["goal-setting"], patient: "W3"),
                visitFinding(
                    "2026-02-06",
                    ["response-assessment", "side-effects-review", "substance-use-screening", "urological-inquiry", "vital-signs"],
                    patient: "W3"),
            ])
    }

    @Test func W3_theStoredStateAnswersLaterDatesWithoutARefold() {
        // Folded with every event (the last is 2026-03-20), asked on 2026-04-10: the same answers.
        let (phase, m) = PatientProjection.fold(patient: "W3", events: Self.w3(), rules: .default)
        let (phase10, m10) = PatientProjection.fold(patient: "W3", events: Self.w3(), rules: .default, through: day("2026-04-10"))
        #expect(m == m10)
        #expect(m.latestEventDay == day("2026-03-20"))
        #expect(
            MonitoringProjection.due(m, phase: phase, on: day("2026-04-10"), rules: .default)
                == MonitoringProjection.due(m10, phase: phase10, on: day("2026-04-10"), rules: .default))
    }
}
