import Foundation
import KBinary
import Testing

@testable import KClinic

private func decode(_ type: EventType, _ version: UInt8, _ bytes: [UInt8]) -> Result<ClinicalEvent, BinaryError> {
    do throws(BinaryError) { return .success(try PayloadCodec.decode(type: type, schemaVersion: version, bytes: bytes)) } catch {
        return .failure(error)
    }
}

struct IOEventRoundTripTests {
    @Test func samplesCoverEveryImportableType() throws {
        var types = Set<EventType>()
        for line in ioSampleLines { types.insert(try ioParse(line).get().type) }
        for e in ioSystemEvents { types.insert(e.type) }
        #expect(types == Set(EventType.allCases))
    }

    @Test("line → IncomingEvent → payload → event, and dataJSON → from()", arguments: ioSampleLines)
    func roundTrip(_ line: String) throws {
        let incoming = try ioParse(line).get()
        #expect(incoming.type == incoming.event.type)
        let event = incoming.event
        let bytes = PayloadCodec.encode(event)
        let back = try decode(event.type, PayloadCodec.currentSchemaVersion(event.type), bytes).get()
        #expect(back == event)
        #expect(PayloadCodec.encode(back) == bytes)
        let again = try ioFrom(event.type, event.dataJSON).get()
        #expect(again == event)
        // Through text too: dataJSON written, parsed, validated.
        let text = JSONWriter.string(event.dataJSON)
        #expect(try ioFrom(event.type, JSONParser.parse(text)).get() == event)
    }

    @Test("system events round trip", arguments: 0..<ioSystemEvents.count)
    func systemRoundTrip(_ k: Int) throws {
        let event = ioSystemEvents[k]
        let bytes = PayloadCodec.encode(event)
        #expect(try decode(event.type, PayloadCodec.currentSchemaVersion(event.type), bytes).get() == event)
        #expect(try ioFrom(event.type, event.dataJSON).get() == event)
    }

    @Test func envelopeFieldsAreRead() throws {
        let e = try ioParse(
            ioLine(
                "EventVoided", "{\"target\": \"0B5E3C1E-8F0A-4D39-9A55-2F7F2B9A6C12\", \"reason\": \"x\"}", extra: "\"expectedVersion\": 7")
        ).get()
        #expect(e.eventId?.lowercaseString == "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11")
        #expect(e.patient == "P-0001")
        #expect(e.occurredAt.rfc3339 == "2026-01-05T09:30:00-05:00")
        #expect(e.occurredAt.clinicalDay.description == "2026-01-05")
        #expect(e.actor == Actor(id: "dr.lee", role: .clinician))
        #expect(e.expectedVersion == 7)
        guard case .eventVoided(let v) = e.event else {
            Issue.record("not a void")
            return
        }
        #expect(v.target.lowercaseString == "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12")
        #expect(v.target == UUID(uuidString: "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c12"))
        let bare = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", eventId: nil)).get()
        #expect(bare.eventId == nil && bare.expectedVersion == nil)
        let nulls = try ioParse(ioLine("ConsentRecorded", "{\"kind\": \"initial\"}", eventId: "null", extra: "\"expectedVersion\": null"))
            .get()
        #expect(nulls.eventId == nil && nulls.expectedVersion == nil)
    }

    @Test func enrolmentDefaultsToIntervalExtension() throws {
        let e = try ioParse(ioLine("PatientEnrolled", "{}")).get()
        #expect(e.event == .patientEnrolled(PatientEnrolled(protocol: .intervalExtension)))
        #expect(e.event.dataJSON == .object([("protocol", .string("interval-extension"))]))
    }

    @Test func w1LinesAllParse() throws {
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            guard let lines = ioExampleLines(name) else { continue }
            for (n, line) in lines.enumerated() {
                let e = try ioParse(line, now: ioExamplesNow).get()
                let bytes = PayloadCodec.encode(e.event)
                #expect(try decode(e.type, PayloadCodec.currentSchemaVersion(e.type), bytes).get() == e.event, "\(name):\(n + 1)")
            }
        }
    }

    @Test func uuidText() {
        let u = UUID(anyCaseString: "0B5E3C1E-8f0a-4D39-9A55-2F7F2B9A6C11")
        #expect(u?.lowercaseString == "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11")
        #expect(u?.uuidString == "0B5E3C1E-8F0A-4D39-9A55-2F7F2B9A6C11")
        for bad in [
            "", "0b5e3c1e8f0a4d399a552f7f2b9a6c11", "{0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11}", "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c1g",
            "0b5e3c1e-8f0a-4d39-9a552-f7f2b9a6c11", "0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11 ",
        ] {
            #expect(UUID(anyCaseString: bad) == nil, "\(bad)")
        }
    }
}

