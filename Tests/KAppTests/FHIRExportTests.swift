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
        #expect(resources.count == total + reads + 2)
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
}
