import Foundation
import KClinic
import Testing

/// R7 alerts raised by the phase rules and R9's hold overlay.
@Suite struct ProtocolR7R9AlertStatusTests {
    static func alerts(_ h: History, on date: String, all: Bool = false) -> [ProtocolAlert] {
        PhaseProjection.alerts(h.fold(through: date), on: day(date), all: all)
    }

    @Test func R9_pregnancyHoldIsAnOverlay() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.pregnancy("2026-01-25", .pregnant)
        #expect(
            h.view(on: "2026-01-26")
                == phaseView(
                    phase: .frequencyFinding, status: .hold, week: 4, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 1, 4), due: nil, overdue: 0))
        // Events during hold still move the underlying state: the infusion counts.
        let inf = h.infusion("2026-01-30", .maintenance)
        h.pregnancy("2026-02-20", .postpartum)
        #expect(
            h.view(on: "2026-02-21")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 7, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 2, 4), due: "2026-02-06", overdue: 15))
        let alerts = Self.alerts(h, on: "2026-02-21")
        #expect(alerts.map(\.id) == ["infusion-during-pregnancy:" + inf.eventId.uuidString.lowercased()])
        #expect(alerts.first?.severity == .critical)
    }

    @Test func R9_aTaperRunsUnderAHold() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.pregnancy("2026-01-25", .pregnant)
        h.taper("2026-01-26", steps: [TaperStep(intervalDays: 14, months: 1)])
        #expect(h.view(on: "2026-02-01")?.status == .hold)
        h.pregnancy("2026-02-10", .notPregnant)
        #expect(h.view(on: "2026-02-10")?.status == .taper)
        #expect(h.view(on: "2026-02-10")?.nextInfusionDue == day("2026-02-06"))
        #expect(h.view(on: "2026-02-26")?.status == .taperComplete)
    }

    @Test func R7_pregnancyPlanningIsInformational() {
        var h = History()
        h.enrolled()
        let p = h.pregnancy("2026-01-03", .planning)
        let alerts = Self.alerts(h, on: "2026-01-03")
        #expect(alerts.map(\.id) == ["pregnancy-planning:" + p.eventId.uuidString.lowercased()])
        #expect(alerts.first?.severity == .info)
        #expect(h.view(on: "2026-01-03")?.status == .preTreatment)
    }

    @Test func R7_doseAboveLimitOnlyInMgPerKgWithoutAJustification() {
        var h = History()
        h.enrolled()
        let high = h.infusion("2026-01-05", .acute, dose: 0.6)
        let blank = h.infusion("2026-01-07", .acute, dose: 0.75, justification: "  ")
        h.infusion("2026-01-09", .acute, dose: 0.8, justification: "tolerance, per dr.hale")
        h.infusion("2026-01-12", .acute, dose: 0.5)
        h.infusion("2026-01-14", .acute, dose: 60, unit: .mg)
        let alerts = Self.alerts(h, on: "2026-01-14")
        #expect(alerts.map(\.source.sequence) == [high.sequence, blank.sequence])
        #expect(alerts.allSatisfy { $0.kind == .doseAboveLimit && $0.severity == .warning })
        #expect(alerts.first?.facts == .dose(mgPerKg: 0.6, limit: 0.5))
    }

    @Test func R7_moreFrequentThanWeeklyComparesMaintenanceInfusionsOnly() {
        var h = History()
        h.acuteSeries()
        h.infusion("2026-01-23", .maintenance)
        h.infusion("2026-01-26", .booster)
        let early = h.infusion("2026-01-29", .maintenance)  // 6 days after Jan 23
        h.infusion("2026-02-05", .maintenance)  // 7 days: fine
        let alerts = Self.alerts(h, on: "2026-02-05")
        #expect(alerts.map(\.id) == ["more-frequent-than-weekly:" + early.eventId.uuidString.lowercased()])
        #expect(alerts.first?.facts == .interval(days: 6, minimum: 7))
    }

    @Test func R7_anAcknowledgementOnOrAfterTheDateRaisedClosesTheAlert() {
        var h = History()
        h.acuteSeries(baseline: 31, assessment: 16)  // non-response raised Jan 19
        let id = "non-response:" + (h.events.last?.eventId.uuidString.lowercased() ?? "")
        h.acknowledge("2026-01-18", id)  // before the date raised: no effect
        #expect(Self.alerts(h, on: "2026-01-20").map(\.id) == [id])
        h.acknowledge("2026-01-21", id)
        #expect(Self.alerts(h, on: "2026-01-20").map(\.id) == [id])  // not yet on Jan 20
        #expect(Self.alerts(h, on: "2026-01-21").isEmpty)
        #expect(Self.alerts(h, on: "2026-01-21", all: true).first?.acknowledged?.day == day("2026-01-21"))
    }

    @Test func R7_anAcknowledgementEarlierTheSameDayStillCloses() {
        // Recorded at 12:00 on Jan 19 but the assessment is timed 15:00: dated the day raised.
        var h = History()
        h.acuteSeries(baseline: 31, assessment: nil)
        let madrsId = UUID(uuidString: "00000000-0000-4000-8000-0000000000ff")
        h.acknowledge("2026-01-19", "non-response:" + (madrsId?.uuidString.lowercased() ?? ""))
        var score = h.madrs("2026-01-19T15:00", 16)
        h.events.removeLast()
        score.eventId = madrsId ?? score.eventId
        h.events.append(score)
        #expect(Self.alerts(h, on: "2026-01-19").isEmpty)
        #expect(Self.alerts(h, on: "2026-01-19", all: true).map(\.kind) == [.nonResponse])
    }

    @Test func R7_findingsFromVitalsLabsScreeningsAndSideEffects() {
        var h = History()
        h.enrolled()
        h.add("2026-01-05T08:00", .vitalsRecorded(VitalsRecorded(systolic: 141, diastolic: 80)))
        h.add("2026-01-05T08:01", .vitalsRecorded(VitalsRecorded(systolic: 140, diastolic: 90)))
        h.add("2026-01-05T08:02", .labResulted(LabResulted(test: .lft, abnormal: true)))
        h.add("2026-01-05T08:03", .labResulted(LabResulted(test: .urinalysis, abnormal: true)))
        h.add("2026-01-05T08:04", .screeningRecorded(ScreeningRecorded(kind: .urologicalSymptoms, positive: true)))
        h.add("2026-01-05T08:05", .screeningRecorded(ScreeningRecorded(kind: .substanceUse, positive: true)))
        h.add("2026-01-05T08:06", .screeningRecorded(ScreeningRecorded(kind: .psychoticSymptoms, positive: false)))
        h.add("2026-01-05T08:07", .sideEffectReported(SideEffectReported(category: .psychotic, severity: .mild)))
        h.add("2026-01-05T08:08", .sideEffectReported(SideEffectReported(category: .nausea, severity: .mild)))
        let alerts = Self.alerts(h, on: "2026-01-05")
        #expect(alerts.map(\.kind) == [.bpHigh, .lftAbnormal, .urologyReferral, .substanceUse, .psychoticSymptoms])
        #expect(alerts.map(\.severity) == [.warning, .warning, .warning, .warning, .critical])
    }
}
