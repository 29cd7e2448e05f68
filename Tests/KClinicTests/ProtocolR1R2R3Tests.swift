import Foundation
import KClinic
import Testing

/// R1 baseline, R2 acute series and response, R3 phase.
@Suite struct ProtocolR1R2R3Tests {
    @Test func R3_preTreatmentBeforeAnyInfusion() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05T08:10", 30)
        #expect(
            h.view(on: "2026-01-06")
                == phaseView(
                    phase: .preTreatment, status: .preTreatment, week: nil, response: nil, baseline: nil, nadir: nil,
                    latest: 30, interval: nil, due: nil, overdue: 0))
    }

    @Test func R1_baselineIsTheLatestMadrsAtOrBeforeTheFirstInfusion() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-02T08:00", 35)
        h.madrs("2026-01-05T08:10", 31)
        h.infusion("2026-01-05", .acute)
        h.madrs("2026-01-05T11:00", 20)  // after the infusion: not the baseline
        #expect(
            h.view(on: "2026-01-06")
                == phaseView(
                    phase: .stabilization, status: .acuteSeries, week: 1, response: .inProgress, baseline: 31, nadir: nil,
                    latest: 20, interval: nil, due: "2026-01-08", overdue: 0))
    }

    @Test func R1_aMadrsOfTheSameInstantLaterInTheLogIsStillTheBaseline() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05T08:10", 31)
        h.infusion("2026-01-05T09:30", .acute)
        h.add("2026-01-05T09:30", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 28)))  // same instant, later sequence
        #expect(h.view(on: "2026-01-05")?.baselineMadrs == 28)
    }

    @Test func R2_acuteInfusionsAreDueEveryThreeDaysAndCountOverdue() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05T08:10", 32)
        h.infusion("2026-01-05", .acute)
        h.infusion("2026-01-07", .acute)
        #expect(
            h.view(on: "2026-01-12")
                == phaseView(
                    phase: .stabilization, status: .acuteSeries, week: 2, response: .inProgress, baseline: 32, nadir: nil,
                    latest: 32, interval: nil, due: "2026-01-10", overdue: 2))
    }

    @Test func R2_thresholdIsExact_15RespondsAgainstBaseline31() {
        var h = History()
        h.acuteSeries(baseline: 31, assessment: 15)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 3, response: .responder, baseline: 31, nadir: 15,
                    latest: 15, interval: (7, 0, 4), due: "2026-01-23", overdue: 0))
    }

    @Test func R2_16AgainstBaseline31IsANonResponderWithNothingDue() {
        var h = History()
        h.acuteSeries(baseline: 31, assessment: 16)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .stabilization, status: .nonResponder, week: 3, response: .nonResponder, baseline: 31, nadir: 16,
                    latest: 16, interval: nil, due: nil, overdue: 0))
        let state = h.fold(through: "2026-01-20")
        let alerts = PhaseProjection.alerts(state, on: day("2026-01-20"))
        #expect(alerts.map(\.kind) == [.nonResponse])
        #expect(alerts.first?.source.sequence == h.events.last?.sequence)
        #expect(alerts.first?.severity == .warning)
    }

    @Test func R2_aScoreOnTheSixthInfusionsDayIsNotTheAssessment() {
        var h = History()
        h.acuteSeries(assessment: nil)
        h.madrs("2026-01-16T11:00", 5)  // same day as the 6th infusion, after it
        #expect(
            h.view(on: "2026-01-18")
                == phaseView(
                    phase: .stabilization, status: .awaitingResponse, week: 2, response: .pending, baseline: 32, nadir: nil,
                    latest: 5, interval: nil, due: nil, overdue: 0))
    }

    @Test func R2_theFirstScoreOfTheEarliestDateSettlesTheResponse() {
        var h = History()
        h.acuteSeries(assessment: nil)
        h.madrs("2026-01-19T09:00", 20)
        h.madrs("2026-01-19T15:00", 4)  // same date, later: not the assessment
        h.madrs("2026-01-22T09:00", 3)
        for on in ["2026-01-19", "2026-01-25"] {
            #expect(h.view(on: on)?.responseStatus == .nonResponder)
            #expect(h.view(on: on)?.status == .nonResponder)
        }
        #expect(h.view(on: "2026-01-25")?.nadirMadrs == 3)
    }

    @Test func R2_unknownWithoutABaseline() {
        var h = History()
        h.acuteSeries(baseline: nil, assessment: 6)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .stabilization, status: .awaitingResponse, week: 3, response: .unknown, baseline: nil, nadir: 6,
                    latest: 6, interval: nil, due: nil, overdue: 0))
    }

    @Test func R3_stabilizationIsAGateWhateverTheWeek() {
        var h = History()
        h.acuteSeries(assessment: nil)
        #expect(
            h.view(on: "2026-04-20")
                == phaseView(
                    phase: .stabilization, status: .awaitingResponse, week: 16, response: .pending, baseline: 32, nadir: nil,
                    latest: 32, interval: nil, due: nil, overdue: 0))
    }

    @Test func R3_aMaintenanceInfusionPassesTheGateForANonResponder() {
        var h = History()
        h.acuteSeries(baseline: 30, assessment: 20)
        h.visit("2026-01-26", madrs: 18)
        #expect(
            h.view(on: "2026-01-27")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 4, response: .nonResponder, baseline: 30,
                    nadir: 18, latest: 18, interval: (7, 1, 4), due: "2026-02-02", overdue: 0))
    }

    @Test(arguments: [
        ("2026-03-29", 12, TreatmentPhase.frequencyFinding), ("2026-03-30", 13, .optimization),
        ("2026-06-21", 24, .optimization), ("2026-06-22", 25, .longTerm),
    ])
    func R3_phaseByWeekOfTreatment(on date: String, week: Int, phase: TreatmentPhase) {
        var h = History()
        h.acuteSeries()
        let v = h.view(on: date)
        #expect(v?.weekOfTreatment == week)
        #expect(v?.phase == phase)
    }

    @Test func Conventions_clinicalDateIsTheDateInTheTimestampsOwnOffset() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05T08:10", 32)
        // 23:30 at -05:00 is 04:30 UTC the next day; its clinical date is still Jan 5.
        h.infusion("2026-01-05T23:30", .acute)
        #expect(h.view(on: "2026-01-05")?.weekOfTreatment == 1)
        #expect(h.view(on: "2026-01-05")?.nextInfusionDue == day("2026-01-08"))
    }

    @Test func R2_withMixedOffsetsTheEarliestClinicalDateIsTheAssessment() {
        // Applied first (04:30 UTC Jan 20) but dated Jan 20 in its own offset; applied second
        // (04:45 UTC) but dated Jan 19: the Jan 19 score is the assessment.
        var h = History()
        h.acuteSeries(assessment: nil)
        h.add("2026-01-20T00:30:00-04:00", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 20)))
        h.add("2026-01-19T23:45:00-05:00", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 4)))
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 3, response: .responder, baseline: 32, nadir: 4,
                    latest: 4, interval: (7, 0, 4), due: "2026-01-23", overdue: 0))
        #expect(PhaseProjection.alerts(h.fold(through: "2026-01-20"), on: day("2026-01-20")).isEmpty)
        // The same answer on Jan 19 alone (the Jan 20 score not yet in).
        #expect(h.view(on: "2026-01-19")?.responseStatus == .responder)
    }

    @Test func R5_aMadrsOfTheInfusionsInstantLaterInTheLogIsTheOneJudged() {
        // Assessment 14; MADRS 17 is not stable (> 10, > 16) and no rise (≤ 17.5).
        var h = History()
        h.acuteSeries(assessment: 14)
        for d in ["2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13"] { h.visit(d, madrs: 17) }
        #expect(h.view(on: "2026-02-13")?.interval == .init(days: 7, treatmentsAtInterval: 4, requiredBeforeExtension: 4))
        // A MADRS 9 at exactly 09:30 on Feb 13, appended after the infusion: "occurredAt ≤ the
        // infusion's", and the latest such, so the 4th infusion was stable after all.
        h.add("2026-02-13T09:30", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 9)))
        #expect(
            h.view(on: "2026-02-13")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 9,
                    latest: 9, interval: (10, 0, 3), due: "2026-02-23", overdue: 0))
    }
}
