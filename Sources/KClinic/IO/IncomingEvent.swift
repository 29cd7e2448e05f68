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
    ///
    /// The line is checked as JSON first (any syntax error wins), then field by field in a fixed
    /// order: unknown fields, `type`, `patient`, `occurredAt`, `actor`, `eventId`,
    /// `expectedVersion`, `data`. Same result as `validate(JSONParser.parse(line), now:)`, faster:
    /// the envelope's strings are read in place and only `actor` and `data` become `JSONValue`s.
    public static func parse(line: UnsafeRawBufferPointer, now: Timestamp) throws(InputError) -> IncomingEvent {
        guard let base = line.baseAddress, line.count > 0 else { throw notJSON(JSONParseError(offset: 0, message: "empty input")) }
        var parser = _JSONByteParser(base: base.assumingMemoryBound(to: UInt8.self), count: line.count)
        let envelope: _EnvelopeFields?
        do throws(JSONParseError) { envelope = try parser.parseEnvelope() } catch { throw notJSON(error) }
        guard let fields = envelope else {
            // Not an object: parse it whole for the message.
            let json: JSONValue
            do throws(JSONParseError) { json = try JSONParser.parse(line) } catch { throw notJSON(error) }
            return try validate(json, now: now)
        }
        return try validate(fields, now: now)
    }

    static func notJSON(_ error: JSONParseError) -> InputError {
        InputError(field: "line", problem: "not valid JSON: \(error.message) at byte \(error.offset)", expected: "one JSON object per line")
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
        var fields = _EnvelopeFields()
        for (key, value) in members {
            if let k = _EnvelopeFields.names.firstIndex(of: key) {
                fields.set(k, .value(value))
            } else if fields.firstUnknown == nil {
                fields.firstUnknown = key
            }
        }
        return try validate(fields, now: now)
    }

    static func validate(_ fields: _EnvelopeFields, now: Timestamp) throws(InputError) -> IncomingEvent {
        if let key = fields.firstUnknown { throw unknownField("", key, known: IncomingEvent.fields) }

        // type
        guard let fType = fields.type else { throw missingField("type", typeExpected()) }
        guard let found = fType.withBytes({ EventType._names.lookup($0) }) else { throw wrongKind("type", fType, typeExpected()) }
        guard let type = found else {
            throw InputError(field: "type", problem: "unknown type \(quotedForMessage(fType.string ?? ""))", expected: typeExpected())
        }
        guard type.isImportable else {
            throw InputError(
                field: "type", problem: "\(type.rawValue) is recorded by kstore itself and cannot be imported", expected: typeExpected())
        }

        // patient (absent for the stock types, whose stream is their lot; and for a correction of
        // a stock event or a lot alert's acknowledgement: session.md)
        var patient: String? = nil
        if let fPatient = fields.patient, !fPatient.isNull {
            guard let patientOK = fPatient.withBytes({ isValidPatientId($0) as Bool }), let p = fPatient.string else {
                throw wrongKind("patient", fPatient, patientExpected)
            }
            guard patientOK else {
                throw InputError(field: "patient", problem: "\(quotedForMessage(p)) is not a valid patient id", expected: patientExpected)
            }
            guard !type.isStock else {
                throw InputError(
                    field: "patient", problem: "a \(type.rawValue) carries no patient",
                    expected: "no patient: a stock event belongs to its lot")
            }
            patient = p
        } else if !type.isStock && !type.isCorrection && type != .alertAcknowledged {
            throw missingField("patient", patientExpected)
        }

        // occurredAt
        guard let fAt = fields.occurredAt else { throw missingField("occurredAt", timestampExpected) }
        let parsedAt = fAt.withBytes { bytes -> Result<Timestamp, TimestampParseError> in
            do throws(TimestampParseError) { return .success(try Timestamp.parseRFC3339(bytes)) } catch { return .failure(error) }
        }
        guard let parsedAt else { throw wrongKind("occurredAt", fAt, timestampExpected) }
        let occurredAt: Timestamp
        switch parsedAt {
        case .success(let t): occurredAt = t
        case .failure(let error):
            throw InputError(
                field: "occurredAt", problem: "\(quotedForMessage(fAt.string ?? "")): \(error.message)", expected: timestampExpected)
        }
        try InputLimits.checkOccurredAt(occurredAt, now: now)

        // actor
        guard let fActor = fields.actor else { throw missingField("actor", actorExpected) }
        guard case .value(let jActor) = fActor else { throw wrongKind("actor", fActor, actorExpected) }
        let actor = try parseActor(jActor)

        // eventId, expectedVersion (optional; null counts as absent)
        var eventId: UUID? = nil
        if let fId = fields.eventId, !fId.isNull {
            guard let parsedId = fId.withBytes({ UUID(utf8: $0) }) else { throw wrongKind("eventId", fId, uuidExpected) }
            guard let id = parsedId else {
                throw InputError(field: "eventId", problem: "\(quotedForMessage(fId.string ?? "")) is not a UUID", expected: uuidExpected)
            }
            eventId = id
        }
        var expectedVersion: UInt64? = nil
        if let fVersion = fields.expectedVersion, !fVersion.isNull {
            guard case .value(let v) = fVersion else { throw wrongKind("expectedVersion", fVersion, uint64Expected) }
            expectedVersion = try readUInt64(v, "expectedVersion")
        }

        // data
        guard let fData = fields.data else { throw missingField("data", "an object, possibly empty") }
        guard case .value(let jData) = fData else { throw wrongKind("data", fData, "an object, possibly empty") }
        let event = try ClinicalEvent.from(type: type, data: jData, now: now)

        // The stream: the patient's, or the lot's.
        let stream: String
        if let lot = event.stockLot {
            if patient != nil {
                throw InputError(
                    field: "patient", problem: "a lot alert's acknowledgement carries no patient",
                    expected: "either patient (a patient's alert) or data.lot (a lot alert)")
            }
            stream = LotStream.stream(lot)
        } else if let patient {
            stream = patient
        } else if type.isCorrection {
            // A correction of a stock event: its stream is the target's (the importer finds it).
            stream = ""
        } else {
            throw missingField("patient", type == .alertAcknowledged ? patientExpected + " (or data.lot for a lot alert)" : patientExpected)
        }

        return IncomingEvent(
            eventId: eventId, type: type, patient: stream, occurredAt: occurredAt, actor: actor, event: event,
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
        var s = s
        return s.withUTF8 { isValidPatientId(UnsafeRawBufferPointer($0)) }
    }

    static func isValidPatientId(_ u: UnsafeRawBufferPointer) -> Bool {
        guard !u.isEmpty, u.count <= InputLimits.maxIdLength else { return false }
        for c in u {
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
            if !ok { return false }
        }
        return true
    }

    static func typeExpected() -> String {
        "one of " + EventType.allCases.filter(\.isImportable).map(\.rawValue).joined(separator: ", ")
    }

    static let patientExpected = "1 to 64 of A-Z a-z 0-9 . _ -"
    static let timestampExpected = "an RFC 3339 timestamp with offset, e.g. 2026-01-05T09:30:00-05:00"
    static let actorExpected = "an object {id, role}"
    static let roleExpected = "one of clinician, nurse, compliance, admin"
}

