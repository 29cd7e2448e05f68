import Foundation
import KClinic
import SwiftProtobuf

typealias Envelope = Kstore_Bench_Envelope

/// swift-protobuf with generated code: the domain mapped into the generated message and out
/// again. The mapping is what a protobuf-backed store would have to write and keep in step
/// with the schema, in place of `PayloadCodec`.
enum ProtoCodec {
    /// Domain → message → bytes. The hash is the same 32 bytes the store computed (a real
    /// protobuf store would hash its own serialisation; hashing is excluded from both sides).
    @inline(never)
    static func encode(_ e: SourceEvent) throws -> [UInt8] {
        var m = Envelope()
        m.sequence = e.sequence
        m.eventID = Data(e.eventId)
        m.typeCode = UInt32(e.typeCode)
        m.schemaVersion = UInt32(e.schemaVersion)
        m.stream = e.stream
        m.streamVersion = e.streamVersion
        m.occurredAtMillis = e.occurredAtMillis
        m.offsetMinutes = Int32(e.offsetMinutes)
        m.recordedAtMicros = e.recordedAtMicros
        m.actorID = e.actor.id
        m.actorRole = UInt32(e.actor.role.code)
        m.osUser = e.osUser
        m.hash = Data(e.hash)
        switch e.event {
        case .infusionAdministered(let p):
            var msg = Kstore_Bench_InfusionAdministered()
            msg.route = p.route.proto
            var dose = Kstore_Bench_Dose()
            dose.value = p.dose.value
            dose.unit = p.dose.unit.proto
            msg.dose = dose
            msg.series = p.series.proto
            if let j = p.justification { msg.justification = j }
            m.payload = .infusionAdministered(msg)
        case .scoreRecorded(let p):
            var msg = Kstore_Bench_ScoreRecorded()
            msg.instrument = p.instrument.proto
            msg.value = Int32(p.value)
            m.payload = .scoreRecorded(msg)
        case .vitalsRecorded(let p):
            var msg = Kstore_Bench_VitalsRecorded()
            msg.systolic = Int32(p.systolic)
            msg.diastolic = Int32(p.diastolic)
            if let hr = p.heartRate { msg.heartRate = Int32(hr) }
            m.payload = .vitalsRecorded(msg)
        case .screeningRecorded(let p):
            var msg = Kstore_Bench_ScreeningRecorded()
            msg.kind = p.kind.proto
            msg.positive = p.positive
            m.payload = .screeningRecorded(msg)
        default:
            throw BenchError.bad("\(e.event.type) has no message in envelope.proto")
        }
        return try m.serializedBytes()
    }

    /// Message → domain event, refusing what `RecordView`/`PayloadCodec.decode` refuse for the
    /// same reasons (unknown enum values, unsupported schema version, offset out of range,
    /// wrong id/hash length). The oneof case gives the type.
    @inline(__always)
    static func event(_ m: Envelope) throws -> ClinicalEvent {
        guard m.eventID.count == 16, m.hash.count == 32 else { throw BenchError.bad("id/hash length") }
        guard m.offsetMinutes >= -1440, m.offsetMinutes <= 1440 else { throw BenchError.bad("offset") }
        let event: ClinicalEvent
        switch m.payload {
        case .infusionAdministered(let p)?:
            guard p.hasDose else { throw BenchError.bad("infusion without dose") }
            event = .infusionAdministered(
                InfusionAdministered(
                    route: try Route(p.route), dose: Dose(value: p.dose.value, unit: try DoseUnit(p.dose.unit)),
                    series: try Series(p.series), justification: p.hasJustification ? p.justification : nil))
        case .scoreRecorded(let p)?:
            event = .scoreRecorded(ScoreRecorded(instrument: try Instrument(p.instrument), value: Int(p.value)))
        case .vitalsRecorded(let p)?:
            event = .vitalsRecorded(
                VitalsRecorded(
                    systolic: Int(p.systolic), diastolic: Int(p.diastolic),
                    heartRate: p.hasHeartRate ? Int(p.heartRate) : nil))
        case .screeningRecorded(let p)?:
            event = .screeningRecorded(ScreeningRecorded(kind: try ScreeningKind(p.kind), positive: p.positive))
        case nil:
            throw BenchError.bad("no payload")
        }
        guard PayloadCodec.supportedSchemaVersions(event.type).contains(UInt8(truncatingIfNeeded: m.schemaVersion)),
            m.schemaVersion <= 255
        else { throw BenchError.bad("schema version \(m.schemaVersion)") }
        return event
    }

