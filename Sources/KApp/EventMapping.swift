import Crypto
import Foundation
import KBinary
import KClinic
import KStore

/// Names of the system streams (never valid patient ids: those are `[A-Za-z0-9._-]`).
public enum SystemStream {
    public static let actors = "$actors"
    public static let rules = "$rules"
    public static let reviews = "$reviews"

    public static func isSystem(_ stream: String) -> Bool { stream.hasPrefix("$") }
}

/// Conversions between the store's envelopes and the domain's events.
public enum EventMapping {
    public static func uuidBytes(_ id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    public static func uuid(_ bytes: UnsafeRawBufferPointer) -> UUID {
        var u: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &u) { dst in
            for i in 0..<min(16, bytes.count) { dst[i] = bytes[i] }
        }
        return UUID(uuid: u)
    }

    /// A domain event ready for the log.
    public static func newEvent(
        eventId: UUID, patient: String, occurredAt: Timestamp, actor: Actor, osUser: String,
        event: ClinicalEvent, expectedVersion: UInt64? = nil
    ) -> NewEvent {
        NewEvent(
            eventId: uuidBytes(eventId), typeCode: event.type.code,
            schemaVersion: PayloadCodec.currentSchemaVersion(event.type), stream: patient,
            occurredAtMillis: occurredAt.epochMillis, offsetMinutes: occurredAt.offsetMinutes,
            actorId: actor.id, actorRole: actor.role.code, osUser: osUser,
            payload: PayloadCodec.encode(event), expectedVersion: expectedVersion)
    }

    /// The eventId given to an imported line that has none: derived from its content, so a
    /// re-sent file (or an import re-run after a crash) finds the same ids and skips them.
    /// RFC 9562 version 8 (custom) layout over SHA-256 of the canonical content.
    public static func contentEventId(_ event: NewEvent) -> UUID {
        var h = SHA256()
        h.update(data: Array("kstore-content-id-v1".utf8))
        var w = BinaryWriter(capacity: 64 + event.payload.count)
        w.writeVarUInt(UInt64(event.typeCode))
        w.writeByte(event.schemaVersion)
        w.writeString(event.stream)
        w.writeVarInt(event.occurredAtMillis)
        w.writeVarInt(Int64(event.offsetMinutes))
        w.writeString(event.actorId)
        w.writeByte(event.actorRole)
        w.writeBlob(event.payload)
        h.update(data: w.bytes)
        var bytes = Array(h.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuid(bytes.withUnsafeBytes { $0 })
    }

    /// Reads the stored record `bytes` found at `sequence`; bytes that do not read as a record are
    /// `StoreError.corrupt` at that sequence. With `names: false` the actor id and OS user are
    /// skipped (a fold never reads them).
    /// `cipher`: the store's (`store.log.cipher`), which opens a sealed record.
    /// `scratch`: opens a sealed record into that buffer (the view is then valid until its next use).
    public static func decodeView(
        _ bytes: UnsafeRawBufferPointer, sequence: UInt64, names: Bool = true, cipher: StoreCipher?, scratch: OpenedBytes? = nil
    ) throws -> RecordView {
        do throws(BinaryError) { return try RecordView(bytes, cipher: cipher, names: names, scratch: scratch) } catch {
            throw StoreError.corrupt(sequence: sequence, detail: error.description)
        }
    }

    /// The stored record `bytes` found at `sequence`, decoded into the domain's envelope: every
    /// failure (a record that does not read, an unknown type or role, a payload that does not
    /// decode) is `StoreError.corrupt` at that sequence.
    public static func decodeRecorded(_ bytes: UnsafeRawBufferPointer, sequence: UInt64, cipher: StoreCipher?) throws -> Recorded {
        try recorded(decodeView(bytes, sequence: sequence, cipher: cipher))
    }

    /// Decodes a stored record into the domain's envelope.
    public static func recorded(_ view: RecordView) throws -> Recorded {
        guard let type = EventType(code: view.typeCode) else {
            throw StoreError.corrupt(sequence: view.sequence, detail: "unknown event type code \(view.typeCode)")
        }
        guard let role = Role(code: view.actorRole) else {
            throw StoreError.corrupt(sequence: view.sequence, detail: "unknown role code \(view.actorRole)")
        }
        let event: ClinicalEvent
        do {
            event = try PayloadCodec.decode(type: type, schemaVersion: view.schemaVersion, bytes: view.payload)
        } catch {
            throw StoreError.corrupt(sequence: view.sequence, detail: "\(type.rawValue) payload: \(error)")
        }
        return Recorded(
            sequence: view.sequence, eventId: uuid(view.eventId), patient: view.stream,
            streamVersion: view.streamVersion,
            occurredAt: Timestamp(epochMillis: view.occurredAtMillis, offsetMinutes: view.offsetMinutes),
            recordedAtMicros: view.recordedAtMicros, actor: Actor(id: view.actorId, role: role), osUser: view.osUser,
            schemaVersion: view.schemaVersion, event: event)
    }

    /// RFC 3339 in UTC with microseconds, for recordedAt.
    public static func formatMicros(_ micros: Int64) -> String {
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let ts = Timestamp(epochMillis: millis, offsetMinutes: 0)
        let day = ts.clinicalDay
        let msOfDay = millis - Int64(day.ordinal) * 86_400_000
        let secs = Int(msOfDay / 1000)
        let frac = Int(micros - (Int64(day.ordinal) * 86_400_000 + Int64(secs) * 1000) * 1000)
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(day)T\(p(secs / 3600, 2)):\(p(secs / 60 % 60, 2)):\(p(secs % 60, 2)).\(p(frac, 6))Z"
    }

    /// The envelope as `kstore log --json` prints it.
    public static func json(_ r: Recorded) -> JSONValue {
        // session.md: a stock event (or a lot alert's acknowledgement) has no patient, only its lot.
        let lot = LotStream.lot(ofStream: r.patient)
        return .object([
            ("sequence", .int(Int64(r.sequence))),
            ("eventId", .string(r.eventId.uuidString.lowercased())),
            ("type", .string(r.type.rawValue)),
            ("patient", lot == nil ? .string(r.patient) : .null),
            ("streamVersion", .int(Int64(r.streamVersion))),
            ("occurredAt", .string(r.occurredAt.rfc3339)),
            ("recordedAt", .string(formatMicros(r.recordedAtMicros))),
            ("actor", .object([("id", .string(r.actor.id)), ("role", .string(r.actor.role.rawValue))])),
            ("osUser", .string(r.osUser)),
            ("schemaVersion", .int(Int64(r.schemaVersion))),
            ("data", r.event.dataJSON),
        ])
    }
}
