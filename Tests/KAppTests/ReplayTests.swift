import Foundation
import KApp
import KClinic
import KStore
import Testing

@Suite struct ReplayTests {
    func examplesStore(_ body: (ClinicStore) throws -> Void) throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
                _ = try importer.importNDJSON(try exampleBytes(name), source: name)
            }
            try body(store)
        }
    }

    let day = Day(iso: "2026-02-01") ?? Day(ordinal: 0)

    @Test func R4_aShorterFirstRungReportsExactlyTheChangedSchedulesAndApplyMakesQueriesAgree() throws {
        try examplesStore { store in
            let engine = ProjectionEngine(store: store)
            var rules = RuleSet.default
            rules.version = "clinic-7x2"
            rules.ladder[0].treatments = 2
            // On Feb 1 W1 and W2 have had two stable weekly maintenance infusions (Jan 23, 30):
            // under 7 × 2 the ladder has extended to 10 days, so the next infusion moves from
            // Feb 6 (Jan 30 + 7) to Feb 9 (Jan 30 + 10). W3's MADRS 6 on Jan 30 is a step back
            // (R6: 6 > 4 × 1.25 and 6 − 4 ≥ 2) at the first rung, count 0, so its Jan 30 infusion
            // is the first at 7 days either way: only the treatments required change (4 → 2).
            let report = try engine.replay(newRules: rules, apply: false, on: day)
            #expect(report.rulesBefore == "kstore-default-1")
            #expect(report.rulesAfter == "clinic-7x2")
            #expect(report.applied == false)
            let due = report.changes.filter { $0.field == "nextInfusionDue" }
            #expect(due.map(\.patient) == ["W1", "W2"])
            #expect(report.changes.filter { $0.patient == "W3" }.map(\.field) == ["interval.requiredBeforeExtension"])
            #expect(due.allSatisfy { $0.before == .string("2026-02-06") && $0.after == .string("2026-02-09") })
            let w1 = report.changes.filter { $0.patient == "W1" }.map { "\($0.field):\(Views.cell($0.before))→\(Views.cell($0.after))" }
            #expect(
                w1 == [
                    "interval.days:7→10", "interval.treatmentsAtInterval:2→0", "interval.requiredBeforeExtension:4→3",
                    "nextInfusionDue:2026-02-06→2026-02-09",
                ])
            // Nothing was adopted: queries still answer under the defaults.
            #expect(try engine.phase(patient: "W1", on: day, asOf: nil).first?.nextInfusionDue == Day(iso: "2026-02-06"))
            #expect(try engine.rulesInForce().rules.version == "kstore-default-1")

            let applied = try engine.replay(newRules: rules, apply: true, on: day)
            #expect(applied.applied)
            #expect(applied.changes == report.changes)
            #expect(try engine.rulesInForce().rules.version == "clinic-7x2")
            for c in due {
                #expect(
                    try engine.phase(patient: c.patient, on: day, asOf: nil).first?.nextInfusionDue.map { JSONValue.string($0.description) }
                        == c.after)
            }
            // The adoption is in the log, in the rules stream.
            let adopted = try store.log.read { reader in
                try reader.streamSequences("$rules").compactMap { try reader.record($0).map(EventMapping.recorded) }
            }
            #expect(adopted.count == 1)
            guard case .ruleSetAdopted(let a) = adopted.first?.event else {
                Issue.record("no RuleSetAdopted")
                return
            }
            #expect(a.version == "clinic-7x2")
            #expect(try LogAudit.verify(store).ok)
            // A second replay under the same rules changes nothing.
            #expect(try engine.replay(newRules: nil, apply: false, on: day).changes.isEmpty)
        }
    }

    /// W1 split into everything but its response-assessment MADRS (Jan 19), and that line.
    static func w1WithoutAssessment() throws -> (early: String, late: String) {
        let lines = String(decoding: try exampleBytes("w1.ndjson"), as: UTF8.self).split(separator: "\n").map(String.init)
        var early: [String] = []
        var late = ""
        for l in lines {
            if late.isEmpty && l.contains("2026-01-19T") && l.contains("MADRS") { late = l } else { early.append(l) }
        }
        return (early.joined(separator: "\n"), late)
    }

    @Test func R2_asOfBeforeALateRecordedScoreAnswersWhatTheRecordShowedThen() throws {
        let (early, late) = try ReplayTests.w1WithoutAssessment()
        #expect(!late.isEmpty)
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(Array(early.utf8), source: "w1-early")
            usleep(2000)
            let between = SystemClock.nowMicros()
            usleep(2000)
            _ = try importer.importNDJSON(Array(late.utf8), source: "late")
            let engine = ProjectionEngine(store: store)
            let on = Day(ordinal: Day(iso: "2026-01-20")?.ordinal ?? 0)
            let then = try engine.phase(patient: "W1", on: on, asOf: between)
            #expect(then.first?.responseStatus == .pending)
            #expect(then.first?.status == .awaitingResponse)
            #expect(then.count == 1 && then.first?.nextInfusionDue == nil)
            let now = try engine.phase(patient: "W1", on: on, asOf: nil)
            #expect(now.first?.responseStatus == .responder)
            #expect(now.first?.nextInfusionDue == Day(iso: "2026-01-23"))
        }
    }

    @Test func catchUpAppliesOnlyNewEventsAndAgreesWithAFullReplay() throws {
        try examplesStore { store in
            let engine = ProjectionEngine(store: store)
            let on = Day(iso: "2026-11-20")!
            _ = try engine.phase(patient: nil, on: on, asOf: nil)  // stores projections at the head
            // A late-recorded MADRS for W1 (occurred in March) and an amendment of W2's baseline.
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(
                Array(
                    line("ScoreRecorded", patient: "W1", at: "2026-03-05T08:00:00-05:00", data: #"{"instrument":"MADRS","value":9}"#).utf8),
                source: "late")
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "EventAmended", patient: "W2", at: "2026-11-20T10:00:00-05:00", role: "clinician",
                        data: #"{"target":"00000000-0000-0000-0000-0000000000b1","reason":"transcription","data":{"value":36}}"#
                    ).utf8), source: "amend")
            let caughtUp = try engine.phase(patient: nil, on: on, asOf: nil).map(Views.phase)
            let report = try engine.replay(newRules: nil, apply: true, on: on)
            #expect(report.changes.isEmpty, "\(report.changes)")
            #expect(try engine.phase(patient: nil, on: on, asOf: nil).map(Views.phase) == caughtUp)
            let w2 = try #require(try engine.phase(patient: "W2", on: on, asOf: nil).first)
            #expect(w2.baselineMadrs == 36)
        }
    }

    @Test func anEvaluationDateBeforeTheLatestEventRefoldsThatPatient() throws {
        try examplesStore { store in
            let engine = ProjectionEngine(store: store)
            _ = try engine.phase(patient: nil, on: Day(iso: "2026-11-20")!, asOf: nil)
            let early = try #require(try engine.phase(patient: "W1", on: Day(iso: "2026-01-20")!, asOf: nil).first)
            #expect(early.nextInfusionDue == Day(iso: "2026-01-23"))
            #expect(try engine.phase(patient: "W1", on: Day(iso: "2026-01-04")!, asOf: nil).isEmpty)
        }
    }
}

