import Foundation

@testable import KClinic

/// The store's clock in these tests: 2026-06-01T12:00:00Z.
let ioNow = Timestamp(epochMillis: 1_780_315_200_000, offsetMinutes: 0)

/// A clock after every example file's last event: 2027-06-01T12:00:00Z.
let ioExamplesNow = Timestamp(epochMillis: 1_780_315_200_000 + 365 * 86_400_000, offsetMinutes: 0)

func ioParse(_ line: String, now: Timestamp = ioNow) -> Result<IncomingEvent, InputError> {
    do throws(InputError) { return .success(try IncomingEvent.parse(line: line, now: now)) } catch { return .failure(error) }
}

func ioFrom(_ type: EventType, _ data: JSONValue) -> Result<ClinicalEvent, InputError> {
    do throws(InputError) { return .success(try ClinicalEvent.from(type: type, data: data, now: ioNow)) } catch {
        return .failure(error)
    }
}

/// One import line with `data` (raw JSON text) and optional envelope overrides (raw JSON text
/// per field; nil removes the field).
func ioLine(
    _ type: String, _ data: String, patient: String? = "\"P-0001\"",
    occurredAt: String? = "\"2026-01-05T09:30:00-05:00\"", actor: String? = "{\"id\": \"dr.lee\", \"role\": \"clinician\"}",
    eventId: String? = "\"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\"", extra: String = ""
) -> String {
    var parts: [String] = []
    if let eventId { parts.append("\"eventId\": \(eventId)") }
    parts.append("\"type\": \"\(type)\"")
    if let patient { parts.append("\"patient\": \(patient)") }
    if let occurredAt { parts.append("\"occurredAt\": \(occurredAt)") }
    if let actor { parts.append("\"actor\": \(actor)") }
    parts.append("\"data\": \(data)")
    if !extra.isEmpty { parts.append(extra) }
    return "{" + parts.joined(separator: ", ") + "}"
}

