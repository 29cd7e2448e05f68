import Foundation
import KClinic
import Testing

/// R11: `query audit`, the whole list of findings on each date. The standard start documents
/// the baseline and six acute visits fully (T0 = 2026-01-05).
@Suite struct MonitoringR11AuditTests {
    static func standard() -> History {
        var h = History()
        h.monitoredStart()
        return h
    }

    static func rules(_ json: String) -> RuleSet {
        do {
            return try RuleSet.load(json: Data(json.utf8))
        } catch {
            Issue.record("rules did not load: \(error)")
            return .default
        }
    }

    /// Quarter items documented in each of the first four quarters, year items in year 0.
    static func documentedYear(_ h: inout History, safety: Bool = true, continuation: Bool = true) {
        for d in ["2026-02-01", "2026-05-01", "2026-08-01", "2026-11-01"] { h.quarterItems(d) }
        if safety { h.assessment("2026-06-01T11:00", .fullSafety) }
        if continuation { h.assessment("2026-06-01T11:05", .continuationDiscussion) }
    }

    @Test func R11_aFullyDocumentedHistoryHasNoFindings() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.quarterItems("2026-03-01")
        #expect(h.audit(on: "2026-04-05") == [])
    }

    @Test func R11_noFindingsBeforeT0() {
        var h = History()
        h.enrolled()
        h.vitals("2026-01-02")
        #expect(h.audit(on: "2026-01-04") == [])
    }

    // MARK: Baseline

    @Test func R11_baselineGapsDatedT0() {
        var h = History()
        h.monitoredStart(omit: ["moca", "liver-function"])
        #expect(h.audit(on: "2026-02-01") == [baselineFinding("2026-01-05", ["liver-function", "moca"])])
    }

    @Test func R11_baselineCountsOnlyEventsAtOrBeforeTheFirstInfusion() {
        // A MoCA an hour after the first infusion is not a baseline; one at its very instant
        // (recorded later in the log) is.
        var late = History()
        late.monitoredStart(omit: ["moca"])
        late.moca("2026-01-05T10:30")
        #expect(late.audit(on: "2026-02-01") == [baselineFinding("2026-01-05", ["moca"])])

        var sameInstant = History()
        sameInstant.monitoredStart(omit: ["moca", "madrs"])
        sameInstant.moca("2026-01-05T09:30")
        sameInstant.madrs("2026-01-05T09:30", 30)
        #expect(sameInstant.audit(on: "2026-02-01") == [])
    }

    @Test func R11_baselineMadrsMustBeAMadrsNotAnotherScale() {
        // The acute visits' PHQ-9 is a symptom scale for the visit, not a baseline MADRS.
        var h = History()
        h.monitoredStart(omit: ["madrs"])
        #expect(h.audit(on: "2026-02-01") == [baselineFinding("2026-01-05", ["madrs"])])
    }

    // MARK: Visits

    @Test func R11_aVisitMissingVitals() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["vital-signs"])
        #expect(h.audit(on: "2026-01-30") == [visitFinding("2026-01-23", ["vital-signs"])])
    }

    @Test func R11_aVisitWithOnlyTheInfusionMissesEverythingButConsent() {
        var h = Self.standard()
        h.infusion("2026-01-23", .booster)
        #expect(
            h.audit(on: "2026-01-23")
                == [
                    visitFinding(
                        "2026-01-23",
                        [
                            "response-assessment", "side-effects-review", "substance-use-screening", "symptom-scale", "urological-inquiry",
                            "vital-signs",
                        ])
                ])
    }

    @Test func R11_aSideEffectReportAndAPHQ2DocumentTheVisit() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["side-effects-review", "symptom-scale"])
        h.sideEffect("2026-01-23T10:40", .nausea)
        h.phq2("2026-01-23T07:00", 1)
        #expect(h.audit(on: "2026-01-24") == [])
    }

    @Test func R11_twoInfusionsOnOneDateAreOneVisit() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["vital-signs"])
        h.infusion("2026-01-23T15:00", .booster)
        #expect(h.audit(on: "2026-01-24") == [visitFinding("2026-01-23", ["vital-signs"])])
    }

    @Test func R11_visitWindowDaysZeroMeansTheSameClinicalDate() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["vital-signs", "substance-use-screening"])
        h.screening("2026-01-22T10:00", .substanceUse)
        h.vitals("2026-01-24T10:00")
        #expect(h.audit(on: "2026-01-24") == [visitFinding("2026-01-23", ["substance-use-screening", "vital-signs"])])
    }

    @Test func R11_visitWindowDaysOneCatchesNextDayDocumentation() {
        let rules = Self.rules(#"{"version": "w1", "visitWindowDays": 1}"#)
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["vital-signs", "substance-use-screening", "urological-inquiry"])
        h.screening("2026-01-22T10:00", .substanceUse)  // the day before: within 1 day
        h.vitals("2026-01-24T10:00")  // the day after: within 1 day
        h.screening("2026-01-25T10:00", .urologicalSymptoms)  // two days after: not
        // On the visit's own date the next day's vitals do not exist yet (only events ≤ D count).
        #expect(h.audit(on: "2026-01-23", rules: rules) == [visitFinding("2026-01-23", ["urological-inquiry", "vital-signs"])])
        #expect(h.audit(on: "2026-01-24", rules: rules) == [visitFinding("2026-01-23", ["urological-inquiry"])])
        #expect(h.audit(on: "2026-01-26", rules: rules) == [visitFinding("2026-01-23", ["urological-inquiry"])])
    }

    @Test func R11_consentThirteenMonthsBeforeAVisitDoesNotCoverItTwelveDoes() {
        var h = Self.standard()
        Self.documentedYear(&h)
        h.documentedVisit("2027-01-05")  // consent 2026-01-05 = visit − 12 months: covered
        h.documentedVisit("2027-02-05")  // 13 months: not
        for d in ["2027-02-01"] { h.quarterItems(d) }
        h.assessment("2027-01-20T11:00", .fullSafety)
        #expect(h.audit(on: "2027-02-06") == [visitFinding("2027-02-05", ["consent"])])
        // A reaffirmation earlier that day covers it ("up to the visit" includes its date).
        var renewed = h
        renewed.consent("2027-02-05T07:00", .reaffirmation)
        #expect(renewed.audit(on: "2027-02-06") == [])
    }

    @Test func R11_aConsentAfterTheVisitDateDoesNotCoverItEvenWithinVisitWindowDays() {
        // (choice) the consent window is the 12 months up to the visit's date, whatever
        // visitWindowDays says.
        let rules = Self.rules(#"{"version": "w1", "visitWindowDays": 1}"#)
        var h = Self.standard()
        Self.documentedYear(&h)
        h.quarterItems("2027-02-01")
        h.documentedVisit("2027-02-05")
        h.consent("2027-02-06T08:00", .reaffirmation)
        #expect(h.audit(on: "2027-02-07", rules: rules) == [visitFinding("2027-02-05", ["consent"])])
    }

    // MARK: Quarter and year windows

    @Test func R11_aQuarterWithoutGoalSetting() {
        var h = Self.standard()
        h.assessment("2026-03-20T11:00", .comprehensivePsychiatric)
        h.assessment("2026-03-20T11:05", .treatmentPlanReview)
        #expect(h.audit(on: "2026-04-05") == [windowFinding(.quarter, "2026-01-05", "2026-04-04", ["goal-setting"])])
    }

    @Test func R11_windowsNotYetEndedAreNotAudited() {
        // On a window's last day it has not ended before D.
        let h = Self.standard()
        #expect(h.audit(on: "2026-04-04") == [])
        #expect(h.audit(on: "2026-04-05") == [windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems)])
    }

    @Test func R11_aYearWindowWithoutSafetyAssessment() {
        var h = Self.standard()
        Self.documentedYear(&h, safety: false)
        #expect(h.audit(on: "2027-01-04") == [])
        #expect(h.audit(on: "2027-01-05") == [windowFinding(.year, "2026-01-05", "2027-01-04", ["safety-assessment"])])
    }

    @Test func R11_theYearNeedsAMoCAAndAConsentDatedInsideIt() {
        // Consent and MoCA on the day before T0: baseline, but not in year 0.
        var h = History()
        h.monitoredStart(omit: ["consent", "moca"])
        h.consent("2026-01-04T10:00")
        h.moca("2026-01-04T10:05")
        Self.documentedYear(&h)
        #expect(h.audit(on: "2027-01-05") == [windowFinding(.year, "2026-01-05", "2027-01-04", ["cognitive-screening", "consent"])])
    }

    @Test func R11_windowsAreOneAdditionFromT0() {
        // T0 = Jan 31: quarter 0 ends Apr 29 (Apr 30 − 1); quarter 1 runs Apr 30 … Jul 30.
        var h = History()
        h.enrolled(.intervalExtension, "2026-01-31T08:00")
        h.consent("2026-01-31T08:05")
        h.madrs("2026-01-31T08:10", 30)
        h.moca("2026-01-31T08:12")
        h.lab("2026-01-31T08:15", .urinalysis)
        h.lab("2026-01-31T08:16", .lft)
        h.documentedVisit("2026-01-31", .acute)
        h.quarterItems("2026-04-29")
        #expect(h.audit(on: "2026-07-31") == [windowFinding(.quarter, "2026-04-30", "2026-07-30", allQuarterItems)])
    }

    // MARK: Discontinued windows

    @Test func R11_aWindowWhollyDiscontinuedIsNotAudited() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.discontinue("2026-03-01")
        // Quarter 1 (Apr 5 … Jul 4): discontinued every day.
        #expect(h.audit(on: "2026-07-10") == [windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems)])
        // Resumed on Aug 1 (a maintenance infusion): quarter 2 has days other than discontinued.
        h.documentedVisit("2026-08-01")
        #expect(
            h.audit(on: "2026-10-10")
                == [
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(.quarter, "2026-07-05", "2026-10-04", allQuarterItems),
                ])
    }

    @Test func R11_discontinuedOnAWindowsFirstDayAndResumedOnTheNextsFirstDay() {
        // The status on a day is the one after its events: Apr 5 is discontinued, Jul 5 is not.
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.discontinue("2026-04-05")
        h.documentedVisit("2026-07-05")
        #expect(
            h.audit(on: "2026-10-05")
                == [
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(.quarter, "2026-07-05", "2026-10-04", allQuarterItems),
                ])
    }

    @Test func R11_oneDayOtherThanDiscontinuedIsEnoughToAudit() {
        // Resumed on Jul 4, the last day of quarter 1.
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.discontinue("2026-04-05")
        h.documentedVisit("2026-07-04")
        #expect(
            h.audit(on: "2026-07-05")
                == [
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(.quarter, "2026-04-05", "2026-07-04", allQuarterItems),
                ])
    }

    @Test func R11_resumedAndDiscontinuedAgainTheSameDayStaysDiscontinued() {
        // Discontinued Mar 1; on May 20 an infusion resumes and a discontinuation follows the
        // same day: every day of quarter 1 ends discontinued.
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.discontinue("2026-03-01")
        h.documentedVisit("2026-05-20")
        h.discontinue("2026-05-20T16:00")
        let expected = [windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems)]
        #expect(h.audit(on: "2026-07-10") == expected)
        let m = h.clinic(through: "2026-07-10").monitoring
        #expect((try? MonitoringState.decode(bytes: m.binaryEncoded)) == m)
        // Folded with every event, the state answers the same without a refold.
        #expect(m == PatientProjection.fold(patient: h.patient, events: h.events, rules: .default).monitoring)
    }

    @Test func R11_discontinuedAndResumedTheSameDayIsNotADayOfDiscontinuation() {
        // Discontinued at 10:00 and resumed at 15:00 on Apr 5, discontinued again Apr 6: Apr 5
        // ends other than discontinued, so quarter 1 is audited.
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.discontinue("2026-04-05")
        h.documentedVisit("2026-04-05T15:00")
        h.discontinue("2026-04-06")
        #expect(
            h.audit(on: "2026-07-05")
                == [
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(.quarter, "2026-04-05", "2026-07-04", allQuarterItems),
                ])
        let m = h.clinic(through: "2026-07-05").monitoring
        #expect((try? MonitoringState.decode(bytes: m.binaryEncoded)) == m)
    }

    @Test func R11_holdDoesNotCountAsDiscontinued() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23")
        h.pregnancy("2026-03-01", .pregnant)
        #expect(
            h.audit(on: "2026-07-05")
                == [
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(.quarter, "2026-04-05", "2026-07-04", allQuarterItems),
                ])
    }

    // MARK: Order, corrections, knowledge time, offsets

    @Test func R11_findingsSortedByDateThenScope() {
        var h = History()
        h.enrolled()
        h.consent("2026-01-05T08:05")
        h.madrs("2026-01-05T08:10", 32)
        h.lab("2026-01-05T08:15", .urinalysis)
        h.lab("2026-01-05T08:16", .lft)
        h.documentedVisit("2026-01-05", .acute, omit: ["vital-signs"])
        for d in ["2026-01-07", "2026-01-09", "2026-01-12", "2026-01-14", "2026-01-16"] { h.documentedVisit(d, .acute) }
        #expect(
            h.audit(on: "2027-01-05")
                == [
                    baselineFinding("2026-01-05", ["moca"]),
                    visitFinding("2026-01-05", ["vital-signs"]),
                    windowFinding(.quarter, "2026-01-05", "2026-04-04", allQuarterItems),
                    windowFinding(
                        .year, "2026-01-05", "2027-01-04", ["cognitive-screening", "continuation-discussion", "safety-assessment"]),
                    windowFinding(.quarter, "2026-04-05", "2026-07-04", allQuarterItems),
                    windowFinding(.quarter, "2026-07-05", "2026-10-04", allQuarterItems),
                    windowFinding(.quarter, "2026-10-05", "2027-01-04", allQuarterItems),
                ])
    }

    @Test func R11_aVoidedEventNoLongerDocumentsAndKnowledgeTimeHidesLateRecords() {
        var h = Self.standard()
        h.documentedVisit("2026-01-23", omit: ["vital-signs"])
        let late = h.vitals("2026-01-23T08:40")  // recorded after the visit
        #expect(h.audit(on: "2026-01-24") == [])
        #expect(h.audit(on: "2026-01-24", asOf: late.recordedAtMicros - 1) == [visitFinding("2026-01-23", ["vital-signs"])])
        h.void("2026-01-25", late)
        #expect(h.audit(on: "2026-01-24") == [visitFinding("2026-01-23", ["vital-signs"])])
    }

    @Test func R11_anAmendedAssessmentIsReadWithItsAmendedKind() {
        // Recorded as a continuation discussion, amended to a goal setting.
        var h = Self.standard()
        h.assessment("2026-03-20T11:00", .comprehensivePsychiatric)
        h.assessment("2026-03-20T11:05", .treatmentPlanReview)
        let wrong = h.assessment("2026-03-20T11:10", .continuationDiscussion)
        h.amend("2026-03-21", wrong, [("kind", .string("goal-setting"))])
        let amend: PhaseProjection.Amend = { original, fields, _ in
            guard case .assessmentRecorded(var a) = original, let (_, value) = fields.first(where: { $0.0 == "kind" }),
                case .string(let name) = value, let kind = AssessmentKind(rawValue: name)
            else { return nil }
            a.kind = kind
            return .assessmentRecorded(a)
        }
        #expect(h.audit(on: "2026-04-05") == [windowFinding(.quarter, "2026-01-05", "2026-04-04", ["goal-setting"])])
        #expect(h.audit(on: "2026-04-05", amend: amend) == [])
        #expect(
            h.due(on: "2026-04-05", amend: amend).first { $0.item == "continuation-discussion" }
                == row("continuation-discussion", nil, "2026-01-05", "2027-01-04", .due))
    }

    @Test func R11_anEventAppliedBeforeTheFirstInfusionButDatedOnT0CountsInQuarter0() {
        // Goal setting at 01:00 on Jan 6 (+14:00) is Jan 5 11:00 UTC: before the first infusion
        // (Jan 5 09:30 −05:00 = 14:30 UTC) in protocol order, yet dated Jan 6, in quarter 0.
        var h = Self.standard()
        h.add("2026-01-06T01:00:00+14:00", .assessmentRecorded(AssessmentRecorded(kind: .goalSetting)))
        h.assessment("2026-03-01T11:00", .comprehensivePsychiatric)
        h.assessment("2026-03-01T11:05", .treatmentPlanReview)
        #expect(h.audit(on: "2026-04-05") == [])
        #expect(
            h.due(on: "2026-04-04").first { $0.item == "goal-setting" }
                == row("goal-setting", "2026-01-06", "2026-04-05", "2026-07-04", .ok))
    }
}