@Suite struct ReplayEquivalenceTests {
    /// The streaming replay (corrections applied from a pre-pass, patients interleaved) must
    /// give exactly what folding each patient alone from its stream gives.
    @Test func streamingReplayEqualsPerPatientFoldOnAGeneratedClinic() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let gen = try run(
            "/usr/bin/env",
            [
                "python3", packageRoot.appendingPathComponent("tools/generate-clinic.py").path,
                "--patients", "40", "--seed", "3", "--start", "2024-11-01", "--days", "730", "--out", out,
            ])
        try #require(gen.status == 0, "\(gen.stderr)")
        let bytes = try #require(FileManager.default.contents(atPath: out))
        try withStore { (store: ClinicStore) throws in
            let summary = try Importer(store: store).importNDJSON([UInt8](bytes), source: "gen")
            #expect(summary.imported > 10_000)
            let engine = ProjectionEngine(store: store)
            let patients = try store.log.read { reader in
                try reader.streams().map(\.stream).filter { !$0.hasPrefix("$") }
            }
            #expect(patients.count == 40)
            try engine.rebuildStored()
            for on in ["2025-03-01", "2026-10-31", "2026-11-26"] {
                let day = try #require(Day(iso: on))
                let streamed = try engine.phase(patient: nil, on: day, asOf: nil).map(Views.phase)
                // --as-of far in the future: every patient refolded alone from its stream.
                let alone = try engine.phase(patient: nil, on: day, asOf: Int64.max / 2).map(Views.phase)
                #expect(streamed == alone, "on \(on)")
            }
        }
    }

    /// A full replay split across threads by patient gives exactly the single-threaded one:
    /// every phase field, due date, audit finding and alert, for every thread count.
    @Test func parallelReplayEqualsSingleThreadedOnAGeneratedClinic() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let gen = try run(
            "/usr/bin/env",
            [
                "python3", packageRoot.appendingPathComponent("tools/generate-clinic.py").path,
                "--patients", "30", "--seed", "11", "--start", "2024-11-01", "--days", "730", "--out", out,
            ])
        try #require(gen.status == 0, "\(gen.stderr)")
        let bytes = try #require(FileManager.default.contents(atPath: out))
        try withStore { (store: ClinicStore) throws in
            let summary = try Importer(store: store).importNDJSON([UInt8](bytes), source: "gen")
            #expect(summary.imported > 10_000)
            let day = try #require(Day(iso: "2026-10-31"))
            func everything(threads: Int) throws -> (
                phase: [PhaseView], due: [DueItem], audit: [AuditFinding], alerts: [String], events: UInt64
            ) {
                let engine = ProjectionEngine(store: store)
                engine.replayThreads = threads
                let n = try engine.rebuildStored()
                let alerts = try engine.alerts(patient: nil, on: day, asOf: nil, all: true).map { "\($0.0) \($0.1)" }
                return (
                    try engine.phase(patient: nil, on: day, asOf: nil), try engine.due(patient: nil, on: day, asOf: nil),
                    try engine.audit(patient: nil, on: day, asOf: nil), alerts, n
                )
            }
            let one = try everything(threads: 1)
            #expect(one.phase.count == 30)
            #expect(!one.due.isEmpty && !one.audit.isEmpty && !one.alerts.isEmpty)
            for threads in [2, 3, 5] {
                let many = try everything(threads: threads)
                #expect(many.events == one.events, "\(threads) threads")
                #expect(many.phase.map(Views.phase) == one.phase.map(Views.phase), "\(threads) threads")
                #expect(many.due == one.due, "\(threads) threads")
                #expect(many.audit == one.audit, "\(threads) threads")
                #expect(many.alerts == one.alerts, "\(threads) threads")
            }
        }
    }
}

