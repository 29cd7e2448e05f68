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

    /// The record's bytes without the hash (what the hash covers, after the previous hash):
    /// format 1 in a plain store, format 2 (`RecordHeader`) with `cipher`.
    func encodedBody(cipher: StoreCipher? = nil, idKey: [UInt8]? = nil, streamKey: [UInt8]? = nil) -> [UInt8] {
        guard let cipher else {
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
        var inner = BinaryWriter(capacity: 80 + payload.count)
        // The type code first: a pass that picks records by type peeks it (`StoreCipher.peekTypeCode`).
        inner.writeVarUInt(UInt64(typeCode))
        inner.writeRaw(eventId)
        inner.writeByte(schemaVersion)
        inner.writeString(stream)
        inner.writeVarInt(occurredAtMillis)
        inner.writeVarInt(Int64(offsetMinutes))
        inner.writeVarInt(recordedAtMicros)
        inner.writeString(actorId)
        inner.writeByte(actorRole)
        inner.writeString(osUser)
        inner.writeBlob(payload)
        var w = BinaryWriter(capacity: 64 + inner.bytes.count + StoreCipher.overhead + 4)
        w.writeByte(EventRecord.sealedFormatVersion)
        w.writeVarUInt(sequence)
        w.writeRaw(idKey ?? cipher.pseudonym(eventId, .eventId))
        w.writeBlob(streamKey ?? cipher.pseudonym(stream, .stream))
        w.writeVarUInt(streamVersion)
        let ad = w.bytes
        var sealed: [UInt8] = []
        sealed.reserveCapacity(inner.bytes.count + StoreCipher.overhead)
        inner.bytes.withUnsafeBytes { p in ad.withUnsafeBytes { a in cipher.seal(p, ad: a, into: &sealed) } }
        w.writeBlob(sealed)
        return w.bytes
    }

    /// Format of a record in an encrypted store.
    public static let sealedFormatVersion: UInt8 = 2
}

/// The parts of a stored record anyone may read, without the store's key: what `audit verify`
/// checks the chain and the indexes with. Format 2 (an encrypted store's record):
///
///     u8 format(=2) · varuint sequence · 16 B pseudonym of the eventId · blob pseudonym of the
///     stream · varuint streamVersion · blob sealed · 32 B hash
///
/// where `sealed` is AES-256-GCM (`nonce ‖ ciphertext ‖ tag`) of `varuint typeCode · 16 B
/// eventId · u8 schemaVersion · string stream · varint occurredAtMillis · varint offsetMinutes
/// · varint recordedAtMicros · string actorId · u8 actorRole · string osUser · blob payload`
/// with every header byte before it as associated data (so a sealed record moved to another
/// sequence or stream does not open), and the hash covers the stored, sealed bytes. A format-1
/// record's header is its own fields (its stream id and eventId are the keys).
public struct RecordHeader {
    public let format: UInt8
    public let sequence: UInt64
    /// The key of the record's eventId in `ids`.
    public let idKey: UnsafeRawBufferPointer
    /// The key of the record's stream in `streams`.
    public let streamKey: UnsafeRawBufferPointer
    public let streamVersion: UInt64
    /// Format 2: the header bytes (the associated data) and the sealed blob.
    public let associated: UnsafeRawBufferPointer
    public let sealed: UnsafeRawBufferPointer
    /// Every byte before the hash.
    public let body: UnsafeRawBufferPointer
    public let hash: UnsafeRawBufferPointer

    public var isSealed: Bool { format == EventRecord.sealedFormatVersion }

    public init(_ bytes: UnsafeRawBufferPointer) throws(BinaryError) {
        guard bytes.count > EventRecord.hashSize else { throw .truncated(at: bytes.count) }
        let bodyCount = bytes.count - EventRecord.hashSize
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<bodyCount])
        var r = BinaryReader(body)
        format = try r.readByte()
        switch format {
        case EventRecord.formatVersion:
            sequence = try r.readVarUInt()
            idKey = try r.readRaw(16)
            let code = try r.readVarUInt()
            guard code <= UInt64(UInt16.max) else { throw .invalidValue("type code \(code)") }
            _ = try r.readByte()
            streamKey = try r.readBlob()
            guard String(validating: streamKey, as: UTF8.self) != nil else { throw .invalidValue("stream id is not UTF-8") }
            streamVersion = try r.readVarUInt()
            associated = UnsafeRawBufferPointer(start: nil, count: 0)
            sealed = associated
        case EventRecord.sealedFormatVersion:
            sequence = try r.readVarUInt()
            idKey = try r.readRaw(StoreCipher.pseudonymSize)
            streamKey = try r.readBlob()
            guard streamKey.count == StoreCipher.pseudonymSize else { throw .invalidValue("stream pseudonym of \(streamKey.count) bytes") }
            streamVersion = try r.readVarUInt()
            associated = UnsafeRawBufferPointer(rebasing: body[0..<r.offset])
            sealed = try r.readBlob()
            guard sealed.count >= StoreCipher.overhead else { throw .invalidValue("sealed part of \(sealed.count) bytes") }
            guard r.isAtEnd else { throw .invalidValue("\(r.remaining) trailing bytes in record") }
        default:
            throw .invalidValue("record format \(format)")
        }
        self.body = body
        hash = UnsafeRawBufferPointer(rebasing: bytes[bodyCount...])
    }
}

