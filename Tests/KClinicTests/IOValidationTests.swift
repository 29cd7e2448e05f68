import Foundation
import Testing

@testable import KClinic

private let infusionData = "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\"}"
private func infusion(dose: String) -> String {
    ioLine("InfusionAdministered", "{\"route\": \"IV\", \"dose\": \(dose), \"series\": \"acute\"}")
}
private func score(_ instrument: String, _ value: String) -> String {
    ioLine("ScoreRecorded", "{\"instrument\": \"\(instrument)\", \"value\": \(value)}")
}
private func vitals(_ fields: String) -> String { ioLine("VitalsRecorded", "{" + fields + "}") }
private let long2001 = String(repeating: "é", count: 2001)

/// line, expected field, a fragment of the problem
private let refusals: [(String, String, String)] = [
    // Implausible values (issue 11): dates before 2000, offsets beyond ±14:00, no-doses, controls
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"0001-01-05T09:30:00Z\""), "occurredAt", "not a plausible date"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"1900-01-05T09:30:00Z\""), "occurredAt", "not a plausible date"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"1999-12-31T23:59:59-05:00\""), "occurredAt", "before 2000-01-01"),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-01-05T09:30:00+14:01\""), "occurredAt",
        "beyond any time zone"
    ),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-01-05T09:30:00-23:59\""), "occurredAt",
        "beyond any time zone"
    ),
    (infusion(dose: "{\"value\": 5e-324, \"unit\": \"mg/kg\"}"), "data.dose.value", "below the smallest plausible dose, 0.01 mg/kg"),
    (infusion(dose: "{\"value\": 0.999, \"unit\": \"mg\"}"), "data.dose.value", "below the smallest plausible dose, 1 mg"),
    (
        ioLine("AssessmentRecorded", "{\"kind\": \"goal-setting\", \"note\": \"ok\\u001b[2Jcleared\"}"), "data.note",
        "control character U+001B"
    ),
    (ioLine("AssessmentRecorded", "{\"kind\": \"goal-setting\", \"note\": \"bell\\u0007\"}"), "data.note", "control character U+0007"),
    (ioLine("AssessmentRecorded", "{\"kind\": \"goal-setting\", \"note\": \"c1\\u0085\"}"), "data.note", "control character U+0085"),
    // The line itself
    ("not json", "line", "not valid JSON"),
    ("", "line", "not valid JSON"),
    ("[1, 2]", "line", "is an array, not an object"),
    ("{\"type\": \"ConsentRecorded\"} trailing", "line", "after the JSON value"),
    ("{\"type\": \"ConsentRecorded\", \"type\": \"ConsentRecorded\"}", "line", "duplicate key"),
    // Top-level fields
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"foo\": 1"), "foo", "unknown field"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"recordedAt\": \"x\""), "recordedAt", "unknown field"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"a\\nb\": 1"), "\"a\\nb\"", "unknown field"),
    ("{\"patient\": \"P\", \"data\": {}}", "type", "missing"),
    (ioLine("Consent", "{}"), "type", "unknown type \"Consent\""),
    (ioLine("consentRecorded", "{}"), "type", "unknown type"),
    ("{\"type\": 3}", "type", "is a number"),
    (ioLine("AuditReviewed", "{\"throughSequence\": 3}"), "type", "cannot be imported"),
    (ioLine("RuleSetAdopted", "{}"), "type", "cannot be imported"),
    (ioLine("ActorRegistered", "{}"), "type", "cannot be imported"),
    (ioLine("ActorRetired", "{}"), "type", "cannot be imported"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: nil), "patient", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"\""), "patient", "not a valid patient id"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"P 1\""), "patient", "not a valid patient id"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"P/1\""), "patient", "not a valid patient id"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"Pé\""), "patient", "not a valid patient id"),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"\(String(repeating: "a", count: 65))\""), "patient",
        "not a valid patient id"
    ),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "17"), "patient", "is a number"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: nil), "occurredAt", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-01-05T09:30:00\""), "occurredAt", "offset is missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-02-30T09:30:00Z\""), "occurredAt", "does not exist"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-01-05\""), "occurredAt", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "1767623400000"), "occurredAt", "is a number"),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-06-02T12:00:00.001Z\""), "occurredAt",
        "more than 24 hours in the future"
    ),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-06-02T08:00:01-04:00\""), "occurredAt",
        "more than 24 hours in the future"
    ),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: nil), "actor", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "\"dr.lee\""), "actor", "is a string"),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"feed\", \"role\": \"interface\"}"), "actor.role",
        "an interface never appears"
    ),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"x\", \"role\": \"doctor\"}"), "actor.role", "unknown role"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"x\"}"), "actor.role", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"role\": \"nurse\"}"), "actor.id", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"\", \"role\": \"nurse\"}"), "actor.id", "is empty"),
    (
        ioLine(
            "ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"\(String(repeating: "n", count: 65))\", \"role\": \"nurse\"}"),
        "actor.id", "65 characters"
    ),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"a\\nb\", \"role\": \"nurse\"}"), "actor.id",
        "control character"
    ),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"a\\u0085b\", \"role\": \"nurse\"}"), "actor.id",
        "control character"
    ),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": 5, \"role\": \"nurse\"}"), "actor.id", "is a number"),
    (
        ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"x\", \"role\": \"nurse\", \"os\": \"y\"}"), "actor.os",
        "unknown field"
    ),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", eventId: "\"not-a-uuid\""), "eventId", "is not a UUID"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", eventId: "\"0b5e3c1e8f0a4d399a552f7f2b9a6c11\""), "eventId", "is not a UUID"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", eventId: "42"), "eventId", "is a number"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"expectedVersion\": -1"), "expectedVersion", "negative"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"expectedVersion\": 1.5"), "expectedVersion", "not an integer"),
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"expectedVersion\": \"3\""), "expectedVersion", "is a string"),
    (
        "{\"type\": \"ConsentRecorded\", \"patient\": \"P\", \"occurredAt\": \"2026-01-05T09:30:00Z\", \"actor\": {\"id\": \"a\", \"role\": \"nurse\"}}",
        "data", "missing"
    ),
    (ioLine("ConsentRecorded", "[]"), "data", "is an array"),
    (ioLine("ConsentRecorded", "null"), "data", "is null"),
    // Data: unknown fields, enums, required fields
    (ioLine("ConsentRecorded", "{\"kind\": \"initial\", \"foo\": 1}"), "data.foo", "unknown field"),
    (ioLine("ConsentRecorded", "{}"), "data.kind", "missing"),
    (ioLine("ConsentRecorded", "{\"kind\": null}"), "data.kind", "is null"),
    (ioLine("ConsentRecorded", "{\"kind\": \"Initial\"}"), "data.kind", "unknown value \"Initial\""),
    (ioLine("PatientEnrolled", "{\"protocol\": \"weekly\"}"), "data.protocol", "unknown value"),
    (ioLine("PatientEnrolled", "{\"birthYear\": 1899}"), "data.birthYear", "out of range"),
    (ioLine("PatientEnrolled", "{\"birthYear\": 2027}"), "data.birthYear", "out of range"),
    (ioLine("PatientEnrolled", "{\"birthYear\": 1980.5}"), "data.birthYear", "not an integer"),
    (ioLine("PatientEnrolled", "{\"substanceUseHistory\": \"yes\"}"), "data.substanceUseHistory", "is a string"),
    (ioLine("PatientEnrolled", "{\"substanceUseHistory\": 1}"), "data.substanceUseHistory", "is a number"),
    (
        ioLine("InfusionAdministered", "{\"route\": \"IVP\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\"}"),
        "data.route", "unknown value"
    ),
    (ioLine("InfusionAdministered", "{\"route\": \"IV\", \"series\": \"acute\"}"), "data.dose", "missing"),
    (ioLine("InfusionAdministered", "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}}"), "data.series", "missing"),
    (
        ioLine(
            "InfusionAdministered",
            "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\", \"justification\": \"\(long2001)\"}"
        ), "data.justification", "2001 characters"
    ),
    (
        ioLine(
            "InfusionAdministered",
            "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\", \"justification\": \"a\\u0000b\"}"),
        "data.justification", "NUL"
    ),
    (
        ioLine(
            "InfusionAdministered",
            "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\", \"justification\": 1}"),
        "data.justification", "is a number"
    ),
    (infusion(dose: "0.5"), "data.dose", "is a number"),
    (infusion(dose: "{\"value\": 0, \"unit\": \"mg/kg\"}"), "data.dose.value", "not greater than 0"),
    (infusion(dose: "{\"value\": -1, \"unit\": \"mg\"}"), "data.dose.value", "not greater than 0"),
    (infusion(dose: "{\"value\": 5.01, \"unit\": \"mg/kg\"}"), "data.dose.value", "more than 5 mg/kg"),
    (infusion(dose: "{\"value\": 1000.5, \"unit\": \"mg\"}"), "data.dose.value", "more than 1000 mg"),
    (infusion(dose: "{\"value\": \"0.5\", \"unit\": \"mg/kg\"}"), "data.dose.value", "is a string"),
    (infusion(dose: "{\"unit\": \"mg/kg\"}"), "data.dose.value", "missing"),
    (infusion(dose: "{\"value\": 0.5}"), "data.dose.unit", "missing"),
    (infusion(dose: "{\"value\": 0.5, \"unit\": \"g\"}"), "data.dose.unit", "unknown value"),
    (infusion(dose: "{\"value\": 0.5, \"unit\": \"mg/kg\", \"route\": \"IV\"}"), "data.dose.route", "unknown field"),
    (score("MADRS", "61"), "data.value", "61 is out of range"),
    (score("MADRS", "-1"), "data.value", "out of range"),
    (score("PHQ2", "7"), "data.value", "out of range"),
    (score("PHQ9", "28"), "data.value", "out of range"),
    (score("MOCA", "31"), "data.value", "out of range"),
    (score("MADRS", "3.5"), "data.value", "3.5 is not an integer"),
    (score("MADRS", "3.0"), "data.value", "not an integer"),
    (score("MADRS", "3e0"), "data.value", "not an integer"),
    (score("MADRS", "99999999999999999999"), "data.value", "out of range"),
    (score("MADRS", "\"12\""), "data.value", "is a string"),
    (score("BDI", "12"), "data.instrument", "unknown value"),
    (ioLine("ScoreRecorded", "{\"instrument\": \"MADRS\"}"), "data.value", "missing"),
    (ioLine("LabResulted", "{\"test\": \"CBC\", \"abnormal\": false}"), "data.test", "unknown value"),
    (ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": \"no\"}"), "data.abnormal", "is a string"),
    (ioLine("LabResulted", "{\"test\": \"LFT\"}"), "data.abnormal", "missing"),
    (ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": false, \"values\": [31]}"), "data.values", "is an array"),
    (ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": false, \"values\": {\"ALT\": \"31\"}}"), "data.values.ALT", "is a string"),
    (ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": false, \"values\": {\"ALT\": null}}"), "data.values.ALT", "is null"),
    (ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": false, \"values\": {\"\": 1}}"), "data.values", "an entry's name is empty"),
    (
        ioLine(
            "LabResulted",
            "{\"test\": \"LFT\", \"abnormal\": false, \"values\": {" + (0..<65).map { "\"v\($0)\": \($0)" }.joined(separator: ",") + "}}"),
        "data.values", "has 65 entries"
    ),
    (vitals("\"systolic\": 49, \"diastolic\": 40"), "data.systolic", "out of range"),
    (vitals("\"systolic\": 261, \"diastolic\": 80"), "data.systolic", "out of range"),
    (vitals("\"systolic\": 120, \"diastolic\": 29"), "data.diastolic", "out of range"),
    (vitals("\"systolic\": 200, \"diastolic\": 161"), "data.diastolic", "out of range"),
    (vitals("\"systolic\": 120, \"diastolic\": 120"), "data.systolic", "not above the diastolic"),
    (vitals("\"systolic\": 90, \"diastolic\": 100"), "data.systolic", "not above the diastolic"),
    (vitals("\"systolic\": 120, \"diastolic\": 80, \"heartRate\": 19"), "data.heartRate", "out of range"),
    (vitals("\"systolic\": 120, \"diastolic\": 80, \"heartRate\": 251"), "data.heartRate", "out of range"),
    (vitals("\"systolic\": 120, \"diastolic\": 80, \"heartRate\": 70.5"), "data.heartRate", "not an integer"),
    (vitals("\"systolic\": 120"), "data.diastolic", "missing"),
    (vitals("\"systolic\": 120, \"diastolic\": 80, \"pulse\": 70"), "data.pulse", "unknown field"),
    (ioLine("SideEffectReported", "{\"category\": \"headache\", \"severity\": \"mild\"}"), "data.category", "unknown value"),
    (ioLine("SideEffectReported", "{\"category\": \"nausea\"}"), "data.severity", "missing"),
    (ioLine("SideEffectReported", "{\"category\": \"nausea\", \"severity\": \"extreme\"}"), "data.severity", "unknown value"),
    (ioLine("ScreeningRecorded", "{\"kind\": \"substance-use\"}"), "data.positive", "missing"),
    (ioLine("ScreeningRecorded", "{\"kind\": \"substance_use\", \"positive\": true}"), "data.kind", "unknown value"),
    (ioLine("AssessmentRecorded", "{\"kind\": \"safety\"}"), "data.kind", "unknown value"),
    (ioLine("AssessmentRecorded", "{\"kind\": \"full-safety\", \"note\": \"\\u0000\"}"), "data.note", "NUL"),
    (ioLine("MedicationChanged", "{\"name\": \"   \", \"action\": \"start\"}"), "data.name", "is blank"),
    (ioLine("MedicationChanged", "{\"name\": \"\\u3000\\t\", \"action\": \"start\"}"), "data.name", "is blank"),
    (ioLine("MedicationChanged", "{\"action\": \"start\"}"), "data.name", "missing"),
    (ioLine("MedicationChanged", "{\"name\": \"lithium\", \"action\": \"pause\"}"), "data.action", "unknown value"),
    (ioLine("ScheduleAdjusted", "{\"intervalDays\": 0, \"reason\": \"x\"}"), "data.intervalDays", "out of range"),
    (ioLine("ScheduleAdjusted", "{\"intervalDays\": 181, \"reason\": \"x\"}"), "data.intervalDays", "out of range"),
    (ioLine("ScheduleAdjusted", "{\"intervalDays\": 10}"), "data.reason", "missing"),
    (ioLine("ScheduleAdjusted", "{\"intervalDays\": 10, \"reason\": \"\"}"), "data.reason", "is empty"),
    (ioLine("DrugHolidayStarted", "{\"plannedWeeks\": 0}"), "data.plannedWeeks", "out of range"),
    (ioLine("DrugHolidayStarted", "{\"plannedWeeks\": 27}"), "data.plannedWeeks", "out of range"),
    (ioLine("DrugHolidayStarted", "{}"), "data.plannedWeeks", "missing"),
    (ioLine("DrugHolidayEnded", "{\"resumeIntervalDays\": 181}"), "data.resumeIntervalDays", "out of range"),
    (ioLine("DrugHolidayEnded", "{\"resumeIntervalDays\": 0}"), "data.resumeIntervalDays", "out of range"),
    (ioLine("TaperStarted", "{\"steps\": []}"), "data.steps", "is empty"),
    (ioLine("TaperStarted", "{\"steps\": {\"intervalDays\": 42, \"months\": 2}}"), "data.steps", "is an object"),
    (ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 0, \"months\": 1}]}"), "data.steps[0].intervalDays", "out of range"),
    (
        ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42, \"months\": 2}, {\"intervalDays\": 181, \"months\": 1}]}"),
        "data.steps[1].intervalDays", "out of range"
    ),
    (ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42, \"months\": 25}]}"), "data.steps[0].months", "out of range"),
    (ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42, \"months\": 0}]}"), "data.steps[0].months", "out of range"),
    (ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42}]}"), "data.steps[0].months", "missing"),
    (ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42, \"months\": 2, \"dose\": 1}]}"), "data.steps[0].dose", "unknown field"),
    (ioLine("TaperStarted", "{\"steps\": [42]}"), "data.steps[0]", "is a number"),
    (ioLine("MaintenanceDiscontinued", "{}"), "data.reason", "missing"),
    (ioLine("PregnancyStatusRecorded", "{\"status\": \"unknown\"}"), "data.status", "unknown value"),
    (ioLine("AlertAcknowledged", "{\"note\": \"x\"}"), "data.alertId", "missing"),
    (ioLine("AlertAcknowledged", "{\"alertId\": \"\"}"), "data.alertId", "is empty"),
    (ioLine("EventAmended", "{\"target\": \"x\", \"reason\": \"r\", \"data\": {\"a\": 1}}"), "data.target", "is not a UUID"),
    (ioLine("EventAmended", "{\"reason\": \"r\", \"data\": {\"a\": 1}}"), "data.target", "missing"),
    (
        ioLine("EventAmended", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \" \", \"data\": {\"a\": 1}}"),
        "data.reason", "is blank"
    ),
    (
        ioLine("EventAmended", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \"r\", \"data\": {}}"), "data.data",
        "is empty"
    ),
    (
        ioLine("EventAmended", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \"r\", \"data\": [1]}"), "data.data",
        "is an array"
    ),
    (ioLine("EventAmended", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \"r\"}"), "data.data", "missing"),
    (ioLine("EventVoided", "{\"reason\": \"r\"}"), "data.target", "missing"),
    (ioLine("EventVoided", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\"}"), "data.reason", "missing"),
    (
        ioLine("EventVoided", "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \"r\", \"data\": {}}"), "data.data",
        "unknown field"
    ),
]

