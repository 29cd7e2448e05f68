import Foundation
import KApp
import KClinic
import KStore
import Testing

/// The guide's three case histories (fixtures/case*.ndjson) against the phase answers kept
/// beside them in fixtures/expected/case*.phase.json. Each expected entry is
/// `{"on": DATE, "why": SENTENCE, "phase": <the object `kstore query phase --json` prints>}`;
/// every value was worked by hand from spec/protocol.md before being checked against kstore.
@Suite struct FixtureExpectationTests {
    /// R2, R3, R4, R5: acute series, response, then the whole default ladder 7 → 10 → 14 → 21 → 28
    /// with phases frequency-finding → optimization → long-term; no step back (R6).
    @Test func case1_R2_R3_R4_R5_ladderWalkedToMonthly() throws {
        try check(patient: "C1", fixture: "case1-long-term-maintenance.ndjson", expected: "case1.phase.json")
    }

    /// R4, R6 (clinician holds at 14 days), R8 (two-step taper, completion, discontinuation, no
    /// relapse), R9 (status taper / discontinued, nadir whatever the status).
    @Test func case2_R4_R6_R8_R9_taperToDiscontinuation() throws {
        try check(patient: "C2", fixture: "case2-successful-transition.ndjson", expected: "case2.phase.json")
    }

    /// R2 (pending response), R4, R6 (two step backs, nadir restart, ScheduleAdjusted 7),
    /// R8 (drug holiday and resume at 14 days), R9.
    @Test func case3_R2_R4_R6_R8_R9_stepBacksHolidayAndResume() throws {
        try check(patient: "C3", fixture: "case3-tolerance-management.ndjson", expected: "case3.phase.json")
    }

    private func check(patient: String, fixture: String, expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fixtures = packageRoot.appendingPathComponent("fixtures")
        let history = try #require(
            FileManager.default.contents(atPath: fixtures.appendingPathComponent(fixture).path),
            "missing fixture \(fixture)", sourceLocation: sourceLocation)
        let expectedData = try #require(
            FileManager.default.contents(atPath: fixtures.appendingPathComponent("expected").appendingPathComponent(expected).path),
            "missing expected file \(expected)", sourceLocation: sourceLocation)
        guard case .array(let entries) = try JSONParser.parse([UInt8](expectedData)) else {
            Issue.record("\(expected) is not a JSON array", sourceLocation: sourceLocation)
            return
        }
        #expect(entries.count >= 5, "\(expected): fewer than 5 dates", sourceLocation: sourceLocation)

        try withStore { (store: ClinicStore) throws in
            let summary = try Importer(store: store).importNDJSON([UInt8](history), source: fixture)
            #expect(summary.imported > 0 && summary.duplicates == 0, sourceLocation: sourceLocation)
            let engine = ProjectionEngine(store: store)
            var previous: Day?
            for entry in entries {
                guard case .string(let on)? = entry["on"], let day = Day(iso: on) else {
                    Issue.record("\(expected): entry without a valid \"on\" date", sourceLocation: sourceLocation)
                    continue
                }
                if let previous { #expect(previous < day, "\(expected): dates not sorted at \(on)", sourceLocation: sourceLocation) }
                previous = day
                guard case .string(let why)? = entry["why"], !why.isEmpty else {
                    Issue.record("\(expected) \(on): missing \"why\"", sourceLocation: sourceLocation)
                    continue
                }
                let want = try #require(entry["phase"], "\(expected) \(on): missing \"phase\"", sourceLocation: sourceLocation)
                let view = try #require(
                    try engine.phase(patient: patient, on: day, asOf: nil).first,
                    "\(patient) has no phase on \(on)", sourceLocation: sourceLocation)
                let got = Views.phase(view)
                #expect(
                    got == want,
                    "\(patient) on \(on) (\(why))\n  expected \(JSONWriter.string(want))\n  actual   \(JSONWriter.string(got))",
                    sourceLocation: sourceLocation)
            }
        }
    }
}
