import KBinary

/// An event as the store holds it: the envelope with an opaque payload.
///
/// The store does not interpret type codes, roles or payloads: the domain does. Layout of a
/// stored record (the value under the sequence key in `events`):
///
///     u8 format(=1) · varuint sequence · 16 bytes eventId · varuint typeCode · u8 schemaVersion
///     · string stream · varuint streamVersion · varint occurredAtMillis · varint offsetMinutes
///     · varint recordedAtMicros · string actorId · u8 actorRole · string osUser · blob payload
///     · 32 bytes SHA-256( previous record's hash ‖ every byte of this record before the hash )
public struct EventRecord: Sendable, Equatable {
    public static let formatVersion: UInt8 = 1
    public static let hashSize = 32

    public var sequence: UInt64
    public var eventId: [UInt8]
    public var typeCode: UInt16
    public var schemaVersion: UInt8
    public var stream: String
    public var streamVersion: UInt64
    public var occurredAtMillis: Int64
    public var offsetMinutes: Int16
    public var recordedAtMicros: Int64
    public var actorId: String
    public var actorRole: UInt8
    public var osUser: String
    public var payload: [UInt8]
    public var hash: [UInt8]

    public init(
        sequence: UInt64, eventId: [UInt8], typeCode: UInt16, schemaVersion: UInt8, stream: String, streamVersion: UInt64,
        occurredAtMillis: Int64, offsetMinutes: Int16, recordedAtMicros: Int64, actorId: String, actorRole: UInt8,
        osUser: String, payload: [UInt8], hash: [UInt8]
    ) {
        self.sequence = sequence
        self.eventId = eventId
        self.typeCode = typeCode
        self.schemaVersion = schemaVersion
        self.stream = stream
        self.streamVersion = streamVersion
        self.occurredAtMillis = occurredAtMillis
        self.offsetMinutes = offsetMinutes
        self.recordedAtMicros = recordedAtMicros
        self.actorId = actorId
        self.actorRole = actorRole
        self.osUser = osUser
        self.payload = payload
        self.hash = hash
    }

    /// The record's bytes without the hash (what the hash covers, after the previous hash).
    func encodedBody() -> [UInt8] {
        var w = BinaryWriter(capacity: 96 + payload.count)
        w.writeByte(EventRecord.formatVersion)
        w.writeVarUInt(sequence)
        w.writeRaw(eventId)
        w.writeVarUInt(UInt64(typeCode))
        w.writeByte(schemaVersion)
        w.writeString(stream)
        w.writeVarUInt(streamVersion)
        w.writeVarInt(occurredAtMillis)
        w.writeVarInt(Int64(offsetMinutes))
        w.writeVarInt(recordedAtMicros)
        w.writeString(actorId)
        w.writeByte(actorRole)
        w.writeString(osUser)
        w.writeBlob(payload)
        return w.bytes
    }
}

/// A stored record read in place: strings decoded, payload and hash borrowed from the map.
/// Valid only inside the transaction (or scan callback) that produced it.
public struct RecordView {
    public let sequence: UInt64
    public let eventId: UnsafeRawBufferPointer
    public let typeCode: UInt16
    public let schemaVersion: UInt8
    public let stream: String
    public let streamVersion: UInt64
    public let occurredAtMillis: Int64
    public let offsetMinutes: Int16
    public let recordedAtMicros: Int64
    public let actorId: String
    public let actorRole: UInt8
    public let osUser: String
    public let payload: UnsafeRawBufferPointer
    /// Every byte before the hash.
    public let body: UnsafeRawBufferPointer
    public let hash: UnsafeRawBufferPointer

    /// Reads a stored record. With `names: false` the actor id and OS user are skipped (left
    /// empty, not decoded): a replay's folds never read who recorded an event, and two fewer
    /// strings an event is ~4% of a replay. Everything else is read and checked as usual.
    public init(_ bytes: UnsafeRawBufferPointer, names: Bool = true) throws(BinaryError) {
        guard bytes.count > EventRecord.hashSize else { throw .truncated(at: bytes.count) }
        let bodyCount = bytes.count - EventRecord.hashSize
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<bodyCount])
        var r = BinaryReader(body)
        let format = try r.readByte()
        guard format == EventRecord.formatVersion else { throw .invalidValue("record format \(format)") }
        sequence = try r.readVarUInt()
        eventId = try r.readRaw(16)
        let code = try r.readVarUInt()
        guard code <= UInt64(UInt16.max) else { throw .invalidValue("type code \(code)") }
        typeCode = UInt16(code)
        schemaVersion = try r.readByte()
        stream = try r.readString()
        streamVersion = try r.readVarUInt()
        occurredAtMillis = try r.readVarInt()
        let offset = try r.readVarInt()
        guard offset >= -1440, offset <= 1440 else { throw .invalidValue("offset \(offset)") }
        offsetMinutes = Int16(offset)
        recordedAtMicros = try r.readVarInt()
        if names {
            actorId = try r.readString()
            actorRole = try r.readByte()
            osUser = try r.readString()
        } else {
            _ = try r.readBlob()
            actorId = ""
            actorRole = try r.readByte()
            _ = try r.readBlob()
            osUser = ""
        }
        payload = try r.readBlob()
        guard r.isAtEnd else { throw .invalidValue("\(r.remaining) trailing bytes in record") }
        self.body = body
        hash = UnsafeRawBufferPointer(rebasing: bytes[bodyCount...])
    }

    /// The type code of a stored record, read from its first bytes without decoding the rest.
    public static func peekTypeCode(_ bytes: UnsafeRawBufferPointer) -> UInt16? {
        var r = BinaryReader(bytes)
        guard (try? r.readByte()) == EventRecord.formatVersion, (try? r.readVarUInt()) != nil,
            (try? r.readRaw(16)) != nil, let code = try? r.readVarUInt(), code <= UInt64(UInt16.max)
        else { return nil }
        return UInt16(code)
    }

    /// The stream id bytes of a stored record, borrowed, without decoding the rest (how a
    /// parallel replay picks its own patients' records). Nil for a malformed record.
    public static func peekStream(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var r = BinaryReader(bytes)
        guard (try? r.readByte()) == EventRecord.formatVersion, (try? r.readVarUInt()) != nil,
            (try? r.readRaw(16)) != nil, (try? r.readVarUInt()) != nil, (try? r.readByte()) != nil,
            let stream = try? r.readBlob()
        else { return nil }
        return stream
    }

    /// An owned copy, usable after the transaction.
    public func materialize() -> EventRecord {
        EventRecord(
            sequence: sequence, eventId: eventId.copiedBytes, typeCode: typeCode, schemaVersion: schemaVersion,
            stream: stream, streamVersion: streamVersion, occurredAtMillis: occurredAtMillis,
            offsetMinutes: offsetMinutes, recordedAtMicros: recordedAtMicros, actorId: actorId, actorRole: actorRole,
            osUser: osUser, payload: payload.copiedBytes, hash: hash.copiedBytes)
    }

    /// Whether `event` says the same thing (what an idempotent re-send must match).
    public func hasSameContent(as event: NewEvent) -> Bool {
        typeCode == event.typeCode && schemaVersion == event.schemaVersion && stream == event.stream
            && occurredAtMillis == event.occurredAtMillis && offsetMinutes == event.offsetMinutes
            && actorId == event.actorId && actorRole == event.actorRole && payload.elementsEqual(event.payload)
    }
}
