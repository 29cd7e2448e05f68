import Foundation
import KClinic
import Testing

/// examples.md: W1, W2 and the phase part of W3, loaded from the example NDJSON files.
@Suite struct ProtocolWorkedExampleTests {
    static func events(_ text: String) -> [Recorded] {
        do {
            return try loadNDJSON(text)
        } catch {
            Issue.record("example did not load: \(error)")
            return []
        }
    }

    static func view(_ events: [Recorded], _ patient: String, on date: String) -> PhaseView? {
        let state = PhaseProjection.fold(patient: patient, events: events, rules: .default, through: day(date))
        return PhaseProjection.view(state, on: day(date), rules: .default)
    }

    @Test(arguments: [
        ("2026-01-20", TreatmentPhase.frequencyFinding, 3, 4, (7, 0, 4 as Int?), "2026-01-23"),
        ("2026-02-14", TreatmentPhase.frequencyFinding, 6, 5, (10, 0, 3 as Int?), "2026-02-23"),
        ("2026-11-20", TreatmentPhase.longTerm, 46, 5, (28, 4, nil as Int?), "2026-11-29"),
    ])
    func W1_ladderWalkedWithStableScores(
        on date: String, phase: TreatmentPhase, week: Int, latest: Int, interval: (Int, Int, Int?), due: String
    ) {
        let v = Self.view(Self.events(ProtocolExampleData.w1), "W1", on: date)
        #expect(
            v
                == phaseView(
                    "W1", phase: phase, status: .maintenance, week: week, response: .responder, baseline: 32, nadir: 4,
                    latest: latest, interval: interval, due: due, overdue: 0))
    }

    @Test func W2_stepBacksNadirRestartToleranceReview() {
        let events = Self.events(ProtocolExampleData.w2)
        let v = Self.view(events, "W2", on: "2026-04-25")
        #expect(
            v
                == phaseView(
                    "W2", phase: .optimization, status: .maintenance, week: 16, response: .responder, baseline: 32,
                    nadir: 11, latest: 11, interval: (7, 1, 4), due: "2026-04-29", overdue: 0))

        // query alerts --on 2026-04-25: exactly these three, all warnings.
        let state = PhaseProjection.fold(patient: "W2", events: events, rules: .default, through: day("2026-04-25"))
        let alerts = PhaseProjection.alerts(state, on: day("2026-04-25"))
        let madrsApr12 = "00000000-0000-0000-0000-000000000117"
        let madrsApr22 = "00000000-0000-0000-0000-00000000011e"
        #expect(alerts.map(\.id) == ["symptom-rise:\(madrsApr12)", "symptom-rise:\(madrsApr22)", "tolerance-review:\(madrsApr22)"])
        #expect(alerts.map(\.raisedOn) == [day("2026-04-12"), day("2026-04-22"), day("2026-04-22")])
        #expect(alerts.allSatisfy { $0.severity == .warning && $0.acknowledged == nil })

        // Between the two step backs: back to 10 days, nadir restarted at 8, the infusion counted.
        #expect(
            Self.view(events, "W2", on: "2026-04-13")
                == phaseView(
                    "W2", phase: .optimization, status: .maintenance, week: 15, response: .responder, baseline: 32,
                    nadir: 8, latest: 8, interval: (10, 1, 3), due: "2026-04-22", overdue: 0))
    }

    @Test func W3_phasePart() {
        let v = Self.view(Self.events(ProtocolExampleData.w3), "W3", on: "2026-04-10")
        // Six maintenance visits (Jan 23 … Mar 5), MADRS 6. examples.md gives no phase numbers for
        // W3; by R6 the Jan 30 MADRS 6 is a rise over the nadir 4 (6 > 5 and 6 − 4 ≥ 2, after the
        // first maintenance infusion): a step back at rung 0 (stays at 7 days, count 0), nadir 6.
        // Then Jan 30, Feb 6, 13, 23 count 4 at 7 days → 10 days; Mar 5 counts 1. Due Mar 15.
        #expect(
            v
                == phaseView(
                    "W3", phase: .optimization, status: .maintenance, week: 14, response: .responder, baseline: 32,
                    nadir: 6, latest: 6, interval: (10, 1, 3), due: "2026-03-15", overdue: 26))
        let state = PhaseProjection.fold(
            patient: "W3", events: Self.events(ProtocolExampleData.w3), rules: .default, through: day("2026-04-10"))
        #expect(
            PhaseProjection.alerts(state, on: day("2026-04-10")).map(\.id) == ["symptom-rise:00000000-0000-0000-0000-00000000015c"])
    }

    @Test func W1_patientAppearsOnlyFromItsFirstEvent() {
        let events = Self.events(ProtocolExampleData.w1)
        #expect(Self.view(events, "W1", on: "2026-01-04") == nil)
        #expect(
            Self.view(events, "W1", on: "2026-01-05")
                == phaseView(
                    "W1", phase: .stabilization, status: .acuteSeries, week: 1, response: .inProgress, baseline: 32,
                    nadir: nil, latest: 32, interval: nil, due: "2026-01-08", overdue: 0))
    }
}
