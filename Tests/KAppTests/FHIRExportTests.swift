import Foundation
import KApp
import KClinic
import KStore
import Testing

/// `kstore audit export --format fhir`: FHIR R4 AuditEvent/Provenance NDJSON for auditors, checked
/// with tools/validate-fhir.py (the R4B models of fhir.resources, which keep R4's structure).
@Suite(.serialized) struct FHIRExportTests {
    static let cases = [
        "case1-long-term-maintenance.ndjson", "case2-successful-transition.ndjson", "case3-tolerance-management.ndjson",
    ]

    func member(_ v: JSONValue?, _ key: String) -> JSONValue? {
        guard case .object(let m)? = v else { return nil }
        return m.first { $0.0 == key }?.1
    }

    @Test func theGuideCasesExportAsValidFHIRWithAnAuditEventPerEventAndAProvenancePerCorrection() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-fhir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registerTestActors(try ClinicStore.create(at: dir))
        let store = try ClinicStore.open(at: dir)
        let importer = Importer(store: store)
        for name in Self.cases {
            let bytes = Array(try Data(contentsOf: packageRoot.appendingPathComponent("fixtures/\(name)")))
            _ = try importer.importNDJSON(bytes, source: name)
        }
        // One amendment and one void of case 1's events, by dr.hale.
        let amended = "00000000-0000-0000-00c1-000000000003"
        let voided = "00000000-0000-0000-00c1-000000000002"
        _ = try importer.importNDJSON(
            Array(
                line(
                    "EventAmended", patient: "C1", at: "2025-01-06T12:00:00-05:00", actor: "dr.hale", role: "clinician",
                    data: #"{"target":"\#(amended)","reason":"transcription error","data":{"value":30}}"#
                ).utf8), source: "amend")
        _ = try importer.importNDJSON(
            Array(
                line(
                    "EventVoided", patient: "C1", at: "2025-01-06T12:05:00-05:00", actor: "dr.hale", role: "clinician",
                    data: #"{"target":"\#(voided)","reason":"entered on the wrong chart"}"#
                ).utf8), source: "void")
        let total = Int(try store.log.count())
        let today = String(EventMapping.formatMicros(SystemClock.nowMicros()).prefix(10))
        // An audited read in the range, so an action R AuditEvent is exported and validated too.
        #expect(try run(kstore, ["audit", "export", "--store", dir, "--from", "2000-01-01", "--to", today]).status == 0)
        let reads = try AccessLog.entries(store).entries.count
        #expect(reads >= 1)

        let out = try run(kstore, ["audit", "export", "--store", dir, "--from", "2000-01-01", "--to", today, "--format", "fhir"])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        let resources = try lines.map { try JSONParser.parse($0) }
        let audits = resources.filter { member($0, "resourceType") == .string("AuditEvent") }
        let provenances = resources.filter { member($0, "resourceType") == .string("Provenance") }
        let recordAudits = audits.filter { member($0, "action") != .string("R") }
        #expect(recordAudits.count == total)
        #expect(audits.count - recordAudits.count == reads)
        #expect(provenances.count == 2)
        // The guide cases' infusions follow as Encounters (the clinical part of the export).
        let encounters = resources.filter { member($0, "resourceType") == .string("Encounter") }
        #expect(!encounters.isEmpty)
        #expect(resources.count == total + reads + 2 + encounters.count)
        let actions = Set(
            audits.compactMap { a -> String? in
                if case .string(let s)? = member(a, "action") { return s }
                return nil
            })
        for a in ["C", "U", "D"] { #expect(actions.contains(a), "no AuditEvent with action \(a)") }
        // Each Provenance's revision entity is a corrected original; its target is the correction.
        let revised = provenances.compactMap { p -> String? in
            guard case .array(let xs)? = member(p, "entity"), member(xs.first, "role") == .string("revision"),
                case .string(let s)? = member(member(member(xs.first, "what"), "identifier"), "value")
            else { return nil }
            return s
        }
        #expect(Set(revised) == [amended, voided])
        let targets = provenances.compactMap { p -> String? in
            guard case .array(let xs)? = member(p, "target"), case .string(let s)? = member(member(xs.first, "identifier"), "value")
            else { return nil }
            return s
        }
        #expect(targets.count == 2 && Set(targets).isDisjoint(with: [amended, voided]))
        // The export itself is an audited read.
        #expect(try AccessLog.entries(store).entries.count == reads + 1)

        // Validate against the FHIR R4 (R4B) models.
        let file = dir + "-export.ndjson"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(out.stdout.utf8).write(to: URL(fileURLWithPath: file))
        // python3 as PATH finds it (tools/setup.sh installs fhir.resources for that one).
        let python = "/usr/bin/env"
        let args = ["python3"]
        guard (try? run(python, args + ["-c", "import fhir.resources"]))?.status == 0 else {
            Issue.record("python3 with fhir.resources is not available (run tools/setup.sh): the FHIR export was not validated")
            return
        }
        let check = try run(python, args + [packageRoot.appendingPathComponent("tools/validate-fhir.py").path, file])
        #expect(check.status == 0, "validate-fhir.py: \(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("\(resources.count) resources valid"))
    }

