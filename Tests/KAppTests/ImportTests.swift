import Foundation
import KApp
import KClinic
import KStore
import Testing

@Suite struct ImportTests {
    @Test func theWorkedExamplesImportAndVerify() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let base = try store.log.count()  // the actor registrations
            var total = 0
            for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
                total += try importer.importNDJSON(try exampleBytes(name), source: name).imported
            }
            #expect(total == 379)
            #expect(try LogAudit.verify(store).ok)
            // Round trip: every stored event decodes to what its line said.
            let w1 = try exampleBytes("w1.ndjson")
            let lines = String(decoding: w1, as: UTF8.self).split(separator: "\n")
            var decoded: [Recorded] = []
            try store.log.scan(from: base + 1, through: base + UInt64(lines.count)) {
                decoded.append(try EventMapping.recorded($0))
                return true
            }
            for (l, r) in zip(lines, decoded) {
                let incoming = try IncomingEvent.parse(line: Array(l.utf8).withUnsafeBytes { UnsafeRawBufferPointer($0) }, now: store.now)
                #expect(incoming.event == r.event)
                #expect(incoming.eventId == r.eventId)
                #expect(incoming.occurredAt == r.occurredAt)
                #expect(incoming.actor == r.actor)
            }
        }
    }

    @Test func reimportingAFileSkipsEveryEventAsADuplicate() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let bytes = try exampleBytes("w2.ndjson")
            let base = try store.log.count()
            let first = try importer.importNDJSON(bytes, source: "w2")
            let second = try importer.importNDJSON(bytes, source: "w2")
            #expect(first.imported == 118 && first.duplicates == 0)
            #expect(second == ImportSummary(imported: 0, duplicates: 118))
            #expect(try store.log.count() == base + 118)
        }
    }

    @Test func linesWithoutEventIdsAreIdempotentToo() throws {
        try withStore { (store: ClinicStore) throws in
            let text = (0..<10).map {
                line("ScoreRecorded", at: "2026-01-0\($0 % 9 + 1)T08:00:00-05:00", data: #"{"instrument":"MADRS","value":\#($0)}"#)
            }
            .joined(separator: "\n")
            let importer = Importer(store: store)
            #expect(try importer.importNDJSON(Array(text.utf8), source: "a").imported == 10)
            #expect(try importer.importNDJSON(Array(text.utf8), source: "a").duplicates == 10)
        }
    }

    @Test func oneBadLineLeavesTheStoreUntouched() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let base = try store.log.count()
            _ = try importer.importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            var lines = String(decoding: try exampleBytes("w2.ndjson"), as: UTF8.self).split(separator: "\n").map(String.init)
            let bad = try #require(lines.indices.first { $0 >= 60 && lines[$0].contains(#""instrument": "MADRS", "value": "#) })
            lines[bad] = lines[bad].replacingOccurrences(of: #""value": "#, with: #""value": -"#)
            #expect(throws: AppError.self) {
                _ = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "w2-bad")
            }
            do {
                _ = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "w2-bad")
            } catch let e as AppError {
                #expect(e.exitCode == 65)
                guard case .badInput(let msgs) = e else {
                    Issue.record("expected bad input")
                    return
                }
                #expect(msgs.count == 1)
                #expect(msgs[0].description.hasPrefix("w2-bad:\(bad + 1): data.value: "), "\(msgs[0])")
            }
            #expect(try store.log.count() == base + 174)
        }
    }

    @Test func aBadLineFoundOnlyByTheStoreStillWritesNothing() throws {
        // A correction whose target is missing is found inside the transaction, after many
        // valid lines already appended in it: nothing of the file may be written.
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let base = try store.log.count()
            var lines = (0..<100).map {
                line(
                    "ScoreRecorded", patient: "P-\($0 % 3)", at: "2026-01-05T09:\(String(format: "%02d", $0 % 60)):00-05:00",
                    data: #"{"instrument":"PHQ2","value":\#($0 % 7)}"#)
            }
            lines.append(line("EventVoided", role: "nurse", data: #"{"target":"7d444840-9dc0-11d1-b245-5ffdce74fad2","reason":"x"}"#))
            #expect(throws: AppError.self) { _ = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "f") }
            #expect(try store.log.count() == base)
        }
    }

    @Test func theStoreChecksOfALineSeeTheFilesOwnEarlierLines() throws {
        // A correction of an event earlier in the same file is accepted, and its refusals
        // (already voided, a second enrolment, a stale expectedVersion) abort the whole file.
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let base = try store.log.count()
            let a = "3f2a0000-0000-4000-8000-0000000000a1"
            var lines = [line("PatientEnrolled", patient: "P-9", role: "clinician", data: #"{"protocol":"hybrid"}"#)]
            lines += (0..<6).map {
                line("ScoreRecorded", patient: "P-9", at: "2026-01-05T09:0\($0):00-05:00", data: #"{"instrument":"MADRS","value":\#($0)}"#)
            }
            lines.append(
                line("ScoreRecorded", patient: "P-9", at: "2026-01-05T10:00:00-05:00", data: #"{"instrument":"MADRS","value":9}"#, id: a))
            lines.append(
                line(
                    "EventAmended", patient: "P-9", at: "2026-01-05T10:05:00-05:00", role: "clinician",
                    data: #"{"target":"\#(a)","reason":"typo","data":{"value":8}}"#))
            lines.append(
                line(
                    "EventVoided", patient: "P-9", at: "2026-01-05T10:06:00-05:00", role: "clinician",
                    data: #"{"target":"\#(a)","reason":"wrong chart"}"#))
            func refused(_ extra: String, _ needle: String, exitCode: Int32 = 65) {
                do {
                    _ = try importer.importNDJSON(Array((lines + [extra]).joined(separator: "\n").utf8), source: "f")
                    Issue.record("expected a refusal: \(needle)")
                } catch {
                    #expect(error.exitCode == exitCode)
                    #expect(error.description.contains(needle), "\(error.description)")
                    #expect(error.description.contains("f:\(lines.count + 1): "), "\(error.description)")
                }
                #expect((try? store.log.count()) == base)
            }
            refused(
                line(
                    "EventVoided", patient: "P-9", at: "2026-01-05T10:07:00-05:00", role: "clinician",
                    data: #"{"target":"\#(a)","reason":"again"}"#), "already voided")
            refused(
                line(
                    "PatientEnrolled", patient: "P-9", at: "2026-01-06T09:00:00-05:00", role: "clinician", data: #"{"protocol":"hybrid"}"#),
                "already enrolled")
            refused(
                line(
                    "ScoreRecorded", patient: "P-9", at: "2026-01-06T09:00:00-05:00", data: #"{"instrument":"MADRS","value":1}"#,
                    expected: 3), "expected version 3", exitCode: 3)
            let s = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "f")
            #expect(s == ImportSummary(imported: 10, duplicates: 0, firstSequence: base + 1, lastSequence: base + 10))
            #expect(try LogAudit.verify(store).ok)
        }
    }

    @Test func oneImporterSeesActorsAndRulesChangedBetweenItsImports() throws {
        // The importer keeps the registry between imports while `$actors` and `$rules` are
        // unchanged; a retirement, a registration or an adopted rule set is seen by the next one.
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            var minute = 0
            func score(_ actor: String = "rn.kim") -> [UInt8] {
                minute += 1
                return Array(
                    line(
                        "ScoreRecorded", at: "2026-01-05T10:\(String(format: "%02d", minute)):00-05:00", actor: actor,
                        data: #"{"instrument":"MADRS","value":5}"#
                    ).utf8)
            }
            func assessment() -> [UInt8] {
                minute += 1
                return Array(
                    line(
                        "AssessmentRecorded", at: "2026-01-05T10:\(String(format: "%02d", minute)):00-05:00",
                        data: #"{"kind":"treatment-response"}"#
                    ).utf8)
            }
            func exitCode(_ bytes: [UInt8]) -> Int32 {
                switch Result(catching: { () throws(AppError) in try importer.importNDJSON(bytes, source: "s") }) {
                case .success: return 0
                case .failure(let error): return error.exitCode
                }
            }
            #expect(exitCode(score()) == 0)
            #expect(exitCode(score("rn.new")) == 77)
            try Actors.add(store, id: "rn.new", role: .nurse, osUser: store.osUser)
            #expect(exitCode(score("rn.new")) == 0)
            try Actors.retire(store, id: "rn.new")
            #expect(exitCode(score("rn.new")) == 77)
            #expect(exitCode(assessment()) == 77)
            let rules = try RuleSet.load(
                json: Array(#"{"version":"nurse-assessments","permissions":{"nurse":["ScoreRecorded","AssessmentRecorded"]}}"#.utf8))
            _ = try ProjectionEngine(store: store).replay(newRules: rules, apply: true, on: Day(ordinal: 20_500))
            #expect(exitCode(assessment()) == 0)
        }
    }

    @Test func aLargeFileCommitsWithGaplessSequences() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let base = try store.log.count()
            let lines = (0..<1050).map {
                line(
                    "VitalsRecorded", patient: "P-\($0 % 13)", at: "2026-01-05T09:00:00-05:00",
                    data: #"{"systolic":\#(100 + $0 % 100),"diastolic":70}"#)
            }
            let s = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "big")
            #expect(s == ImportSummary(imported: 1050, duplicates: 0, firstSequence: base + 1, lastSequence: base + 1050))
            #expect(try store.log.read { try $0.streamVersion("P-0") } == 81)
            #expect(try LogAudit.verify(store).ok)
        }
    }

    @Test func staleExpectedVersionIsAConflict() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(Array(line("ScoreRecorded", data: #"{"instrument":"MADRS","value":5}"#).utf8), source: "a")
            do {
                _ = try importer.importNDJSON(
                    Array(
                        line("ScoreRecorded", at: "2026-01-06T09:00:00-05:00", data: #"{"instrument":"MADRS","value":6}"#, expected: 0).utf8
                    ), source: "b")
                Issue.record("expected a conflict")
            } catch let e as AppError {
                #expect(e.exitCode == 3)
                #expect(e.description.contains("expected version 0"))
                #expect(e.description.contains("at 1"))
            }
            let ok = try importer.importNDJSON(
                Array(line("ScoreRecorded", at: "2026-01-06T09:00:00-05:00", data: #"{"instrument":"MADRS","value":6}"#, expected: 1).utf8),
                source: "c")
            #expect(ok.imported == 1)
        }
    }

    @Test func sameEventIdWithOtherContentIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let id = "3f2a0000-0000-4000-8000-000000000001"
            let seq = try #require(
                try importer.importNDJSON(
                    Array(line("ScoreRecorded", data: #"{"instrument":"MADRS","value":5}"#, id: id).utf8), source: "a"
                ).firstSequence)
            let refused = LineError(
                file: "b", line: 1, field: "eventId",
                problem:
                    "eventId 3f2a0000-0000-4000-8000-000000000001 is already recorded (sequence \(seq)) with different content; send a new eventId or correct the original with amend/void"
            )
            #expect(
                refused.description
                    == "b:1: eventId: eventId 3f2a0000-0000-4000-8000-000000000001 is already recorded (sequence \(seq)) with different content; send a new eventId or correct the original with amend/void"
            )
            #expect(throws: AppError.badInput([refused])) {
                _ = try importer.importNDJSON(
                    Array(line("ScoreRecorded", data: #"{"instrument":"MADRS","value":6}"#, id: id).utf8), source: "b")
            }
        }
    }

    @Test func correctionsMustTargetAnEventOfTheSamePatientThatIsNotVoided() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let a = "3f2a0000-0000-4000-8000-00000000000a"
            let b = "3f2a0000-0000-4000-8000-00000000000b"
            _ = try importer.importNDJSON(
                Array(
                    (line("ScoreRecorded", patient: "P-1", data: #"{"instrument":"MADRS","value":5}"#, id: a) + "\n"
                        + line("ScoreRecorded", patient: "P-2", data: #"{"instrument":"MADRS","value":5}"#, id: b)).utf8), source: "seed")
            func refused(_ l: String, _ needle: String) {
                do {
                    _ = try importer.importNDJSON(Array(l.utf8), source: "c")
                    Issue.record("expected a refusal: \(needle)")
                } catch {
                    #expect(error.exitCode == 65)
                    #expect(error.description.contains(needle), "\(error.description)")
                }
            }
            refused(line("EventVoided", patient: "P-1", role: "clinician", data: #"{"target":"\#(b)","reason":"x"}"#), "another stream")
            refused(
                line(
                    "EventVoided", patient: "P-1", role: "clinician",
                    data: #"{"target":"3f2a0000-0000-4000-8000-0000000000ff","reason":"x"}"#), "no event")
            refused(
                line("EventAmended", patient: "P-1", role: "clinician", data: #"{"target":"\#(a)","reason":"x","data":{"value":61}}"#),
                "c:1: data.data.value")
            _ = try importer.importNDJSON(
                Array(
                    line("EventAmended", patient: "P-1", role: "clinician", data: #"{"target":"\#(a)","reason":"typo","data":{"value":6}}"#)
                        .utf8), source: "ok")
            _ = try importer.importNDJSON(
                Array(line("EventVoided", patient: "P-1", role: "clinician", data: #"{"target":"\#(a)","reason":"wrong chart"}"#).utf8),
                source: "ok")
            refused(
                line(
                    "EventVoided", patient: "P-1", at: "2026-01-05T10:00:00-05:00", role: "clinician",
                    data: #"{"target":"\#(a)","reason":"again"}"#), "already voided")
            refused(
                line(
                    "EventAmended", patient: "P-1", at: "2026-01-05T10:00:00-05:00", role: "clinician",
                    data: #"{"target":"\#(a)","reason":"y","data":{"value":7}}"#), "already voided")
            #expect(try LogAudit.verify(store).ok)
        }
    }

    @Test func aSecondEnrolmentIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(
                Array(line("PatientEnrolled", role: "clinician", data: #"{"protocol":"hybrid"}"#).utf8), source: "a")
            #expect(throws: AppError.self) {
                _ = try importer.importNDJSON(
                    Array(line("PatientEnrolled", at: "2026-01-06T09:00:00-05:00", role: "clinician", data: #"{}"#).utf8), source: "b")
            }
        }
    }

    @Test func theMapGrowsDuringAnImportFromATinyInitialMap() throws {
        try withStore(mapSize: 32 << 10) { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            let lines = (0..<3000).map {
                line(
                    "ScoreRecorded", patient: "P-\($0 % 40)", at: "2026-01-05T09:00:00-05:00",
                    data: #"{"instrument":"MADRS","value":\#($0 % 61)}"#)
            }
            let s = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "big")
            #expect(s.imported + s.duplicates == 3000)
            #expect(store.log.env.mapSize > 32 << 10)
            #expect(try LogAudit.verify(store).ok)
        }
    }
}