struct IOValidationTests {
    @Test("refuses with the field and problem", arguments: 0..<refusals.count)
    func refuses(_ k: Int) {
        let (line, field, fragment) = refusals[k]
        switch ioParse(line) {
        case .success(let e):
            Issue.record("accepted #\(k) \(line) as \(e)")
        case .failure(let e):
            #expect(e.field == field, "#\(k): \(e)")
            #expect(e.problem.contains(fragment), "#\(k): \(e)")
            #expect(!e.expected.isEmpty)
            #expect(e.description == "\(e.field): \(e.problem) (\(e.expected))")
            #expect(!e.description.contains("\n") && !e.description.contains("\r"), "#\(k): \(e)")
        }
    }

    @Test func messagesReadWell() {
        let cases: [(String, String)] = [
            (score("MADRS", "61"), "data.value: 61 is out of range (an integer from 0 to 60)"),
            (score("MADRS", "3.0"), "data.value: 3.0 is not an integer (an integer from 0 to 60)"),
            (ioLine("ConsentRecorded", "{\"kind\": \"always\"}"), "data.kind: unknown value \"always\" (one of initial, reaffirmation)"),
            (ioLine("ConsentRecorded", "{\"kind\": \"initial\", \"by\": 1}"), "data.by: unknown field (one of kind)"),
            (
                infusion(dose: "{\"value\": 6, \"unit\": \"mg/kg\"}"),
                "data.dose.value: 6 is more than 5 mg/kg (a number from 0.01 to 5 mg/kg)"
            ),
            (
                ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"id\": \"feed\", \"role\": \"interface\"}"),
                "actor.role: an interface never appears as an event's actor (one of clinician, nurse, compliance, admin)"
            ),
            ("nope", "line: not valid JSON: invalid literal, expected null at byte 0 (one JSON object per line)"),
            ("{\"a\": 1} x", "line: not valid JSON: unexpected character 'x' after the JSON value at byte 9 (one JSON object per line)"),
        ]
        for (line, message) in cases {
            if case .failure(let e) = ioParse(line) { #expect(e.description == message) } else { Issue.record("accepted \(line)") }
        }
    }

