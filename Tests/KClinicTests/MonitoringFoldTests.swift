import Foundation
import KBinary
import KClinic
import Testing

/// The monitoring fold: persistence, the combined fold against the phase fold, incremental
/// evolve against the fold.
@Suite struct MonitoringFoldTests {
    static func w3() -> [Recorded] { (try? loadNDJSON(ProtocolExampleData.w3)) ?? [] }

    /// Histories that fill every part of the state.
    static func histories() -> [History] {
        var missing = History("MISSING")
        missing.monitoredStart(.hybrid, omit: ["moca", "consent"])
        missing.documentedVisit("2026-01-23", omit: ["vital-signs", "consent"])
        missing.infusion("2026-02-01", .booster)
        missing.quarterItems("2026-03-01")
        missing.assessment("2026-06-01T11:00", .fullSafety)
        missing.discontinue("2026-07-10")
        missing.documentedVisit("2026-11-02")
        missing.discontinue("2026-12-01")

        var empty = History("EMPTY")
        empty.enrolled()

        var w3 = History("W3")
        w3.events = w3Events
        return [missing, empty, w3]
    }
    static let w3Events = w3()

    @Test func Persistence_monitoringStateRoundTripsThroughBytes() throws {
        for h in Self.histories() {
            for through in ["2026-01-04", "2026-02-15", "2026-08-01", "2027-02-01"] {
                let (_, m) = h.clinic(through: through)
                let bytes = m.binaryEncoded
                #expect(bytes.first == MonitoringState.binaryFormatVersion)
                #expect(try MonitoringState.decode(bytes: bytes) == m)
            }
        }
        let fresh = MonitoringState(patient: "NEW")
        #expect(try MonitoringState.decode(bytes: fresh.binaryEncoded) == fresh)
    }

    @Test func Persistence_truncatedWrongVersionOrTrailingBytesAreRejected() {
        guard let h = Self.histories().first else { return }
        let bytes = h.clinic(through: "2027-02-01").monitoring.binaryEncoded
        for n in 0..<bytes.count {
            #expect(throws: BinaryError.self) { try MonitoringState.decode(bytes: Array(bytes[0..<n])) }
        }
        var wrongVersion = bytes
        wrongVersion[0] = 99
        #expect(throws: BinaryError.self) { try MonitoringState.decode(bytes: wrongVersion) }
        #expect(throws: BinaryError.self) { try MonitoringState.decode(bytes: bytes + [0]) }
    }

    @Test func Fold_theCombinedFoldGivesThePhaseFoldsStateExactly() {
        for h in Self.histories() {
            for through in [nil, "2026-01-10", "2026-03-01"] {
                let combined = PatientProjection.fold(patient: h.patient, events: h.events, rules: .default, through: through.map(day))
                #expect(
                    combined.phase == PhaseProjection.fold(patient: h.patient, events: h.events, rules: .default, through: through.map(day))
                )
            }
        }
    }

    @Test func Fold_incrementalEvolveEqualsTheFold() {
        for h in Self.histories() {
            let sorted = h.events.sorted { OrderKey($0) < OrderKey($1) }
            var phase = PhaseState(patient: h.patient)
            var m = MonitoringState(patient: h.patient)
            var phase2 = PhaseState(patient: h.patient)
            var m2 = MonitoringState(patient: h.patient)
            for (i, e) in sorted.enumerated() {
                #expect(phase.isInOrder(e))
                PatientProjection.evolve(&phase, &m, e, rules: .default)
                PhaseProjection.evolve(&phase2, e, rules: .default)
                MonitoringProjection.evolve(&m2, e, phase: phase2, rules: .default)
                // Every prefix: the fold of the same events, as a checkpoint would hold it.
                #expect(m == PatientProjection.fold(patient: h.patient, events: Array(sorted[...i]), rules: .default).monitoring)
            }
            let folded = PatientProjection.fold(patient: h.patient, events: h.events, rules: .default)
            #expect(m == folded.monitoring)
            #expect(phase == folded.phase)
            #expect(m2 == folded.monitoring)
            #expect(phase2 == folded.phase)
        }
    }

    @Test func Fold_evolveFromADecodedCheckpointEqualsTheFold() throws {
        // Store the state after the first half, decode it, apply the rest.
        for h in Self.histories() {
            let sorted = h.events.sorted { OrderKey($0) < OrderKey($1) }
            let half = sorted.count / 2
            var phase = PhaseState(patient: h.patient)
            var m = MonitoringState(patient: h.patient)
            for e in sorted[..<half] { PatientProjection.evolve(&phase, &m, e, rules: .default) }
            phase = try PhaseState.decode(bytes: phase.binaryEncoded)
            m = try MonitoringState.decode(bytes: m.binaryEncoded)
            for e in sorted[half...] { PatientProjection.evolve(&phase, &m, e, rules: .default) }
            #expect(m == PatientProjection.fold(patient: h.patient, events: h.events, rules: .default).monitoring)
        }
    }

    @Test func Fold_systemEventsAndCorrectionsAreIgnoredByEvolve() {
        let (phase, m) = PatientProjection.fold(patient: "W3", events: Self.w3Events, rules: .default)
        var after = m
        let adopted = Recorded(
            sequence: 9_999, eventId: UUID(), patient: "W3", streamVersion: 999,
            occurredAt: History("W3").timestamp("2026-03-21"), recordedAtMicros: 0,
            actor: Actor(id: "admin", role: .admin), osUser: "test", schemaVersion: 1,
            event: .ruleSetAdopted(RuleSetAdopted(version: "x", contentHash: "h", content: "{}")))
        MonitoringProjection.evolve(&after, adopted, phase: phase, rules: .default)
        var voided = adopted
        voided.event = .eventVoided(EventVoided(target: UUID(), reason: "x"))
        MonitoringProjection.evolve(&after, voided, phase: phase, rules: .default)
        #expect(after == m)
    }

    @Test func Fold_eventsOfOtherPatientsAreIgnored() {
        var a = History("A")
        a.monitoredStart()
        var b = History("B")
        b.monitoredStart()
        b.documentedVisit("2026-01-23", omit: ["vital-signs"])
        let both =
            a.events
            + b.events.map { e in
                var e = e
                e.sequence += 10_000
                return e
            }
        let (phase, m) = PatientProjection.fold(patient: "A", events: both, rules: .default, through: day("2026-02-01"))
        #expect(m == a.clinic(through: "2026-02-01").monitoring)
        #expect(MonitoringProjection.audit(m, phase: phase, on: day("2026-02-01"), rules: .default) == [])
    }

    @Test func Fold_lastDoneByItemName() {
        let (_, m) = PatientProjection.fold(patient: "W3", events: Self.w3Events, rules: .default)
        #expect(m.lastDone("urinalysis") == day("2026-01-05"))
        #expect(m.lastDone("psychiatric-assessment") == day("2026-03-20"))
        #expect(m.lastDone("goal-setting") == nil)
        #expect(m.lastDone("no-such-item") == nil)
        #expect(m.t0 == day("2026-01-05"))
    }
}
