import Foundation
import KApp
import KClinic
import KStore
import Testing

/// Option values are parsed as typed values by the command: a bad one is a usage error (exit 64)
/// naming the option and the value, before anything is read or written; refusals of the data
/// itself keep their field names and `append:1:` prefixes (exit 65).
@Suite(.serialized) struct CommandOptionTests {
    @Test func aBadValueIsAUsageErrorNamingTheOptionAndTheValue() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-options-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registerTestActors(try ClinicStore.create(at: dir))
        let before = try ClinicStore.open(at: dir).log.count()

        let badOn = try run(kstore, ["query", "phase", "--store", dir, "--on", "2026-13-40"])
        #expect(badOn.status == 64, "\(badOn.stderr)")
        #expect(badOn.stderr.contains("'2026-13-40'") && badOn.stderr.contains("--on"), "\(badOn.stderr)")
        #expect(badOn.stdout.isEmpty)

        let cases: [([String], String, String)] = [
            (["query", "due", "--store", dir, "--on", "yesterday"], "--on", "yesterday"),
            (["query", "alerts", "--store", dir, "--as-of", "2026-03-01"], "--as-of", "2026-03-01"),
            (["query", "due", "--store", dir, "--status", "due,late"], "--status", "due,late"),
            (["query", "due", "--store", dir, "--fail-on", "late"], "--fail-on", "late"),
            (["replay", "--store", dir, "--on", "2026-02-30"], "--on", "2026-02-30"),
            (["audit", "export", "--store", dir, "--from", "2026-01-01", "--to", "2026-1-2"], "--to", "2026-1-2"),
            (["audit", "export", "--store", dir, "--from", "2026-01-01", "--to", "2026-01-02", "--format", "xml"], "--format", "xml"),
            (["audit", "trail", "--store", dir, "--by", "sometime"], "--by", "sometime"),
            (["log", "--store", dir, "--type", "Nope"], "--type", "Nope"),
            (["actor", "add", "--store", dir, "--id", "x", "--role", "wizard", "--os-user", "x"], "--role", "wizard"),
            (
                [
                    "append", "--store", dir, "--patient", "P-1", "--type", "ScoreRecorded", "--at", "2026-01-05", "--actor", "rn.kim",
                    "--role", "nurse", "--data", #"{"instrument":"MADRS","value":12}"#,
                ], "--at", "2026-01-05"
            ),
        ]
        for (args, option, value) in cases {
            let r = try run(kstore, args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("'\(value)'") && r.stderr.contains(option), "\(args): \(r.stderr)")
        }
        #expect(try ClinicStore.open(at: dir).log.count() == before)
    }

    @Test func appendAmendAndVoidValidateTypedValuesWithTheLinesFieldNames() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-append-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registerTestActors(try ClinicStore.create(at: dir))
        let common = ["--store", dir, "--patient", "P-1", "--at", "2026-01-05T09:30:00-05:00", "--actor", "rn.kim", "--role", "nurse"]
        func append(_ type: String, _ data: String, _ more: [String] = []) throws -> RunResult {
            try run(kstore, ["append"] + common + ["--type", type, "--data", data] + more)
        }
        let tooHigh = try append("ScoreRecorded", #"{"instrument":"MADRS","value":72}"#)
        #expect(tooHigh.status == 65)
        #expect(tooHigh.stderr == "append:1: data.value: 72 is out of range (an integer from 0 to 60)\n")
        let notJSON = try append("ScoreRecorded", #"{"instrument":"#)
        #expect(notJSON.status == 65)
        #expect(notJSON.stderr.hasPrefix("--data: not valid JSON: "), "\(notJSON.stderr)")
        let badId = try append("ScoreRecorded", #"{"instrument":"MADRS","value":12}"#, ["--event-id", "nope"])
        #expect(badId.stderr == "append:1: eventId: \"nope\" is not a UUID (a UUID such as 0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11)\n")
        let kstoreItself = try append("RuleSetAdopted", "{}")
        #expect(kstoreItself.status == 65)
        #expect(kstoreItself.stderr.hasPrefix("append:1: type: RuleSetAdopted is recorded by kstore itself and cannot be imported ("))
        let enrolment = try append("PatientEnrolled", "{}")
        #expect(enrolment.status == 77)
        #expect(enrolment.stderr == "kstore: append:1: a nurse may not record PatientEnrolled; nothing of append was written\n")

        let id = "3f2a0000-0000-4000-8000-0000000000a1"
        let ok = try append("ScoreRecorded", #"{"instrument":"MADRS","value":12}"#, ["--event-id", id, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains(#""eventId":"\#(id)""#) && ok.stdout.contains(#""streamVersion":1"#), "\(ok.stdout)")
        let again = try append("ScoreRecorded", #"{"instrument":"MADRS","value":12}"#, ["--event-id", id])
        #expect(again.stdout == "already recorded (duplicate event id): nothing appended\n")

        let who = ["--actor", "rn.kim", "--role", "nurse"]
        let badAmend = try run(kstore, ["amend", "--store", dir, "--event", id, "--reason", "typo", "--data", #"{"value":99}"#] + who)
        #expect(badAmend.status == 65)
        #expect(badAmend.stderr == "amend:1: data.data.value: 99 is out of range (an integer from 0 to 60)\n")
        let amended = try run(kstore, ["amend", "--store", dir, "--event", id, "--reason", "typo", "--data", #"{"value":13}"#] + who)
        #expect(amended.status == 0, "\(amended.stderr)")
        #expect(amended.stdout.hasPrefix("appended sequence "))
        let noReason = try run(kstore, ["void", "--store", dir, "--event", id, "--reason", ""] + who)
        #expect(noReason.status == 65)
        #expect(noReason.stderr.hasPrefix("void:1: data.reason: is empty ("), "\(noReason.stderr)")
        let missing = try run(kstore, ["void", "--store", dir, "--event", "3f2a0000-0000-4000-8000-0000000000ff", "--reason", "x"] + who)
        #expect(
            missing.stderr == "--event: no event 3f2a0000-0000-4000-8000-0000000000ff is in the store (an event id from `kstore log`)\n")
        let voided = try run(kstore, ["void", "--store", dir, "--event", id, "--reason", "entered in error"] + who)
        #expect(voided.status == 0, "\(voided.stderr)")
        let store = try ClinicStore.open(at: dir)
        let events = try LogReading.events(store, patient: "P-1", type: nil, from: 1, limit: nil)
        #expect(events.map(\.type) == [.scoreRecorded, .eventAmended, .eventVoided])
        #expect(events[0].occurredAt == (try Timestamp(rfc3339: "2026-01-05T09:30:00-05:00")))
    }
}