    @Test func inputShownInMessagesStaysOnOneLine() {
        let nasty = "\\n\\r\\u2028\\u0085\\u0000" + String(repeating: "x", count: 500)
        for line in [
            ioLine("ConsentRecorded", "{\"kind\": \"\(nasty)\"}"), ioLine("X\\nY", "{}"),
            ioLine("ConsentRecorded", "{\"kind\": \"initial\", \"\(nasty)\": 1}"),
            ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"\(nasty)\""),
            ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"\(nasty)\""),
        ] {
            guard case .failure(let e) = ioParse(line) else {
                Issue.record("accepted \(line)")
                continue
            }
            let d = e.description
            #expect(
                !d.contains("\n") && !d.contains("\r") && !d.contains("\u{2028}") && !d.contains("\u{85}") && !d.contains("\u{0}"), "\(d)")
            // The input is cut short (the type list alone, 28 types, is ~480 characters).
            #expect(d.count < 700, "\(d)")
        }
    }

    @Test func boundariesAreAccepted() throws {
        // exactly 24 hours after now
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-06-02T12:00:00Z\"")).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-06-02T08:00:00-04:00\"")).get()
        _ = try ioParse(infusion(dose: "{\"value\": 5, \"unit\": \"mg/kg\"}")).get()
        _ = try ioParse(infusion(dose: "{\"value\": 1000.0, \"unit\": \"mg\"}")).get()
        // the smallest plausible doses (issue 11: 5e-324 mg/kg and 1e-9 mg are no dose)
        _ = try ioParse(infusion(dose: "{\"value\": 1, \"unit\": \"mg\"}")).get()
        _ = try ioParse(infusion(dose: "{\"value\": 0.01, \"unit\": \"mg/kg\"}")).get()
        // the earliest plausible date and the widest offsets
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2000-01-01T00:00:00+14:00\"")).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", occurredAt: "\"2026-01-05T09:30:00-14:00\"")).get()
        _ = try ioParse(score("MADRS", "60")).get()
        _ = try ioParse(score("MADRS", "0")).get()
        _ = try ioParse(score("MADRS", "-0")).get()
        _ = try ioParse(vitals("\"systolic\": 50, \"diastolic\": 30, \"heartRate\": 20")).get()
        _ = try ioParse(vitals("\"systolic\": 161, \"diastolic\": 160")).get()
        _ = try ioParse(ioLine("PatientEnrolled", "{\"birthYear\": 1900}")).get()
        _ = try ioParse(ioLine("PatientEnrolled", "{\"birthYear\": 2026}")).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"\(String(repeating: "Z", count: 64))\"")).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", patient: "\"a.b_c-D9\"")).get()
        _ = try ioParse(
            ioLine(
                "ConsentRecorded", "{\"kind\": \"initial\"}",
                actor: "{\"id\": \"\(String(repeating: "é", count: 64))\", \"role\": \"admin\"}")
        ).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", actor: "{\"role\": \"compliance\", \"id\": \"Dr Lee\"}")).get()
        _ = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", extra: "\"expectedVersion\": 0")).get()
        _ = try ioParse(ioLine("MedicationChanged", "{\"name\": \"\(String(repeating: "é", count: 2000))\", \"action\": \"change\"}")).get()
        _ = try ioParse(
            ioLine(
                "LabResulted",
                "{\"test\": \"LFT\", \"abnormal\": false, \"values\": {" + (0..<64).map { "\"v\($0)\": \($0).5" }.joined(separator: ",")
                    + "}}")
        ).get()
        _ = try ioParse(ioLine("AssessmentRecorded", "{\"kind\": \"goal-setting\", \"note\": \"\"}")).get()
        // whitespace around the line (a CRLF file)
        _ = try ioParse(" \t" + ioLine("ConsentRecorded", "{\"kind\": \"initial\"}") + "\r\n").get()
    }

    @Test func birthYearFollowsTheClock() throws {
        let line = ioLine("PatientEnrolled", "{\"birthYear\": 2027}", occurredAt: "\"2027-03-01T10:00:00Z\"")
        #expect(throws: InputError.self) { try ioParse(line).get() }
        let later = Timestamp(epochMillis: ioNow.epochMillis + 300 * 86_400_000, offsetMinutes: 0)
        _ = try ioParse(line, now: later).get()
    }
}