/// A valid line of every importable type (several for types with optional fields).
let ioSampleLines: [String] = [
    // session.md
    ioLine(
        "InfusionAdministered",
        "{\"route\": \"IV\", \"dose\": {\"value\": 0.45, \"unit\": \"mg/kg\"}, \"series\": \"acute\", \"weightKg\": 72.3, \"lot\": \"K-1/a\", \"durationMinutes\": 40, \"drug\": \"ketamine\"}"
    ),
    ioLine(
        "InfusionAdministered",
        "{\"route\": \"intranasal\", \"dose\": {\"value\": 84, \"unit\": \"mg\"}, \"series\": \"maintenance\", \"drug\": \"esketamine\"}"),
    ioLine(
        "ObservationRecorded",
        "{\"infusion\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12\", \"systolic\": 130, \"diastolic\": 80, \"heartRate\": 70, \"spo2\": 97.5, \"moaas\": 4, \"cadss\": 12, \"respiratoryDepression\": false}"
    ),
    ioLine("ObservationRecorded", "{\"infusion\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12\", \"spo2\": 95}"),
    ioLine(
        "DischargeRecorded",
        "{\"infusion\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12\", \"criteriaMet\": true, \"escort\": false, \"transferred\": false, \"note\": \"taxi\"}"
    ),
    ioLine("RemsFormSubmitted", "{\"infusion\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12\", \"reference\": \"R-1\"}"),
    ioLine(
        "StockReceived",
        "{\"drug\": \"ketamine\", \"lot\": \"K-1\", \"quantityMg\": 500, \"supplier\": \"Hikma\", \"invoice\": \"I-1\", \"concentrationMgPerMl\": 50}",
        patient: nil),
    ioLine(
        "StockWasted", "{\"lot\": \"K-1\", \"quantityMg\": 17.465, \"witness\": \"rn.kim\", \"reason\": \"rest of vial\"}",
        patient: nil),
    ioLine(
        "StockDisposed", "{\"lot\": \"K-1\", \"quantityMg\": 5, \"method\": \"reverse-distributor\", \"witness\": \"rn.kim\"}",
        patient: nil),
    ioLine(
        "StockAdjusted",
        "{\"lot\": \"K-1\", \"quantityMg\": -2, \"reason\": \"breakage\", \"witness\": \"rn.kim\", \"reference\": \"DEA-106\"}",
        patient: nil),
    ioLine("InventoryCounted", "{\"lot\": \"K-1\", \"onHandMg\": 0, \"kind\": \"biennial\"}", patient: nil),
    ioLine("AlertAcknowledged", "{\"alertId\": \"lot-overdrawn:0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12\", \"lot\": \"K-1\"}", patient: nil),
    ioLine("PatientEnrolled", "{\"protocol\": \"interval-extension\"}"),
    ioLine("PatientEnrolled", "{}"),
    ioLine("PatientEnrolled", "{\"protocol\": \"hybrid\", \"birthYear\": 1980, \"substanceUseHistory\": true}"),
    ioLine("PatientEnrolled", "{\"protocol\": \"symptom-triggered\", \"birthYear\": null}"),
    ioLine("ConsentRecorded", "{\"kind\": \"initial\"}"),
    ioLine("ConsentRecorded", "{\"kind\": \"reaffirmation\"}"),
    ioLine("InfusionAdministered", "{\"route\": \"IV\", \"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}, \"series\": \"acute\"}"),
    ioLine(
        "InfusionAdministered",
        "{\"route\": \"IM\", \"dose\": {\"unit\": \"mg\", \"value\": 1000}, \"series\": \"booster\", \"justification\": \"résistant: 2 × dose\"}"
    ),
    ioLine(
        "InfusionAdministered",
        "{\"route\": \"intranasal\", \"dose\": {\"value\": 5, \"unit\": \"mg/kg\"}, \"series\": \"maintenance\", \"justification\": \"\"}"),
    ioLine("ScoreRecorded", "{\"instrument\": \"MADRS\", \"value\": 32}"),
    ioLine("ScoreRecorded", "{\"instrument\": \"PHQ2\", \"value\": 6}"),
    ioLine("ScoreRecorded", "{\"instrument\": \"PHQ9\", \"value\": 0}"),
    ioLine("ScoreRecorded", "{\"instrument\": \"MOCA\", \"value\": 30}"),
    ioLine("LabResulted", "{\"test\": \"urinalysis\", \"abnormal\": false}"),
    ioLine("LabResulted", "{\"test\": \"LFT\", \"abnormal\": true, \"values\": {\"ALT\": 31, \"AST\": 24.5, \"GGT\": -0.25}}"),
    ioLine("LabResulted", "{\"test\": \"ECG\", \"abnormal\": false, \"values\": {}}"),
    ioLine("VitalsRecorded", "{\"systolic\": 120, \"diastolic\": 80}"),
    ioLine("VitalsRecorded", "{\"systolic\": 260, \"diastolic\": 160, \"heartRate\": 250}"),
    ioLine("SideEffectReported", "{\"category\": \"dissociative\", \"severity\": \"mild\"}"),
    ioLine("SideEffectReported", "{\"category\": \"urological\", \"severity\": \"severe\", \"note\": \"dysuria\\nsince Monday\"}"),
    ioLine("ScreeningRecorded", "{\"kind\": \"substance-use\", \"positive\": false}"),
    ioLine("ScreeningRecorded", "{\"kind\": \"psychotic-symptoms\", \"positive\": true}"),
    ioLine("AssessmentRecorded", "{\"kind\": \"treatment-response\"}"),
    ioLine("AssessmentRecorded", "{\"kind\": \"continuation-discussion\", \"note\": \"wants to continue\"}"),
    ioLine("MedicationChanged", "{\"name\": \"lithium\", \"action\": \"start\", \"dose\": \"300 mg twice daily\"}"),
    ioLine("MedicationChanged", "{\"name\": \"lamotrigine\", \"action\": \"stop\"}"),
    ioLine("ScheduleAdjusted", "{\"intervalDays\": 10, \"reason\": \"travel\"}"),
    ioLine("DrugHolidayStarted", "{\"plannedWeeks\": 4}"),
    ioLine("DrugHolidayEnded", "{}"),
    ioLine("DrugHolidayEnded", "{\"resumeIntervalDays\": 14}"),
    ioLine("TaperStarted", "{}"),
    ioLine("TaperStarted", "{\"steps\": [{\"intervalDays\": 42, \"months\": 2}, {\"months\": 3, \"intervalDays\": 56}]}"),
    ioLine("MaintenanceDiscontinued", "{\"reason\": \"remission\"}"),
    ioLine("PregnancyStatusRecorded", "{\"status\": \"not-pregnant\"}"),
    ioLine("PregnancyStatusRecorded", "{\"status\": \"planning\"}"),
    ioLine("AlertAcknowledged", "{\"alertId\": \"bp-high:0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\"}"),
    ioLine("AlertAcknowledged", "{\"alertId\": \"symptom-rise:x\", \"note\": \"seen\"}"),
    ioLine(
        "EventAmended",
        "{\"target\": \"00000000-0000-0000-0000-000000000001\", \"reason\": \"typo\", \"data\": {\"dose\": {\"value\": 0.4, \"unit\": \"mg/kg\"}, \"n\": [1, 2.5, null, true, \"s\", {\"deep\": {}}]}}"
    ),
    ioLine("EventVoided", "{\"target\": \"0B5E3C1E-8F0A-4D39-9A55-2F7F2B9A6C12\", \"reason\": \"wrong patient\"}"),
]

