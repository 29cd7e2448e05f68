import Foundation
import KApp
import KClinic
import Testing

/// The expected `query due`, `query audit` and `query alerts --all` answers kept beside the
/// fixtures (fixtures/expected/caseN.{due,audit,alerts}.json). Case 4's due and audit were worked
/// by hand from R10/R11; cases 1 and 3 were checked against an independent script of R10/R11.
@Suite struct FixtureMonitoringTests {
    static let cases: [(file: String, patient: String, on: String, name: String)] = [
        ("case1-long-term-maintenance.ndjson", "C1", "2026-11-20", "case1"),
        ("case2-successful-transition.ndjson", "C2", "2026-11-20", "case2"),
        ("case3-tolerance-management.ndjson", "C3", "2026-11-20", "case3"),
        ("case4-poorly-documented.ndjson", "C4", "2026-10-01", "case4"),
    ]

    func expected(_ name: String) throws -> JSONValue {
        let path = packageRoot.appendingPathComponent("fixtures/expected/\(name)").path
        let data = try #require(FileManager.default.contents(atPath: path), "missing \(path)")
        return try JSONParser.parse([UInt8](data))
    }

    @Test(arguments: [0, 1, 2, 3])
    func R10_R11_R7_dueAuditAndAlertsMatchTheExpectedFiles(_ index: Int) throws {
        let c = FixtureMonitoringTests.cases[index]
        let bytes = try #require(FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(c.file)").path))
        let due = try expected("\(c.name).due.json")
        let audit = try expected("\(c.name).audit.json")
        let alerts = try expected("\(c.name).alerts.json")
        try withStore { (store: ClinicStore) throws in
            _ = try Importer(store: store).importNDJSON([UInt8](bytes), source: c.file)
            let engine = ProjectionEngine(store: store)
            let day = Day(ordinal: Day(iso: c.on)?.ordinal ?? 0)
            #expect(JSONValue.array(try engine.due(patient: c.patient, on: day, asOf: nil).map(Views.due)) == due, "\(c.name) due")
            #expect(JSONValue.array(try engine.audit(patient: c.patient, on: day, asOf: nil).map(Views.audit)) == audit, "\(c.name) audit")
            let a = try engine.alerts(patient: c.patient, on: day, asOf: nil, all: true)
            #expect(JSONValue.array(a.map { Views.alert($0.1, patient: $0.0, on: day) }) == alerts, "\(c.name) alerts")
        }
    }

    @Test func R11_case4FindsExactlyTheFourDefects() throws {
        let audit = try expected("case4.audit.json")
        guard case .array(let findings) = audit else {
            Issue.record("not an array")
            return
        }
        let summary = findings.map { f -> String in
            let when = f["date"].map(Views.cell) ?? "\(f["periodStart"].map(Views.cell) ?? "")…\(f["periodEnd"].map(Views.cell) ?? "")"
            return "\(Views.cell(f["scope"] ?? .null)) \(when) \(Views.cell(f["missing"] ?? .null))"
        }
        #expect(
            summary == [
                #"baseline 2025-06-02 ["moca"]"#, #"visit 2025-07-24 ["vital-signs"]"#, #"visit 2025-11-17 ["vital-signs"]"#,
                #"quarter 2025-12-02…2026-03-01 ["goal-setting"]"#, #"visit 2026-04-27 ["vital-signs"]"#, #"visit 2026-07-02 ["consent"]"#,
            ])
    }
}