struct IOAmendmentTests {
    static let original = ClinicalEvent.infusionAdministered(
        InfusionAdministered(route: .iv, dose: Dose(value: 0.5, unit: .mgPerKg), series: .acute, justification: "resistant"))

    private func amend(_ e: ClinicalEvent, _ fields: String) -> Result<ClinicalEvent, InputError> {
        guard case .object(let m) = try? JSONParser.parse(fields) else {
            return .failure(InputError(field: "test", problem: "bad JSON", expected: ""))
        }
        do throws(InputError) { return .success(try e.amended(with: m, now: ioNow)) } catch { return .failure(error) }
    }

    @Test func topLevelFieldReplaced() throws {
        let e = try amend(Self.original, "{\"route\": \"IM\"}").get()
        #expect(
            e
                == .infusionAdministered(
                    InfusionAdministered(route: .im, dose: Dose(value: 0.5, unit: .mgPerKg), series: .acute, justification: "resistant")))
    }

    @Test func nestedObjectReplacedWhole() throws {
        let e = try amend(Self.original, "{\"dose\": {\"unit\": \"mg\", \"value\": 400}}").get()
        #expect(
            e
                == .infusionAdministered(
                    InfusionAdministered(route: .iv, dose: Dose(value: 400, unit: .mg), series: .acute, justification: "resistant")))
        // Not merged into the old dose: a dose without a unit is incomplete.
        let partial = amend(Self.original, "{\"dose\": {\"value\": 0.4}}")
        guard case .failure(let err) = partial else {
            Issue.record("accepted a dose without unit")
            return
        }
        #expect(err.field == "data.dose.unit")
        #expect(err.problem == "missing")
    }

    @Test func nullClearsAnOptionalField() throws {
        let e = try amend(Self.original, "{\"justification\": null}").get()
        #expect(e == .infusionAdministered(InfusionAdministered(route: .iv, dose: Dose(value: 0.5, unit: .mgPerKg), series: .acute)))
        guard case .failure(let err) = amend(Self.original, "{\"route\": null}") else {
            Issue.record("cleared a required field")
            return
        }
        #expect(err.field == "data.route")
    }

    @Test func invalidMergedResultNamesTheField() {
        let score = ClinicalEvent.scoreRecorded(ScoreRecorded(instrument: .madrs, value: 32))
        let vitals = ClinicalEvent.vitalsRecorded(VitalsRecorded(systolic: 140, diastolic: 90))
        let cases: [(ClinicalEvent, String, String, String)] = [
            (Self.original, "{\"dose\": {\"value\": 7, \"unit\": \"mg/kg\"}}", "data.dose.value", "more than 5 mg/kg"),
            (Self.original, "{\"dose\": {\"value\": 400, \"unit\": \"mg/kg\"}}", "data.dose.value", "more than 5 mg/kg"),
            (Self.original, "{\"dosage\": 1}", "data.dosage", "unknown field"),
            (Self.original, "{\"series\": \"loading\"}", "data.series", "unknown value"),
            (score, "{\"value\": 70}", "data.value", "out of range"),
            // valid alone, invalid merged: 32 is beyond PHQ-2's range
            (score, "{\"instrument\": \"PHQ2\"}", "data.value", "32 is out of range"),
            (vitals, "{\"diastolic\": 150}", "data.systolic", "not above the diastolic"),
        ]
        for (event, fields, field, fragment) in cases {
            switch amend(event, fields) {
            case .success(let e): Issue.record("accepted \(fields) as \(e)")
            case .failure(let err):
                #expect(err.field == field, "\(fields): \(err)")
                #expect(err.problem.contains(fragment), "\(fields): \(err)")
            }
        }
    }

    @Test func amendmentLineThenMerge() throws {
        // The import line of an amendment, then its fields applied to the target.
        let line = ioLine(
            "EventAmended",
            "{\"target\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"reason\": \"wrong unit\", \"data\": {\"dose\": {\"value\": 35, \"unit\": \"mg\"}}}"
        )
        guard case .eventAmended(let a) = try ioParse(line).get().event else {
            Issue.record("not an amendment")
            return
        }
        let merged = try Self.original.amended(with: a.data, now: ioNow)
        guard case .infusionAdministered(let i) = merged else {
            Issue.record("type changed")
            return
        }
        #expect(i.dose == Dose(value: 35, unit: .mg))
        #expect(i.justification == "resistant")
    }
}

