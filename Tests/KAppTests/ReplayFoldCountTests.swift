import Foundation
import KClinic
import KStore
import Testing

@testable import KApp

/// How often a command folds the log (`ProjectionEngine.eventsFolded`, the events its passes
/// read). A store without stored projections must be folded once by a full replay, not caught up
/// (which on such a store is itself a full replay) and then replayed again.
@Suite struct ReplayFoldCountTests {
    func examplesStore(_ body: (ClinicStore) throws -> Void) throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
                _ = try importer.importNDJSON(try exampleBytes(name), source: name)
            }
            try body(store)
        }
    }

    @Test(arguments: [1, 2])
    func aReplayOfAColdStoreFoldsTheLogOnce(threads: Int) throws {
        try examplesStore { store in
            let day = try #require(Day(iso: "2026-02-01"))
            let events = try store.log.count()
            let engine = ProjectionEngine(store: store)
            engine.replayThreads = threads
            #expect(try engine.storedCheckpoint() == nil)
            let report = try engine.replay(newRules: nil, apply: false, on: day)
            #expect(engine.eventsFolded == events, "a replay of a cold store folded \(engine.eventsFolded) events for a log of \(events)")
            #expect(report.eventsReplayed == events)
            #expect(report.changes.isEmpty)
            #expect(report.applied)
            #expect(try engine.storedCheckpoint()?.checkpoint == events)
            #expect(try LogAudit.verify(store).ok)
            // With projections stored, a replay folds the log once and a query folds nothing.
            #expect(try engine.replay(newRules: nil, apply: false, on: day).changes.isEmpty)
            #expect(engine.eventsFolded == 2 * events)
            _ = try engine.phase(patient: nil, on: day, asOf: nil)
            #expect(engine.eventsFolded == 2 * events)
        }
    }

    @Test func theFirstQueryAfterAnImportFoldsTheLogOnce() throws {
        try examplesStore { store in
            let day = try #require(Day(iso: "2026-02-01"))
            let events = try store.log.count()
            let engine = ProjectionEngine(store: store)
            let views = try engine.phase(patient: nil, on: day, asOf: nil)
            #expect(views.map(\.patient) == ["W1", "W2", "W3"])
            #expect(engine.eventsFolded == events)
            #expect(try engine.storedCheckpoint()?.checkpoint == events)
        }
    }
}