/// Plaintext opened from a sealed record, owned by the views that borrow from it. A pass that
/// consumes each view before reading the next (a fold) hands one in as `scratch`, so a record
/// is opened without an allocation; the views it made are then valid only until the next.
public final class OpenedBytes {
    private(set) var buffer: UnsafeMutableRawBufferPointer
    init(count: Int) { buffer = .allocate(byteCount: max(count, 1), alignment: 8) }
    public convenience init() { self.init(count: 4096) }
    deinit { buffer.deallocate() }

    func reserve(_ count: Int) {
        guard count > buffer.count else { return }
        buffer.deallocate()
        buffer = .allocate(byteCount: max(count, buffer.count * 2), alignment: 8)
    }
}

/// A stored record read in place: strings decoded, payload and hash borrowed from the map (from
/// the opened plaintext, for a sealed record). Valid only inside the transaction (or scan
/// callback) that produced it.
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
    /// Every byte before the hash (as stored: sealed, in an encrypted store).
    public let body: UnsafeRawBufferPointer
    public let hash: UnsafeRawBufferPointer
    /// The stored record's bytes (what the chain covers, with the hash).
    public let stored: UnsafeRawBufferPointer
    /// Keeps a sealed record's plaintext alive as long as the view.
    private let opened: OpenedBytes?

    /// Reads a stored record. With `names: false` the actor id and OS user are skipped (left
    /// empty, not decoded): a replay's folds never read who recorded an event, and two fewer
    /// strings an event is ~4% of a replay. Everything else is read and checked as usual.
    ///
    /// A sealed record (format 2) is opened with `cipher`; one that does not open (altered,
    /// moved, another key) is `BinaryError.invalidValue` naming tampering. In an encrypted store
    /// (`cipher` given) a plain record is refused too: nothing is ever written unsealed there.
    public init(_ bytes: UnsafeRawBufferPointer, cipher: StoreCipher? = nil, names: Bool = true, scratch: OpenedBytes? = nil)
        throws(BinaryError)
    {
        guard bytes.count > EventRecord.hashSize else { throw .truncated(at: bytes.count) }
        let bodyCount = bytes.count - EventRecord.hashSize
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<bodyCount])
        stored = bytes
        self.body = body
        hash = UnsafeRawBufferPointer(rebasing: bytes[bodyCount...])
        guard let first = body.first else { throw .truncated(at: 0) }
        var r: BinaryReader
        var version: UInt64 = 0
        let code: UInt64
        if first == EventRecord.sealedFormatVersion {
            guard let cipher else { throw .invalidValue("a sealed record (encrypted store): the store's master key is needed") }
            let header = try RecordHeader(bytes)
            let plainCount = header.sealed.count - StoreCipher.overhead
            let opened: OpenedBytes
            if let scratch {
                scratch.reserve(plainCount)
                opened = scratch
            } else {
                opened = OpenedBytes(count: plainCount)
            }
            // No closure captures the cipher: a plain struct of pointers (see `RecordContext`).
            guard cipher.recordContext.openInPlace(header.sealed, ad: header.associated, into: opened.buffer, count: plainCount) else {
                throw .invalidValue(
                    "the sealed record does not open under the store's key: its bytes were altered or moved from another place (tampering)")
            }
            self.opened = opened
            sequence = header.sequence
            version = header.streamVersion
            r = BinaryReader(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(opened.buffer)[0..<plainCount]))
            code = try r.readVarUInt()
            eventId = try r.readRaw(16)
        } else {
            guard first == EventRecord.formatVersion else { throw .invalidValue("record format \(first)") }
            guard cipher == nil else { throw .invalidValue("a plain record in an encrypted store (everything there is sealed)") }
            opened = nil
            r = BinaryReader(body)
            _ = try r.readByte()
            sequence = try r.readVarUInt()
            eventId = try r.readRaw(16)
            code = try r.readVarUInt()
        }
        guard code <= UInt64(UInt16.max) else { throw .invalidValue("type code \(code)") }
        typeCode = UInt16(code)
        schemaVersion = try r.readByte()
        stream = try r.readString()
        if first == EventRecord.formatVersion {
            // Format 1 keeps the version between the stream and the times.
            version = try r.readVarUInt()
        }
        streamVersion = version
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
    }

    /// The type code of a stored plain record, read from its first bytes without decoding the
    /// rest; nil for a sealed one (`EventLog.typeCode(of:)` opens those).
    public static func peekTypeCode(_ bytes: UnsafeRawBufferPointer) -> UInt16? {
        var r = BinaryReader(bytes)
        guard (try? r.readByte()) == EventRecord.formatVersion, (try? r.readVarUInt()) != nil,
            (try? r.readRaw(16)) != nil, let code = try? r.readVarUInt(), code <= UInt64(UInt16.max)
        else { return nil }
        return UInt16(code)
    }

    /// The stream key bytes of a stored record (its stream id; a sealed record's pseudonym),
    /// borrowed, without decoding the rest (how a parallel replay picks its own patients'
    /// records). Nil for a malformed record.
    public static func peekStream(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var r = BinaryReader(bytes)
        guard let format = try? r.readByte(), (try? r.readVarUInt()) != nil else { return nil }
        if format == EventRecord.sealedFormatVersion {
            guard (try? r.readRaw(StoreCipher.pseudonymSize)) != nil else { return nil }
            return try? r.readBlob()
        }
        guard format == EventRecord.formatVersion, (try? r.readRaw(16)) != nil, (try? r.readVarUInt()) != nil,
            (try? r.readByte()) != nil, let stream = try? r.readBlob()
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
