import Foundation
import KBinary
import KClinic
import KStore

/// The hand-written codec, the way the store and the domain use it.
enum HandCodec {
    /// The stored record: `EventRecord.encodedBody()` followed by the 32-byte hash.
    ///
    /// `encodedBody()` is internal to KStore, so its layout is replicated here with the same
    /// `BinaryWriter` calls in the same order (and the same initial capacity); `StoreCheck`
    /// proves the result byte-identical to what `EventLog.append` writes. The payload is
    /// encoded first into its own array, as `EventMapping.newEvent` does before the append.
    @inline(never)
    static func encode(_ e: SourceEvent) -> [UInt8] {
        let payload = PayloadCodec.encode(e.event)
        var w = BinaryWriter(capacity: 96 + payload.count)
        w.writeByte(EventRecord.formatVersion)
        w.writeVarUInt(e.sequence)
        w.writeRaw(e.eventId)
        w.writeVarUInt(UInt64(e.typeCode))
        w.writeByte(e.schemaVersion)
        w.writeString(e.stream)
        w.writeVarUInt(e.streamVersion)
        w.writeVarInt(e.occurredAtMillis)
        w.writeVarInt(Int64(e.offsetMinutes))
        w.writeVarInt(e.recordedAtMicros)
        w.writeString(e.actor.id)
        w.writeByte(e.actor.role.code)
        w.writeString(e.osUser)
        w.writeBlob(payload)
        // EventLog.append: `bytes.append(contentsOf: record.hash)`.
        w.writeRaw(e.hash)
        return w.bytes
    }

    /// `RecordView` + `PayloadCodec.decode`: the envelope read in place, the payload into the
    /// domain's `ClinicalEvent`. Returns what the checksum needs.
    @inline(__always)
    static func decodeEvent(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let view = try RecordView(bytes)
        guard let type = EventType(code: view.typeCode) else { throw BenchError.bad("type code \(view.typeCode)") }
        let event = try PayloadCodec.decode(type: type, schemaVersion: view.schemaVersion, bytes: view.payload)
        return Checksum.of(
            sequence: view.sequence, streamVersion: view.streamVersion, stream: view.stream, actorId: view.actorId,
            occurredAtMillis: view.occurredAtMillis, event: event)
    }

    /// The whole envelope into the domain's `Recorded`, as `EventMapping.recorded` (KApp) does.
    @inline(__always)
    static func decodeRecorded(_ bytes: UnsafeRawBufferPointer) throws -> Recorded {
        let view = try RecordView(bytes)
        guard let type = EventType(code: view.typeCode) else { throw BenchError.bad("type code \(view.typeCode)") }
        guard let role = Role(code: view.actorRole) else { throw BenchError.bad("role \(view.actorRole)") }
        let event = try PayloadCodec.decode(type: type, schemaVersion: view.schemaVersion, bytes: view.payload)
        return Recorded(
            sequence: view.sequence, eventId: uuid(view.eventId), patient: view.stream,
            streamVersion: view.streamVersion,
            occurredAt: Timestamp(epochMillis: view.occurredAtMillis, offsetMinutes: view.offsetMinutes),
            recordedAtMicros: view.recordedAtMicros, actor: Actor(id: view.actorId, role: role), osUser: view.osUser,
            schemaVersion: view.schemaVersion, event: event)
    }

    /// As `EventMapping.uuid`.
    @inline(__always)
    static func uuid(_ bytes: UnsafeRawBufferPointer) -> UUID {
        var u: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &u) { dst in
            for i in 0..<min(16, bytes.count) { dst[i] = bytes[i] }
        }
        return UUID(uuid: u)
    }
}

enum BenchError: Error {
    case bad(String)
}

/// What both decoders must agree on, summed so the optimiser keeps every decoded value.
enum Checksum {
    @inline(__always)
    static func of(
        sequence: UInt64, streamVersion: UInt64, stream: String, actorId: String, occurredAtMillis: Int64,
        event: ClinicalEvent
    ) -> Int {
        var s = Int(truncatingIfNeeded: sequence) &+ Int(truncatingIfNeeded: streamVersion) &* 3
        s = s &+ stream.utf8.count &+ actorId.utf8.count &* 5 &+ Int(truncatingIfNeeded: occurredAtMillis & 0xFFFF)
        return s &+ of(event)
    }

    @inline(__always)
    static func of(_ event: ClinicalEvent) -> Int {
        switch event {
        case .scoreRecorded(let e): return e.value &+ e.instrument.rawValue.utf8.count
        case .screeningRecorded(let e): return (e.positive ? 1000 : 0) &+ e.kind.rawValue.utf8.count
        case .vitalsRecorded(let e): return e.systolic &* 7 &+ e.diastolic &+ (e.heartRate ?? -1)
        case .infusionAdministered(let e):
            return Int(e.dose.value * 100) &+ e.route.rawValue.utf8.count &+ e.series.rawValue.utf8.count
                &+ (e.justification?.utf8.count ?? 0)
        default: return 0
        }
    }

    static func of(_ r: Recorded) -> Int {
        of(
            sequence: r.sequence, streamVersion: r.streamVersion, stream: r.patient, actorId: r.actor.id,
            occurredAtMillis: r.occurredAt.epochMillis, event: r.event) &+ Int(r.eventId.uuid.0)
            &+ Int(r.occurredAt.offsetMinutes) &+ Int(truncatingIfNeeded: r.recordedAtMicros & 0xFF)
    }
}