/// Events of the types kstore writes itself (not importable).
let ioSystemEvents: [ClinicalEvent] = [
    .auditReviewed(AuditReviewed(throughSequence: 12_345)),
    .auditReviewed(AuditReviewed(throughSequence: UInt64(Int64.max), checkpointHash: "ab12", note: "quarterly")),
    .ruleSetAdopted(
        RuleSetAdopted(
            version: "2026.1", contentHash: String(repeating: "f", count: 64),
            content: "{\"rules\":" + String(repeating: "x", count: 5000) + "}")),
    .actorRegistered(ActorRegistered(id: "ehr-feed", role: .interface, osUser: "svc_ehr")),
    .actorRegistered(ActorRegistered(id: "dr.lee", role: .clinician, osUser: "lee")),
    .actorRetired(ActorRetired(id: "rn.kim")),
    // Schema v2: signatures, printed names, credential changes (issue 13).
    .auditReviewed(
        AuditReviewed(
            throughSequence: 420, checkpointHash: "cd34", note: "weekly",
            signature: ElectronicSignature(
                actorId: "cm.ruiz", name: "Dana Ruiz", meaning: .reviewed,
                signedAt: Timestamp(epochMillis: 1_796_000_000_000, offsetMinutes: 0)))),
    .ruleSetAdopted(
        RuleSetAdopted(
            version: "2026.2", contentHash: String(repeating: "e", count: 64), content: "{}",
            signature: ElectronicSignature(
                actorId: "admin", name: "A. Admin", meaning: .approved,
                signedAt: Timestamp(epochMillis: 1_796_000_000_000, offsetMinutes: -300)))),
    .actorRegistered(ActorRegistered(id: "rn.kim", role: .nurse, osUser: "kim", name: "Jae Kim, RN")),
    .actorCredentialChanged(ActorCredentialChanged(id: "rn.kim", change: .passwordSet)),
    .actorCredentialChanged(ActorCredentialChanged(id: "ehr-feed", change: .tokenIssued)),
    .actorCredentialChanged(ActorCredentialChanged(id: "ehr-feed", change: .tokenRevoked)),
]

/// The lines of `/work/shared/spec/examples/NAME`, located relative to this file (nil when the
/// spec is not there).
func ioExampleLines(_ name: String, filePath: String = #filePath) -> [String]? {
    var url = URL(fileURLWithPath: filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/KClinicTests/X.swift → repository root
    let candidates = [
        ProcessInfo.processInfo.environment["KSTORE_SPEC_DIR"].map { URL(fileURLWithPath: $0).appendingPathComponent("examples/" + name) },
        url.deletingLastPathComponent().appendingPathComponent("shared/spec/examples/" + name),
        URL(fileURLWithPath: "/work/shared/spec/examples/" + name),
    ].compactMap { $0 }
    for c in candidates {
        if let text = try? String(contentsOf: c, encoding: .utf8) {
            return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }
    return nil
}

let ioW1Available = ioExampleLines("w1.ndjson") != nil

/// SplitMix64: a small deterministic PRNG for the fuzz tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