struct IONameTableTests {
    private func check<E: _FastNamed & Equatable>(_: E.Type) {
        for e in E.allCases {
            #expect(E._names.lookup(e.rawValue) == e)
            #expect(E(rawValue: e.rawValue) == e)
            for near in [
                e.rawValue + "x", String(e.rawValue.dropLast()),
                e.rawValue.uppercased() == e.rawValue ? e.rawValue.lowercased() : e.rawValue.uppercased(), " " + e.rawValue,
            ] {
                #expect(E._names.lookup(near) == nil, "\(near)")
            }
            // Same length, last byte changed (beyond the packed first seven bytes).
            var bytes = Array(e.rawValue.utf8)
            bytes[bytes.count - 1] ^= 0x01
            #expect(E._names.lookup(String(decoding: bytes, as: UTF8.self)) == nil)
        }
        #expect(E._names.lookup("") == nil)
    }

    @Test func everyCaseOfEveryEnum() {
        check(EventType.self)
        check(Role.self)
        check(TreatmentProtocol.self)
        check(ConsentKind.self)
        check(Route.self)
        check(DoseUnit.self)
        check(Series.self)
        check(Instrument.self)
        check(LabTest.self)
        check(SideEffectCategory.self)
        check(Severity.self)
        check(ScreeningKind.self)
        check(AssessmentKind.self)
        check(MedicationAction.self)
        check(PregnancyStatus.self)
    }

