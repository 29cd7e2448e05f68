import Foundation
import KApp
import KClinic
import Testing

@Suite struct AlertQueryTests {
    @Test func R7_W2ShowsExactlyTheExampleAlertsAndAnAcknowledgementClosesOne() throws {
        try withStore { (store: ClinicStore) throws in
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w2.ndjson"), source: "w2")
            let engine = ProjectionEngine(store: store)
            let on = Day(ordinal: Day(iso: "2026-04-25")?.ordinal ?? 0)
            let alerts = try engine.alerts(patient: "W2", on: on, asOf: nil, all: false)
            #expect(
                alerts.map { "\($0.1.kind.rawValue) \($0.1.raisedOn) \($0.1.severity.rawValue)" } == [
                    "symptom-rise 2026-04-12 warning", "symptom-rise 2026-04-22 warning", "tolerance-review 2026-04-22 warning",
                ])
            #expect(alerts[0].1.id == "symptom-rise:00000000-0000-0000-0000-000000000117")
            #expect(alerts[2].1.id == "tolerance-review:00000000-0000-0000-0000-00000000011e")
            // Acknowledged on Apr 24: no longer active from that day; still listed with --all.
            let ack = line(
                "AlertAcknowledged", patient: "W2", at: "2026-04-24T09:00:00-04:00", actor: "dr.hale", role: "clinician",
                data: #"{"alertId":"tolerance-review:00000000-0000-0000-0000-00000000011e","note":"reviewed; holiday planned"}"#)
            _ = try Importer(store: store).importNDJSON(Array(ack.utf8), source: "ack")
            #expect(try engine.alerts(patient: "W2", on: on, asOf: nil, all: false).map(\.1.kind) == [.symptomRise, .symptomRise])
            let all = try engine.alerts(patient: "W2", on: on, asOf: nil, all: true)
            #expect(all.count == 3)
            let json = Views.alert(all[2].1, patient: "W2", on: on)
            #expect(json["acknowledged"] == .bool(true))
            // Before the acknowledgement's date it is still active.
            let before = Day(ordinal: on.ordinal - 2)
            #expect(try engine.alerts(patient: "W2", on: before, asOf: nil, all: false).count == 3)
        }
    }
}

@Suite struct RelapseAlertJSONTests {
    /// R8 (revision 4): a relapse alert carries its class, days and discontinuation date as data.
    @Test func R8_aRelapseAlertCarriesClassDaysAndTheDiscontinuationDate() throws {
        try withStore { (store: ClinicStore) throws in
            let bytes = try #require(
                FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/case2-successful-transition.ndjson").path)
            )
            _ = try Importer(store: store).importNDJSON([UInt8](bytes), source: "case2")
            let score = line(
                "ScoreRecorded", patient: "C2", at: "2026-11-25T10:00:00-05:00", actor: "rn.kim", role: "nurse",
                data: #"{"instrument":"MADRS","value":30}"#)
            _ = try Importer(store: store).importNDJSON(Array(score.utf8), source: "score")
            let on = try #require(Day(iso: "2026-11-25"))
            let alerts = try ProjectionEngine(store: store).alerts(patient: "C2", on: on, asOf: nil, all: false)
            let relapse = try #require(alerts.first { $0.1.kind == .relapse }?.1)
            let json = Views.alert(relapse, patient: "C2", on: on)
            guard case .relapse(let cls, let days, _, _, let since) = relapse.facts else {
                Issue.record("not relapse facts: \(relapse.facts)")
                return
            }
            #expect(since.days(to: on) == days)
            #expect(cls == .late)
            #expect(
                json["relapse"]
                    == .object([("class", .string("late")), ("days", .int(Int64(days))), ("discontinuedOn", .string(since.description))]))
            #expect(json["detail"].map { if case .string(let s) = $0 { s.contains("standard acute series") } else { false } } == true)
            // Every other kind has no `relapse` member.
            for (_, a) in alerts where a.kind != .relapse { #expect(Views.alert(a, patient: "C2", on: on)["relapse"] == nil) }
        }
    }
}
