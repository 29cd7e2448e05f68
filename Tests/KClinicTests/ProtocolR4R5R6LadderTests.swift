import Foundation
import KClinic
import Testing

/// R4 ladder, R5 stability, R6 step back and ScheduleAdjusted.
@Suite struct ProtocolR4R5R6LadderTests {
    /// A responder (baseline 32, assessment `assessment`) with weekly visits from Jan 23.
    static func responder(assessment: Int = 4, visits: [(String, Int)]) -> History {
        var h = History()
        h.acuteSeries(assessment: assessment)
        for (d, m) in visits { h.visit(d, madrs: m) }
        return h
    }

    @Test func R4_fourStableWeeklyInfusionsExtendToTenDays() {
        let h = Self.responder(visits: [("2026-01-23", 5), ("2026-01-30", 5), ("2026-02-06", 5), ("2026-02-13", 5)])
        #expect(
            h.view(on: "2026-02-13")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (10, 0, 3), due: "2026-02-23", overdue: 0))
        // Not yet at the third: 7 days, count 3.
        #expect(h.view(on: "2026-02-12")?.interval == .init(days: 7, treatmentsAtInterval: 3, requiredBeforeExtension: 4))
    }

    @Test func R5_anUnstableScoreHoldsTheRungUntilAStableOne() {
        // Assessment 14 (responder: 14 ≤ 16); MADRS 17 is neither ≤ 10 nor ≤ 16, and no rise over
        // 14 × 1.25 = 17.5: no step back, not stable.
        let h = Self.responder(
            assessment: 14,
            visits: [("2026-01-23", 17), ("2026-01-30", 17), ("2026-02-06", 17), ("2026-02-13", 17), ("2026-02-20", 9)])
        #expect(
            h.view(on: "2026-02-14")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 14,
                    latest: 17, interval: (7, 4, 4), due: "2026-02-20", overdue: 0))
        #expect(
            h.view(on: "2026-02-21")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 7, response: .responder, baseline: 32, nadir: 9,
                    latest: 9, interval: (10, 0, 3), due: "2026-03-02", overdue: 0))
    }

    @Test func R5_stableByHalfTheBaselineAboveRemission() {
        // 16 ≤ 32 × 0.5: stable though above 10.
        let h = Self.responder(
            assessment: 16, visits: [("2026-01-23", 16), ("2026-01-30", 16), ("2026-02-06", 16), ("2026-02-13", 16)])
        #expect(h.view(on: "2026-02-13")?.interval == .init(days: 10, treatmentsAtInterval: 0, requiredBeforeExtension: 3))
    }

    @Test func R5_withoutABaselineOnlyRemissionCounts() {
        var h = History()
        h.acuteSeries(baseline: nil, assessment: 8)
        for d in ["2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13"] { h.visit(d, madrs: 9) }
        #expect(
            h.view(on: "2026-02-14")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .unknown, baseline: nil, nadir: 8,
                    latest: 9, interval: (10, 0, 3), due: "2026-02-23", overdue: 0))
        var h2 = History()
        h2.acuteSeries(baseline: nil, assessment: 11)
        for d in ["2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13"] { h2.visit(d, madrs: 12) }
        #expect(h2.view(on: "2026-02-14")?.interval == .init(days: 7, treatmentsAtInterval: 4, requiredBeforeExtension: 4))
    }

    @Test func R5_noMadrsAtAllIsNeverStable() {
        var h = History()
        h.acuteSeries(baseline: nil, assessment: nil)
        for d in ["2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13", "2026-02-20"] { h.infusion(d, .maintenance) }
        #expect(
            h.view(on: "2026-02-21")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 7, response: .unknown, baseline: nil, nadir: nil,
                    latest: nil, interval: (7, 5, 4), due: "2026-02-27", overdue: 0))
    }

    @Test func R4_boostersNeitherCountNorMoveTheSchedule() {
        var h = Self.responder(visits: [("2026-01-23", 5)])
        h.infusion("2026-01-27", .booster)
        #expect(
            h.view(on: "2026-01-28")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 4, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 1, 4), due: "2026-01-30", overdue: 0))
        // …and a booster is not a maintenance infusion for R7's weekly check.
        h.visit("2026-01-30", madrs: 5)
        #expect(PhaseProjection.alerts(h.fold(through: "2026-01-30"), on: day("2026-01-30")).isEmpty)
    }

    @Test func R4_overdueDaysCountFromTheDueDate() {
        let h = Self.responder(visits: [("2026-01-23", 5)])
        #expect(h.view(on: "2026-02-09")?.nextInfusionDue == day("2026-01-30"))
        #expect(h.view(on: "2026-02-09")?.infusionOverdueDays == 10)
        #expect(h.view(on: "2026-01-30")?.infusionOverdueDays == 0)
    }

    @Test func R6_stepBackAtTheFirstRungStaysThereWithCountZero() {
        let h = Self.responder(visits: [("2026-01-23", 5), ("2026-01-30", 5), ("2026-02-06", 9)])
        // Feb 6: 9 > 4 × 1.25 and 9 − 4 ≥ 2 → step back at rung 0: stays 7 days, count 0; the
        // infusion that follows counts 1; nadir 9.
        #expect(
            h.view(on: "2026-02-07")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 5, response: .responder, baseline: 32, nadir: 9,
                    latest: 9, interval: (7, 1, 4), due: "2026-02-13", overdue: 0))
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-02-07"), on: day("2026-02-07"))
        #expect(alerts.map(\.kind) == [.symptomRise])
        #expect(alerts.first?.raisedOn == day("2026-02-06"))
    }

    @Test func R6_aNadirOfZeroNeedsTheMinimumPoints() {
        // Nadir 0: 1 is "more than 25% above" but only 1 point: no step back; 2 is.
        let h = Self.responder(assessment: 0, visits: [("2026-01-23", 0), ("2026-01-30", 1), ("2026-02-06", 1)])
        #expect(h.view(on: "2026-02-07")?.interval == .init(days: 7, treatmentsAtInterval: 3, requiredBeforeExtension: 4))
        #expect(h.view(on: "2026-02-07")?.nadirMadrs == 0)
        var h2 = h
        h2.visit("2026-02-13", madrs: 2)
        #expect(
            h2.view(on: "2026-02-14")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 2,
                    latest: 2, interval: (7, 1, 4), due: "2026-02-20", overdue: 0))
    }

    @Test func R6_aRiseMustExceedTwentyFivePercent() {
        // Nadir 8 (assessment): 10 = 8 × 1.25 is not above it; 11 is.
        let h = Self.responder(assessment: 8, visits: [("2026-01-23", 8), ("2026-01-30", 10)])
        #expect(h.view(on: "2026-01-31")?.interval == .init(days: 7, treatmentsAtInterval: 2, requiredBeforeExtension: 4))
        var h2 = h
        h2.visit("2026-02-06", madrs: 11)
        #expect(h2.view(on: "2026-02-07")?.interval == .init(days: 7, treatmentsAtInterval: 1, requiredBeforeExtension: 4))
        #expect(h2.view(on: "2026-02-07")?.nadirMadrs == 11)
    }

    @Test func R6_noStepBackOnTheScoreBeforeTheFirstMaintenanceInfusion() {
        // The Jan 23 MADRS comes before the first maintenance infusion (08:30 < 09:30).
        let h = Self.responder(visits: [("2026-01-23", 9)])
        #expect(h.view(on: "2026-01-24")?.interval == .init(days: 7, treatmentsAtInterval: 1, requiredBeforeExtension: 4))
        #expect(h.view(on: "2026-01-24")?.nadirMadrs == 4)
    }

    @Test func R6_scheduleAdjustedToARungsIntervalTakesThatRung() {
        var h = Self.responder(visits: [("2026-01-23", 5), ("2026-01-30", 5)])
        h.adjust("2026-01-30", 14)
        #expect(
            h.view(on: "2026-01-31")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 4, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (14, 0, 4), due: "2026-02-13", overdue: 0))
    }

    @Test func R6_scheduleAdjustedBeforeTheFirstMaintenanceInfusionPositionsTheLadder() {
        var h = History()
        h.acuteSeries()
        h.adjust("2026-01-20", 10)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 3, response: .responder, baseline: 32, nadir: 4,
                    latest: 4, interval: (10, 0, 3), due: "2026-01-26", overdue: 0))
    }

    @Test func R6_customIntervalExtendsToTheFirstRungAboveAfterTheRungBelowsTreatments() {
        // Custom 12 days: below it the 10-day rung (3 treatments), above it 14 days.
        var h = Self.responder(visits: [("2026-01-23", 5)])
        h.adjust("2026-01-23", 12)
        #expect(h.view(on: "2026-01-24")?.interval == .init(days: 12, treatmentsAtInterval: 0, requiredBeforeExtension: 3))
        #expect(h.view(on: "2026-01-24")?.nextInfusionDue == day("2026-02-04"))
        h.visit("2026-02-04", madrs: 5)
        h.visit("2026-02-16", madrs: 5)
        #expect(h.view(on: "2026-02-17")?.interval == .init(days: 12, treatmentsAtInterval: 2, requiredBeforeExtension: 3))
        h.visit("2026-02-28", madrs: 5)
        #expect(
            h.view(on: "2026-03-01")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 8, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (14, 0, 4), due: "2026-03-14", overdue: 0))
    }

    @Test func R6_stepBackFromACustomIntervalGoesToTheLastRungBelow() {
        var h = Self.responder(visits: [("2026-01-23", 5)])
        h.adjust("2026-01-23", 12)
        h.visit("2026-02-04", madrs: 9)
        #expect(
            h.view(on: "2026-02-05")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 5, response: .responder, baseline: 32, nadir: 9,
                    latest: 9, interval: (10, 1, 3), due: "2026-02-14", overdue: 0))
    }

    @Test func R6_aCustomIntervalBelowEveryRungStaysOnStepBackAndExtendsToTheFirstRung() {
        var h = Self.responder(visits: [("2026-01-23", 5)])
        h.adjust("2026-01-23", 5)
        h.visit("2026-01-28", madrs: 9)  // rise: stays at 5 days, count 0, then counts 1
        #expect(h.view(on: "2026-01-28")?.interval == .init(days: 5, treatmentsAtInterval: 1, requiredBeforeExtension: 4))
        for d in ["2026-02-02", "2026-02-07", "2026-02-12"] { h.visit(d, madrs: 9) }
        #expect(h.view(on: "2026-02-12")?.interval == .init(days: 7, treatmentsAtInterval: 0, requiredBeforeExtension: 4))
        #expect(h.view(on: "2026-02-12")?.nextInfusionDue == day("2026-02-19"))
    }

    @Test func R6_aCustomIntervalAboveEveryRungNeverExtends() {
        var h = Self.responder(visits: [("2026-01-23", 5)])
        h.adjust("2026-01-23", 35)
        h.visit("2026-02-27", madrs: 5)
        #expect(h.view(on: "2026-02-28")?.interval == .init(days: 35, treatmentsAtInterval: 1, requiredBeforeExtension: nil))
        #expect(h.view(on: "2026-02-28")?.nextInfusionDue == day("2026-04-03"))
    }

    @Test func R7_toleranceReviewCountsAStepBackExactly180DaysEarlier() {
        // Two step backs: Feb 6 and 180 days later (Aug 5): tolerance-review; 181 days: none.
        for (second, expectReview) in [("2026-08-05", true), ("2026-08-06", false)] {
            var h = Self.responder(visits: [("2026-01-23", 5), ("2026-01-30", 5), ("2026-02-06", 9)])
            h.madrs(second + "T08:00", 20)
            let alerts = PhaseProjection.alerts(h.fold(through: second), on: day(second))
            #expect(alerts.map(\.kind) == (expectReview ? [.symptomRise, .symptomRise, .toleranceReview] : [.symptomRise, .symptomRise]))
        }
    }
}