// MARK: - The envelope read straight from the line's bytes

/// A top-level field's value: a string still in the line's bytes (no escapes), or a parsed value.
enum _EnvelopeField {
    /// Valid only while the line's buffer is.
    case bytes(UnsafeRawBufferPointer)
    case value(JSONValue)

    var isNull: Bool {
        if case .value(.null) = self { return true }
        return false
    }

    /// The string's content, nil when the value is not a string.
    var string: String? {
        switch self {
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .value(.string(let s)): return s
        case .value: return nil
        }
    }

    /// `body` over the string's UTF-8, nil when the value is not a string.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        switch self {
        case .bytes(let b): return body(b)
        case .value(.string(var s)): return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        case .value: return nil
        }
    }
}

func wrongKind(_ field: String, _ f: _EnvelopeField, _ expected: String) -> InputError {
    switch f {
    case .bytes: InputError(field: field, problem: "is a string", expected: expected)
    case .value(let v): wrongKind(field, v, expected)
    }
}

struct _EnvelopeFields {
    /// In the order of the indices used by `set`.
    static let names = ["eventId", "type", "patient", "occurredAt", "actor", "data", "expectedVersion"]

    var eventId: _EnvelopeField? = nil
    var type: _EnvelopeField? = nil
    var patient: _EnvelopeField? = nil
    var occurredAt: _EnvelopeField? = nil
    var actor: _EnvelopeField? = nil
    var data: _EnvelopeField? = nil
    var expectedVersion: _EnvelopeField? = nil
    /// The first key (in input order) that is not a field of the format.
    var firstUnknown: String? = nil

