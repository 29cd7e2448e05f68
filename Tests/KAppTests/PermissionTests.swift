import Foundation
import KApp
import KClinic
import KStore
import Testing

/// Who may record what (events.md; issue "Compliance review"): every refusal exits 77 and leaves
/// the store unchanged.
@Suite struct PermissionTests {
    /// Imports `text` as `osUser` and expects a refusal with exit 77 mentioning `needle`.
    func refused(_ store: ClinicStore, as osUser: String? = nil, _ text: String, _ needle: String) throws {
        let s = try osUser.map { try ClinicStore.open(at: store.path, osUser: $0) } ?? store
        let before = try s.log.count()
        do {
            _ = try Importer(store: s).importNDJSON(Array(text.utf8), source: "f")
            Issue.record("expected a refusal: \(needle)")
        } catch {
            #expect(error.exitCode == 77, "\(error)")
            #expect(error.description.contains(needle), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
        #expect(try s.log.count() == before)
    }

    let score = #"{"instrument":"MADRS","value":12}"#

    @Test func anUnknownActorIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            try refused(store, line("ScoreRecorded", actor: "rn.nobody", data: score), "rn.nobody is not registered")
        }
    }

    @Test func aRetiredActorIsRefusedButTheirPastEventsStay() throws {
        try withStore { (store: ClinicStore) throws in
            _ = try Importer(store: store).importNDJSON(Array(line("ScoreRecorded", data: score).utf8), source: "ok")
            try Actors.retire(store, id: "rn.kim")
            try refused(store, line("ScoreRecorded", at: "2026-01-06T09:30:00-05:00", data: score), "rn.kim was retired")
            #expect(try LogAudit.verify(store).ok)
            #expect(try Actors.list(store).first { $0.id == "rn.kim" }?.active == false)
        }
    }

    @Test func aClaimedRoleOtherThanTheRegisteredOneIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            try refused(store, line("ScoreRecorded", actor: "rn.kim", role: "clinician", data: score), "registered as nurse, not clinician")
        }
    }

    @Test func aRoleThatMayNotRecordTheTypeIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            // A nurse records infusions, scores, vitals, labs, screenings, side effects: not a taper.
            try refused(store, line("TaperStarted", data: "{}"), "a nurse may not record TaperStarted")
            try refused(store, line("PatientEnrolled", data: "{}"), "a nurse may not record PatientEnrolled")
            try Actors.add(store, id: "cmp.ross", role: .compliance, osUser: "ross")
            try refused(
                store, line("ScoreRecorded", actor: "cmp.ross", role: "compliance", data: score),
                "a compliance may not record ScoreRecorded")
            // An admin may enrol a patient, and nothing clinical beyond it.
            try Actors.add(store, id: "adm.lee", role: .admin, osUser: "lee")
            _ = try Importer(store: store).importNDJSON(
                Array(line("PatientEnrolled", actor: "adm.lee", role: "admin", data: "{}").utf8), source: "ok")
            try refused(store, line("ScoreRecorded", actor: "adm.lee", role: "admin", data: score), "an admin may not record ScoreRecorded")
        }
    }

    @Test func anOSUserThatIsNeitherTheActorsNorAnInterfaceIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            // rn.kim is registered for OS user "kim"; "mallory" is nobody's.
            try refused(store, as: "mallory", line("ScoreRecorded", data: score), "OS user mallory may not record as rn.kim")
            // As "kim" herself it is allowed; as the interface account (this test's OS user) too.
            let kim = try ClinicStore.open(at: store.path, osUser: "kim")
            #expect(try Importer(store: kim).importNDJSON(Array(line("ScoreRecorded", data: score).utf8), source: "kim").imported == 1)
            let rec = try store.log.read { try $0.lastRecord()?.materialize() }
            #expect(rec?.osUser == "kim")
            #expect(rec?.actorId == "rn.kim")
        }
    }

    @Test func aCorrectionBySomeoneOtherThanAClinicianOrTheOriginalRecorderIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            let id = "3f2a0000-0000-4000-8000-0000000000c1"
            _ = try Importer(store: store).importNDJSON(Array(line("ScoreRecorded", data: score, id: id).utf8), source: "ok")
            let byOtherNurse = line(
                "EventAmended", at: "2026-01-05T10:00:00-05:00", actor: "rn.chen",
                data: #"{"target":"\#(id)","reason":"typo","data":{"value":13}}"#)
            try refused(store, byOtherNurse, "rn.chen (nurse) may not correct an event recorded by rn.kim")
            // The recorder herself, and a clinician, may.
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line(
                        "EventAmended", at: "2026-01-05T10:01:00-05:00",
                        data: #"{"target":"\#(id)","reason":"typo","data":{"value":13}}"#
                    ).utf8), source: "ok")
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line(
                        "EventVoided", at: "2026-01-05T10:02:00-05:00", role: "clinician",
                        data: #"{"target":"\#(id)","reason":"wrong chart"}"#
                    ).utf8), source: "ok")
        }
    }

    /// events.md (revision 4): once a clinician has corrected an event, only a clinician may
    /// correct it again: the recorder may not quietly undo the clinician's correction.
    @Test func onceAClinicianHasCorrectedAnEventOnlyAClinicianMayCorrectItAgain() throws {
        try withStore { (store: ClinicStore) throws in
            let id = "3f2a0000-0000-4000-8000-0000000000d1"
            _ = try Importer(store: store).importNDJSON(Array(line("ScoreRecorded", data: score, id: id).utf8), source: "ok")
            let amendment = "3f2a0000-0000-4000-8000-0000000000d2"
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line(
                        "EventAmended", at: "2026-01-05T10:00:00-05:00", role: "clinician",
                        data: #"{"target":"\#(id)","reason":"scored from the wrong sheet","data":{"value":21}}"#, id: amendment
                    ).utf8), source: "ok")
            // The nurse who recorded it may neither amend it back nor void it.
            try refused(
                store,
                line(
                    "EventAmended", at: "2026-01-05T10:05:00-05:00",
                    data: #"{"target":"\#(id)","reason":"typo","data":{"value":12}}"#),
                "rn.kim (nurse) may not correct event \(id) again: a clinician has corrected it, so only a clinician may")
            try refused(
                store, line("EventVoided", at: "2026-01-05T10:05:00-05:00", data: #"{"target":"\#(id)","reason":"mine"}"#),
                "a clinician has corrected it, so only a clinician may")
            // Nor void the clinician's amendment (she did not record it).
            try refused(
                store, line("EventVoided", at: "2026-01-05T10:06:00-05:00", data: #"{"target":"\#(amendment)","reason":"undo"}"#),
                "rn.kim (nurse) may not correct an event recorded by dr.hale")
            // A clinician may correct it again; other events of the nurse stay hers to correct.
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line(
                        "EventAmended", at: "2026-01-05T10:07:00-05:00", role: "clinician",
                        data: #"{"target":"\#(id)","reason":"checked again","data":{"value":20}}"#
                    ).utf8), source: "ok")
            let other = "3f2a0000-0000-4000-8000-0000000000d3"
            _ = try Importer(store: store).importNDJSON(
                Array(line("ScoreRecorded", at: "2026-01-06T09:30:00-05:00", data: score, id: other).utf8), source: "ok")
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line(
                        "EventAmended", at: "2026-01-06T10:00:00-05:00",
                        data: #"{"target":"\#(other)","reason":"typo","data":{"value":13}}"#
                    ).utf8), source: "ok")
            // Within one file too: the clinician's line earlier in the file counts.
            let third = "3f2a0000-0000-4000-8000-0000000000d4"
            _ = try Importer(store: store).importNDJSON(
                Array(line("ScoreRecorded", at: "2026-01-07T09:30:00-05:00", data: score, id: third).utf8), source: "ok")
            let file = [
                line(
                    "EventAmended", at: "2026-01-07T10:00:00-05:00", role: "clinician",
                    data: #"{"target":"\#(third)","reason":"r","data":{"value":30}}"#),
                line("EventAmended", at: "2026-01-07T10:01:00-05:00", data: #"{"target":"\#(third)","reason":"r","data":{"value":12}}"#),
            ].joined(separator: "\n")
            try refused(store, file, "a clinician has corrected it")
            #expect(try LogAudit.verify(store).ok)
        }
    }

    /// events.md (revision 4): a correction that would leave a patient with two enrolments in
    /// force is refused with exit 65, nothing written.
    @Test func voidingTheVoidOfAReplacedEnrolmentIsRefused() throws {
        try withStore { (store: ClinicStore) throws in
            let first = "3f2a0000-0000-4000-8000-0000000000e1"
            let void = "3f2a0000-0000-4000-8000-0000000000e2"
            let import1 = [
                line(
                    "PatientEnrolled", at: "2026-01-05T08:00:00-05:00", role: "clinician", data: #"{"protocol":"interval-extension"}"#,
                    id: first),
                line(
                    "EventVoided", at: "2026-01-05T08:10:00-05:00", role: "clinician",
                    data: #"{"target":"\#(first)","reason":"wrong protocol"}"#, id: void),
                line("PatientEnrolled", at: "2026-01-05T08:20:00-05:00", role: "clinician", data: #"{"protocol":"hybrid"}"#),
            ].joined(separator: "\n")
            #expect(try Importer(store: store).importNDJSON(Array(import1.utf8), source: "ok").imported == 3)
            let before = try store.log.count()
            do {
                _ = try Importer(store: store).importNDJSON(
                    Array(
                        line(
                            "EventVoided", at: "2026-01-05T09:00:00-05:00", role: "clinician",
                            data: #"{"target":"\#(void)","reason":"undo"}"#
                        ).utf8), source: "undo")
                Issue.record("a second enrolment in force was accepted")
            } catch let error as AppError {
                #expect(error.exitCode == 65, "\(error)")
                #expect(
                    error.description.contains(
                        "undo:1: data.target: voiding event \(void) would leave patient P-1 with two enrolments in force"),
                    "\(error.description)")
            }
            #expect(try store.log.count() == before)
            // With one enrolment only, undoing its void is fine (it is the one in force again).
            let single = "3f2a0000-0000-4000-8000-0000000000e3"
            let singleVoid = "3f2a0000-0000-4000-8000-0000000000e4"
            _ = try Importer(store: store).importNDJSON(
                Array(
                    [
                        line("PatientEnrolled", patient: "P-2", at: "2026-01-05T08:00:00-05:00", role: "clinician", data: "{}", id: single),
                        line(
                            "EventVoided", patient: "P-2", at: "2026-01-05T08:10:00-05:00", role: "clinician",
                            data: #"{"target":"\#(single)","reason":"r"}"#, id: singleVoid),
                        line(
                            "EventVoided", patient: "P-2", at: "2026-01-05T08:20:00-05:00", role: "clinician",
                            data: #"{"target":"\#(singleVoid)","reason":"r"}"#),
                    ].joined(separator: "\n").utf8), source: "ok")
            #expect(try store.log.count() == before + 3)
        }
    }

    @Test func theTableIsTheRuleSetInForce() throws {
        try withStore { (store: ClinicStore) throws in
            let assessment = line("AssessmentRecorded", data: #"{"kind":"treatment-response"}"#)
            // Under the defaults a nurse may not record an assessment.
            try refused(store, assessment, "a nurse may not record AssessmentRecorded")
            // A rule set (adopted by the admin, this test's OS user) lets a nurse record one.
            var rules = try RuleSet.load(
                json: Array(#"{"version":"nurse-assessments","permissions":{"nurse":["ScoreRecorded","AssessmentRecorded"]}}"#.utf8))
            #expect(rules.permissions.may(.nurse, record: .assessmentRecorded))
            _ = try ProjectionEngine(store: store).replay(newRules: rules, apply: true, on: Day(ordinal: 20_500))
            let inForce = try ProjectionEngine(store: store).rulesInForce()
            #expect(inForce.rules == rules)
            // The adopted canonical JSON carries the table (sorted), and loads back to it.
            let (text, _) = RuleSetJSON.canonical(rules)
            #expect(text.contains(#""nurse":["AssessmentRecorded","ScoreRecorded"]"#))
            #expect(try RuleSet.load(json: Array(text.utf8)) == rules)
            let summary = try Importer(store: store).importNDJSON(Array(assessment.utf8), source: "ok")
            #expect(summary.imported == 1)
            let rec = try store.log.read { try $0.lastRecord()?.materialize() }
            #expect(rec?.actorId == "rn.kim")
            // The row is replaced, not extended: vitals are no longer the nurse's under it.
            try refused(
                store, line("VitalsRecorded", at: "2026-01-05T10:00:00-05:00", data: #"{"systolic":120,"diastolic":80}"#),
                "a nurse may not record VitalsRecorded")
            // Adopting the defaults again takes the assessment back.
            rules = RuleSet.default
            rules.version = "back-to-defaults"
            _ = try ProjectionEngine(store: store).replay(newRules: rules, apply: true, on: Day(ordinal: 20_500))
            try refused(
                store, line("AssessmentRecorded", at: "2026-01-05T11:00:00-05:00", data: #"{"kind":"goal-setting"}"#),
                "a nurse may not record AssessmentRecorded")
        }
    }

    @Test func onlyAnAdminManagesActorsAndAdoptsRuleSets() throws {
        try withStore { (store: ClinicStore) throws in
            let kim = try ClinicStore.open(at: store.path, osUser: "kim")
            let before = try store.log.count()
            #expect(throws: AppError.self) { try Actors.add(kim, id: "rn.new", role: .nurse, osUser: "new") }
            do { try Actors.add(kim, id: "rn.new", role: .nurse, osUser: "new") } catch let e as AppError { #expect(e.exitCode == 77) }
            var rules = RuleSet.default
            rules.version = "by-a-nurse"
            do {
                _ = try ProjectionEngine(store: kim).replay(newRules: rules, apply: true, on: Day(ordinal: 20_500))
                Issue.record("a nurse adopted a rule set")
            } catch let e as AppError {
                #expect(e.exitCode == 77)
            }
            #expect(try store.log.count() == before)
            // Ids are never reused; the last admin cannot be retired.
            #expect(throws: AppError.self) { try Actors.add(store, id: "rn.kim", role: .nurse, osUser: "kim") }
            #expect(throws: AppError.self) { try Actors.retire(store, id: store.osUser) }
        }
    }
}
