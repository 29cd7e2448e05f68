import Foundation
import KClinic
import Testing

/// R8: drug holiday, taper, discontinuation, relapse, new series.
@Suite struct ProtocolR8CourseTests {
    /// Responder with maintenance visits Jan 23 and 30 (7 days, count 2).
    static func maintained() -> History {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.visit("2026-01-30", madrs: 5)
        return h
    }

    /// Walked to 10 days: visits Jan 23 … Feb 13 (extends), Feb 23 (10 days, count 1).
    static func atTenDays() -> History {
        var h = History()
        h.acuteSeries()
        for d in ["2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13", "2026-02-23"] { h.visit(d, madrs: 5) }
        return h
    }

    @Test func R8_holidayThenResumeAtTheIntervalHeldWhenItBegan() {
        var h = Self.maintained()
        h.holiday("2026-02-02", weeks: 4)
        #expect(
            h.view(on: "2026-02-20")
                == phaseView(
                    phase: .frequencyFinding, status: .drugHoliday, week: 7, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: nil, due: nil, overdue: 0))
        h.holidayEnd("2026-03-02")
        #expect(
            h.view(on: "2026-03-05")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 9, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 0, 4), due: "2026-03-02", overdue: 3))
        h.visit("2026-03-06", madrs: 5)
        #expect(
            h.view(on: "2026-03-06")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 9, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 1, 4), due: "2026-03-13", overdue: 0))
    }

    @Test func R8_holidayResumeIntervalActsAsScheduleAdjusted() {
        var h = Self.maintained()
        h.holiday("2026-02-02", weeks: 4)
        h.holidayEnd("2026-03-02", resume: 12)
        #expect(
            h.view(on: "2026-03-02")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 9, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (12, 0, 3), due: "2026-03-02", overdue: 0))
        h.visit("2026-03-03", madrs: 5)
        #expect(h.view(on: "2026-03-03")?.nextInfusionDue == day("2026-03-15"))
    }

    @Test(arguments: [("2026-03-02", false), ("2026-03-03", true), ("2026-03-10", true)])
    func R7_holidayOverrunIsRaisedTheDayAfterThePlannedEnd(endedOn: String, overrun: Bool) {
        // Started Feb 2 for 4 weeks: planned through Mar 2; raised Mar 3 if not ended by Mar 2.
        var h = Self.maintained()
        let start = h.holiday("2026-02-02", weeks: 4)
        #expect(PhaseProjection.alerts(h.fold(through: "2026-03-02"), on: day("2026-03-02")).isEmpty)
        let running = PhaseProjection.alerts(h.fold(through: "2026-03-03"), on: day("2026-03-03"))
        #expect(running.map(\.id) == ["holiday-overrun:" + start.eventId.uuidString.lowercased()])
        #expect(running.first?.raisedOn == day("2026-03-03"))
        h.holidayEnd(endedOn)
        let after = PhaseProjection.alerts(h.fold(through: "2026-03-20"), on: day("2026-03-20"))
        #expect(after.map(\.kind) == (overrun ? [.holidayOverrun] : []))
    }

    @Test func R9_holidayAndTaperTakeEffectOnlyInMaintenance() {
        var h = History()
        h.acuteSeries(assessment: nil)  // awaiting response
        h.holiday("2026-01-20", weeks: 4)
        h.taper("2026-01-21")
        h.holidayEnd("2026-01-22")
        #expect(
            h.view(on: "2026-01-25")
                == phaseView(
                    phase: .stabilization, status: .awaitingResponse, week: 3, response: .pending, baseline: 32, nadir: nil,
                    latest: 32, interval: nil, due: nil, overdue: 0))
        #expect(PhaseProjection.alerts(h.fold(), on: day("2026-12-31")).isEmpty)
    }

    @Test func R9_aMaintenanceInfusionDuringAHolidayDoesNotCountButIsTheLast() {
        var h = Self.maintained()
        h.holiday("2026-02-02", weeks: 4)
        h.visit("2026-02-04", madrs: 5)  // 5 days after Jan 30: more-frequent-than-weekly
        h.holidayEnd("2026-03-02")
        #expect(h.view(on: "2026-03-02")?.interval == .init(days: 7, treatmentsAtInterval: 0, requiredBeforeExtension: 4))
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-02"), on: day("2026-03-02"))
        #expect(alerts.map(\.kind) == [.moreFrequentThanWeekly])
    }

    @Test(arguments: [
        ("2026-02-02", TaperStatusCase.taper, "2026-02-20" as String?),  // step 1 (21 days) from the last infusion Jan 30
        ("2026-04-29", .taper, "2026-02-20"),
        ("2026-04-30", .taper, "2026-02-27"),  // Jan 31 + 3 months = Apr 30: step 2 (28 days)
        ("2026-07-30", .taper, "2026-02-27"),
        ("2026-07-31", .taper, "2026-03-13"),  // Jan 31 + 6 months = Jul 31 (one addition): step 3 (42 days)
        ("2026-10-30", .taper, "2026-03-13"),
        ("2026-10-31", .taperComplete, nil),  // Jan 31 + 9 months
    ])
    func R8_taperStepsByMonthsFromTheTaperStart(on date: String, status: TaperStatusCase, due: String?) {
        var h = Self.maintained()
        h.taper("2026-01-31")
        let v = h.view(on: date)
        #expect(v?.status == (status == .taper ? .taper : .taperComplete))
        #expect(v?.nextInfusionDue == due.map(day))
        #expect(v?.interval == nil)
    }

    enum TaperStatusCase: Sendable { case taper, taperComplete }

    @Test func R8_taperDueFollowsTheLastNonBoosterInfusionAndCompletes() {
        var h = Self.maintained()
        let taper = h.taper("2026-01-31", steps: [TaperStep(intervalDays: 14, months: 1), TaperStep(intervalDays: 21, months: 1)])
        h.visit("2026-02-13", madrs: 5)  // does not count on the ladder
        h.infusion("2026-02-20", .booster)
        #expect(
            h.view(on: "2026-02-21")
                == phaseView(
                    phase: .frequencyFinding, status: .taper, week: 7, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: nil, due: "2026-02-27", overdue: 0))
        // Step 2 from Jan 31 + 1 month = Feb 28: 21 days from Feb 13.
        #expect(h.view(on: "2026-03-01")?.nextInfusionDue == day("2026-03-06"))
        // Complete on Jan 31 + 2 months = Mar 31: taper-complete, discontinuation-eligible.
        let v = h.view(on: "2026-03-31")
        #expect(v?.status == .taperComplete)
        #expect(v?.nextInfusionDue == nil)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-31"), on: day("2026-03-31"))
        #expect(alerts.map(\.id) == ["discontinuation-eligible:" + taper.eventId.uuidString.lowercased()])
        #expect(alerts.first?.raisedOn == day("2026-03-31"))
        #expect(alerts.first?.severity == .info)
        #expect(PhaseProjection.alerts(h.fold(through: "2026-03-30"), on: day("2026-03-30")).isEmpty)
    }

    @Test func R8_discontinuedBeforeTheTaperCompletesIsNotEligible() {
        var h = Self.maintained()
        h.taper("2026-01-31")
        h.discontinue("2026-03-01")
        #expect(
            h.view(on: "2026-12-01")
                == phaseView(
                    phase: .longTerm, status: .discontinued, week: 48, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: nil, due: nil, overdue: 0))
        #expect(PhaseProjection.alerts(h.fold(through: "2026-12-01"), on: day("2026-12-01")).isEmpty)
    }

    @Test(arguments: [(29, RelapseClass.early), (30, .intermediate), (90, .intermediate), (91, .late)])
    func R8_relapseIsClassedByWholeDaysSinceDiscontinuation(days: Int, cls: RelapseClass) {
        var h = Self.maintained()
        h.discontinue("2026-02-01")
        h.madrs(day("2026-02-01").adding(days: days - 1).description, 14)  // in response: not a relapse
        let score = h.madrs(day("2026-02-01").adding(days: days).description, 17)  // 17 > 16
        let on = day("2026-02-01").adding(days: days).description
        let v = h.view(on: on)
        #expect(v?.status == .relapsed)
        #expect(v?.nextInfusionDue == nil)
        let alerts = PhaseProjection.alerts(h.fold(through: on), on: day(on))
        #expect(alerts.map(\.id) == ["relapse:" + score.eventId.uuidString.lowercased()])
        #expect(alerts.first?.facts == .relapse(cls, days: days, score: 17, baseline: 32, discontinuedOn: day("2026-02-01")))
        #expect(alerts.first?.detail.contains(cls.action) == true)
    }

    @Test func R8_aSeriesThatNeverRespondedOrHasNoBaselineDoesNotRelapse() {
        var h = History()
        h.acuteSeries(baseline: 30, assessment: 20)  // non-responder, never in response
        h.discontinue("2026-01-25")
        h.madrs("2026-02-10", 25)
        #expect(h.view(on: "2026-02-10")?.status == .discontinued)
        var h2 = History()
        h2.acuteSeries(baseline: nil, assessment: 4)
        h2.visit("2026-01-23", madrs: 4)
        h2.discontinue("2026-01-25")
        h2.madrs("2026-02-10", 40)
        #expect(h2.view(on: "2026-02-10")?.status == .discontinued)
    }

    @Test func R8_aNonResponderInResponseSinceItsFirstMaintenanceInfusionCanRelapse() {
        var h = History()
        h.acuteSeries(baseline: 30, assessment: 20)
        h.visit("2026-01-23", madrs: 16)
        h.madrs("2026-01-27", 14)  // ≤ 15 after the first maintenance infusion
        h.discontinue("2026-01-28")
        h.madrs("2026-02-10", 16)
        #expect(h.view(on: "2026-02-10")?.status == .relapsed)
    }

    @Test func R8_taperCompleteCountsAsDiscontinuedFromItsFirstDayForRelapse() {
        var h = Self.maintained()
        h.taper("2026-01-31", steps: [TaperStep(intervalDays: 14, months: 1)])  // complete Feb 28
        h.madrs("2026-03-30", 20)
        let v = h.view(on: "2026-03-30")
        #expect(v?.status == .relapsed)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-03-30"), on: day("2026-03-30"))
        #expect(alerts.map(\.kind) == [.discontinuationEligible, .relapse])
        #expect(alerts.last?.facts == .relapse(.intermediate, days: 30, score: 20, baseline: 32, discontinuedOn: day("2026-02-28")))
    }

    @Test func R8_aNewAcuteSeriesAfterDiscontinuationStartsOver() {
        var h = Self.atTenDays()
        h.discontinue("2026-03-01")
        h.madrs("2026-06-01T08:00", 30)
        h.infusion("2026-06-01", .acute)
        #expect(
            h.view(on: "2026-06-02")
                == phaseView(
                    phase: .stabilization, status: .acuteSeries, week: 22, response: .inProgress, baseline: 30, nadir: nil,
                    latest: 30, interval: nil, due: "2026-06-04", overdue: 0))
        for d in ["2026-06-04", "2026-06-07", "2026-06-10", "2026-06-13", "2026-06-16"] { h.infusion(d, .acute) }
        h.madrs("2026-06-18", 9)
        #expect(
            h.view(on: "2026-06-18")
                == phaseView(
                    phase: .optimization, status: .maintenance, week: 24, response: .responder, baseline: 30, nadir: 9,
                    latest: 9, interval: (7, 0, 4), due: "2026-06-23", overdue: 0))
    }

    @Test func R8_aMaintenanceInfusionAfterRelapseResumesTheHeldInterval() {
        var h = Self.atTenDays()  // 10 days, count 1
        h.discontinue("2026-03-01")
        h.madrs("2026-03-20", 20)  // relapse, early
        #expect(h.view(on: "2026-03-20")?.status == .relapsed)
        h.infusion("2026-03-21", .maintenance)
        #expect(
            h.view(on: "2026-03-21")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 11, response: .responder, baseline: 32, nadir: 20,
                    latest: 20, interval: (10, 1, 3), due: "2026-03-31", overdue: 0))
    }

    @Test func R9_discontinuationBeforeT0DoesNotTakeEffect() {
        var h = History()
        h.enrolled()
        h.discontinue("2026-01-04")
        h.madrs("2026-01-05T08:10", 32)
        h.infusion("2026-01-05", .acute)
        #expect(h.view(on: "2026-01-05")?.status == .acuteSeries)
    }
}
