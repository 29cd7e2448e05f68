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
            #expect(alerts.map { "\($0.1.kind.rawValue) \($0.1.raisedOn) \($0.1.severity.rawValue)" } == [
                "symptom-rise 2026-04-12 warning", "symptom-rise 2026-04-22 warning", "tolerance-review 2026-04-22 warning",
            ])
            #expect(alerts[0].1.id == "symptom-rise:00000000-0000-0000-0000-000000000117")
            #expect(alerts[2].1.id == "tolerance-review:00000000-0000-0000-0000-00000000011e")
            // Acknowledged on Apr 24: no longer active from that day; still listed with --all.
            let ack = line("AlertAcknowledged", patient: "W2", at: "2026-04-24T09:00:00-04:00", actor: "dr.hale", role: "clinician",
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