@Suite struct ReplayMonitoringTests {
    @Test func R10_urinalysisEveryTwoToFourMonthsChangesExactlyEachPatientsUrinalysisDueBy() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            for name in [
                "case1-long-term-maintenance", "case2-successful-transition", "case3-tolerance-management", "case4-poorly-documented",
            ] {
                let bytes = try #require(
                    FileManager.default.contents(atPath: packageRoot.appendingPathComponent("fixtures/\(name).ndjson").path))
                _ = try importer.importNDJSON([UInt8](bytes), source: name)
            }
            for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] { _ = try importer.importNDJSON(try exampleBytes(name), source: name) }
            let engine = ProjectionEngine(store: store)
            let day = Day(ordinal: Day(iso: "2026-11-20")?.ordinal ?? 0)
            var rules = RuleSet.default
            rules.version = "urinalysis-2-4"
            let i = try #require(rules.monitoring.firstIndex { $0.name == "urinalysis" })
            rules.monitoring[i].dueFrom = .months(2)
            rules.monitoring[i].dueBy = .months(4)
            let before = Dictionary(
                uniqueKeysWithValues: try engine.due(patient: nil, on: day, asOf: nil)
                    .filter { $0.item == "urinalysis" }.map { ($0.patient, $0) })
            let report = try engine.replay(newRules: rules, apply: false, on: day)
            // Every patient with a urinalysis item (C2 is discontinued: none listed), dueBy only.
            #expect(report.changes.map(\.field).allSatisfy { $0 == "due.urinalysis.dueBy" }, "\(report.changes)")
            #expect(report.changes.map(\.patient) == ["C1", "C3", "C4", "W1", "W2", "W3"])
            for c in report.changes {
                let anchor = try #require(before[c.patient]?.lastDone)
                #expect(c.after == .string(anchor.adding(months: 4).description), "\(c.patient)")
                #expect(c.before == .string(anchor.adding(months: 6).description), "\(c.patient)")
            }
            // Adopted, the stored projections answer with the new dates.
            _ = try engine.replay(newRules: rules, apply: true, on: day)
            let after = try engine.due(patient: "C1", on: day, asOf: nil).first { $0.item == "urinalysis" }
            #expect(after?.dueBy.map { JSONValue.string($0.description) } == report.changes.first?.after)
        }
    }
}