    /// Parse + map into `ClinicalEvent`. Returns what the checksum needs.
    @inline(__always)
    static func decodeEvent(_ bytes: some SwiftProtobufContiguousBytes) throws -> Int {
        let m = try Envelope(serializedBytes: bytes)
        let event = try event(m)
        return Checksum.of(
            sequence: m.sequence, streamVersion: m.streamVersion, stream: m.stream, actorId: m.actorID,
            occurredAtMillis: m.occurredAtMillis, event: event)
    }

    /// Parse + map the whole envelope into the domain's `Recorded`.
    @inline(__always)
    static func decodeRecorded(_ bytes: [UInt8]) throws -> Recorded {
        let m = try Envelope(serializedBytes: bytes)
        let event = try event(m)
        guard let role = Role(code: UInt8(truncatingIfNeeded: m.actorRole)), m.actorRole <= 255 else {
            throw BenchError.bad("role \(m.actorRole)")
        }
        return Recorded(
            sequence: m.sequence, eventId: uuid(m.eventID), patient: m.stream, streamVersion: m.streamVersion,
            occurredAt: Timestamp(epochMillis: m.occurredAtMillis, offsetMinutes: Int16(m.offsetMinutes)),
            recordedAtMicros: m.recordedAtMicros, actor: Actor(id: m.actorID, role: role), osUser: m.osUser,
            schemaVersion: UInt8(m.schemaVersion), event: event)
    }

    @inline(__always)
    static func uuid(_ data: Data) -> UUID {
        var u: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &u) { dst in
            data.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(16))) }
        }
        return UUID(uuid: u)
    }
}

// MARK: - Enum mapping (domain ↔ generated), refusing UNSPECIFIED and unknown values

extension Route {
    var proto: Kstore_Bench_Route {
        switch self {
        case .iv: .iv
        case .im: .im
        case .intranasal: .intranasal
        case .sublingual: .sublingual
        case .oral: .oral
        }
    }
    init(_ p: Kstore_Bench_Route) throws {
        switch p {
        case .iv: self = .iv
        case .im: self = .im
        case .intranasal: self = .intranasal
        case .sublingual: self = .sublingual
        case .oral: self = .oral
        case .unspecified, .UNRECOGNIZED: throw BenchError.bad("route \(p)")
        }
    }
}

extension DoseUnit {
    var proto: Kstore_Bench_DoseUnit {
        switch self {
        case .mgPerKg: .mgPerKg
        case .mg: .mg
        }
    }
    init(_ p: Kstore_Bench_DoseUnit) throws {
        switch p {
        case .mgPerKg: self = .mgPerKg
        case .mg: self = .mg
        case .unspecified, .UNRECOGNIZED: throw BenchError.bad("dose unit \(p)")
        }
    }
}

extension Series {
    var proto: Kstore_Bench_Series {
        switch self {
        case .acute: .acute
        case .maintenance: .maintenance
        case .booster: .booster
        }
    }
    init(_ p: Kstore_Bench_Series) throws {
        switch p {
        case .acute: self = .acute
        case .maintenance: self = .maintenance
        case .booster: self = .booster
        case .unspecified, .UNRECOGNIZED: throw BenchError.bad("series \(p)")
        }
    }
}

extension Instrument {
    var proto: Kstore_Bench_Instrument {
        switch self {
        case .madrs: .madrs
        case .phq2: .phq2
        case .phq9: .phq9
        case .moca: .moca
        }
    }
    init(_ p: Kstore_Bench_Instrument) throws {
        switch p {
        case .madrs: self = .madrs
        case .phq2: self = .phq2
        case .phq9: self = .phq9
        case .moca: self = .moca
        case .unspecified, .UNRECOGNIZED: throw BenchError.bad("instrument \(p)")
        }
    }
}

extension ScreeningKind {
    var proto: Kstore_Bench_ScreeningKind {
        switch self {
        case .substanceUse: .substanceUse
        case .urologicalSymptoms: .urologicalSymptoms
        case .sideEffectsReview: .sideEffectsReview
        case .dissociativeSymptoms: .dissociativeSymptoms
        case .psychoticSymptoms: .psychoticSymptoms
        }
    }
    init(_ p: Kstore_Bench_ScreeningKind) throws {
        switch p {
        case .substanceUse: self = .substanceUse
        case .urologicalSymptoms: self = .urologicalSymptoms
        case .sideEffectsReview: self = .sideEffectsReview
        case .dissociativeSymptoms: self = .dissociativeSymptoms
        case .psychoticSymptoms: self = .psychoticSymptoms
        case .unspecified, .UNRECOGNIZED: throw BenchError.bad("screening kind \(p)")
        }
    }
}
