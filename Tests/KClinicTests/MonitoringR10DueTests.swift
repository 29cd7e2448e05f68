import Foundation
import KClinic
import Testing

/// R10: `query due`, the whole list on each date. The standard start (MonitoringTestSupport)
/// documents consent, MADRS, MoCA, urinalysis and LFT on 2026-01-05 before the first infusion:
/// T0 = 2026-01-05; quarters 01-05…04-04, 04-05…07-04, 07-05…10-04, 10-05…2027-01-04; year
/// 2026-01-05…2027-01-04.
@Suite struct MonitoringR10DueTests {
    static func standard() -> History {
        var h = History()
        h.monitoredStart()
        return h
    }

    /// The rolling rows of the standard start with nothing done since 2026-01-05.
    static func rolling(cognitive: DueStatus, consent: DueStatus, ecg: DueStatus, lft: DueStatus, urinalysis: DueStatus) -> [DueItem] {
        [
            row("cognitive-screening", "2026-01-05", "2026-07-05", "2026-07-05", cognitive),
            row("consent", "2026-01-05", "2027-01-05", "2027-01-05", consent),
            row("ecg", nil, "2027-01-05", "2027-01-05", ecg),
            row("liver-function", "2026-01-05", "2026-04-05", "2026-07-05", lft),
            row("urinalysis", "2026-01-05", "2026-04-05", "2026-07-05", urinalysis),
        ]
    }

    // MARK: Rolling items: each boundary

