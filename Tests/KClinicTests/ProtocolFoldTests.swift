import Foundation
import KBinary
import KClinic
import Testing

/// The fold: protocol order, corrections, knowledge time, incremental evolve, persistence, JSON.
@Suite struct ProtocolFoldTests {
    static func w2() -> [Recorded] {
        (try? loadNDJSON(ProtocolExampleData.w2)) ?? []
    }

    @Test func Conventions_aLateRecordedMadrsTakesItsPlaceByOccurredAt() {
        // In order: Feb 6 visit with MADRS 9 steps back. Recorded late (appended after the Feb 13
        // visit), the same score must give the same answer; before it was recorded, it did not.
        var inOrder = History()
        inOrder.acuteSeries()
        inOrder.visit("2026-01-23", madrs: 5)
        inOrder.visit("2026-01-30", madrs: 5)
        inOrder.madrs("2026-02-06", 9)
        inOrder.infusion("2026-02-06", .maintenance)
        inOrder.visit("2026-02-13", madrs: 9)

        var late = History()
        late.acuteSeries()
        late.visit("2026-01-23", madrs: 5)
        late.visit("2026-01-30", madrs: 5)
        late.infusion("2026-02-06", .maintenance)
        late.visit("2026-02-13", madrs: 9)
        let recorded = late.madrs("2026-02-06", 9)

        let expected = phaseView(
            phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 9,
            latest: 9, interval: (7, 2, 4), due: "2026-02-20", overdue: 0)
        #expect(inOrder.view(on: "2026-02-14") == expected)
        #expect(late.view(on: "2026-02-14") == expected)
        // As of just before it was recorded: Feb 13's 9 was the rise instead, and Feb 6 counted 3.
        let before = late.fold(through: "2026-02-14", asOf: recorded.recordedAtMicros - 1)
        #expect(
            PhaseProjection.view(before, on: day("2026-02-14"), rules: .default)
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 6, response: .responder, baseline: 32, nadir: 9,
                    latest: 9, interval: (7, 1, 4), due: "2026-02-20", overdue: 0))
    }

    @Test func Conventions_aVoidedInfusionIsIgnoredAndVoidingTheVoidRestoresIt() {
        var h = History()
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        let wrong = h.infusion("2026-01-30", .maintenance)
        let void = h.void("2026-02-01", wrong)
        #expect(
            h.view(on: "2026-02-02")
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 5, response: .responder, baseline: 32, nadir: 4,
                    latest: 5, interval: (7, 1, 4), due: "2026-01-30", overdue: 3))
        h.void("2026-02-02", void)
        #expect(h.view(on: "2026-02-02")?.interval == .init(days: 7, treatmentsAtInterval: 2, requiredBeforeExtension: 4))
        #expect(h.view(on: "2026-02-02")?.nextInfusionDue == day("2026-02-06"))
    }

    @Test func Conventions_anAmendedScoreIsReadWithItsLatestAmendment() {
        var h = History()
        h.acuteSeries(baseline: 32, assessment: nil)
        let score = h.madrs("2026-01-19T10:00", 20)  // non-responder as recorded
        h.amend("2026-01-20", score, [("value", .int(12))])
        let second = h.amend("2026-01-21", score, [("value", .int(4))])
        #expect(h.view(on: "2026-01-22")?.responseStatus == .nonResponder)  // no merge given: ignored
        let amended = h.fold(through: "2026-01-22", amend: testAmend)
        #expect(
            PhaseProjection.view(amended, on: day("2026-01-22"), rules: .default)
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 3, response: .responder, baseline: 32, nadir: 4,
                    latest: 4, interval: (7, 0, 4), due: "2026-01-23", overdue: 0))
        // Voiding the latest amendment undoes it: 12 stands (a responder, 12 ≤ 16).
        h.void("2026-01-22", second)
        #expect(PhaseProjection.view(h.fold(amend: testAmend), on: day("2026-01-22"), rules: .default)?.nadirMadrs == 12)
        // A correction takes effect whatever its own date, on every evaluation date.
        #expect(
            PhaseProjection.view(h.fold(through: "2026-01-19", amend: testAmend), on: day("2026-01-19"), rules: .default)?.latestMadrs == 12
        )
    }

    @Test func Conventions_otherPatientsEventsAreIgnored() {
        var a = History("A")
        a.acuteSeries()
        var b = History("B")
        b.enrolled()
        let mixed = a.events + b.events
        let state = PhaseProjection.fold(patient: "B", events: mixed, rules: .default)
        #expect(
            PhaseProjection.view(state, on: day("2026-02-01"), rules: .default)
                == phaseView(
                    "B", phase: .preTreatment, status: .preTreatment, week: nil, response: nil, baseline: nil, nadir: nil,
                    latest: nil, interval: nil, due: nil, overdue: 0))
    }

    @Test func Evolve_incrementallyInOrderEqualsTheFoldAndDetectsLateEvents() {
        let events = Self.w2()
        var state = PhaseState(patient: "W2")
        for e in events {
            #expect(state.isInOrder(e))
            PhaseProjection.evolve(&state, e, rules: .default)
        }
        #expect(state == PhaseProjection.fold(patient: "W2", events: events.shuffled(), rules: .default))
        #expect(state.lastOrderKey == OrderKey(events[events.count - 1]))
        if let early = events.first { #expect(!state.isInOrder(early)) }
    }

    @Test func Persistence_binaryRoundTripsEveryPartOfTheState() throws {
        var states = [PhaseProjection.fold(patient: "W2", events: Self.w2(), rules: .default)]
        var h = History("Ü-1")
        h.acuteSeries()
        h.visit("2026-01-23", madrs: 5)
        h.adjust("2026-01-24", 12)
        h.pregnancy("2026-01-25", .pregnant)
        h.holiday("2026-01-26", weeks: 2)
        h.acknowledge("2026-01-26", "holiday-overrun:" + (h.events.last?.eventId.uuidString ?? ""))
        h.acknowledge("2026-01-26", "relapse:00000000-0000-4000-8000-00000000abcd")
        states.append(h.fold())
        h.holidayEnd("2026-02-20", resume: 14)
        h.add(
            "2026-02-21",
            .infusionAdministered(InfusionAdministered(route: .iv, dose: Dose(value: 0.9, unit: .mgPerKg), series: .maintenance)))
        h.add("2026-02-21T10:00", .vitalsRecorded(VitalsRecorded(systolic: 150, diastolic: 95)))
        h.taper("2026-02-22", steps: [TaperStep(intervalDays: 20, months: 2)])
        states.append(h.fold())
        h.discontinue("2026-03-01")
        h.madrs("2026-03-05", 25)
        states.append(h.fold())
        var r12 = History()
        r12.acuteSeries(protocol: .hybrid)
        for (i, v) in [1, 1, 3, 3, 3].enumerated() { r12.phq2(day("2026-01-20").adding(days: i).description, v) }
        states.append(r12.fold())
        states.append(PhaseState(patient: ""))
        for s in states {
            let bytes = s.binaryEncoded
            #expect(bytes.first == PhaseState.binaryFormatVersion)
            #expect(try PhaseState.decode(bytes: bytes) == s)
        }
    }

    @Test func Persistence_damagedBytesThrowAndNeverCrash() {
        let bytes = PhaseProjection.fold(patient: "W2", events: Self.w2(), rules: .default).binaryEncoded
        for n in 0..<bytes.count {
            #expect(throws: BinaryError.self) { try PhaseState.decode(bytes: Array(bytes[0..<n])) }
        }
        var wrongVersion = bytes
        wrongVersion[0] = 99
        #expect(throws: BinaryError.self) { try PhaseState.decode(bytes: wrongVersion) }
        #expect(throws: BinaryError.self) { try PhaseState.decode(bytes: bytes + [0]) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var b = bytes
            for _ in 0..<3 { b[Int.random(in: 1..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? PhaseState.decode(bytes: b)  // must not crash
        }
    }

    @Test func PhaseView_encodesTheKeysOfCliMdWithNulls() throws {
        var h = History()
        h.acuteSeries()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let w1 = try #require(h.view(on: "2026-01-20"))
        #expect(
            String(decoding: try encoder.encode(w1), as: UTF8.self)
                == #"{"baselineMadrs":32,"infusionOverdueDays":0,"interval":{"days":7,"requiredBeforeExtension":4,"treatmentsAtInterval":0},"latestMadrs":4,"nadirMadrs":4,"nextInfusionDue":"2026-01-23","patient":"P","phase":"frequency-finding","protocol":"interval-extension","responseStatus":"responder","status":"maintenance","weekOfTreatment":3}"#
        )
        var pre = History()
        pre.enrolled()
        let p = try #require(pre.view(on: "2026-01-05"))
        #expect(
            String(decoding: try encoder.encode(p), as: UTF8.self)
                == #"{"baselineMadrs":null,"infusionOverdueDays":0,"interval":null,"latestMadrs":null,"nadirMadrs":null,"nextInfusionDue":null,"patient":"P","phase":"pre-treatment","protocol":"interval-extension","responseStatus":null,"status":"pre-treatment","weekOfTreatment":null}"#
        )
    }

    @Test func Explain_namesTheEventsAndRulesBehindIntervalAndDueDate() throws {
        let events = (try? loadNDJSON(ProtocolExampleData.w1)) ?? []
        let state = PhaseProjection.fold(patient: "W1", events: events, rules: .default, through: day("2026-02-14"))
        let v = try #require(PhaseProjection.view(state, on: day("2026-02-14"), rules: .default, explain: true))
        let steps = try #require(v.explain)
        // The extension at the Feb 13 infusion (R5), the count (R4), the due date from it (R4).
        #expect(steps.map(\.rule) == ["R5", "R4", "R4"])
        #expect(steps.map(\.sequence) == [74, 74, 74])
        #expect(steps.first?.date == day("2026-02-13"))
        #expect(steps.last?.detail == "Last maintenance infusion 2026-02-13 + 10 days = 2026-02-23.")
        var withoutExplain = v
        withoutExplain.explain = nil
        #expect(PhaseProjection.view(state, on: day("2026-02-14"), rules: .default) == withoutExplain)
        let json = String(decoding: try JSONEncoder().encode(v), as: UTF8.self)
        #expect(json.contains(#""rule":"R5""#))
        #expect(json.contains(#""eventId":"00000000-0000-0000-0000-00000000004a""#))
    }
}
