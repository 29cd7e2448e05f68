import Testing

@testable import KClinic

/// R7's pregnancy alerts and R9's hold, given / when / then.
@Suite struct ProtocolR7PregnancyAlertTests {
    @Test func R7_pregnancyPlanningRaisesAnInfoAlertThatStaysUntilAcknowledged() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        let planning = h.pregnancy("2026-01-28", .planning)
        let id = "pregnancy-planning:" + planning.eventId.uuidString.lowercased()
        let raised = PhaseProjection.alerts(h.fold(through: "2026-02-10"), on: day("2026-02-10"))
        #expect(raised.map(\.id) == [id])
        #expect(raised.first?.severity == .info)
        #expect(raised.first?.raisedOn == day("2026-01-28"))
        #expect(raised.first?.detail == "Pregnancy planned: discuss discontinuation well before conception.")
        // Planning is not a hold: the schedule runs on.
        #expect(h.view(on: "2026-01-29")?.status == .maintenance)
        #expect(h.view(on: "2026-01-29")?.nextInfusionDue == day("2026-01-30"))
        h.acknowledge("2026-02-03", id)
        #expect(PhaseProjection.alerts(h.fold(through: "2026-02-10"), on: day("2026-02-10")).isEmpty)
        #expect(PhaseProjection.alerts(h.fold(through: "2026-02-10"), on: day("2026-02-10"), all: true).map(\.id) == [id])
    }

    @Test func R7_anInfusionDuringAPregnancyHoldIsCritical() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.pregnancy("2026-01-25", .pregnant)
        // R9: hold shows as the status and removes the due date.
        #expect(h.view(on: "2026-01-26")?.status == .hold)
        #expect(h.view(on: "2026-01-26")?.nextInfusionDue == nil)
        let given = h.infusion("2026-01-30", .maintenance)
        let alerts = PhaseProjection.alerts(h.fold(through: "2026-01-31"), on: day("2026-01-31"))
        #expect(alerts.map(\.id) == ["infusion-during-pregnancy:" + given.eventId.uuidString.lowercased()])
        #expect(alerts.first?.severity == .critical)
        #expect(alerts.first?.detail == "Infusion given during pregnancy: ketamine should be avoided.")
    }

    @Test func R9_holdEndsWithPostpartumAndTheUnderlyingScheduleReturnsWithoutAnAlertForLaterInfusions() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.pregnancy("2026-01-25", .pregnant)
        h.pregnancy("2026-09-30", .postpartum)
        #expect(h.view(on: "2026-10-01")?.status == .maintenance)
        // The underlying schedule: last maintenance infusion Jan 23 + 7 days, long overdue.
        #expect(h.view(on: "2026-10-01")?.nextInfusionDue == day("2026-01-30"))
        h.infusion("2026-10-02", .maintenance)
        #expect(
            PhaseProjection.alerts(h.fold(through: "2026-10-03"), on: day("2026-10-03")).filter { $0.kind == .infusionDuringPregnancy }
                .isEmpty)
    }
}