    @Test func everyEnumValueValidatesFromJSON() throws {
        for p in TreatmentProtocol.allCases {
            #expect(
                try ioFrom(.patientEnrolled, .object([("protocol", .string(p.rawValue))])).get()
                    == .patientEnrolled(PatientEnrolled(protocol: p)))
        }
        for r in Route.allCases {
            for u in DoseUnit.allCases {
                for s in Series.allCases {
                    let e = ClinicalEvent.infusionAdministered(InfusionAdministered(route: r, dose: Dose(value: 1, unit: u), series: s))
                    #expect(try ioFrom(.infusionAdministered, e.dataJSON).get() == e)
                }
            }
        }
        for c in SideEffectCategory.allCases {
            for s in Severity.allCases {
                let e = ClinicalEvent.sideEffectReported(SideEffectReported(category: c, severity: s))
                #expect(try ioFrom(.sideEffectReported, e.dataJSON).get() == e)
            }
        }
        for k in ScreeningKind.allCases {
            let e = ClinicalEvent.screeningRecorded(ScreeningRecorded(kind: k, positive: true))
            #expect(try ioFrom(.screeningRecorded, e.dataJSON).get() == e)
        }
        for k in AssessmentKind.allCases {
            let e = ClinicalEvent.assessmentRecorded(AssessmentRecorded(kind: k))
            #expect(try ioFrom(.assessmentRecorded, e.dataJSON).get() == e)
        }
        for (i, t) in zip(Instrument.allCases, LabTest.allCases + [LabTest.ecg]) {
            let e = ClinicalEvent.scoreRecorded(ScoreRecorded(instrument: i, value: i.range.upperBound))
            #expect(try ioFrom(.scoreRecorded, e.dataJSON).get() == e)
            let l = ClinicalEvent.labResulted(LabResulted(test: t, abnormal: false))
            #expect(try ioFrom(.labResulted, l.dataJSON).get() == l)
        }
        for a in MedicationAction.allCases {
            let e = ClinicalEvent.medicationChanged(MedicationChanged(name: "x", action: a))
            #expect(try ioFrom(.medicationChanged, e.dataJSON).get() == e)
        }
        for s in PregnancyStatus.allCases {
            let e = ClinicalEvent.pregnancyStatusRecorded(PregnancyStatusRecorded(status: s))
            #expect(try ioFrom(.pregnancyStatusRecorded, e.dataJSON).get() == e)
        }
        for k in ConsentKind.allCases {
            let e = ClinicalEvent.consentRecorded(ConsentRecorded(kind: k))
            #expect(try ioFrom(.consentRecorded, e.dataJSON).get() == e)
        }
        // …and every one survives the payload codec.
        for r in Role.allCases {
            let e = ClinicalEvent.actorRegistered(ActorRegistered(id: "a", role: r, osUser: "u"))
            #expect(try PayloadCodec.decode(type: .actorRegistered, schemaVersion: 2, bytes: PayloadCodec.encode(e)) == e)
        }
    }
}

@Suite struct InputPlausibilityTests {
    @Test func theEarliestDayIs2000_01_01() {
        #expect(InputLimits.earliestDay == Day(year: 2000, month: 1, day: 1))
    }

    @Test func textKeepsTabsAndLineBreaks() throws {
        try InputLimits.checkText("line one\n\tline two\r\n", field: "--note")
        #expect(throws: InputError.self) { try InputLimits.checkText(String(repeating: "a", count: 2001), field: "--note") }
        #expect(throws: InputError.self) { try InputLimits.checkText("a\u{1B}b", field: "--note") }
        #expect(throws: InputError.self) { try InputLimits.checkText("del\u{7F}", field: "--note") }
    }
}
