import struct Foundation.UUID

/// One validated line of the import format (events.md, "Import format"): everything the sender
/// says, before the store adds the envelope.
public struct IncomingEvent: Sendable, Equatable {
    /// The sender's id for idempotency; nil when the store is to generate one.
    public var eventId: UUID?
    public var type: EventType
    public var patient: String
    public var occurredAt: Timestamp
    public var actor: Actor
    public var event: ClinicalEvent
    public var expectedVersion: UInt64?

    public init(
        eventId: UUID?, type: EventType, patient: String, occurredAt: Timestamp, actor: Actor, event: ClinicalEvent,
        expectedVersion: UInt64?
    ) {
        self.eventId = eventId
        self.type = type
        self.patient = patient
        self.occurredAt = occurredAt
        self.actor = actor
        self.event = event
        self.expectedVersion = expectedVersion
    }

    /// The top-level fields of a line.
    public static let fields = ["eventId", "type", "patient", "occurredAt", "actor", "data", "expectedVersion"]

    /// Roles an event's actor may have (`interface` never appears as an event's actor).
    public static let actorRoles: [Role] = [.clinician, .nurse, .compliance, .admin]

    // MARK: parsing

    /// Parses and validates one line (without its newline; trailing whitespace is allowed).
    /// `now` is the store's clock: `occurredAt` may be at most 24 hours after it, and `birthYear`
    /// at most its year.
    public static func parse(line: UnsafeRawBufferPointer, now: Timestamp) throws(InputError) -> IncomingEvent {
        let json: JSONValue
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw InputError(field: "line", problem: "not valid JSON: \(error.message) at byte \(error.offset)", expected: "one JSON object per line")
        }
        return try validate(json, now: now)
    }

    public static func parse(line: [UInt8], now: Timestamp) throws(InputError) -> IncomingEvent {
        let result: Result<IncomingEvent, InputError> = line.withUnsafeBytes { raw in
            do throws(InputError) { return .success(try parse(line: raw, now: now)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(line: String, now: Timestamp) throws(InputError) -> IncomingEvent {
        var line = line
        let result: Result<IncomingEvent, InputError> = line.withUTF8 { buffer in
            do throws(InputError) { return .success(try parse(line: UnsafeRawBufferPointer(buffer), now: now)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Any byte collection (`Substring.UTF8View`, `ArraySlice<UInt8>`…).
    public static func parse<C: Collection>(bytes: C, now: Timestamp) throws(InputError) -> IncomingEvent where C.Element == UInt8 {
        let contiguous: Result<IncomingEvent, InputError>? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(InputError) { return .success(try parse(line: UnsafeRawBufferPointer(buffer), now: now)) } catch {
                return .failure(error)
            }
        }
        if let contiguous { return try contiguous.get() }
        return try parse(line: Array(bytes), now: now)
    }

    /// `now` as epoch milliseconds (UTC).
    public static func parse(line: UnsafeRawBufferPointer, nowMillis: Int64) throws(InputError) -> IncomingEvent {
        try parse(line: line, now: Timestamp(epochMillis: nowMillis, offsetMinutes: 0))
    }

    /// Validates an already parsed line.
    public static func validate(_ json: JSONValue, now: Timestamp) throws(InputError) -> IncomingEvent {
        guard case .object(let members) = json else {
            throw InputError(field: "line", problem: "is \(jsonKindName(json)), not an object", expected: "one JSON object per line")
        }
        var jEventId: JSONValue? = nil
        var jType: JSONValue? = nil
        var jPatient: JSONValue? = nil
        var jOccurredAt: JSONValue? = nil
        var jActor: JSONValue? = nil
        var jData: JSONValue? = nil
        var jExpectedVersion: JSONValue? = nil
        for (key, value) in members {
            switch key {
            case "type": jType = value
            case "patient": jPatient = value
            case "occurredAt": jOccurredAt = value
            case "actor": jActor = value
            case "data": jData = value
            case "eventId": jEventId = value
            case "expectedVersion": jExpectedVersion = value
            default: throw unknownField("", key, known: fields)
            }
        }

        // type
        guard let jType else { throw missingField("type", typeExpected()) }
        guard case .string(let typeName) = jType else { throw wrongKind("type", jType, typeExpected()) }
        guard let type = EventType(rawValue: typeName) else {
            throw InputError(field: "type", problem: "unknown type \(quotedForMessage(typeName))", expected: typeExpected())
        }
        guard type.isImportable else {
            throw InputError(
                field: "type", problem: "\(typeName) is recorded by kstore itself and cannot be imported", expected: typeExpected())
        }

        // patient
        guard let jPatient else { throw missingField("patient", patientExpected) }
        guard case .string(let patient) = jPatient else { throw wrongKind("patient", jPatient, patientExpected) }
        guard isValidPatientId(patient) else {
            throw InputError(field: "patient", problem: "\(quotedForMessage(patient)) is not a valid patient id", expected: patientExpected)
        }

        // occurredAt
        guard let jOccurredAt else { throw missingField("occurredAt", timestampExpected) }
        guard case .string(let atText) = jOccurredAt else { throw wrongKind("occurredAt", jOccurredAt, timestampExpected) }
        let occurredAt: Timestamp
        do {
            occurredAt = try Timestamp(rfc3339: atText)
        } catch {
            throw InputError(field: "occurredAt", problem: "\(quotedForMessage(atText)): \(error.message)", expected: timestampExpected)
        }
        guard occurredAt.epochMillis <= now.epochMillis + InputLimits.maxFutureMillis else {
            throw InputError(
                field: "occurredAt", problem: "\(atText) is more than 24 hours in the future",
                expected: "a time no later than 24 hours after now (\(now.rfc3339))")
        }

        // actor
        guard let jActor else { throw missingField("actor", actorExpected) }
        let actor = try parseActor(jActor)

        // eventId, expectedVersion (optional; null counts as absent)
        var eventId: UUID? = nil
        if let jEventId, jEventId != .null { eventId = try readUUID(jEventId, "eventId") }
        var expectedVersion: UInt64? = nil
        if let jExpectedVersion, jExpectedVersion != .null {
            expectedVersion = try readUInt64(jExpectedVersion, "expectedVersion")
        }

        // data
        guard let jData else { throw missingField("data", "an object, possibly empty") }
        let event = try ClinicalEvent.from(type: type, data: jData, now: now)

        return IncomingEvent(
            eventId: eventId, type: type, patient: patient, occurredAt: occurredAt, actor: actor, event: event,
            expectedVersion: expectedVersion)
    }

    static func parseActor(_ v: JSONValue) throws(InputError) -> Actor {
        guard case .object(let m) = v else { throw wrongKind("actor", v, actorExpected) }
        var jId: JSONValue? = nil
        var jRole: JSONValue? = nil
        for (k, x) in m {
            switch k {
            case "id": jId = x
            case "role": jRole = x
            default: throw unknownField("actor", k, known: ["id", "role"])
            }
        }
        guard let jId else { throw missingField("actor.id", actorIdExpected) }
        let id = try readActorId(jId, "actor.id")
        guard let jRole else { throw missingField("actor.role", roleExpected) }
        guard case .string(let roleName) = jRole else { throw wrongKind("actor.role", jRole, roleExpected) }
        guard let role = Role(rawValue: roleName) else {
            throw InputError(field: "actor.role", problem: "unknown role \(quotedForMessage(roleName))", expected: roleExpected)
        }
        guard role != .interface else {
            throw InputError(field: "actor.role", problem: "an interface never appears as an event's actor", expected: roleExpected)
        }
        return Actor(id: id, role: role)
    }

    /// `^[A-Za-z0-9._-]{1,64}$`
    public static func isValidPatientId(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= InputLimits.maxIdLength else { return false }
        return u.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    static func typeExpected() -> String {
        "one of " + EventType.allCases.filter(\.isImportable).map(\.rawValue).joined(separator: ", ")
    }

    static let patientExpected = "1 to 64 of A-Z a-z 0-9 . _ -"
    static let timestampExpected = "an RFC 3339 timestamp with offset, e.g. 2026-01-05T09:30:00-05:00"
    static let actorExpected = "an object {id, role}"
    static let roleExpected = "one of clinician, nurse, compliance, admin"
}