struct IOPayloadCodecTests {
    @Test func schemaVersions() {
        for t in EventType.allCases {
            let two: Set<EventType> = [.auditReviewed, .ruleSetAdopted, .actorRegistered, .alertAcknowledged]
            // InfusionAdministered v3: session.md's drug, weight, lot and duration.
            let expected: UInt8 = t == .infusionAdministered ? 3 : (two.contains(t) ? 2 : 1)
            #expect(PayloadCodec.currentSchemaVersion(t) == expected)
        }
    }

    /// Payloads written at schema v1 by earlier kstores (no signature, no printed name) still
    /// decode, byte for byte as they were written, and upcast to the current shape.
    @Test func version1SystemPayloadsUpcast() throws {
        // AuditReviewed v1: varuint through · optional checkpointHash · optional note.
        let review: [UInt8] = [0x0C, 1, 2, 0x61, 0x62, 0]
        #expect(
            try decode(.auditReviewed, 1, review).get()
                == .auditReviewed(AuditReviewed(throughSequence: 12, checkpointHash: "ab", note: nil, signature: nil)))
        // ActorRegistered v1: id · role code · osUser.
        let actor: [UInt8] = [2, 0x72, 0x6B, 2, 3, 0x6B, 0x69, 0x6D]
        #expect(try decode(.actorRegistered, 1, actor).get() == .actorRegistered(ActorRegistered(id: "rk", role: .nurse, osUser: "kim")))
        // RuleSetAdopted v1: version · hash · content.
        let rules: [UInt8] = [1, 0x31, 1, 0x68, 2, 0x7B, 0x7D]
        #expect(
            try decode(.ruleSetAdopted, 1, rules).get() == .ruleSetAdopted(RuleSetAdopted(version: "1", contentHash: "h", content: "{}")))
        // The same bytes are not a v2 payload (its signature flag is missing): refused, not misread.
        #expect((try? decode(.auditReviewed, 2, review).get()) == nil)
    }

    /// The layout is a stored format: pin a few payloads byte for byte.
    @Test func layoutIsPinned() {
        #expect(PayloadCodec.encode(.scoreRecorded(ScoreRecorded(instrument: .madrs, value: 32))) == [1, 64])
        #expect(PayloadCodec.encode(.consentRecorded(ConsentRecorded(kind: .reaffirmation))) == [2])
        #expect(PayloadCodec.encode(.vitalsRecorded(VitalsRecorded(systolic: 120, diastolic: 80))) == [0xF0, 0x01, 0xA0, 0x01, 0])
        #expect(
            PayloadCodec.encode(
                .infusionAdministered(
                    InfusionAdministered(route: .iv, dose: Dose(value: 0.5, unit: .mgPerKg), series: .acute, justification: "x")))
                == [1, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F, 1, 1, 1, 1, 0x78, 0, 0, 0, 0])
        // v3: drug esketamine (2), weight absent, lot "E", duration 10.
        #expect(
            PayloadCodec.encode(
                .infusionAdministered(
                    InfusionAdministered(
                        route: .intranasal, dose: Dose(value: 56, unit: .mg), series: .acute, drug: .esketamine, lot: "E",
                        durationMinutes: 10)))
                == [3, 0, 0, 0, 0, 0, 0, 0x4C, 0x40, 2, 1, 0, 1, 2, 0, 1, 1, 0x45, 1, 20])
        #expect(
            PayloadCodec.encode(.patientEnrolled(PatientEnrolled(protocol: .hybrid, birthYear: 1980, substanceUseHistory: false))) == [
                3, 1, 0xF8, 0x1E, 1, 0,
            ])
    }

    /// A payload stored at version 1 of InfusionAdministered (before `justification`), built by
    /// hand: route IM, 0.5 as an IEEE-754 little-endian double, unit mg/kg, series maintenance.
    static let v1Infusion: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F, 1, 2]

    @Test func v1InfusionUpcasts() throws {
        let e = try decode(.infusionAdministered, 1, Self.v1Infusion).get()
        #expect(
            e
                == .infusionAdministered(
                    InfusionAdministered(route: .im, dose: Dose(value: 0.5, unit: .mgPerKg), series: .maintenance, justification: nil)))
        // Re-encoded at the current version: v1 bytes plus an absent justification (v2) and an
        // absent drug, weight, lot and duration (v3).
        #expect(PayloadCodec.encode(e) == Self.v1Infusion + [0, 0, 0, 0, 0])
        // A v2 payload reads as before: ketamine, no lot (session.md: read as written).
        if case .infusionAdministered(let v2) = try decode(.infusionAdministered, 2, Self.v1Infusion + [0]).get() {
            #expect(v2.drug == nil && v2.givenDrug == .ketamine && v2.lot == nil && v2.durationMinutes == nil)
        }
        // The v1 bytes are not a v2 payload (the justification's presence byte is missing)…
        #expect(throws: BinaryError.self) { try decode(.infusionAdministered, 2, Self.v1Infusion).get() }
        // …and a v2 payload is not a v1 payload (trailing bytes).
        #expect(throws: BinaryError.self) { try decode(.infusionAdministered, 1, Self.v1Infusion + [0]).get() }
    }

    @Test func unknownVersionsAreRefused() {
        let bytes = PayloadCodec.encode(.consentRecorded(ConsentRecorded(kind: .initial)))
        for v: UInt8 in [0, 2, 255] {
            #expect(throws: BinaryError.self) { try decode(.consentRecorded, v, bytes).get() }
        }
        #expect(throws: BinaryError.self) { try decode(.infusionAdministered, 3, Self.v1Infusion).get() }
    }

    @Test func trailingBytesAndBadCodesAreRefused() {
        #expect(throws: BinaryError.self) { try decode(.scoreRecorded, 1, [1, 64, 0]).get() }
        #expect(throws: BinaryError.self) { try decode(.scoreRecorded, 1, [9, 64]).get() }  // no instrument 9
        #expect(throws: BinaryError.self) { try decode(.scoreRecorded, 1, [0, 64]).get() }
        #expect(throws: BinaryError.self) { try decode(.screeningRecorded, 1, [1, 2]).get() }  // bool byte 2
        #expect(throws: BinaryError.self) { try decode(.actorRegistered, 1, [1, 0x61, 9, 1, 0x62]).get() }  // role 9
        #expect(throws: BinaryError.self) { try decode(.maintenanceDiscontinued, 1, [2, 0xC3, 0x28]).get() }  // bad UTF-8
        #expect(throws: BinaryError.self) { try decode(.consentRecorded, 1, []).get() }
    }

    @Test func everyTruncationThrows() throws {
        var all: [ClinicalEvent] = ioSystemEvents
        for line in ioSampleLines { all.append(try ioParse(line).get().event) }
        for e in all {
            let bytes = PayloadCodec.encode(e)
            let v = PayloadCodec.currentSchemaVersion(e.type)
            for cut in 0..<bytes.count {
                #expect(throws: BinaryError.self, "\(e.type) cut at \(cut)") { try decode(e.type, v, Array(bytes[..<cut])).get() }
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 99)
        var decoded = 0
        for _ in 0..<20_000 {
            let n = Int.random(in: 0...24, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let type = EventType.allCases.randomElement(using: &rng) ?? .scoreRecorded
            if case .success = decode(type, UInt8.random(in: 1...2, using: &rng), bytes) { decoded += 1 }
        }
        #expect(decoded > 0)
    }

    @Test func amendmentJSONRoundTripsAndDepthIsBounded() throws {
        var deep = JSONValue.int(1)
        for _ in 0..<63 { deep = .array([deep]) }
        let ok = ClinicalEvent.eventAmended(
            EventAmended(target: UUID(), reason: "r", data: [("a", deep), ("b", .double(-0.0)), ("c", .int(Int64.min))]))
        #expect(try decode(.eventAmended, 1, PayloadCodec.encode(ok)).get() == ok)
        let tooDeep = ClinicalEvent.eventAmended(EventAmended(target: UUID(), reason: "r", data: [("a", .array([deep]))]))
        #expect(throws: BinaryError.self) { try decode(.eventAmended, 1, PayloadCodec.encode(tooDeep)).get() }
    }
}