    func string(_ v: JSONValue?) -> String? {
        if case .string(let s)? = v { return s }
        return nil
    }

    func validate(_ resources: [JSONValue]) throws -> (ok: Bool, output: String)? {
        var bytes: [UInt8] = []
        for r in resources { JSONWriter.writeLine(r, into: &bytes) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-fhir-\(UUID().uuidString).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        guard (try? run("/usr/bin/env", ["python3", "-c", "import fhir.resources"]))?.status == 0 else { return nil }
        let check = try run("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("tools/validate-fhir.py").path, file])
        return (check.status == 0 && check.stdout.contains("\(resources.count) resources valid"), check.stdout + check.stderr)
    }

    /// session.md's events: an Encounter per effective infusion (ended by its discharge, a transfer's
    /// disposition), LOINC-coded Observations linked to it, a SupplyDelivery per receipt and an
    /// AuditEvent per waste, disposal, adjustment and count; voided events export nothing.
    @Test func sessionsAndStockExportAsValidFHIRClinicalResources() throws {
        try withStore { (store: ClinicStore) throws in
            let voidedObservation = "00000000-0000-4000-8000-0000000000b9"
            try S.load(
                store,
                [
                    S.enrol(), S.infusion(extra: #","lot":"K-1","durationMinutes":40,"weightKg":72.3"#),
                    S.observation(S.at("09:50"), #""systolic":150,"diastolic":90,"heartRate":88,"spo2":96.5"#),
                    S.observation(S.at("10:00"), #""moaas":4,"cadss":12,"respiratoryDepression":false"#),
                    line(
                        "ObservationRecorded", patient: "P-1", at: S.at("10:05"), data: #"{"infusion":"\#(S.inf)","heartRate":70}"#,
                        id: voidedObservation),
                    S.discharge(S.at("11:00")),
                    S.infusion(S.inf2, at: S.at("13:00"), extra: ""),
                    S.discharge(S.at("14:00"), transferred: true, infusion: S.inf2),
                    S.stock(
                        "StockReceived", S.at("07:00"),
                        #"{"drug":"ketamine","lot":"K-1","quantityMg":500.25,"supplier":"Hikma","invoice":"INV-7"}"#),
                    S.stock(
                        "StockWasted", S.at("10:10"),
                        #"{"lot":"K-1","quantityMg":3.85,"witness":"rn.kim","reason":"rest of the vial","infusion":"\#(S.inf)"}"#),
                    S.stock("StockDisposed", S.at("15:00"), #"{"lot":"K-1","quantityMg":10,"method":"destroyed","witness":"rn.kim"}"#),
                    S.stock("StockAdjusted", S.at("15:10"), #"{"lot":"K-1","quantityMg":-1,"reason":"breakage","witness":"rn.kim"}"#),
                    S.stock("InventoryCounted", S.at("16:00"), #"{"lot":"K-1","onHandMg":449,"kind":"routine"}"#),
                ])
            try S.load(
                store,
                [
                    line(
                        "EventVoided", patient: "P-1", at: S.at("12:00"), role: "clinician",
                        data: #"{"target":"\#(voidedObservation)","reason":"wrong chart"}"#)
                ])
            let today = Day(iso: String(EventMapping.formatMicros(SystemClock.nowMicros()).prefix(10))) ?? Day(ordinal: 0)
            let all = try FHIRExport.resources(store, from: S.d("2000-01-01"), to: today)
            func of(_ type: String) -> [JSONValue] { all.filter { member($0, "resourceType") == .string(type) } }
            func encounter(_ id: String) -> JSONValue? { of("Encounter").first { string(member($0, "id")) == id } }

            // Encounters: the session and the transfer.
            #expect(of("Encounter").count == 2)
            let e1 = encounter(S.inf)
            #expect(string(member(e1, "status")) == "finished")
            #expect(string(member(member(e1, "class"), "code")) == "AMB")
            #expect(string(member(member(e1, "period"), "start")) == "2026-11-02T09:00:00Z")
            #expect(string(member(member(e1, "period"), "end")) == "2026-11-02T11:00:00Z")
            #expect(member(e1, "hospitalization") == nil)
            let e2 = encounter(S.inf2)
            guard case .array(let codings)? = member(member(member(e2, "hospitalization"), "dischargeDisposition"), "coding") else {
                Issue.record("the transfer has no discharge disposition")
                return
            }
            #expect(string(member(codings.first, "code")) == "other-hcf")

            // Observations: BP panel, heart rate, SpO2, MOAA/S, CADSS, respiratory depression; not the voided one.
            let observations = of("Observation")
            #expect(observations.count == 6)
            func code(_ o: JSONValue) -> String? {
                guard case .array(let c)? = member(member(o, "code"), "coding") else { return nil }
                return string(member(c.first, "code"))
            }
            #expect(Set(observations.compactMap(code)) == ["85354-9", "8867-4", "59408-5", "moaas", "cadss", "respiratory-depression"])
            for o in observations {
                #expect(string(member(o, "status")) == "final")
                #expect(string(member(member(o, "encounter"), "reference")) == "Encounter/" + S.inf)
                #expect(string(member(member(member(o, "subject"), "identifier"), "value")) == "P-1")
            }
            let bp = observations.first { code($0) == "85354-9" }
            guard case .array(let components)? = member(bp, "component") else {
                Issue.record("no BP components")
                return
            }
            #expect(components.count == 2)
            #expect(string(member(member(observations.first { code($0) == "59408-5" }, "valueQuantity"), "unit")) == "%")
            #expect(member(observations.first { code($0) == "respiratory-depression" }, "valueBoolean") == .bool(false))
            #expect(!observations.contains { string(member($0, "id"))?.hasPrefix(voidedObservation) == true })

            // Stock: a SupplyDelivery with the lot and the quantity, AuditEvents for the rest.
            let deliveries = of("SupplyDelivery")
            #expect(deliveries.count == 1)
            #expect(member(member(member(deliveries.first, "suppliedItem"), "quantity"), "value") == .double(500.25))
            guard case .array(let contained)? = member(deliveries.first, "contained") else {
                Issue.record("no contained Medication")
                return
            }
            #expect(string(member(member(contained.first, "batch"), "lotNumber")) == "K-1")
            let stock = of("AuditEvent").filter { string(member($0, "id"))?.hasPrefix("stock-") == true }
            let kinds = stock.compactMap { a -> String? in
                guard case .array(let s)? = member(a, "subtype") else { return nil }
                return string(member(s.first, "code"))
            }
            #expect(kinds == ["wasted", "disposed", "adjusted", "counted"])
            let waste = stock.first
            guard case .array(let agents)? = member(waste, "agent"), case .array(let entities)? = member(waste, "entity") else {
                Issue.record("the waste has no agents or entity")
                return
            }
            #expect(agents.count == 2)
            #expect(string(member(member(member(agents.last, "who"), "identifier"), "value")) == "rn.kim")
            #expect(string(member(member(member(entities.first, "what"), "identifier"), "value")) == "K-1")
            #expect(string(member(entities.first, "description")) == "lot K-1: wasted 3.85 mg")
            #expect(FHIRExport.patients(in: all).contains("P-1"))

            guard let check = try validate(all) else {
                Issue.record("python3 with fhir.resources is not available (run tools/setup.sh): not validated")
                return
            }
            #expect(check.ok, "validate-fhir.py: \(check.output)")
        }
    }
}