    mutating func set(_ k: Int, _ f: _EnvelopeField) {
        switch k {
        case 0: eventId = f
        case 1: type = f
        case 2: patient = f
        case 3: occurredAt = f
        case 4: actor = f
        case 5: data = f
        default: expectedVersion = f
        }
    }

    /// The index of a known key from its UTF-8 bytes.
    @inline(__always)
    static func index(_ b: UnsafeRawBufferPointer) -> Int? {
        func equals(_ name: StaticString) -> Bool {
            guard b.count == name.utf8CodeUnitCount else { return false }
            let n = name.utf8Start
            for j in 0..<b.count where b[j] != n[j] { return false }
            return true
        }
        switch b.count {
        case 4: return equals("type") ? 1 : (equals("data") ? 5 : nil)
        case 5: return equals("actor") ? 4 : nil
        case 7: return equals("eventId") ? 0 : (equals("patient") ? 2 : nil)
        case 10: return equals("occurredAt") ? 3 : nil
        case 15: return equals("expectedVersion") ? 6 : nil
        default: return nil
        }
    }
}

extension _JSONByteParser {
    /// Reads the line as `parseDocument` would, with the same checks and messages, but keeps the
    /// top-level fields' string values as byte ranges of the line. nil when the line is valid
    /// JSON-so-far but not an object (the caller parses it whole).
    mutating func parseEnvelope() throws(JSONParseError) -> _EnvelopeFields? {
        skipWhitespace()
        guard i < end, p[i] == 0x7B else { return nil }
        let open = i
        depth = 1
        i += 1
        var fields = _EnvelopeFields()
        skipWhitespace()
        if i < end && p[i] == 0x7D {
            i += 1
        } else {
            var seen: UInt8 = 0
            var unknownKeys = Set<String>()
            while true {
                skipWhitespace()
                guard i < end else { throw fail("unterminated object (opened at byte \(open))") }
                guard p[i] == 0x22 else { throw fail("unexpected \(describeByte(at: i)), expected a string key") }
                let keyStart = i
                let key = try scanString()
                let index: Int?
                if key.escaped {
                    index = scratch.withUnsafeBytes { _EnvelopeFields.index($0) }
                } else {
                    index = _EnvelopeFields.index(UnsafeRawBufferPointer(start: p + key.start, count: key.end - key.start))
                }
                if let index {
                    guard seen & (1 << index) == 0 else {
                        throw fail("duplicate key \(quotedForMessage(_EnvelopeFields.names[index]))", at: keyStart)
                    }
                    seen |= 1 << index
                } else {
                    let name = key.escaped ? String(decoding: scratch, as: UTF8.self) : makeString(key.start, key.end)
                    guard unknownKeys.insert(name).inserted else { throw fail("duplicate key \(quotedForMessage(name))", at: keyStart) }
                    if fields.firstUnknown == nil { fields.firstUnknown = name }
                }
                skipWhitespace()
                guard i < end, p[i] == 0x3A else {
                    throw fail("unexpected \(describeByte(at: i)), expected ':' after a key")
                }
                i += 1
                skipWhitespace()
                let field: _EnvelopeField
                if i < end && p[i] == 0x22 {
                    let s = try scanString()
                    field =
                        s.escaped
                        ? .value(.string(String(decoding: scratch, as: UTF8.self)))
                        : .bytes(UnsafeRawBufferPointer(start: p + s.start, count: s.end - s.start))
                } else {
                    field = .value(try parseValue())
                }
                if let index { fields.set(index, field) }
                skipWhitespace()
                guard i < end else { throw fail("unterminated object (opened at byte \(open))") }
                let c = p[i]
                i += 1
                if c == 0x2C { continue }
                if c == 0x7D { break }
                throw fail("unexpected \(describeByte(at: i - 1)), expected ',' or '}'", at: i - 1)
            }
        }
        depth = 0
        skipWhitespace()
        guard i == end else { throw fail("unexpected \(describeByte(at: i)) after the JSON value") }
        return fields
    }
}
