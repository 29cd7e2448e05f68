import Foundation
import KApp
import KClinic
import KStore
import Testing

/// `kstore audit trail` (21 CFR 11.10(e)): corrections never hide what was recorded before.
@Suite struct AuditTrailTests {
    static let madrsBaseline = "00000000-0000-0000-0000-000000000003"  // W1 MADRS 32, rn.kim
    static let madrsDay3 = "00000000-0000-0000-0000-00000000000d"  // W1 MADRS 18, rn.kim
    static let vitals = "00000000-0000-0000-0000-000000000007"  // W1 vitals 124/78, rn.kim

    static func uuid(_ s: String) throws -> UUID { try #require(UUID(uuidString: s)) }

    /// W1 imported, its baseline MADRS amended 32 → 34 and a vitals entry voided, both by dr.hale.
    func correctedW1(_ body: (ClinicStore) throws -> Void) throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "EventAmended", patient: "W1", at: "2026-11-20T10:00:00-05:00", actor: "dr.hale", role: "clinician",
                        data:
                            #"{"target":"\#(Self.madrsBaseline)","reason":"transcription error: 34 on the paper form","data":{"value":34}}"#
                    ).utf8), source: "amend")
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "EventVoided", patient: "W1", at: "2026-11-20T10:05:00-05:00", actor: "dr.hale", role: "clinician",
                        data: #"{"target":"\#(Self.vitals)","reason":"entered on the wrong chart"}"#
                    ).utf8), source: "void")
            try body(store)
        }
    }

    static func w1Lines() throws -> [String] {
        String(decoding: try exampleBytes("w1.ndjson"), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func anAmendmentShowsTheOriginalValueBesideTheAmendedOneWithItsReason() throws {
        try correctedW1 { store in
            let trail = try AuditTrail.build(store, filter: .init(patient: "W1"))
            #expect(trail.entries.count == 174 + 2)
            let original = try #require(trail.entries.first { $0.record.eventId == (try? Self.uuid(Self.madrsBaseline)) })
            // The event as recorded: still 32.
            #expect(original.record.event.dataJSON["value"] == .int(32))
            #expect(original.record.actor == Actor(id: "rn.kim", role: .nurse))
            #expect(!original.voided)
            // Beside it, the amendment: who, why, 32 → 34, and what now stands.
            #expect(original.corrections.count == 1)
            let amendment = try #require(original.corrections.first)
            #expect(amendment.kind == .amended)
            #expect(amendment.record.actor == Actor(id: "dr.hale", role: .clinician))
            #expect(amendment.reason == "transcription error: 34 on the paper form")
            #expect(amendment.changes == [AuditTrail.Change(field: "value", before: .int(32), after: .int(34))])
            #expect(amendment.effectiveData?["value"] == .int(34))
            #expect(amendment.targetSequence == original.record.sequence)
            #expect(!amendment.voided)
            #expect(original.effectiveData?["value"] == .int(34))
            #expect(original.effectiveData?["instrument"] == .string("MADRS"))

            // The amendment is an event of its own too, naming the original and its recorded value.
            let asEntry = try #require(trail.entries.first { $0.record.sequence == amendment.record.sequence })
            #expect(asEntry.corrects?.record?.sequence == original.record.sequence)
            #expect(asEntry.corrects?.record?.event.dataJSON["value"] == .int(32))
            #expect(asEntry.corrections.isEmpty)

            // And in the JSON a reviewer reads.
            let json = AuditTrail.json(original)
            #expect(json["data"]?["value"] == .int(32))
            #expect(json["effectiveData"]?["value"] == .int(34))
            guard case .array(let cs)? = json["corrections"], let c = cs.first else {
                Issue.record("no corrections in \(JSONWriter.string(json))")
                return
            }
            #expect(c["type"] == .string("amended"))
            #expect(c["reason"] == .string("transcription error: 34 on the paper form"))
            #expect(c["actor"]?["id"] == .string("dr.hale"))
            #expect(c["fields"] == .object([("value", .int(34))]))
            #expect(c["changes"] == .array([.object([("field", .string("value")), ("before", .int(32)), ("after", .int(34))])]))
            #expect(c["voided"] == .bool(false))
        }
    }

    @Test func aVoidedEventIsStillListedWithTheVoidAndItsReason() throws {
        try correctedW1 { store in
            let trail = try AuditTrail.build(store, filter: .init(patient: "W1"))
            let voided = try #require(trail.entries.first { $0.record.eventId == (try? Self.uuid(Self.vitals)) })
            #expect(voided.record.event.dataJSON == .object([("systolic", .int(124)), ("diastolic", .int(78))]))
            #expect(voided.voided)
            #expect(voided.effectiveData == nil)
            let void = try #require(voided.corrections.first)
            #expect(voided.corrections.count == 1)
            #expect(void.kind == .voided)
            #expect(void.reason == "entered on the wrong chart")
            #expect(void.record.actor.id == "dr.hale")
            #expect(void.effectiveData == nil)
            #expect(voided.voidedBy == void.record.sequence)
            let json = AuditTrail.json(voided)
            #expect(json["voided"] == .bool(true))
            #expect(json["effectiveData"] == .null)
            #expect(json["data"]?["systolic"] == .int(124))
        }
    }

    @Test func voidingAnAmendmentUndoesItAndTheTrailShowsBoth() throws {
        try correctedW1 { store in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "EventAmended", patient: "W1", at: "2026-11-21T09:00:00-05:00", actor: "dr.hale", role: "clinician",
                        data: #"{"target":"\#(Self.madrsDay3)","reason":"typo","data":{"value":19}}"#
                    ).utf8), source: "a2")
            let before = try AuditTrail.build(store, filter: .init(patient: "W1", type: .eventAmended))
            let amendment = try #require(before.entries.last)
            #expect(amendment.corrects?.record?.event.dataJSON["value"] == .int(18))
            _ = try importer.importNDJSON(
                Array(
                    line(
                        "EventVoided", patient: "W1", at: "2026-11-21T09:05:00-05:00", actor: "dr.hale", role: "clinician",
                        data:
                            #"{"target":"\#(amendment.record.eventId.uuidString.lowercased())","reason":"the amendment was wrong: 18 stands"}"#
                    ).utf8), source: "v2")
            let trail = try AuditTrail.build(store, filter: .init(patient: "W1"))
            let original = try #require(trail.entries.first { $0.record.eventId == (try? Self.uuid(Self.madrsDay3)) })
            #expect(original.corrections.map(\.kind) == [.amended, .voided])
            #expect(original.corrections[0].voided)
            #expect(original.corrections[0].voidedBy == original.corrections[1].record.sequence)
            #expect(original.corrections[0].changes == [AuditTrail.Change(field: "value", before: .int(18), after: .int(19))])
            #expect(original.corrections[1].targetSequence == original.corrections[0].record.sequence)
            #expect(original.corrections[1].effectiveData?["value"] == .int(18))
            #expect(!original.voided)
            #expect(original.effectiveData?["value"] == .int(18))
            // The amendment's own entry: undone, with the void under it.
            let asEntry = try #require(trail.entries.first { $0.record.eventId == amendment.record.eventId })
            #expect(asEntry.voided)
            #expect(asEntry.corrections.map(\.kind) == [.voided])
        }
    }

    @Test func lateEntriesAreFlaggedAgainstTheRuleSetThreshold() throws {
        try withStore { (store: ClinicStore) throws in
            // Recorded now by the real clock: occurred 3 days ago (late), 2 hours ago (not late).
            let nowMillis = SystemClock.nowMicros() / 1000
            func ago(_ millis: Int64) -> String { Timestamp(epochMillis: nowMillis - millis, offsetMinutes: 0).rfc3339 }
            let text = [
                line("PatientEnrolled", patient: "L1", at: ago(3_600_000), actor: "dr.hale", role: "clinician", data: "{}"),
                line("ScoreRecorded", patient: "L1", at: ago(3 * 86_400_000), data: #"{"instrument":"MADRS","value":30}"#),
                line("ScoreRecorded", patient: "L1", at: ago(2 * 3_600_000), data: #"{"instrument":"PHQ2","value":3}"#),
            ].joined(separator: "\n")
            _ = try Importer(store: store).importNDJSON(Array(text.utf8), source: "late")
            let trail = try AuditTrail.build(store, filter: .init(patient: "L1"))
            #expect(trail.lateEntryHours == 24)
            #expect(trail.entries.map(\.late) == [false, true, false])
            let late = trail.entries[1]
            #expect(late.delayMicros >= 3 * 86_400_000_000)
            #expect(late.delayMicros < 3 * 86_400_000_000 + 600_000_000)
            #expect(AuditTrail.describeDelay(micros: late.delayMicros) == "3d 0h")
            #expect(trail.entries[2].delayMicros >= 2 * 3_600_000_000)
            #expect(AuditTrail.json(late)["late"] == .bool(true))
            #expect(AuditTrail.json(late)["delaySeconds"].map { if case .int(let s) = $0 { s >= 259_200 } else { false } } == true)
            let kim = try #require(trail.actors.first { $0.id == "rn.kim" })
            #expect(kim.events == 2)
            #expect(kim.lateEntries == 1)

            // A threshold of 72 h: 3 days and a few milliseconds is still late; 100 h is not.
            #expect(
                try AuditTrail.build(store, filter: .init(patient: "L1"), lateEntryHours: 72).entries.map(\.late) == [false, true, false])
            #expect(
                try AuditTrail.build(store, filter: .init(patient: "L1"), lateEntryHours: 100).entries.map(\.late) == [false, false, false])
        }
    }

    @Test func theThresholdIsARuleSetParameter() throws {
        #expect(RuleSet.default.lateEntryHours == 24)
        let r = try RuleSet.load(json: Array(#"{"version":"v","lateEntryHours":72}"#.utf8))
        #expect(r.lateEntryHours == 72)
        #expect(RuleSetJSON.json(r)["lateEntryHours"] == .int(72))
        for bad in ["0", "8761", "1.5", "true", "\"24\""] {
            #expect(throws: RuleSetError.self) { _ = try RuleSet.load(json: Array(#"{"version":"v","lateEntryHours":\#(bad)}"#.utf8)) }
        }
        #expect(try RuleSet.load(json: Array(#"{"version":"v","lateEntryHours":8760}"#.utf8)).lateEntryHours == 8760)
    }

    @Test func filtersByPatientActorTypeAndDate() throws {
        try correctedW1 { store in
            let lines = try Self.w1Lines()
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line("ScoreRecorded", patient: "OTHER", at: "2026-01-05T08:10:00-05:00", data: #"{"instrument":"MADRS","value":20}"#)
                        .utf8),
                source: "other")
            // Patient.
            let w1 = try AuditTrail.build(store, filter: .init(patient: "W1"))
            #expect(w1.entries.count == lines.count + 2)
            #expect(w1.entries.allSatisfy { $0.record.patient == "W1" })
            #expect(try AuditTrail.build(store, filter: .init(patient: "OTHER")).entries.count == 1)
            #expect(try AuditTrail.build(store, filter: .init(patient: "NOBODY")).entries.isEmpty)
            // The whole log: both patients and the store's own system events.
            let all = try AuditTrail.build(store)
            #expect(all.entries.count >= lines.count + 3)
            #expect(all.entries.map(\.record.sequence) == all.entries.map(\.record.sequence).sorted())
            // Actor: dr.hale's own events and both corrections, each correction naming its target.
            let hale = try AuditTrail.build(store, filter: .init(patient: "W1", actor: "dr.hale"))
            #expect(hale.entries.count == lines.filter { $0.contains(#""dr.hale""#) }.count + 2)
            #expect(hale.entries.allSatisfy { $0.record.actor.id == "dr.hale" })
            #expect(hale.entries.filter { $0.corrects != nil }.count == 2)
            // rn.kim's events still show the corrections dr.hale made to them.
            let kim = try AuditTrail.build(store, filter: .init(actor: "rn.kim"))
            #expect(kim.entries.count == lines.filter { $0.contains(#""rn.kim""#) }.count + 1)
            #expect(kim.entries.filter { !$0.corrections.isEmpty }.count == 2)
            // Type.
            let vitals = try AuditTrail.build(store, filter: .init(patient: "W1", type: .vitalsRecorded))
            #expect(vitals.entries.count == lines.filter { $0.contains("VitalsRecorded") }.count)
            #expect(vitals.entries.filter(\.voided).count == 1)
            let voids = try AuditTrail.build(store, filter: .init(type: .eventVoided))
            #expect(voids.entries.count == 1)
            #expect(voids.entries.first?.corrects?.record?.type == .vitalsRecorded)
            // Dates of occurrence: W1's first clinic day (12 events) and OTHER's score.
            let jan5 = Day(iso: "2026-01-05")
            let day1 = try AuditTrail.build(store, filter: .init(from: jan5, to: jan5, dates: .occurred))
            #expect(day1.entries.count == lines.filter { $0.contains(#""2026-01-05T"#) }.count + 1)
            // Dates of recording (UTC): everything here was recorded today.
            let today = AuditTrailTests.utcToday()
            #expect(try AuditTrail.build(store, filter: .init(patient: "W1", from: today, to: today)).entries.count == lines.count + 2)
            #expect(try AuditTrail.build(store, filter: .init(patient: "W1", to: today.adding(days: -1))).entries.isEmpty)
            #expect(try AuditTrail.build(store, filter: .init(patient: "W1", from: today.adding(days: 1))).entries.isEmpty)
            // A correction recorded outside the range is still shown under the event it corrects.
            let onlyJan5 = try AuditTrail.build(
                store, filter: .init(patient: "W1", type: .scoreRecorded, from: jan5, to: jan5, dates: .occurred))
            #expect(onlyJan5.entries.first { $0.record.eventId == (try? Self.uuid(Self.madrsBaseline)) }?.corrections.count == 1)
        }
    }

    @Test func thePerActorSummaryCountsEventsCorrectionsAndLateEntries() throws {
        try correctedW1 { store in
            let lines = try Self.w1Lines()
            let trail = try AuditTrail.build(store, filter: .init(patient: "W1"))
            #expect(trail.actors.map(\.id) == ["dr.hale", "rn.kim"])
            let hale = try #require(trail.actors.first)
            let kim = try #require(trail.actors.last)
            let haleLines = lines.filter { $0.contains(#""dr.hale""#) }.count
            let kimLines = lines.filter { $0.contains(#""rn.kim""#) }.count
            #expect(hale.role == .clinician && hale.roles == [.clinician])
            #expect(hale.events == haleLines + 2)
            #expect(hale.corrections == 2)
            #expect(hale.correctedByOthers == 0)
            #expect(kim.role == .nurse)
            #expect(kim.events == kimLines)
            #expect(kim.corrections == 0)
            #expect(kim.correctedByOthers == 2)
            // W1 happened January to November 2026 and was imported in one go since: every event
            // recorded more than a day after it occurred is late (the corrections were dated near
            // their recording and are not, unless this runs long after 2026-11-21).
            let nowMicros = SystemClock.nowMicros()
            let expectedLate = trail.entries.filter { nowMicros - $0.record.occurredAt.epochMillis * 1000 > 24 * 3_600_000_000 }
            #expect(kim.lateEntries == kimLines)
            #expect(hale.lateEntries + kim.lateEntries <= expectedLate.count)
            #expect(hale.lateEntries >= haleLines)
            let json = AuditTrail.json(kim)
            #expect(
                json
                    == .object([
                        ("id", .string("rn.kim")), ("role", .string("nurse")), ("roles", .array([.string("nurse")])),
                        ("events", .int(Int64(kimLines))), ("corrections", .int(0)), ("correctedByOthers", .int(2)),
                        ("lateEntries", .int(Int64(kimLines))),
                    ]))
        }
    }

    @Test func theJSONDocumentHasStableTopLevelKeys() throws {
        try correctedW1 { store in
            let trail = try AuditTrail.build(store, filter: .init(patient: "W1", type: .scoreRecorded))
            let doc = trail.json
            guard case .object(let members) = doc else {
                Issue.record("not an object")
                return
            }
            #expect(members.map(\.0) == ["filter", "lateEntryHours", "rulesVersion", "entries", "actors"])
            #expect(doc["filter"]?["patient"] == .string("W1"))
            #expect(doc["filter"]?["type"] == .string("ScoreRecorded"))
            #expect(doc["filter"]?["dates"] == .string("recorded"))
            guard case .array(let entries)? = doc["entries"], case .object(let first)? = entries.first else {
                Issue.record("no entries")
                return
            }
            #expect(
                first.map(\.0) == [
                    "sequence", "eventId", "type", "patient", "streamVersion", "occurredAt", "recordedAt", "actor", "osUser",
                    "schemaVersion", "data", "late", "delaySeconds", "voided", "voidedBy", "effectiveData", "corrects", "corrections",
                ])
            // The text round-trips through the strict parser.
            let text = JSONWriter.string(doc)
            #expect(try JSONParser.parse(Array(text.utf8)) == doc)
            // Written entry by entry (what the command prints), byte for byte the same line.
            var whole: [UInt8] = []
            JSONWriter.writeLine(doc, into: &whole)
            for chunk in [1, 64, 1 << 20] {
                var streamed: [UInt8] = []
                var flushes = 0
                trail.writeJSONLine(chunk: chunk) {
                    streamed += $0
                    flushes += 1
                }
                #expect(streamed == whole)
                if chunk == 1 { #expect(flushes == trail.entries.count + 1) }
            }
            let all = try AuditTrail.build(store)
            var a: [UInt8] = []
            JSONWriter.writeLine(all.json, into: &a)
            var b: [UInt8] = []
            all.writeJSONLine { b += $0 }
            #expect(a == b)
        }
    }

    static func utcToday() -> Day {
        Timestamp(epochMillis: SystemClock.nowMicros() / 1000, offsetMinutes: 0).clinicalDay
    }
}
