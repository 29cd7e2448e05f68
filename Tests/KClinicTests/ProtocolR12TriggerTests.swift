import Foundation
import KBinary
import KClinic
import Testing

/// R12: symptom-triggered and hybrid due dates.
@Suite struct ProtocolR12TriggerTests {
    static func phq2(_ h: inout History, from start: String, _ values: [Int?]) -> [Recorded?] {
        values.enumerated().map { i, v in
            guard let v else { return nil }
            return h.phq2(day(start).adding(days: i).description, v)
        }
    }

    @Test func R12_hybridIsDueMonthlyFromTheLastMaintenanceOrAcuteInfusion() {
        var h = History()
        h.acuteSeries(protocol: .hybrid)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    protocol: .hybrid, phase: .frequencyFinding, status: .maintenance, week: 3, response: .responder,
                    baseline: 32, nadir: 4, latest: 4, interval: nil, due: "2026-02-13", overdue: 0))
        h.visit("2026-02-13", madrs: 5)
        h.infusion("2026-02-20", .booster)
        #expect(h.view(on: "2026-02-21")?.nextInfusionDue == day("2026-03-13"))
    }

    @Test func R12_threeRaisedDaysTriggerABoosterDueThatDay() {
        var h = History()
        h.acuteSeries(protocol: .hybrid)
        let scores = Self.phq2(&h, from: "2026-01-20", [1, 1, 3, 3, 3, 3])
        #expect(h.view(on: "2026-01-23")?.nextInfusionDue == day("2026-02-13"))
        #expect(
            h.view(on: "2026-01-26")
                == phaseView(
                    protocol: .hybrid, phase: .frequencyFinding, status: .maintenance, week: 4, response: .responder,
                    baseline: 32, nadir: 4, latest: 4, interval: nil, due: "2026-01-24", overdue: 2))
        // A run triggers once: the fourth raised day raises nothing more.
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-01-26"), on: day("2026-01-26"))
        #expect(alerts.map(\.id) == ["booster-indicated:" + (scores[4]?.eventId.uuidString.lowercased() ?? "")])
        #expect(alerts.first?.raisedOn == day("2026-01-24"))
        // An infusion after that PHQ-2 ends the trigger; a booster does not move the base.
        h.infusion("2026-01-26T12:00", .booster)
        #expect(h.view(on: "2026-01-26")?.nextInfusionDue == day("2026-02-13"))
    }

    @Test func R12_aDateWithoutPHQ2EndsTheRun() {
        var h = History()
        h.acuteSeries(protocol: .symptomTriggered)
        _ = Self.phq2(&h, from: "2026-01-20", [1, 1, 3, nil, 3, 3])
        #expect(
            h.view(on: "2026-01-26")
                == phaseView(
                    protocol: .symptomTriggered, phase: .frequencyFinding, status: .maintenance, week: 4,
                    response: .responder, baseline: 32, nadir: 4, latest: 4, interval: nil, due: nil, overdue: 0))
        _ = Self.phq2(&h, from: "2026-01-26", [3])
        #expect(h.view(on: "2026-01-26")?.nextInfusionDue == day("2026-01-26"))
    }

    @Test func R12_riseMustBeAQuarterAndAPointAboveTheLowestOfTheLast28Dates() {
        var h = History()
        h.acuteSeries(protocol: .symptomTriggered)
        // Baseline 4: 5 is > 4 × 1.25 = 5? no. 6 is.
        _ = Self.phq2(&h, from: "2026-01-20", [4, 5, 5, 5])
        #expect(h.view(on: "2026-01-23")?.nextInfusionDue == nil)
        _ = Self.phq2(&h, from: "2026-01-24", [6, 6, 6])
        #expect(h.view(on: "2026-01-26")?.nextInfusionDue == day("2026-01-26"))
        // A baseline 0 needs the minimum point: 1 ≥ 0 + 1 and 1 > 0.
        var h2 = History()
        h2.acuteSeries(protocol: .symptomTriggered)
        _ = Self.phq2(&h2, from: "2026-01-20", [0, 1, 1, 1])
        #expect(h2.view(on: "2026-01-23")?.nextInfusionDue == day("2026-01-23"))
    }

    /// Three months of diary: the state drops dates older than the window in bulk (from 64
    /// kept dates on), and the baseline must still be exactly the last 28 dates, in the fold
    /// and in a stored (encoded, decoded) state.
    @Test func R12_theBaselineIsTheLast28DatesAcrossAMonthsLongDiary() throws {
        func diary(lowOn lowDay: Int) -> History {
            var h = History()
            h.acuteSeries(protocol: .symptomTriggered)
            // Days 0…88 score 5, except a 4 on `lowDay`; days 89…91 score 6. Against 5 neither
            // 5 nor 6 is raised (not more than a quarter above); against 4, 6 is and 5 is not.
            let values = (0..<92).map { $0 >= 89 ? 6 : ($0 == lowDay ? 4 : 5) }
            _ = Self.phq2(&h, from: "2026-01-20", values)
            return h
        }
        let lastDay = day("2026-01-20").adding(days: 91).description
        // The 4 on day 60 is 29 dates before the run's first day: outside every window, so
        // the baseline is 5 and 6 is not raised.
        let outside = diary(lowOn: 60)
        #expect(outside.view(on: lastDay)?.nextInfusionDue == nil)
        #expect(PhaseProjection.alerts(outside.fold(through: lastDay), on: day(lastDay)).isEmpty)
        // The 4 on day 64 is inside all three windows: three raised days, due that day.
        let inside = diary(lowOn: 64)
        #expect(inside.view(on: lastDay)?.nextInfusionDue == day(lastDay))
        let state = inside.fold(through: lastDay)
        #expect(PhaseProjection.alerts(state, on: day(lastDay)).map(\.kind) == [.boosterIndicated])
        // Bounded: never more than 64 dates kept, and a stored state reads back the same.
        #expect(state.phq2Days.count <= 64)
        #expect(state.phq2Days.map(\.day) == state.phq2Days.map(\.day).sorted())
        var w = BinaryWriter(capacity: 1024)
        state.encode(into: &w)
        #expect(try PhaseState.decode(bytes: w.bytes) == state)
    }

    @Test func R12_onlyMaintenanceDatesCountAndIntervalExtensionIgnoresPHQ2() {
        var h = History()
        h.acuteSeries(assessment: nil, protocol: .hybrid)  // awaiting response
        _ = Self.phq2(&h, from: "2026-01-17", [1, 3, 3, 3])
        #expect(PhaseProjection.alerts(h.fold(), on: day("2026-02-01")).isEmpty)
        var ie = History()
        ie.acuteSeries()
        _ = Self.phq2(&ie, from: "2026-01-20", [1, 3, 3, 3])
        #expect(PhaseProjection.alerts(ie.fold(), on: day("2026-02-01")).isEmpty)
        #expect(ie.fold().phq2Days.isEmpty)
    }

    @Test func R12_holidayEndIsDueUntilAnInfusionOfAnySeries() {
        var h = History()
        h.acuteSeries(protocol: .hybrid)
        h.holiday("2026-01-20", weeks: 4)
        h.holidayEnd("2026-02-10")
        #expect(h.view(on: "2026-02-12")?.nextInfusionDue == day("2026-02-10"))
        h.infusion("2026-02-12", .booster)
        #expect(h.view(on: "2026-02-12")?.nextInfusionDue == day("2026-02-13"))
    }

    @Test func R8_afterALongHolidayTheEndDateIsDueNotTheStaleHybridBase() {
        var h = History()
        h.acuteSeries(protocol: .hybrid)
        h.holiday("2026-01-20", weeks: 6)
        h.holidayEnd("2026-03-03")  // base (Jan 16 + 28 = Feb 13) is long past
        #expect(
            h.view(on: "2026-03-04")
                == phaseView(
                    protocol: .hybrid, phase: .frequencyFinding, status: .maintenance, week: 9, response: .responder,
                    baseline: 32, nadir: 4, latest: 4, interval: nil, due: "2026-03-03", overdue: 1))
    }
}
