import Foundation
import KBinary
import KClinic
import Testing

/// protocol.md revision 4: given events, when a date, then the whole projected state.
@Suite struct ProtocolRevision4Tests {
    // MARK: - R2, R3, R9: a maintenance infusion before the series is complete

    @Test func R9_aPatientTransferredInOnMaintenanceIsInMaintenanceNotAnAcuteSeries() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05", 14)
        h.infusion("2026-01-05", .maintenance)
        #expect(
            h.view(on: "2026-01-06")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 1, response: .notAssessed, baseline: 14,
                    nadir: 14, latest: 14, interval: (7, 1, 4), due: "2026-01-12", overdue: 0))
        // Weekly infusions on time are never overdue; stable (MADRS ≤ 10) the ladder extends
        // after the rung's four treatments, this infusion counting as the first.
        for d in ["2026-01-12", "2026-01-19", "2026-01-26"] {
            #expect(h.view(on: d)?.infusionOverdueDays == 0)
            h.visit(d, madrs: 8)
        }
        #expect(
            h.view(on: "2026-01-27")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 4, response: .notAssessed, baseline: 14,
                    nadir: 8, latest: 8, interval: (10, 0, 3), due: "2026-02-05", overdue: 0))
        #expect(PhaseProjection.alerts(h.fold(through: "2026-01-27"), on: day("2026-01-27")).isEmpty)
        let why = h.view(on: "2026-01-27", explain: true)?.explain ?? []
        #expect(why.first?.rule == "R9")
        #expect(why.first?.date == day("2026-01-05"))
        #expect(why.first?.detail.contains("before the acute series was complete") == true)
    }

    @Test func R9_aMaintenanceInfusionBeforeTheSixthAcuteClosesTheSeriesAndLaterAcuteInfusionsChangeNothingOfR2() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05T08:10", 30)
        for d in ["2026-01-05", "2026-01-07", "2026-01-09"] { h.infusion(d, .acute) }
        h.visit("2026-01-12", madrs: 12)
        #expect(
            h.view(on: "2026-01-12")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 2, response: .notAssessed, baseline: 30,
                    nadir: 12, latest: 12, interval: (7, 1, 4), due: "2026-01-19", overdue: 0))
        // Three more acute infusions make six: no completion, no assessment, no non-response.
        for d in ["2026-01-14", "2026-01-16", "2026-01-19"] { h.infusion(d, .acute) }
        h.madrs("2026-01-20", 13)
        #expect(
            h.view(on: "2026-01-20")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 3, response: .notAssessed, baseline: 30,
                    nadir: 12, latest: 13, interval: (7, 1, 4), due: "2026-01-19", overdue: 1))
        #expect(PhaseProjection.alerts(h.fold(through: "2026-01-20"), on: day("2026-01-20")).isEmpty)
        // R6 runs from the closing infusion: 16 > 12 × 1.25 and 4 points over the nadir.
        h.madrs("2026-01-21", 16)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-01-21"), on: day("2026-01-21"))
        #expect(alerts.map(\.kind) == [.symptomRise])
        #expect(h.view(on: "2026-01-21")?.nadirMadrs == 16)
    }

    @Test func R9_withNoMADRSAtOrBeforeTheClosingInfusionTheNadirIsTheFirstAfterIt() {
        var h = History()
        h.enrolled()
        h.infusion("2026-01-05", .maintenance)
        #expect(
            h.view(on: "2026-01-05")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 1, response: .notAssessed, baseline: nil,
                    nadir: nil, latest: nil, interval: (7, 1, 4), due: "2026-01-12", overdue: 0))
        h.madrs("2026-01-08", 9)
        #expect(h.view(on: "2026-01-08")?.nadirMadrs == 9)
        // No baseline: R5 judges by remissionMax alone (9 ≤ 10: stable).
        for d in ["2026-01-12", "2026-01-19", "2026-01-26"] { h.visit(d, madrs: 9) }
        #expect(h.view(on: "2026-01-26")?.interval == PhaseView.Interval(days: 10, treatmentsAtInterval: 0, requiredBeforeExtension: 3))
    }

    @Test func R9_aScheduleAdjustedBeforeTheTransferInfusionSetsWhereTheLadderStarts() {
        var h = History()
        h.enrolled()
        h.adjust("2026-01-05T08:00", 14)
        h.madrs("2026-01-05", 6)
        h.infusion("2026-01-05", .maintenance)
        #expect(h.view(on: "2026-01-05")?.interval == PhaseView.Interval(days: 14, treatmentsAtInterval: 1, requiredBeforeExtension: 4))
        #expect(h.view(on: "2026-01-05")?.nextInfusionDue == day("2026-01-19"))
    }

    @Test func R8_R9_aTransferredInPatientCanBeTaperedAndRelapseOnceInResponse() {
        var h = History()
        h.enrolled()
        h.madrs("2026-01-05", 30)
        h.infusion("2026-01-05", .maintenance)
        h.visit("2026-01-12", madrs: 12)  // 12 ≤ 15: in response since the first maintenance infusion
        h.discontinue("2026-01-20")
        h.madrs("2026-02-01", 20)
        #expect(h.view(on: "2026-02-01")?.status == .relapsed)
        let relapse = PhaseProjection.alerts(h.fold(through: "2026-02-01"), on: day("2026-02-01")).last
        #expect(relapse?.facts == .relapse(.early, days: 12, score: 20, baseline: 30, discontinuedOn: day("2026-01-20")))
    }

    // MARK: - R12 by clinical date

    /// Hybrid patient; PHQ-2s on Jan 20…25 of 1, 1, 3, 3, 3, 3 (baseline 1: 3 is raised).
    /// `mixed`: the Jan 23 score is written at 23:30−10:00 (09:30Z on the 24th) and the Jan 24
    /// one at 00:30+05:00 (19:30Z on the 23rd), so the 24th is applied before the 23rd.
    static func diary(mixed: Bool, lateEntry: Bool = false) -> History {
        var h = History()
        h.acuteSeries(protocol: .hybrid)
        h.phq2("2026-01-20", 1)
        h.phq2("2026-01-21", 1)
        h.phq2("2026-01-22", 3)
        let late = Int64(4_100_000_000) * 1_000_000
        if mixed {
            h.add("2026-01-23T23:30:00-10:00", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 3)))
            h.add("2026-01-24T00:30:00+05:00", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 3)))
        } else if lateEntry {
            // Jan 23 is entered after Jan 25 (recorded later, later in the log).
            h.phq2("2026-01-24", 3)
            h.phq2("2026-01-25", 3)
            h.add("2026-01-23", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 3)), defaultTime: "08:00", recordedAtMicros: late)
            return h
        } else {
            h.phq2("2026-01-23", 3)
            h.phq2("2026-01-24", 3)
        }
        h.phq2("2026-01-25", 3)
        return h
    }

    @Test(arguments: [(true, false), (false, true)])
    func R12_PHQ2sAppliedOutOfDateOrderGiveTheSameDaysRunsAndTriggerAsInDateOrder(mixed: Bool, lateEntry: Bool) {
        let inOrder = Self.diary(mixed: false)
        let other = Self.diary(mixed: mixed, lateEntry: lateEntry)
        let a = inOrder.fold(through: "2026-01-26")
        let b = other.fold(through: "2026-01-26")
        #expect(a.phq2Days.map(\.day) == b.phq2Days.map(\.day))
        #expect(a.phq2Days.map(\.run) == b.phq2Days.map(\.run))
        #expect(b.phq2Days.map(\.run) == [0, 0, 1, 2, 3, 4])
        let alertsA = PhaseProjection.alerts(a, on: day("2026-01-26"))
        let alertsB = PhaseProjection.alerts(b, on: day("2026-01-26"))
        #expect(alertsB.map(\.kind) == [.boosterIndicated])
        #expect(alertsB.map(\.raisedOn) == [day("2026-01-24")])
        #expect(alertsA.map(\.raisedOn) == alertsB.map(\.raisedOn))
        #expect(alertsA.map(\.facts) == alertsB.map(\.facts))
        // The trigger makes an infusion due on the 24th (before the hybrid base of Feb 13).
        let expected = phaseView(
            protocol: .hybrid, phase: .frequencyFinding, status: .maintenance, week: 4, response: .responder,
            baseline: 32, nadir: 4, latest: 4, interval: nil, due: "2026-01-24", overdue: 2)
        #expect(inOrder.view(on: "2026-01-26") == expected)
        #expect(other.view(on: "2026-01-26") == expected)
    }

    @Test func R12_aLaterScoreOfAnEarlierDateThatBreaksTheRunTakesItsTriggerBack() {
        var h = History()
        h.acuteSeries(protocol: .symptomTriggered)
        h.phq2("2026-01-20", 1)
        h.phq2("2026-01-21", 1)
        h.phq2("2026-01-22", 3)
        h.add("2026-01-24T00:30:00+05:00", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 3)))  // 19:30Z on the 23rd
        h.add("2026-01-23T23:30:00-10:00", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 3)))  // 09:30Z on the 24th
        let triggered = h.fold(through: "2026-01-25")
        #expect(triggered.phq2Days.map(\.run) == [0, 0, 1, 2, 3])
        #expect(PhaseProjection.alerts(triggered, on: day("2026-01-25")).map(\.raisedOn) == [day("2026-01-24")])
        #expect(h.view(on: "2026-01-25")?.nextInfusionDue == day("2026-01-24"))
        // The 23rd's latest score (applied last) is not raised: the run breaks, the trigger goes.
        h.add("2026-01-23T23:45:00-10:00", .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 1)))
        let s = h.fold(through: "2026-01-25")
        #expect(s.phq2Days.map(\.run) == [0, 0, 1, 0, 1])
        #expect(PhaseProjection.alerts(s, on: day("2026-01-25"), all: true).isEmpty)
        #expect(h.view(on: "2026-01-25")?.nextInfusionDue == nil)
        // The same scores in date order.
        var d = History()
        d.acuteSeries(protocol: .symptomTriggered)
        for (at, v) in [
            ("2026-01-20", 1), ("2026-01-21", 1), ("2026-01-22", 3), ("2026-01-23T08:00", 3), ("2026-01-23T09:00", 1), ("2026-01-24", 3),
        ] {
            d.phq2(at, v)
        }
        #expect(d.fold(through: "2026-01-25").phq2Days.map(\.run) == [0, 0, 1, 0, 1])
    }

    @Test func R12_aStateWithOutOfOrderDatesReadsBackEqual() throws {
        let s = Self.diary(mixed: true).fold(through: "2026-01-26")
        #expect(try PhaseState.decode(bytes: s.binaryEncoded) == s)
    }

    // MARK: - R8: the discontinuation date

    @Test func R8_aLaterDiscontinuationInTheSameSpellDoesNotMoveTheDate() {
        var h = ProtocolR8CourseTests.maintained()
        h.discontinue("2026-02-01")
        h.discontinue("2026-02-10")
        let score = h.madrs("2026-03-20", 20)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-20"), on: day("2026-03-20"))
        #expect(alerts.map(\.id) == ["relapse:" + score.eventId.uuidString.lowercased()])
        #expect(alerts.first?.facts == .relapse(.intermediate, days: 47, score: 20, baseline: 32, discontinuedOn: day("2026-02-01")))
    }

    @Test func R8_aDiscontinuationAfterTheTaperRanItsCourseKeepsTheTaperDate() {
        var h = ProtocolR8CourseTests.maintained()
        h.taper("2026-01-31", steps: [TaperStep(intervalDays: 14, months: 1)])  // complete Feb 28
        h.discontinue("2026-03-10")
        h.madrs("2026-03-30", 20)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-30"), on: day("2026-03-30"))
        #expect(alerts.last?.facts == .relapse(.intermediate, days: 30, score: 20, baseline: 32, discontinuedOn: day("2026-02-28")))
    }

    @Test func R8_aDiscontinuationDuringTheTaperIsTheDateWhenItComesFirst() {
        var h = ProtocolR8CourseTests.maintained()
        h.taper("2026-01-31", steps: [TaperStep(intervalDays: 14, months: 1)])
        h.discontinue("2026-02-10")
        h.madrs("2026-03-30", 20)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-30"), on: day("2026-03-30"))
        #expect(alerts.map(\.kind) == [.relapse])  // discontinuation-eligible withdrawn: it ended first
        #expect(alerts.last?.facts == .relapse(.intermediate, days: 48, score: 20, baseline: 32, discontinuedOn: day("2026-02-10")))
    }

    @Test func R8_relapsedThenDiscontinuedAgainWithNoInfusionBetweenIsOneSpellWithOneRelapse() {
        var h = ProtocolR8CourseTests.maintained()
        h.discontinue("2026-02-01")
        h.madrs("2026-02-10", 20)  // the relapse (early, 9 days)
        h.discontinue("2026-02-12")  // the clinician stops again: same spell
        #expect(h.view(on: "2026-02-12")?.status == .discontinued)
        h.madrs("2026-03-01", 22)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-01"), on: day("2026-03-01"), all: true)
        #expect(alerts.map(\.kind) == [.relapse])
        #expect(h.view(on: "2026-03-01")?.status == .discontinued)
    }

    @Test func R8_aBoosterAfterARelapseStartsANewSpellAtTheNextDiscontinuation() {
        var h = ProtocolR8CourseTests.maintained()
        h.discontinue("2026-02-01")
        h.madrs("2026-02-10", 20)
        h.infusion("2026-02-11", .booster)
        h.discontinue("2026-02-12")
        h.madrs("2026-02-20", 21)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-02-20"), on: day("2026-02-20"), all: true)
        #expect(alerts.map(\.kind) == [.relapse, .relapse])
        #expect(alerts.last?.facts == .relapse(.early, days: 8, score: 21, baseline: 32, discontinuedOn: day("2026-02-12")))
    }

    // MARK: - R8: written down as the product behaves

    @Test func R8_aDiscontinuationEndsARunningHolidayWithNoOverrunAfterIt() {
        var h = ProtocolR8CourseTests.maintained()
        h.holiday("2026-02-01", weeks: 4)  // overrun raised on Mar 2
        h.discontinue("2026-02-15")
        #expect(PhaseProjection.alerts(h.fold(through: "2026-03-10"), on: day("2026-03-10"), all: true).isEmpty)
        #expect(h.view(on: "2026-03-10")?.status == .discontinued)
        // One raised before it stays.
        var late = ProtocolR8CourseTests.maintained()
        late.holiday("2026-02-01", weeks: 4)
        late.discontinue("2026-03-05")
        let alerts = PhaseProjection.alerts(late.fold(through: "2026-03-10"), on: day("2026-03-10"))
        #expect(alerts.map(\.kind) == [.holidayOverrun])
        #expect(alerts.first?.raisedOn == day("2026-03-02"))
    }

    @Test func R8_theLatestScheduleAdjustedDuringAHolidaySetsTheResumption() {
        var h = ProtocolR8CourseTests.maintained()
        h.holiday("2026-02-01", weeks: 4)
        h.adjust("2026-02-10", 10)
        h.adjust("2026-02-12", 21)
        h.holidayEnd("2026-02-20")
        let v = h.view(on: "2026-02-20", explain: true)
        #expect(v?.interval == PhaseView.Interval(days: 21, treatmentsAtInterval: 0, requiredBeforeExtension: 3))
        #expect(v?.nextInfusionDue == day("2026-02-20"))
        #expect(v?.explain?.contains { $0.rule == "R6" && $0.detail.contains("adjusted by a clinician to 21 days") } == true)
        h.visit("2026-02-21", madrs: 5)
        #expect(h.view(on: "2026-02-21")?.nextInfusionDue == day("2026-03-14"))
        // The holiday's own resume interval wins over an adjustment during it.
        var r = ProtocolR8CourseTests.maintained()
        r.holiday("2026-02-01", weeks: 4)
        r.adjust("2026-02-10", 21)
        r.holidayEnd("2026-02-20", resume: 14)
        #expect(r.view(on: "2026-02-20")?.interval == PhaseView.Interval(days: 14, treatmentsAtInterval: 0, requiredBeforeExtension: 4))
    }

    @Test func R8_theLatestScheduleAdjustedAfterDiscontinuationSetsTheResumption() {
        var h = ProtocolR8CourseTests.maintained()
        h.discontinue("2026-02-01")
        h.adjust("2026-02-20", 14)
        h.visit("2026-03-01", madrs: 6)
        let v = h.view(on: "2026-03-01", explain: true)
        #expect(v?.status == .maintenance)
        #expect(v?.interval == PhaseView.Interval(days: 14, treatmentsAtInterval: 1, requiredBeforeExtension: 4))
        #expect(v?.nextInfusionDue == day("2026-03-15"))
        #expect(v?.explain?.contains { $0.rule == "R6" && $0.detail.contains("14 days") } == true)
    }

    // MARK: - R7

    @Test func R7_moreFrequentThanWeeklyComparesWithTheSameSeriesOnly() {
        var h = ProtocolR8CourseTests.maintained()
        h.visit("2026-02-06", madrs: 5)  // series 1's last maintenance infusion
        h.discontinue("2026-02-07")
        h.infusion("2026-02-08", .acute)  // a new series (R9)
        h.infusion("2026-02-10", .maintenance)  // 4 days after Feb 6, but the new series' first
        h.infusion("2026-02-14", .maintenance)  // 4 days after the series' previous one
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-02-14"), on: day("2026-02-14"))
        #expect(alerts.map(\.kind) == [.moreFrequentThanWeekly])
        #expect(alerts.first?.raisedOn == day("2026-02-14"))
        #expect(alerts.first?.facts == .interval(days: 4, minimum: 7))
    }
}
