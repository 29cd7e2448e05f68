import Foundation
import KApp
import KClinic
import KReport
import KStore
import Testing

/// session.md R13–R15 through the real pipeline: lines imported into a real LMDB store, then the
/// projections queried on a date. Instants are UTC; the infusion is at 09:00 on 2026-11-02.
enum S {
    static let inf = "00000000-0000-4000-8000-0000000000a1"
    static let inf2 = "00000000-0000-4000-8000-0000000000a2"
    static let day = "2026-11-02"

    static func at(_ hm: String, _ d: String = day) -> String { "\(d)T\(hm):00Z" }

    static func enrol(_ p: String = "P-1") -> String {
        line("PatientEnrolled", patient: p, at: at("08:00", "2026-11-01"), role: "clinician", data: "{}")
    }

    static func infusion(
        _ id: String = inf, patient: String = "P-1", at t: String = at("09:00"), extra: String = #","durationMinutes":40"#,
        dose: String = #"{"value":0.5,"unit":"mg/kg"}"#, drug: String? = nil, route: String = "IV"
    ) -> String {
        let d = drug.map { #","drug":"\#($0)""# } ?? ""
        return line(
            "InfusionAdministered", patient: patient, at: t,
            data: #"{"route":"\#(route)","dose":\#(dose),"series":"acute"\#(d)\#(extra)}"#, id: id)
    }

    static func vitals(_ t: String, _ s: Int, _ d: Int, patient: String = "P-1") -> String {
        line("VitalsRecorded", patient: patient, at: t, data: #"{"systolic":\#(s),"diastolic":\#(d)}"#)
    }

    static func observation(_ t: String, _ fields: String, infusion: String = inf, patient: String = "P-1") -> String {
        line("ObservationRecorded", patient: patient, at: t, data: #"{"infusion":"\#(infusion)",\#(fields)}"#)
    }

    static func discharge(_ t: String, criteria: Bool = true, escort: Bool = true, transferred: Bool? = nil, infusion: String = inf)
        -> String
    {
        let tr = transferred.map { #","transferred":\#($0)"# } ?? ""
        return line(
            "DischargeRecorded", patient: "P-1", at: t,
            data: #"{"infusion":"\#(infusion)","criteriaMet":\#(criteria),"escort":\#(escort)\#(tr)}"#)
    }

    static func stock(_ type: String, _ t: String, _ data: String, actor: String = "dr.hale", role: String = "clinician", id: String? = nil)
        -> String
    {
        var s = #"{"type":"\#(type)","occurredAt":"\#(t)","actor":{"id":"\#(actor)","role":"\#(role)"},"data":\#(data)"#
        if let id { s += #","eventId":"\#(id)""# }
        return s + "}"
    }

    static func load(_ store: ClinicStore, _ lines: [String]) throws {
        _ = try Importer(store: store).importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "t")
    }

    /// The import's refusal: (exit code, message).
    static func refusal(_ store: ClinicStore, _ lines: [String]) -> (Int32, String)? {
        do {
            try load(store, lines)
            return nil
        } catch let e as AppError {
            return (e.exitCode, e.description)
        } catch {
            return (-1, "\(error)")
        }
    }

    static func d(_ s: String) -> Day { Day(iso: s) ?? Day(ordinal: 0) }

    static func alerts(_ store: ClinicStore, on: String = "2026-11-03") throws -> [String] {
        try ProjectionEngine(store: store).alerts(patient: "P-1", on: d(on), asOf: nil, all: true).map { $0.1.kind.rawValue }.sorted()
    }

    /// Adopts the defaults with `sessionAuditFrom` set (sessions audited from that date).
    static func auditFrom(_ store: ClinicStore, _ day: String, on: String = "2026-11-03") throws {
        var rules = RuleSet.default
        rules.version = "sessions-audited"
        rules.session.sessionAuditFrom = d(day)
        _ = try ProjectionEngine(store: store).replay(newRules: rules, apply: true, on: d(on))
    }

    static func sessionFindings(_ store: ClinicStore, on: String = "2026-11-03") throws -> [[String]] {
        try ProjectionEngine(store: store).audit(patient: "P-1", on: d(on), asOf: nil).filter { $0.scope == .session }.map(\.missing)
    }
}

@Suite struct SessionR13Tests {
    @Test func R13_sessionAlertsAtTheirBoundaries() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(), S.infusion(),
                    // At the limits: nothing.
                    S.observation(S.at("09:20"), #""systolic":180,"diastolic":110,"spo2":93,"moaas":4"#),
                ])
            #expect(try S.alerts(store) == [])
            try S.load(store, [S.observation(S.at("09:25"), #""systolic":181,"diastolic":90"#)])
            #expect(try S.alerts(store) == ["session-bp-high"])
            try S.load(
                store,
                [
                    S.observation(S.at("09:30"), #""diastolic":111"#), S.observation(S.at("09:31"), #""spo2":92.9"#),
                    S.observation(S.at("09:32"), #""respiratoryDepression":true"#), S.observation(S.at("09:33"), #""moaas":3"#),
                ])
            #expect(try S.alerts(store) == ["deep-sedation", "desaturation", "desaturation", "session-bp-high", "session-bp-high"])
            // Each alert's facts survive the stored state's binary form.
            for s in try ProjectionEngine(store: store).states(patient: "P-1", on: S.d("2026-11-03"), asOf: nil).states {
                #expect(try PhaseState.decode(bytes: s.binaryEncoded) == s)
            }
            let all = try ProjectionEngine(store: store).alerts(patient: "P-1", on: S.d("2026-11-03"), asOf: nil, all: true)
            #expect(all.first { $0.1.kind == .desaturation }?.1.severity == .critical)
            #expect(all.first { $0.1.kind == .deepSedation }?.1.severity == .warning)
        }
    }

    @Test func R13_observationTimeAgainstEachDrugsMinimum() throws {
        // Ketamine: t1 = 09:40; 59 minutes is early, 60 is not.
        for (minutes, early) in [(59, true), (60, false)] {
            try withStore { (store: ClinicStore) throws in
                let t = String(format: "%02d:%02d", 9 + (40 + minutes) / 60, (40 + minutes) % 60)
                try S.load(store, [S.enrol(), S.infusion(), S.discharge(S.at(t))])
                #expect(try S.alerts(store) == (early ? ["early-discharge"] : []), "ketamine after \(minutes) min")
            }
        }
        // Esketamine: 120 minutes from the end of dosing (no duration: t1 = t0).
        for (t, early) in [("10:59", true), ("11:00", false)] {
            try withStore { (store: ClinicStore) throws in
                try S.load(
                    store,
                    [
                        S.enrol(), S.infusion(extra: "", dose: #"{"value":56,"unit":"mg"}"#, drug: "esketamine", route: "intranasal"),
                        S.discharge(S.at(t)),
                    ])
                #expect(try S.alerts(store) == (early ? ["early-discharge"] : []), "esketamine at \(t)")
            }
        }
    }

    @Test func R13_dischargeAlertsAndATransfer() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, [S.enrol(), S.infusion(), S.discharge(S.at("11:00"), criteria: false, escort: false)])
            #expect(try S.alerts(store) == ["discharged-without-criteria", "discharged-without-escort"])
        }
        try withStore { (store: ClinicStore) throws in
            // A transfer: only `transferred`, even early, without criteria or escort, and past 12 hours.
            try S.load(
                store, [S.enrol(), S.infusion(), S.discharge(S.at("22:30"), criteria: false, escort: false, transferred: true)])
            #expect(try S.alerts(store) == ["transferred"])
        }
    }

    @Test func R13_sessionsAreKeptByTimeNotByCount() throws {
        // Ten infusions within 12 hours (two series, a test dose, repeated small doses: legal);
        // an observation and a discharge of the first are still its own, after all of them.
        try withStore { (store: ClinicStore) throws in
            let ids = (0..<10).map { String(format: "00000000-0000-4000-8000-0000000001%02d", $0) }
            var lines = [S.enrol()]
            for (k, id) in ids.enumerated() {
                lines.append(S.infusion(id, at: S.at(String(format: "%02d:00", 8 + k)), extra: ""))
            }
            lines.append(S.observation(S.at("19:30"), #""spo2":90"#, infusion: ids[0]))
            lines.append(S.discharge(S.at("19:45"), escort: false, infusion: ids[0]))
            try S.load(store, lines)
            #expect(try S.alerts(store) == ["desaturation", "discharged-without-escort"])
        }
        // A transfer charted a day and a half later still closes its session (and is the only
        // alert); more than 72 hours after, it is refused with its field.
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(), S.infusion(),
                    S.infusion(S.inf2, at: S.at("09:00", "2026-11-03"), extra: ""),
                    S.discharge(S.at("21:00", "2026-11-03"), criteria: false, escort: false, transferred: true),
                ])
            #expect(try S.alerts(store, on: "2026-11-04") == ["transferred"])
            let refused = S.refusal(
                store, [S.discharge(S.at("09:01", "2026-11-06"), transferred: true, infusion: S.inf2)])
            #expect(refused?.0 == 65)
            #expect(refused?.1.contains("occurredAt") == true && refused?.1.contains("72 hours") == true)
        }
    }

    @Test func R13_aVoidedInfusionsSessionRaisesNothing() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, [S.enrol(), S.infusion(), S.observation(S.at("09:30"), #""spo2":80"#)])
            #expect(try S.alerts(store) == ["desaturation"])
            try S.load(
                store,
                [
                    line(
                        "EventVoided", patient: "P-1", at: S.at("12:00"), role: "clinician",
                        data: #"{"target":"\#(S.inf)","reason":"wrong patient"}"#)
                ])
            #expect(try S.alerts(store) == [])
        }
    }

    @Test func R13_preDoseWindowAndDosedAboveTheLimitOnlyFromSessionAuditFrom() throws {
        try withStore { (store: ClinicStore) throws in
            // 08:00 is 60 minutes before: the pre-dose reading.
            try S.load(store, [S.enrol(), S.vitals(S.at("08:00"), 150, 80), S.infusion()])
            // Not audited yet (sessionAuditFrom null): bp-high (R7) only.
            #expect(try S.alerts(store) == ["bp-high"])
            #expect(try S.sessionFindings(store) == [])
            try S.auditFrom(store, "2026-11-02")
            #expect(try S.alerts(store) == ["bp-high", "dosed-above-bp-limit"])
            // The amount is unknown (mg/kg without a weight), no lot, no post-dose BP, no discharge yet.
            #expect(try S.sessionFindings(store) == [["amount", "discharge", "lot", "post-dose-bp"]])
        }
        try withStore { (store: ClinicStore) throws in
            // 07:59 is 61 minutes before: no pre-dose reading; a justified dose raises nothing.
            try S.load(store, [S.enrol(), S.vitals(S.at("07:59"), 150, 80), S.infusion(extra: #","justification":"BP reviewed""#)])
            try S.auditFrom(store, "2026-11-02")
            #expect(try S.alerts(store) == ["bp-high"])
            #expect(try S.sessionFindings(store).first?.contains("pre-dose-bp") == true)
        }
        try withStore { (store: ClinicStore) throws in
            // Audited from the day after: this session is not judged.
            try S.load(store, [S.enrol(), S.vitals(S.at("08:30"), 150, 80), S.infusion()])
            try S.auditFrom(store, "2026-11-03")
            #expect(try S.alerts(store) == ["bp-high"])
            #expect(try S.sessionFindings(store) == [])
        }
    }

    @Test func R13_postDoseAndDischargeBloodPressureWindows() throws {
        // t1 = 09:40: post-dose window [10:10, 10:40]; discharge 11:00: discharge BP in [10:30, 11:00].
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(), S.vitals(S.at("08:30"), 120, 80),
                    S.infusion(extra: #","durationMinutes":40,"lot":"K-1","weightKg":70"#),
                    S.observation(S.at("10:10"), #""systolic":130,"diastolic":80"#),
                    S.vitals(S.at("10:30"), 125, 80), S.discharge(S.at("11:00")),
                ])
            try S.auditFrom(store, "2026-11-01")
            #expect(try S.sessionFindings(store) == [])
        }
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(), S.vitals(S.at("08:30"), 120, 80),
                    S.infusion(extra: #","durationMinutes":40,"lot":"K-1","weightKg":70"#),
                    S.observation(S.at("10:41"), #""systolic":130,"diastolic":80"#),
                    S.vitals(S.at("10:29"), 125, 80), S.discharge(S.at("11:00")),
                ])
            try S.auditFrom(store, "2026-11-01")
            // 10:41 is past the post-dose window but inside the discharge window: only post-dose-bp.
            #expect(try S.sessionFindings(store) == [["post-dose-bp"]])
        }
    }

    @Test func R13_esketamineItemsAndR14_remsFormDueAndLate() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(),
                    S.infusion(extra: #","lot":"E-1""#, dose: #"{"value":84,"unit":"mg"}"#, drug: "esketamine", route: "intranasal"),
                ])
            let engine = ProjectionEngine(store: store)
            func rems(_ on: String) throws -> [String] {
                try engine.due(patient: "P-1", on: S.d(on), asOf: nil).filter { $0.item == "rems-form" }.map {
                    "\($0.dueFrom?.description ?? "-") \($0.dueBy?.description ?? "-") \($0.status.rawValue) \($0.session?.uuidString.lowercased() ?? "-")"
                }
            }
            #expect(try rems("2026-11-09") == ["2026-11-02 2026-11-09 due \(S.inf)"])
            #expect(try rems("2026-11-10") == ["2026-11-02 2026-11-09 overdue \(S.inf)"])
            try S.auditFrom(store, "2026-11-01", on: "2026-11-10")
            #expect(
                try S.sessionFindings(store, on: "2026-11-10") == [
                    ["discharge", "dissociation", "post-dose-bp", "pre-dose-bp", "rems-form", "sedation", "spo2"]
                ])
            // A late form removes the row; the finding keeps the lateness.
            try S.load(
                store,
                [
                    line(
                        "RemsFormSubmitted", patient: "P-1", at: S.at("09:00", "2026-11-12"),
                        data: #"{"infusion":"\#(S.inf)","reference":"R-9"}"#)
                ])
            #expect(try rems("2026-11-12") == [])
            #expect(try S.sessionFindings(store, on: "2026-11-12").first?.contains("rems-form") == true)
            // Whatever the patient's status: a discontinued patient still owes the form.
        }
    }
}

@Suite struct SessionValidationTests {
    @Test func refusalsNameTheirField() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(), S.enrol("P-2"), S.infusion(extra: #","lot":"K-1""#), S.discharge(S.at("11:00")),
                    S.stock("StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K-1","quantityMg":500,"supplier":"Hikma"}"#),
                ])
            let cases: [(String, Int32, String)] = [
                // A waste witnessed by its recorder.
                (
                    S.stock("StockWasted", S.at("10:00"), #"{"lot":"K-1","quantityMg":5,"witness":"dr.hale","reason":"rest"}"#), 77,
                    "witness dr.hale"
                ),
                // A compliance officer may not witness.
                (
                    S.stock("StockWasted", S.at("10:00"), #"{"lot":"K-1","quantityMg":5,"witness":"cm.ruiz","reason":"rest"}"#), 77,
                    "witness cm.ruiz"
                ),
                // An observation for another patient's infusion.
                (S.observation(S.at("09:30"), #""spo2":97"#, patient: "P-2"), 65, "data.infusion"),
                // Esketamine 0.5 mg/kg.
                (S.infusion(S.inf2, dose: #"{"value":0.5,"unit":"mg/kg"}"#, drug: "esketamine", route: "intranasal"), 65, "data.dose"),
                (S.observation(S.at("11:30"), #""spo2":97"#), 65, "occurredAt"),  // after the discharge
                (S.observation(S.at("08:59"), #""spo2":97"#), 65, "occurredAt"),  // before the infusion
                (S.discharge(S.at("12:00")), 65, "data.infusion"),  // a second discharge
                (line("RemsFormSubmitted", patient: "P-1", at: S.at("12:00"), data: #"{"infusion":"\#(S.inf)"}"#), 65, "data.infusion"),
                (S.observation(S.at("09:30"), #""systolic":80,"diastolic":90"#), 65, "data.systolic"),
                (S.observation(S.at("09:30"), #""spo2":49"#), 65, "data.spo2"),
                (
                    S.stock("StockReceived", S.at("07:00"), #"{"drug":"esketamine","lot":"K-1","quantityMg":56,"supplier":"J"}"#), 65,
                    "data.drug"
                ),
                (
                    S.stock("StockAdjusted", S.at("07:00"), #"{"lot":"K-1","quantityMg":5,"reason":"loss","witness":"rn.kim"}"#), 65,
                    "data.quantityMg"
                ),
                (
                    S.stock("StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K 1","quantityMg":5,"supplier":"J"}"#), 65,
                    "data.lot"
                ),
                (
                    S.stock(
                        "StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K-2","quantityMg":5,"supplier":"J"}"#, actor: "rn.kim",
                        role: "nurse"), 77, "nurse may not"
                ),
                (
                    S.stock(
                        "InventoryCounted", S.at("07:00"), #"{"lot":"K-1","onHandMg":5,"kind":"routine"}"#, actor: "cm.ruiz",
                        role: "compliance"), 77, "compliance"
                ),
            ]
            for (l, code, text) in cases {
                let r = S.refusal(store, [l])
                #expect(r?.0 == code, "\(l)")
                #expect(r?.1.contains(text) == true, "\(r?.1 ?? "accepted"): \(l)")
            }
            // A stock event's lot cannot be amended; a nurse may waste with a clinician witness.
            try S.load(
                store,
                [
                    S.stock(
                        "StockWasted", S.at("10:00"), #"{"lot":"K-1","quantityMg":5,"witness":"dr.hale","reason":"rest"}"#, actor: "rn.kim",
                        role: "nurse", id: "00000000-0000-4000-8000-0000000000b1")
                ])
            let amend =
                #"{"type":"EventAmended","occurredAt":"\#(S.at("12:00"))","actor":{"id":"dr.hale","role":"clinician"},"data":{"target":"00000000-0000-4000-8000-0000000000b1","reason":"typo","data":{"lot":"K-9"}}}"#
            #expect(S.refusal(store, [amend])?.1.contains("data.lot") == true)
            let fix =
                #"{"type":"EventAmended","occurredAt":"\#(S.at("12:00"))","actor":{"id":"dr.hale","role":"clinician"},"data":{"target":"00000000-0000-4000-8000-0000000000b1","reason":"typo","data":{"quantityMg":4.5}}}"#
            try S.load(store, [fix])
            let ledger = try LedgerReader.ledger(store)
            #expect(ledger.summary("K-1", on: S.d("2026-11-03"))?.wasted.text == "4.5")
        }
    }
}

@Suite struct LedgerR15Tests {
    @Test func R15_balancesInExactMilligramsCountsAndOverdraws() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(),
                    S.stock("StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K-1","quantityMg":100,"supplier":"Hikma"}"#),
                    // 0.45 × 72.3 = 32.535 exactly.
                    S.infusion(extra: #","lot":"K-1","weightKg":72.3"#, dose: #"{"value":0.45,"unit":"mg/kg"}"#),
                    S.stock("StockWasted", S.at("10:00"), #"{"lot":"K-1","quantityMg":17.465,"witness":"rn.kim","reason":"rest of vial"}"#),
                    // Balance 50: a count of 50.5 is within 0.5; 49.4 is not.
                    S.stock("InventoryCounted", S.at("18:00"), #"{"lot":"K-1","onHandMg":50.5,"kind":"routine"}"#),
                    S.stock("InventoryCounted", S.at("18:01"), #"{"lot":"K-1","onHandMg":49.4,"kind":"routine"}"#),
                    // An unknown amount (mg/kg without weight) gives 0.
                    S.infusion(S.inf2, at: S.at("09:00", "2026-11-03"), extra: #","lot":"K-1""#),
                    // Exactly 0 raises nothing; below 0 raises lot-overdrawn.
                    S.stock(
                        "StockDisposed", S.at("12:00", "2026-11-03"),
                        #"{"lot":"K-1","quantityMg":50,"method":"destroyed","witness":"rn.kim"}"#),
                    S.stock(
                        "StockWasted", S.at("13:00", "2026-11-03"), #"{"lot":"K-1","quantityMg":0.001,"witness":"rn.kim","reason":"spill"}"#
                    ),
                    // A lot never received.
                    S.stock(
                        "StockWasted", S.at("13:00", "2026-11-03"), #"{"lot":"K-2","quantityMg":1,"witness":"rn.kim","reason":"spill"}"#),
                ])
            let ledger = try LedgerReader.ledger(store)
            let rules = RuleSet.default
            let doc = Views.inventory(ledger, on: S.d("2026-11-04"), lot: nil, rules: rules)
            let text = JSONWriter.string(doc)
            #expect(text.contains(#""givenMg":32.535"#))
            let k1 = try #require(ledger.summary("K-1", on: S.d("2026-11-04")))
            #expect(k1.balance.text == "-0.001")
            #expect(k1.administrations == 2 && k1.unknownAmounts == 1)
            #expect(k1.lastCount?.discrepancy.text == "-0.6")
            let alerts = ledger.alerts(on: S.d("2026-11-04"), tolerance: rules.session.inventoryToleranceMg)
            #expect(
                alerts.map { "\($0.kind.rawValue) \($0.lot) \($0.amount.text)" } == [
                    "inventory-discrepancy K-1 -0.6", "lot-overdrawn K-1 -0.001", "lot-overdrawn K-2 -1",
                ])
            // On Nov 2 only the events dated then count.
            #expect(ledger.summary("K-1", on: S.d("2026-11-02"))?.balance.text == "50")
            // Dispensing lists every row in instant order, the infusion without a lot too.
            try S.load(store, [S.infusion("00000000-0000-4000-8000-0000000000a3", at: S.at("15:00", "2026-11-03"), extra: "")])
            let rows = try LedgerReader.ledger(store).dispensing(from: S.d("2026-11-03"), to: S.d("2026-11-03"))
            #expect(
                rows.map { "\($0.kind.rawValue) \($0.lot ?? "-") \($0.quantity?.text ?? "?")" } == [
                    "given K-1 ?", "disposed K-1 50", "wasted K-1 0.001", "wasted K-2 1", "given - ?",
                ])
            // An admin acknowledges a lot alert; a nurse may not.
            let id = alerts[2].id
            let ack = { (actor: String, role: String) in
                S.stock(
                    "AlertAcknowledged", S.at("09:00", "2026-11-04"), #"{"alertId":"\#(id)","lot":"K-2","note":"spill reported"}"#,
                    actor: actor, role: role)
            }
            #expect(S.refusal(store, [ack("rn.kim", "nurse")])?.0 == 77)
            try S.load(store, [ack(store.osUser, "admin")])
            let after = try LedgerReader.ledger(store).alerts(on: S.d("2026-11-04"), tolerance: rules.session.inventoryToleranceMg)
            #expect(after.filter { $0.acknowledged != nil }.map(\.id) == [id])
        }
    }

    @Test func R15_anOverdrawOnDTakesOnlyTheEventsDatedOnOrBeforeD() throws {
        // A disposal charted in +14:00 (18:00Z on the 2nd, dated the 3rd) is earlier by instant
        // than an infusion charted in −12:00 (08:00Z on the 3rd, dated the 2nd): on the 2nd the
        // infusion leaves 10 mg (no alert); on the 3rd, counting the disposal, the infusion's
        // balance is below 0. A count compares with every event before it by instant whatever D.
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.enrol(),
                    S.stock("StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K-1","quantityMg":50,"supplier":"Hikma"}"#),
                    S.stock(
                        "StockDisposed", "2026-11-03T08:00:00+14:00",
                        #"{"lot":"K-1","quantityMg":20,"method":"destroyed","witness":"rn.kim"}"#),
                    S.infusion(at: "2026-11-02T20:00:00-12:00", extra: #","lot":"K-1""#, dose: #"{"value":40,"unit":"mg"}"#),
                    S.stock("InventoryCounted", "2026-11-02T21:00:00-12:00", #"{"lot":"K-1","onHandMg":10,"kind":"routine"}"#),
                ])
            let ledger = try LedgerReader.ledger(store)
            let tol = RuleSet.default.session.inventoryToleranceMg
            let on2 = ledger.alerts(on: S.d("2026-11-02"), tolerance: tol).map { "\($0.kind.rawValue) \($0.amount.text)" }
            #expect(on2 == ["inventory-discrepancy 20"])
            #expect(ledger.summary("K-1", on: S.d("2026-11-02"))?.balance.text == "10")
            let on3 = ledger.alerts(on: S.d("2026-11-03"), tolerance: tol).map { "\($0.kind.rawValue) \($0.amount.text)" }
            #expect(on3 == ["lot-overdrawn -10", "inventory-discrepancy 20"])
            #expect(ledger.summary("K-1", on: S.d("2026-11-03"))?.balance.text == "-10")
        }
    }

    @Test func R15_biennialInventory() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                [
                    S.stock(
                        "StockReceived", S.at("07:00", "2024-01-10"), #"{"drug":"ketamine","lot":"K-1","quantityMg":100,"supplier":"H"}"#),
                    S.stock(
                        "StockReceived", S.at("07:00", "2024-01-10"), #"{"drug":"ketamine","lot":"K-2","quantityMg":100,"supplier":"H"}"#),
                ])
            var b = try LedgerReader.ledger(store).biennial(on: S.d("2025-12-10"), months: 24)
            #expect(b == BiennialInventory(lastDone: nil, dueFrom: S.d("2025-12-10"), dueBy: S.d("2026-01-10"), status: .due))
            // A biennial count of one lot only is not done while the other has stock.
            try S.load(
                store, [S.stock("InventoryCounted", S.at("17:00", "2025-12-20"), #"{"lot":"K-1","onHandMg":100,"kind":"biennial"}"#)])
            b = try LedgerReader.ledger(store).biennial(on: S.d("2026-01-11"), months: 24)
            #expect(b.lastDone == nil && b.status == .overdue)
            try S.load(store, [S.stock("InventoryCounted", S.at("17:30", "2025-12-20"), #"{"lot":"K-2","onHandMg":100,"kind":"routine"}"#)])
            b = try LedgerReader.ledger(store).biennial(on: S.d("2026-01-11"), months: 24)
            #expect(b == BiennialInventory(lastDone: S.d("2025-12-20"), dueFrom: S.d("2027-11-20"), dueBy: S.d("2027-12-20"), status: .ok))
        }
        try withStore { (store: ClinicStore) throws in
            #expect(try LedgerReader.ledger(store).biennial(on: S.d("2026-01-11"), months: 24) == BiennialInventory())
        }
    }

    /// A generated clinic of two years: every infusion's amount, waste, disposal and count,
    /// reconciled against an independent sum in Foundation's Decimal.
    @Test func R15_aGeneratedTwoYearClinicReconciles() throws {
        try withStore { (store: ClinicStore) throws in
            var rng = SplitMix(seed: 14)
            var lines: [String] = []
            var expected: [String: Decimal] = [:]
            var unknown = 0
            let lots = ["K-1", "K-2", "K-3"]
            for lot in lots {
                lines.append(
                    S.stock(
                        "StockReceived", S.at("07:00", "2025-01-01"),
                        #"{"drug":"ketamine","lot":"\#(lot)","quantityMg":100000,"supplier":"H"}"#))
                expected[lot] = 100_000
            }
            for p in 1...6 { lines.append(S.enrol("G-\(p)")) }
            var day = S.d("2025-01-02")
            for k in 0..<(6 * 100) {
                let lot = lots[Int(rng.next() % 3)]
                let when = "\(day)T09:00:00Z"
                let patient = "G-\(k % 6 + 1)"
                let w = Int(rng.next() % 8000) + 4500
                let weight = "\(w / 100).\(w % 100 < 10 ? "0" : "")\(w % 100)"  // 45.00–124.99
                let dose = [0.4, 0.45, 0.5, 0.55][Int(rng.next() % 4)]
                if rng.next() % 10 == 0 {
                    lines.append(S.infusion(UUID().uuidString.lowercased(), patient: patient, at: when, extra: #","lot":"\#(lot)""#))
                    unknown += 1
                } else {
                    lines.append(
                        S.infusion(
                            UUID().uuidString.lowercased(), patient: patient, at: when, extra: #","lot":"\#(lot)","weightKg":\#(weight)"#,
                            dose: #"{"value":\#(dose),"unit":"mg/kg"}"#))
                    expected[lot]! -= Decimal(string: "\(dose)")! * Decimal(string: weight)!
                }
                let cents = Int(rng.next() % 1000) + 1
                let waste = "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"  // a literal such as 3.47
                lines.append(
                    S.stock(
                        "StockWasted", "\(day)T10:00:00Z", #"{"lot":"\#(lot)","quantityMg":\#(waste),"witness":"rn.kim","reason":"rest"}"#))
                expected[lot]! -= Decimal(string: waste)!
                if k % 6 == 5 && (k / 6) % 10 == 9 {
                    // The day's last event, then a count at 18:00: exact, or off by 2 mg.
                    let off: Decimal = (k / 6) % 20 == 19 ? 2 : 0
                    let onHand = expected[lot]! + off
                    lines.append(
                        S.stock(
                            "InventoryCounted", "\(day)T18:00:00Z",
                            #"{"lot":"\#(lot)","onHandMg":\#(onHand)}"#.replacingOccurrences(of: "}", with: #","kind":"routine"}"#)))
                }
                if k % 6 == 5 { day = day.adding(days: 1) }
            }
            try S.load(store, lines)
            let ledger = try LedgerReader.ledger(store)
            let on = day.adding(days: 1)
            for lot in lots {
                let s = try #require(ledger.summary(lot, on: on))
                #expect(Decimal(string: s.balance.text) == expected[lot], "\(lot)")
            }
            #expect(ledger.summaries(on: on).map(\.unknownAmounts).reduce(0, +) == unknown)
            let discrepancies = ledger.alerts(on: on, tolerance: RuleSet.default.session.inventoryToleranceMg).filter {
                $0.kind == .inventoryDiscrepancy
            }
            #expect(discrepancies.count == 5)
            #expect(discrepancies.allSatisfy { $0.amount.text == "2" })
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// fixtures/sessions-clinic.ndjson (tools/build-sessions.py) after the three guide cases: the
/// answers worked by hand from session.md.
@Suite struct SessionFixtureTests {
    static func load(_ store: ClinicStore) throws {
        for name in [
            "case1-long-term-maintenance", "case2-successful-transition", "case3-tolerance-management", "sessions-clinic",
        ] {
            let bytes = try #require(
                FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
            _ = try Importer(store: store).importNDJSON([UInt8](bytes), source: name)
        }
    }

    @Test func R13_R14_R15_theSessionClinicOnNovember20() throws {
        try withStore { (store: ClinicStore) throws in
            try Self.load(store)
            let on = S.d("2026-11-20")
            let engine = ProjectionEngine(store: store)
            // R13: E1's fourth session reached MOAA/S 3; the sixth left after 100 of 120 minutes.
            let e1 = try engine.alerts(patient: "E1", on: on, asOf: nil, all: true).map { "\($0.1.kind.rawValue) \($0.1.raisedOn)" }
            #expect(e1 == ["deep-sedation 2026-09-11", "early-discharge 2026-09-18"])
            // The guide cases' sessions raise nothing (observed 80 minutes, SpO2 97, MOAA/S 4).
            for p in ["C1", "C2", "C3"] {
                let kinds = try engine.alerts(patient: p, on: on, asOf: nil, all: true).map(\.1.kind)
                #expect(!kinds.contains { [.sessionBpHigh, .desaturation, .deepSedation, .earlyDischarge].contains($0) }, "\(p)")
            }
            // R14: the last session (Oct 7) has no form.
            let rems = try engine.due(patient: "E1", on: on, asOf: nil).filter { $0.item == "rems-form" }
            #expect(
                rems.map { "\($0.dueFrom?.description ?? "") \($0.dueBy?.description ?? "") \($0.status.rawValue)" } == [
                    "2026-10-07 2026-10-14 overdue"
                ])
            // R15: the stock.
            let ledger = try LedgerReader.ledger(store)
            let e = try #require(ledger.summary("E-26A", on: on))
            #expect([e.received.text, e.given.text, e.balance.text] == ["840", "700", "140"])
            #expect(e.administrations == 9 && e.drug == .esketamine)
            let k = try #require(ledger.summary("K-2609", on: on))
            #expect([k.wasted.text, k.adjusted.text, k.balance.text, k.lastCount?.discrepancy.text] == ["15", "-2", "983", "0"])
            let alerts = ledger.alerts(on: on, tolerance: RuleSet.default.session.inventoryToleranceMg)
            #expect(
                alerts.map { "\($0.kind.rawValue) \($0.lot) \($0.amount.text) \($0.acknowledged != nil)" } == [
                    "inventory-discrepancy K-2609 -2 true"
                ])
            #expect(
                ledger.biennial(on: on, months: 24)
                    == BiennialInventory(lastDone: S.d("2026-10-15"), dueFrom: S.d("2028-09-15"), dueBy: S.d("2028-10-15"), status: .ok))
            // Audited from June 1: the cases' sessions lack the amount (no weight) and the lot;
            // E1 lacks only the REMS forms of Sep 16 (sent a week late) and Oct 7.
            var rules = RuleSet.default
            rules.version = "sessions-audited"
            rules.session.sessionAuditFrom = S.d("2026-06-01")
            _ = try engine.replay(newRules: rules, apply: true, on: on)
            let findings = try engine.audit(patient: nil, on: on, asOf: nil).filter { $0.scope == .session }
            #expect(
                findings.filter { $0.patient == "E1" }.map { "\($0.date?.description ?? "") \($0.missing)" } == [
                    "2026-09-16 [\"rems-form\"]", "2026-10-07 [\"rems-form\"]",
                ])
            let cases = findings.filter { $0.patient.hasPrefix("C") }
            #expect(!cases.isEmpty && cases.allSatisfy { $0.missing == ["amount", "lot"] })
            // The stored phase states (format 3, with the sessions and their alerts) read back
            // exactly as they were folded.
            for s in try engine.states(patient: nil, on: on, asOf: nil).states {
                #expect(try PhaseState.decode(bytes: s.binaryEncoded) == s, "\(s.patient)")
            }
        }
    }
}

/// `kstore report rems` (R14) and `kstore report dispensing` (R15): the data gathered from the
/// events, then the rendered page.
@Suite struct SessionReportTests {
    static let esk = [
        S.enrol(),
        S.vitals(S.at("08:10"), 150, 95),  // outside the 60-minute pre-dose window
        S.vitals(S.at("08:30"), 132, 84),
        S.infusion(
            extra: #","lot":"E-1","durationMinutes":10"#, dose: #"{"value":56,"unit":"mg"}"#, drug: "esketamine",
            route: "intranasal"),
        S.observation(S.at("09:35"), #""systolic":150,"diastolic":92,"moaas":4,"cadss":10,"spo2":95"#),
        S.observation(S.at("09:55"), #""systolic":146,"diastolic":90"#),
        S.observation(S.at("10:30"), #""spo2":94,"moaas":3,"cadss":20"#),
        S.observation(S.at("10:55"), #""systolic":128,"diastolic":80"#),
        line(
            "SideEffectReported", patient: "P-1", at: S.at("09:50"),
            data: #"{"category":"dissociative","severity":"severe","note":"intense depersonalisation"}"#),
        line("SideEffectReported", patient: "P-1", at: S.at("10:00"), data: #"{"category":"nausea","severity":"mild"}"#),
        S.discharge(S.at("12:15")),
        line(
            "RemsFormSubmitted", patient: "P-1", at: S.at("09:00", "2026-11-03"),
            data: #"{"infusion":"\#(S.inf)","reference":"RF-77"}"#),
    ]

    @Test func R14_theRemsReportCarriesTheFormsContent() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, Self.esk)
            let page = try ProjectionEngine(store: store).remsPage(
                infusion: try #require(UUID(uuidString: S.inf)), today: S.d("2026-11-03"))
            let f = page.form
            #expect(f.patient == "P-1" && f.drug == .esketamine && f.lot == "E-1" && f.amount?.text == "56")
            #expect(f.preDose.map { "\($0.at.rfc3339) \($0.text)" } == "2026-11-02T08:30:00Z 132/84 mmHg")
            // t1 = 09:10: the post-dose window is 09:40–10:10, the first reading in it is 09:55.
            #expect(f.postDose.map { "\($0.at.rfc3339) \($0.text)" } == "2026-11-02T09:55:00Z 146/90 mmHg")
            // The last BP before the 12:15 discharge is 10:55: outside its 30-minute window.
            #expect(f.lastBeforeDischarge?.at.rfc3339 == "2026-11-02T10:55:00Z")
            #expect(f.lastBeforeDischargeInWindow == false)
            #expect(f.lowestSpo2 == 94 && f.lowestMoaas == 3 && f.highestCadss == 20 && !f.respiratoryDepression)
            #expect(f.observations == 4)
            #expect(f.observationMinutes == 185 && f.minimumMinutes == 120)
            #expect(f.severeSideEffects.map(\.category) == [.dissociative] && f.otherSideEffects == 1)
            #expect(f.submitted.map { "\($0.day) \($0.reference ?? "")" } == "2026-11-03 RF-77")
            #expect(f.missing == ["discharge-bp"])
            let html = Reports.rems(page)
            for text in ["132/84 mmHg", "146/90 mmHg", "94 %", "185 min", "intense depersonalisation", "RF-77", "discharge-bp"] {
                #expect(html.contains(text), "the page shows \(text)")
            }
            #expect(html.contains(#"data-complete="false""#))
        }
    }

    @Test func R13_theCourseChartsInfusionMarkerShowsTheSessionsLowestReadings() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, Self.esk)
            let page = try #require(try ProjectionEngine(store: store).patientPage("P-1", on: S.d("2026-11-03")))
            let mark = try #require(page.history.infusions.first)
            #expect(mark.lowestSpo2 == 94 && mark.lowestMoaas == 3)
            let html = Reports.patient(page)
            #expect(html.contains("lowest SpO2 94%, lowest MOAA/S 3"))
        }
        // An infusion without observations has no session part in its tooltip.
        try withStore { (store: ClinicStore) throws in
            try S.load(store, [S.enrol(), S.infusion()])
            let page = try #require(try ProjectionEngine(store: store).patientPage("P-1", on: S.d("2026-11-03")))
            #expect(!Reports.patient(page).contains("lowest SpO2"))
        }
    }

    @Test func R14_theRemsReportRefusesWhatIsNotAnEsketamineSession() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, [S.enrol(), S.infusion(), S.vitals(S.at("09:30"), 120, 80)])
            let engine = ProjectionEngine(store: store)
            func refusal(_ id: String) -> String? {
                do {
                    _ = try engine.remsPage(infusion: UUID(uuidString: id) ?? UUID(), today: S.d("2026-11-03"))
                    return nil
                } catch let e as AppError {
                    return e.exitCode == 65 ? e.description : "exit \(e.exitCode)"
                } catch {
                    return "\(error)"
                }
            }
            #expect(refusal(S.inf)?.contains("is ketamine") == true)
            #expect(refusal(S.inf2)?.contains("no InfusionAdministered") == true)
            try S.load(
                store,
                [
                    line(
                        "EventVoided", patient: "P-1", at: S.at("10:00"), role: "clinician",
                        data: #"{"target":"\#(S.inf)","reason":"wrong chart"}"#)
                ])
            #expect(refusal(S.inf)?.contains("was voided") == true)
        }
    }

    @Test func R15_theDispensingReportReconcilesEachLot() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(
                store,
                Self.esk + [
                    S.stock(
                        "StockReceived", S.at("07:00", "2026-11-01"),
                        #"{"drug":"esketamine","lot":"E-1","quantityMg":280,"supplier":"Janssen"}"#),
                    S.stock(
                        "StockReceived", S.at("07:00", "2026-11-01"),
                        #"{"drug":"ketamine","lot":"K-1","quantityMg":500,"supplier":"Hikma"}"#),
                    S.stock("StockWasted", S.at("11:00"), #"{"lot":"K-1","quantityMg":12.5,"witness":"rn.kim","reason":"rest of vial"}"#),
                    S.stock(
                        "StockAdjusted", S.at("12:00", "2026-11-03"),
                        #"{"lot":"K-1","quantityMg":-2.25,"reason":"breakage","witness":"rn.kim","reference":"DEA-106-1"}"#),
                    S.stock("InventoryCounted", S.at("18:00", "2026-11-03"), #"{"lot":"E-1","onHandMg":224,"kind":"routine"}"#),
                    S.stock("InventoryCounted", S.at("18:00", "2026-11-03"), #"{"lot":"K-1","onHandMg":480,"kind":"routine"}"#),
                ])
            let page = try ProjectionEngine(store: store).dispensingPage(from: S.d("2026-11-02"), to: S.d("2026-11-03"), lot: nil)
            #expect(page.lots.map(\.lot) == ["E-1", "K-1"])
            for l in page.lots {
                #expect(l.opening + l.received - l.given - l.wasted - l.disposed + l.adjusted == l.closing, "lot \(l.lot) reconciles")
            }
            let e1 = try #require(page.lots.first)
            #expect(e1.opening.text == "280" && e1.given.text == "56" && e1.closing.text == "224")
            #expect(e1.counts.map { "\($0.onHand.text) \($0.discrepancy.text)" } == ["224 0"])
            let k1 = try #require(page.lots.last)
            #expect(k1.opening.text == "500" && k1.wasted.text == "12.5" && k1.adjusted.text == "-2.25" && k1.closing.text == "485.25")
            #expect(k1.counts.map(\.discrepancy.text) == ["-5.25"])
            #expect(page.alerts.map(\.kind) == [.inventoryDiscrepancy])
            // The receipts are dated before the period: the rows are the period's only.
            #expect(page.rows.map(\.entry.kind) == [.given, .wasted, .adjusted, .counted, .counted])
            #expect(page.events == (try store.log.count()) && page.headHash.count == 64)
            let html = Reports.dispensing(page)
            for text in ["485.25", "DEA", "-5.25 mg", "inventory-discrepancy", "Registrant"] {
                #expect(html.contains(text), "the page shows \(text)")
            }
            // One lot only.
            let k = try ProjectionEngine(store: store).dispensingPage(from: S.d("2026-11-02"), to: S.d("2026-11-03"), lot: "K-1")
            #expect(k.lots.map(\.lot) == ["K-1"] && k.rows.allSatisfy { $0.entry.lot == "K-1" })
        }
    }
}

/// R15's stored ledger (`LedgerReader`): caught up with what is appended, corrections included,
/// equal to the ledger rebuilt from the log, checked by `audit verify`.
@Suite struct LedgerStoredTests {
    static let stock = [
        S.enrol(),
        S.stock("StockReceived", S.at("07:00"), #"{"drug":"ketamine","lot":"K-1","quantityMg":100,"supplier":"Hikma"}"#),
        S.infusion(extra: #","lot":"K-1","weightKg":70"#, dose: #"{"value":0.5,"unit":"mg/kg"}"#),
    ]
    static let waste = "00000000-0000-4000-8000-0000000000c1"

    static func same(_ store: ClinicStore) throws -> Bool {
        let a = try LedgerReader.ledger(store)
        let b = try LedgerReader.rebuilt(store)
        return a.lots == b.lots && a.unlotted == b.unlotted && a.acknowledgements == b.acknowledgements
    }

    @Test func R15_theStoredLedgerCatchesUpWithAppendsAndCorrections() throws {
        try withStore { (store: ClinicStore) throws in
            try S.load(store, Self.stock)
            #expect(try LedgerReader.checkStored(store) == nil)
            #expect(try LedgerReader.ledger(store).summary("K-1", on: S.d("2026-11-02"))?.balance.text == "65")
            #expect(try LedgerReader.checkStored(store).map { "\($0.through) \($0.equal)" } == "\(try store.log.count()) true")
            // Appended after the stored ledger: a waste, then an amendment of the infusion's lot
            // (now K-2, never received) and a void of the waste.
            try S.load(
                store,
                [
                    S.stock(
                        "StockWasted", S.at("10:00"), #"{"lot":"K-1","quantityMg":15,"witness":"rn.kim","reason":"rest"}"#, id: Self.waste)
                ])
            #expect(try LedgerReader.ledger(store).summary("K-1", on: S.d("2026-11-02"))?.balance.text == "50")
            try S.load(
                store,
                [
                    line(
                        "EventAmended", patient: "P-1", at: S.at("12:00"), role: "clinician",
                        data: #"{"target":"\#(S.inf)","reason":"wrong lot","data":{"lot":"K-2"}}"#),
                    S.stock(
                        "EventVoided", S.at("12:01"), #"{"target":"\#(Self.waste)","reason":"recorded twice"}"#, actor: "dr.hale",
                        role: "clinician"),
                ])
            let ledger = try LedgerReader.ledger(store)
            #expect(ledger.summary("K-1", on: S.d("2026-11-02"))?.balance.text == "100")
            #expect(ledger.summary("K-2", on: S.d("2026-11-02"))?.balance.text == "-35")
            #expect(try Self.same(store))
            #expect(try LedgerReader.checkStored(store)?.equal == true)
            let audit = try LogAudit.audit(store)
            #expect(audit.report.problems.isEmpty, "\(audit.report.problems)")
        }
    }

    @Test func R15_verifyNamesAStoredLedgerThatIsNotTheLogs() throws {
        // Another store's stored ledger, copied in: queries ignore it (its last record's hash is
        // not this log's) and rebuild; verify names it.
        var foreign: [UInt8] = []
        try withStore { (other: ClinicStore) throws in
            try S.load(
                other,
                Self.stock + [S.stock("StockReceived", S.at("08:00"), #"{"drug":"ketamine","lot":"K-9","quantityMg":5,"supplier":"X"}"#)])
            _ = try LedgerReader.ledger(other)
            let meta = try #require(other.log.auxiliary["projmeta"])
            foreign = try other.log.read { r in try r.txn.get(meta, Array("ledger".utf8))?.copiedBytes ?? [] }
        }
        try withStore { (store: ClinicStore) throws in
            try S.load(store, Self.stock + [S.vitals(S.at("11:00"), 120, 80), S.vitals(S.at("11:01"), 120, 80)])
            let meta = try #require(store.log.auxiliary["projmeta"])
            #expect(!foreign.isEmpty)
            try store.log.writeAuxiliary { r in try r.txn.put(meta, Array("ledger".utf8), foreign) }
            #expect(try LedgerReader.ledger(store, persist: false).lots.keys.sorted() == ["K-1"])
            #expect(try LedgerReader.checkStored(store)?.equal == false)
            let audit = try LogAudit.audit(store)
            #expect(audit.report.problems.contains { $0.detail.contains("controlled-substance ledger") })
            // A query rebuilds and stores it; verify is clean again.
            _ = try LedgerReader.ledger(store)
            #expect(try LogAudit.audit(store).report.problems.isEmpty)
        }
    }
}