    @Test func R10_urinalysisAndLiverFunctionOkTheDayBeforeTheirDueFrom() {
        #expect(
            Self.standard().due(on: "2026-04-04")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .ok, urinalysis: .ok)
                        + undocumentedPeriods(quarter: ("2026-01-05", "2026-04-04"), .due, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_urinalysisDueOnItsDueFromDay() {
        // 2026-04-05 = last (01-05) + 3 months. The quarter items missed quarter 0 and are not
        // yet done in quarter 1: overdue.
        #expect(
            Self.standard().due(on: "2026-04-05")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .due, urinalysis: .due)
                        + undocumentedPeriods(quarter: ("2026-04-05", "2026-07-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_dueOnTheDueByDayAndCognitiveScreeningDueWhenDueFromEqualsDueBy() {
        // 2026-07-05: urinalysis/LFT dueBy (+6 months) and cognitive-screening's dueFrom = dueBy.
        #expect(
            Self.standard().due(on: "2026-07-05")
                == sortedRows(
                    Self.rolling(cognitive: .due, consent: .ok, ecg: .ok, lft: .due, urinalysis: .due)
                        + undocumentedPeriods(quarter: ("2026-07-05", "2026-10-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_overdueTheDayAfterDueBy() {
        #expect(
            Self.standard().due(on: "2026-07-06")
                == sortedRows(
                    Self.rolling(cognitive: .overdue, consent: .ok, ecg: .ok, lft: .overdue, urinalysis: .overdue)
                        + undocumentedPeriods(quarter: ("2026-07-05", "2026-10-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_consentAndEcgOkTheDayBeforeTwelveMonths() {
        #expect(
            Self.standard().due(on: "2027-01-04")
                == sortedRows(
                    Self.rolling(cognitive: .overdue, consent: .ok, ecg: .ok, lft: .overdue, urinalysis: .overdue)
                        + undocumentedPeriods(quarter: ("2026-10-05", "2027-01-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_consentAndEcgDueAtTwelveMonthsEcgAnchoredAtT0() {
        // ecg has no event: anchor T0, so due T0 + 12 months. The year items missed year 0 and
        // are not done in year 1: overdue.
        #expect(
            Self.standard().due(on: "2027-01-05")
                == sortedRows(
                    Self.rolling(cognitive: .overdue, consent: .due, ecg: .due, lft: .overdue, urinalysis: .overdue)
                        + undocumentedPeriods(quarter: ("2027-01-05", "2027-04-04"), .overdue, year: ("2027-01-05", "2028-01-04"), .overdue)
                ))
    }

    @Test func R10_consentAndEcgOverdueTheDayAfter() {
        #expect(
            Self.standard().due(on: "2027-01-06")
                == sortedRows(
                    Self.rolling(cognitive: .overdue, consent: .overdue, ecg: .overdue, lft: .overdue, urinalysis: .overdue)
                        + undocumentedPeriods(quarter: ("2027-01-05", "2027-04-04"), .overdue, year: ("2027-01-05", "2028-01-04"), .overdue)
                ))
    }

    @Test func R10_aNewEventReanchorsEachRollingItem() {
        var h = Self.standard()
        h.lab("2026-05-01T10:00", .urinalysis)
        h.lab("2026-05-02T10:00", .lft)
        h.lab("2026-05-03T10:00", .ecg)
        h.moca("2026-05-04T10:00")
        h.consent("2026-05-05T10:00", .reaffirmation)
        #expect(
            h.due(on: "2026-06-01")
                == sortedRows(
                    [
                        row("cognitive-screening", "2026-05-04", "2026-11-04", "2026-11-04", .ok),
                        row("consent", "2026-05-05", "2027-05-05", "2027-05-05", .ok),
                        row("ecg", "2026-05-03", "2027-05-03", "2027-05-03", .ok),
                        row("liver-function", "2026-05-02", "2026-08-02", "2026-11-02", .ok),
                        row("urinalysis", "2026-05-01", "2026-08-01", "2026-11-01", .ok),
                    ] + undocumentedPeriods(quarter: ("2026-04-05", "2026-07-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_lastDoneIsTheLatestSatisfyingEventOnOrBeforeD() {
        // Evaluated on 2026-04-30 the May urinalysis does not exist yet.
        var h = Self.standard()
        h.lab("2026-03-01T10:00", .urinalysis)
        h.lab("2026-05-01T10:00", .urinalysis)
        #expect(
            h.due(on: "2026-04-30").first { $0.item == "urinalysis" } == row("urinalysis", "2026-03-01", "2026-06-01", "2026-09-01", .ok))
        #expect(
            h.due(on: "2026-05-01").first { $0.item == "urinalysis" } == row("urinalysis", "2026-05-01", "2026-08-01", "2026-11-01", .ok))
    }

    @Test func R10_monthsClampToMonthEndOneAdditionFromTheLastEvent() {
        // A urinalysis on Nov 30: +3 months = Feb 28 (2027 is not a leap year), +6 = May 30
        // (one addition from Nov 30, not Feb 28 + 3).
        var h = Self.standard()
        h.lab("2026-11-30T10:00", .urinalysis)
        #expect(
            h.due(on: "2027-02-28").first { $0.item == "urinalysis" } == row("urinalysis", "2026-11-30", "2027-02-28", "2027-05-30", .due))
        #expect(h.due(on: "2027-02-27").first { $0.item == "urinalysis" }?.status == .ok)
    }

    @Test func R10_intervalsInDaysFromTheRuleSet() throws {
        let rules = try RuleSet.load(
            json: Data(#"{"version": "t", "monitoring": {"urinalysis": {"dueFromDays": 30, "dueByDays": 45}}}"#.utf8))
        let h = Self.standard()
        #expect(
            h.due(on: "2026-02-03", rules: rules).first { $0.item == "urinalysis" }
                == row("urinalysis", "2026-01-05", "2026-02-04", "2026-02-19", .ok))
        #expect(
            h.due(on: "2026-02-04", rules: rules).first { $0.item == "urinalysis" }
                == row("urinalysis", "2026-01-05", "2026-02-04", "2026-02-19", .due))
        #expect(
            h.due(on: "2026-02-20", rules: rules).first { $0.item == "urinalysis" }
                == row("urinalysis", "2026-01-05", "2026-02-04", "2026-02-19", .overdue))
    }

    // MARK: Missing baseline, before T0

    @Test func R10_baselineItemsWithNoEventAreMissingDueByT0() {
        var h = History()
        h.monitoredStart(omit: ["consent", "moca", "urinalysis", "liver-function"])
        #expect(
            h.due(on: "2026-02-01")
                == sortedRows(
                    [
                        row("cognitive-screening", nil, nil, "2026-01-05", .missing),
                        row("consent", nil, nil, "2026-01-05", .missing),
                        row("ecg", nil, "2027-01-05", "2027-01-05", .ok),
                        row("liver-function", nil, nil, "2026-01-05", .missing),
                        row("urinalysis", nil, nil, "2026-01-05", .missing),
                    ] + undocumentedPeriods(quarter: ("2026-01-05", "2026-04-04"), .due, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_beforeT0OnlyTheBaselineItemsMissingWithNoDates() {
        var h = History()
        h.enrolled()
        h.lab("2026-01-02T10:00", .urinalysis)
        h.infusion("2026-01-05", .acute)
        #expect(
            h.due(on: "2026-01-04")
                == [
                    row("cognitive-screening", nil, nil, nil, .missing),
                    row("consent", nil, nil, nil, .missing),
                    row("liver-function", nil, nil, nil, .missing),
                    row("urinalysis", "2026-01-02", "2026-04-02", "2026-07-02", .ok),
                ])
    }

    @Test func R10_aPatientWithNoEventOnOrBeforeDIsNotListed() {
        var h = History()
        h.enrolled(.intervalExtension, "2026-01-05T08:00")
        #expect(h.due(on: "2026-01-04") == [])
        #expect(h.due(on: "2026-01-05").count == 4)
    }

    // MARK: symptom-tracking (hybrid only, R12)

    @Test func R10_symptomTrackingOnlyForHybridEveryScaleCounts() {
        var h = History()
        h.monitoredStart(.hybrid)
        // Latest symptom scale: the MADRS of Jan 19 → due from/by Jan 26.
        let base = Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .ok, urinalysis: .ok)
        let periods = undocumentedPeriods(quarter: ("2026-01-05", "2026-04-04"), .due, year: ("2026-01-05", "2027-01-04"), .due)
        #expect(
            h.due(on: "2026-01-25") == sortedRows(base + periods + [row("symptom-tracking", "2026-01-19", "2026-01-26", "2026-01-26", .ok)])
        )
        #expect(
            h.due(on: "2026-01-26")
                == sortedRows(base + periods + [row("symptom-tracking", "2026-01-19", "2026-01-26", "2026-01-26", .due)]))
        #expect(
            h.due(on: "2026-01-27")
                == sortedRows(base + periods + [row("symptom-tracking", "2026-01-19", "2026-01-26", "2026-01-26", .overdue)]))
        h.phq2("2026-01-27", 1)
        #expect(
            h.due(on: "2026-01-27") == sortedRows(base + periods + [row("symptom-tracking", "2026-01-27", "2026-02-03", "2026-02-03", .ok)])
        )
        h.phq9("2026-01-29T19:00")
        #expect(
            h.due(on: "2026-01-30") == sortedRows(base + periods + [row("symptom-tracking", "2026-01-29", "2026-02-05", "2026-02-05", .ok)])
        )
        // The same history enrolled interval-extension: not listed.
        var ie = History()
        ie.monitoredStart()
        ie.phq2("2026-01-27", 1)
        #expect(ie.due(on: "2026-01-27") == sortedRows(base + periods))
    }

    @Test func R10_symptomTrackingIsNotABaselineItemNotListedBeforeT0() {
        var h = History()
        h.enrolled(.hybrid)
        h.phq2("2026-01-03", 1)
        #expect(
            h.due(on: "2026-01-04")
                == [
                    row("cognitive-screening", nil, nil, nil, .missing),
                    row("consent", nil, nil, nil, .missing),
                    row("liver-function", nil, nil, nil, .missing),
                    row("urinalysis", nil, nil, nil, .missing),
                ])
    }

    // MARK: Period items

    @Test func R10_periodItemFirstWindowHasNoPreviousWindowSoDueNotOverdue() {
        #expect(
            Self.standard().due(on: "2026-01-20")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .ok, urinalysis: .ok)
                        + undocumentedPeriods(quarter: ("2026-01-05", "2026-04-04"), .due, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_periodItemsOkWhenDocumentedInTheWindowWithTheNextWindowsDays() {
        var h = Self.standard()
        h.quarterItems("2026-02-01")
        h.assessment("2026-02-02T11:00", .fullSafety)
        h.assessment("2026-02-02T11:05", .continuationDiscussion)
        #expect(
            h.due(on: "2026-03-01")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .ok, urinalysis: .ok) + [
                        row("continuation-discussion", "2026-02-02", "2027-01-05", "2028-01-04", .ok),
                        row("goal-setting", "2026-02-01", "2026-04-05", "2026-07-04", .ok),
                        row("psychiatric-assessment", "2026-02-01", "2026-04-05", "2026-07-04", .ok),
                        row("safety-assessment", "2026-02-02", "2027-01-05", "2028-01-04", .ok),
                        row("treatment-plan-review", "2026-02-01", "2026-04-05", "2026-07-04", .ok),
                    ]))
        // Next quarter: the quarter items are due again (the window before has them: not overdue).
        #expect(
            h.due(on: "2026-04-05")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .due, urinalysis: .due) + [
                        row("continuation-discussion", "2026-02-02", "2027-01-05", "2028-01-04", .ok),
                        row("goal-setting", "2026-02-01", "2026-04-05", "2026-07-04", .due),
                        row("psychiatric-assessment", "2026-02-01", "2026-04-05", "2026-07-04", .due),
                        row("safety-assessment", "2026-02-02", "2027-01-05", "2028-01-04", .ok),
                        row("treatment-plan-review", "2026-02-01", "2026-04-05", "2026-07-04", .due),
                    ]))
    }

    @Test func R10_periodItemOverdueOnlyWhenThePreviousWindowLacksItToo() {
        // Goal setting in quarter 1 only: in quarter 2 it is due; in quarter 3 (quarter 2 missed) overdue.
        var h = Self.standard()
        h.assessment("2026-05-10T11:00", .goalSetting)
        #expect(
            h.due(on: "2026-08-01").first { $0.item == "goal-setting" }
                == row("goal-setting", "2026-05-10", "2026-07-05", "2026-10-04", .due))
        #expect(
            h.due(on: "2026-10-05").first { $0.item == "goal-setting" }
                == row("goal-setting", "2026-05-10", "2026-10-05", "2027-01-04", .overdue))
    }

    @Test func R10_periodWindowsAreOneAdditionFromT0ClampedToMonthEnd() {
        // T0 = Jan 31: quarters Jan 31…Apr 29, Apr 30…Jul 30, Jul 31…Oct 30 (T0 + 6 months is
        // Jul 31, not Apr 30 + 3 months).
        var h = History()
        h.enrolled(.intervalExtension, "2026-01-31T08:00")
        h.infusion("2026-01-31", .acute)
        func goal(_ d: String) -> DueItem? { h.due(on: d).first { $0.item == "goal-setting" } }
        #expect(goal("2026-04-29") == row("goal-setting", nil, "2026-01-31", "2026-04-29", .due))
        #expect(goal("2026-04-30") == row("goal-setting", nil, "2026-04-30", "2026-07-30", .overdue))
        #expect(goal("2026-07-31") == row("goal-setting", nil, "2026-07-31", "2026-10-30", .overdue))
        h.assessment("2026-07-30T11:00", .goalSetting)
        #expect(goal("2026-07-30") == row("goal-setting", "2026-07-30", "2026-07-31", "2026-10-30", .ok))
        #expect(goal("2026-07-31") == row("goal-setting", "2026-07-30", "2026-07-31", "2026-10-30", .due))
    }

    @Test func R10_periodItemsAreNotListedBeforeT0() {
        var h = History()
        h.enrolled()
        h.assessment("2026-01-02T11:00", .goalSetting)
        #expect(h.due(on: "2026-01-03").map(\.item) == ["cognitive-screening", "consent", "liver-function", "urinalysis"])
        // A goal setting before T0 is its lastDone but in no window.
        h.infusion("2026-01-05", .acute)
        #expect(
            h.due(on: "2026-01-05").first { $0.item == "goal-setting" }
                == row("goal-setting", "2026-01-02", "2026-01-05", "2026-04-04", .due))
    }

    // MARK: Status

    @Test func R10_nothingListedWhileDiscontinued() {
        var h = Self.standard()
        h.discontinue("2026-03-01")
        #expect(h.due(on: "2026-02-28").count == 10)
        #expect(h.due(on: "2026-03-01") == [])
        #expect(h.due(on: "2027-06-01") == [])
    }

    @Test func R10_discontinuedOnHoldStillNothingTheRuleReadsTheUnderlyingStatus() {
        var h = Self.standard()
        h.discontinue("2026-03-01")
        h.pregnancy("2026-03-10", .pregnant)
        #expect(h.due(on: "2026-03-11") == [])
    }

    @Test func R10_holdDoesNotStopMonitoring() {
        var h = Self.standard()
        h.pregnancy("2026-03-10", .pregnant)
        #expect(
            h.due(on: "2026-04-05")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .due, urinalysis: .due)
                        + undocumentedPeriods(quarter: ("2026-04-05", "2026-07-04"), .overdue, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_listedAgainOnceRelapsed() {
        var h = Self.standard()
        h.visit("2026-01-23", madrs: 5)
        h.discontinue("2026-02-01")
        h.madrs("2026-02-20", 25)  // relapse: status relapsed, not discontinued
        #expect(
            h.due(on: "2026-02-21")
                == sortedRows(
                    Self.rolling(cognitive: .ok, consent: .ok, ecg: .ok, lft: .ok, urinalysis: .ok)
                        + undocumentedPeriods(quarter: ("2026-01-05", "2026-04-04"), .due, year: ("2026-01-05", "2027-01-04"), .due)))
    }

    @Test func R10_taperCompleteIsNotDiscontinuedItemsStillListed() {
        var h = Self.standard()
        h.visit("2026-01-23", madrs: 5)
        h.taper("2026-01-24", steps: [TaperStep(intervalDays: 21, months: 1)])
        h.madrs("2026-03-01", 5)
        let (phase, _) = h.clinic(through: "2026-03-01")
        #expect(phase.underlyingStatus(on: day("2026-03-01"), .default) == .taperComplete)
        #expect(h.due(on: "2026-03-01").count == 10)
    }
}
