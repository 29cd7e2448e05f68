import KBinary

import struct Foundation.UUID

/// The binary payload of each event type: what the store keeps, as opaque bytes, beside the
/// envelope's type code and schema version.
///
/// Layout (KBinary primitives): enums one byte each with the explicit codes below (never derived
/// from declaration order; a code is never reused), integers zig-zag varints, `UInt64` plain
/// varints, optionals a presence byte (0/1) then the value, doubles 8-byte little-endian bit
/// patterns, UUIDs 16 raw bytes, strings length-prefixed UTF-8, arrays a count then the elements.
/// `JSONValue` (the fields of an `EventAmended`) is tagged: 0 null, 1 false, 2 true, 3 int
/// (zig-zag), 4 double, 5 string, 6 array (count, values), 7 object (count, key/value pairs).
///
/// Versions: every type is at version 1 except `InfusionAdministered`, at 2 (v1 had no
/// `justification`; v2 appends it as an optional string; a v1 payload decodes with nil). A
/// payload of an unknown version, with trailing bytes, or with an unknown enum code is refused.
public enum PayloadCodec {
    public static func currentSchemaVersion(_ type: EventType) -> UInt8 {
        switch type {
        // v3: the drug, weight, lot and duration of session.md.
        case .infusionAdministered: 3
        // v2: a lot alert's acknowledgement names its lot.
        case .alertAcknowledged: 2
        // v2: the electronic signature (reviews and adoptions), the printed name (actors).
        case .auditReviewed, .ruleSetAdopted, .actorRegistered: 2
        default: 1
        }
    }

    /// Versions `decode` reads for `type` (1 through the current one).
    public static func supportedSchemaVersions(_ type: EventType) -> ClosedRange<UInt8> {
        1...currentSchemaVersion(type)
    }

    /// The payload at the type's current schema version.
    public static func encode(_ event: ClinicalEvent) -> [UInt8] {
        var w = BinaryWriter(capacity: 32)
        encode(event, into: &w)
        return w.bytes
    }

    /// Appends the payload (current schema version) to `w`.
    public static func encode(_ event: ClinicalEvent, into w: inout BinaryWriter) {
        switch event {
        case .patientEnrolled(let e):
            w.writeByte(e.protocol.payloadCode)
            writeOptionalInt(e.birthYear, &w)
            if let h = e.substanceUseHistory {
                w.writeByte(1)
                w.writeBool(h)
            } else {
                w.writeByte(0)
            }
        case .consentRecorded(let e):
            w.writeByte(e.kind.payloadCode)
        case .infusionAdministered(let e):
            // v1
            w.writeByte(e.route.payloadCode)
            w.writeDouble(e.dose.value)
            w.writeByte(e.dose.unit.payloadCode)
            w.writeByte(e.series.payloadCode)
            // v2
            w.writeOptionalString(e.justification)
            // v3
            if let d = e.drug {
                w.writeByte(1)
                w.writeByte(d.payloadCode)
            } else {
                w.writeByte(0)
            }
            writeOptionalDouble(e.weightKg, &w)
            w.writeOptionalString(e.lot)
            writeOptionalInt(e.durationMinutes, &w)
        case .scoreRecorded(let e):
            w.writeByte(e.instrument.payloadCode)
            w.writeVarInt(Int64(e.value))
        case .labResulted(let e):
            w.writeByte(e.test.payloadCode)
            w.writeBool(e.abnormal)
            if let values = e.values {
                w.writeByte(1)
                w.writeVarUInt(UInt64(values.count))
                for (name, v) in values {
                    w.writeString(name)
                    w.writeDouble(v)
                }
            } else {
                w.writeByte(0)
            }
        case .vitalsRecorded(let e):
            w.writeVarInt(Int64(e.systolic))
            w.writeVarInt(Int64(e.diastolic))
            writeOptionalInt(e.heartRate, &w)
        case .sideEffectReported(let e):
            w.writeByte(e.category.payloadCode)
            w.writeByte(e.severity.payloadCode)
            w.writeOptionalString(e.note)
        case .screeningRecorded(let e):
            w.writeByte(e.kind.payloadCode)
            w.writeBool(e.positive)
        case .assessmentRecorded(let e):
            w.writeByte(e.kind.payloadCode)
            w.writeOptionalString(e.note)
        case .medicationChanged(let e):
            w.writeString(e.name)
            w.writeByte(e.action.payloadCode)
            w.writeOptionalString(e.dose)
        case .scheduleAdjusted(let e):
            w.writeVarInt(Int64(e.intervalDays))
            w.writeString(e.reason)
        case .drugHolidayStarted(let e):
            w.writeVarInt(Int64(e.plannedWeeks))
        case .drugHolidayEnded(let e):
            writeOptionalInt(e.resumeIntervalDays, &w)
        case .taperStarted(let e):
            if let steps = e.steps {
                w.writeByte(1)
                w.writeVarUInt(UInt64(steps.count))
                for s in steps {
                    w.writeVarInt(Int64(s.intervalDays))
                    w.writeVarInt(Int64(s.months))
                }
            } else {
                w.writeByte(0)
            }
        case .maintenanceDiscontinued(let e):
            w.writeString(e.reason)
        case .pregnancyStatusRecorded(let e):
            w.writeByte(e.status.payloadCode)
        case .alertAcknowledged(let e):
            w.writeString(e.alertId)
            w.writeOptionalString(e.note)
            // v2
            w.writeOptionalString(e.lot)
        case .auditReviewed(let e):
            w.writeVarUInt(e.throughSequence)
            w.writeOptionalString(e.checkpointHash)
            w.writeOptionalString(e.note)
            writeSignature(e.signature, &w)
        case .eventAmended(let e):
            writeUUID(e.target, &w)
            w.writeString(e.reason)
            w.writeVarUInt(UInt64(e.data.count))
            for (k, v) in e.data {
                w.writeString(k)
                writeJSON(v, &w)
            }
        case .eventVoided(let e):
            writeUUID(e.target, &w)
            w.writeString(e.reason)
        case .ruleSetAdopted(let e):
            w.writeString(e.version)
            w.writeString(e.contentHash)
            w.writeString(e.content)
            writeSignature(e.signature, &w)
        case .actorRegistered(let e):
            w.writeString(e.id)
            w.writeByte(e.role.code)
            w.writeString(e.osUser)
            w.writeOptionalString(e.name)
        case .actorRetired(let e):
            w.writeString(e.id)
        case .actorCredentialChanged(let e):
            w.writeString(e.id)
            w.writeByte(e.change.payloadCode)
        case .observationRecorded(let e):
            writeUUID(e.infusion, &w)
            writeOptionalInt(e.systolic, &w)
            writeOptionalInt(e.diastolic, &w)
            writeOptionalInt(e.heartRate, &w)
            writeOptionalDouble(e.spo2, &w)
            writeOptionalInt(e.moaas, &w)
            writeOptionalInt(e.cadss, &w)
            writeOptionalBool(e.respiratoryDepression, &w)
        case .dischargeRecorded(let e):
            writeUUID(e.infusion, &w)
            w.writeBool(e.criteriaMet)
            w.writeBool(e.escort)
            writeOptionalBool(e.transferred, &w)
            w.writeOptionalString(e.note)
        case .remsFormSubmitted(let e):
            writeUUID(e.infusion, &w)
            w.writeOptionalString(e.reference)
        case .stockReceived(let e):
            w.writeByte(e.drug.payloadCode)
            w.writeString(e.lot)
            w.writeDouble(e.quantityMg)
            w.writeString(e.supplier)
            w.writeOptionalString(e.invoice)
            writeOptionalDouble(e.concentrationMgPerMl, &w)
        case .stockWasted(let e):
            w.writeString(e.lot)
            w.writeDouble(e.quantityMg)
            w.writeString(e.witness)
            w.writeString(e.reason)
            if let i = e.infusion {
                w.writeByte(1)
                writeUUID(i, &w)
            } else {
                w.writeByte(0)
            }
        case .stockDisposed(let e):
            w.writeString(e.lot)
            w.writeDouble(e.quantityMg)
            w.writeByte(e.method.payloadCode)
            w.writeString(e.witness)
            w.writeOptionalString(e.reference)
        case .stockAdjusted(let e):
            w.writeString(e.lot)
            w.writeDouble(e.quantityMg)
            w.writeByte(e.reason.payloadCode)
            w.writeString(e.witness)
            w.writeOptionalString(e.reference)
        case .inventoryCounted(let e):
            w.writeString(e.lot)
            w.writeDouble(e.onHandMg)
            w.writeByte(e.kind.payloadCode)
        }
    }

    /// Reads a payload written at `schemaVersion` of `type`, upcasting older versions to the
    /// current shape. The whole buffer must be consumed.
    public static func decode(type: EventType, schemaVersion: UInt8, bytes: UnsafeRawBufferPointer) throws(BinaryError) -> ClinicalEvent {
        guard schemaVersion >= 1, schemaVersion <= currentSchemaVersion(type) else {
            throw .invalidValue("schema version \(schemaVersion) of \(type.rawValue)")
        }
        var r = BinaryReader(bytes)
        let event: ClinicalEvent
        switch type {
        case .patientEnrolled:
            let proto = try readEnum(&r, TreatmentProtocol.init(payloadCode:))
            let birthYear = try readOptionalInt(&r)
            let history: Bool? = try r.readBool() ? try r.readBool() : nil
            event = .patientEnrolled(PatientEnrolled(protocol: proto, birthYear: birthYear, substanceUseHistory: history))
        case .consentRecorded:
            event = .consentRecorded(ConsentRecorded(kind: try readEnum(&r, ConsentKind.init(payloadCode:))))
        case .infusionAdministered:
            let route = try readEnum(&r, Route.init(payloadCode:))
            let value = try r.readDouble()
            let unit = try readEnum(&r, DoseUnit.init(payloadCode:))
            let series = try readEnum(&r, Series.init(payloadCode:))
            // v1 ends here; v2 appends the justification.
            let justification: String? = schemaVersion >= 2 ? try r.readOptionalString() : nil
            // v2 ends here; v3 appends drug, weight, lot and duration.
            var inf = InfusionAdministered(route: route, dose: Dose(value: value, unit: unit), series: series, justification: justification)
            if schemaVersion >= 3 {
                inf.drug = try r.readBool() ? try readEnum(&r, Drug.init(payloadCode:)) : nil
                inf.weightKg = try readOptionalDouble(&r)
                inf.lot = try r.readOptionalString()
                inf.durationMinutes = try readOptionalInt(&r)
            }
            event = .infusionAdministered(inf)
        case .scoreRecorded:
            let instrument = try readEnum(&r, Instrument.init(payloadCode:))
            event = .scoreRecorded(ScoreRecorded(instrument: instrument, value: try readInt(&r)))
        case .labResulted:
            let test = try readEnum(&r, LabTest.init(payloadCode:))
            let abnormal = try r.readBool()
            var values: [(String, Double)]? = nil
            if try r.readBool() {
                let n = try r.readLength()
                var list: [(String, Double)] = []
                list.reserveCapacity(n)
                for _ in 0..<n {
                    let name = try r.readString()
                    list.append((name, try r.readDouble()))
                }
                values = list
            }
            event = .labResulted(LabResulted(test: test, abnormal: abnormal, values: values))
        case .vitalsRecorded:
            let systolic = try readInt(&r)
            let diastolic = try readInt(&r)
            event = .vitalsRecorded(VitalsRecorded(systolic: systolic, diastolic: diastolic, heartRate: try readOptionalInt(&r)))
        case .sideEffectReported:
            let category = try readEnum(&r, SideEffectCategory.init(payloadCode:))
            let severity = try readEnum(&r, Severity.init(payloadCode:))
            event = .sideEffectReported(SideEffectReported(category: category, severity: severity, note: try r.readOptionalString()))
        case .screeningRecorded:
            let kind = try readEnum(&r, ScreeningKind.init(payloadCode:))
            event = .screeningRecorded(ScreeningRecorded(kind: kind, positive: try r.readBool()))
        case .assessmentRecorded:
            let kind = try readEnum(&r, AssessmentKind.init(payloadCode:))
            event = .assessmentRecorded(AssessmentRecorded(kind: kind, note: try r.readOptionalString()))
        case .medicationChanged:
            let name = try r.readString()
            let action = try readEnum(&r, MedicationAction.init(payloadCode:))
            event = .medicationChanged(MedicationChanged(name: name, action: action, dose: try r.readOptionalString()))
        case .scheduleAdjusted:
            let days = try readInt(&r)
            event = .scheduleAdjusted(ScheduleAdjusted(intervalDays: days, reason: try r.readString()))
        case .drugHolidayStarted:
            event = .drugHolidayStarted(DrugHolidayStarted(plannedWeeks: try readInt(&r)))
        case .drugHolidayEnded:
            event = .drugHolidayEnded(DrugHolidayEnded(resumeIntervalDays: try readOptionalInt(&r)))
        case .taperStarted:
            var steps: [TaperStep]? = nil
            if try r.readBool() {
                let n = try r.readLength()
                var list: [TaperStep] = []
                list.reserveCapacity(n)
                for _ in 0..<n {
                    let interval = try readInt(&r)
                    list.append(TaperStep(intervalDays: interval, months: try readInt(&r)))
                }
                steps = list
            }
            event = .taperStarted(TaperStarted(steps: steps))
        case .maintenanceDiscontinued:
            event = .maintenanceDiscontinued(MaintenanceDiscontinued(reason: try r.readString()))
        case .pregnancyStatusRecorded:
            event = .pregnancyStatusRecorded(PregnancyStatusRecorded(status: try readEnum(&r, PregnancyStatus.init(payloadCode:))))
        case .alertAcknowledged:
            let alertId = try r.readString()
            let note = try r.readOptionalString()
            let lot: String? = schemaVersion >= 2 ? try r.readOptionalString() : nil
            event = .alertAcknowledged(AlertAcknowledged(alertId: alertId, note: note, lot: lot))
        case .auditReviewed:
            let through = try r.readVarUInt()
            let hash = try r.readOptionalString()
            let note = try r.readOptionalString()
            // v1 ends here; v2 appends the signature.
            let signature = schemaVersion >= 2 ? try readSignature(&r) : nil
            event = .auditReviewed(AuditReviewed(throughSequence: through, checkpointHash: hash, note: note, signature: signature))
        case .eventAmended:
            let target = try readUUID(&r)
            let reason = try r.readString()
            let n = try r.readLength()
            var fields: [(String, JSONValue)] = []
            fields.reserveCapacity(n)
            for _ in 0..<n {
                let key = try r.readString()
                fields.append((key, try readJSON(&r, depth: 1)))
            }
            event = .eventAmended(EventAmended(target: target, reason: reason, data: fields))
        case .eventVoided:
            let target = try readUUID(&r)
            event = .eventVoided(EventVoided(target: target, reason: try r.readString()))
        case .ruleSetAdopted:
            let version = try r.readString()
            let hash = try r.readString()
            let content = try r.readString()
            let signature = schemaVersion >= 2 ? try readSignature(&r) : nil
            event = .ruleSetAdopted(RuleSetAdopted(version: version, contentHash: hash, content: content, signature: signature))
        case .actorRegistered:
            let id = try r.readString()
            let role = try readEnum(&r, Role.init(code:))
            let osUser = try r.readString()
            let name = schemaVersion >= 2 ? try r.readOptionalString() : nil
            event = .actorRegistered(ActorRegistered(id: id, role: role, osUser: osUser, name: name))
        case .actorRetired:
            event = .actorRetired(ActorRetired(id: try r.readString()))
        case .actorCredentialChanged:
            let id = try r.readString()
            event = .actorCredentialChanged(ActorCredentialChanged(id: id, change: try readEnum(&r, CredentialChange.init(payloadCode:))))
        case .observationRecorded:
            let infusion = try readUUID(&r)
            let systolic = try readOptionalInt(&r)
            let diastolic = try readOptionalInt(&r)
            let heartRate = try readOptionalInt(&r)
            let spo2 = try readOptionalDouble(&r)
            let moaas = try readOptionalInt(&r)
            let cadss = try readOptionalInt(&r)
            let depression = try readOptionalBool(&r)
            event = .observationRecorded(
                ObservationRecorded(
                    infusion: infusion, systolic: systolic, diastolic: diastolic, heartRate: heartRate, spo2: spo2, moaas: moaas,
                    cadss: cadss, respiratoryDepression: depression))
        case .dischargeRecorded:
            let infusion = try readUUID(&r)
            let criteria = try r.readBool()
            let escort = try r.readBool()
            let transferred = try readOptionalBool(&r)
            event = .dischargeRecorded(
                DischargeRecorded(
                    infusion: infusion, criteriaMet: criteria, escort: escort, transferred: transferred, note: try r.readOptionalString()))
        case .remsFormSubmitted:
            let infusion = try readUUID(&r)
            event = .remsFormSubmitted(RemsFormSubmitted(infusion: infusion, reference: try r.readOptionalString()))
        case .stockReceived:
            let drug = try readEnum(&r, Drug.init(payloadCode:))
            let lot = try r.readString()
            let q = try r.readDouble()
            let supplier = try r.readString()
            let invoice = try r.readOptionalString()
            event = .stockReceived(
                StockReceived(
                    drug: drug, lot: lot, quantityMg: q, supplier: supplier, invoice: invoice,
                    concentrationMgPerMl: try readOptionalDouble(&r)))
        case .stockWasted:
            let lot = try r.readString()
            let q = try r.readDouble()
            let witness = try r.readString()
            let reason = try r.readString()
            let infusion: UUID? = try r.readBool() ? try readUUID(&r) : nil
            event = .stockWasted(StockWasted(lot: lot, quantityMg: q, witness: witness, reason: reason, infusion: infusion))
        case .stockDisposed:
            let lot = try r.readString()
            let q = try r.readDouble()
            let method = try readEnum(&r, DisposalMethod.init(payloadCode:))
            let witness = try r.readString()
            event = .stockDisposed(
                StockDisposed(lot: lot, quantityMg: q, method: method, witness: witness, reference: try r.readOptionalString()))
        case .stockAdjusted:
            let lot = try r.readString()
            let q = try r.readDouble()
            let reason = try readEnum(&r, AdjustmentReason.init(payloadCode:))
            let witness = try r.readString()
            event = .stockAdjusted(
                StockAdjusted(lot: lot, quantityMg: q, reason: reason, witness: witness, reference: try r.readOptionalString()))
        case .inventoryCounted:
            let lot = try r.readString()
            let q = try r.readDouble()
            event = .inventoryCounted(InventoryCounted(lot: lot, onHandMg: q, kind: try readEnum(&r, CountKind.init(payloadCode:))))
        }
        guard r.isAtEnd else { throw .invalidValue("\(r.remaining) trailing bytes after a \(type.rawValue) payload") }
        return event
    }

    /// `decode` from an array.
    public static func decode(type: EventType, schemaVersion: UInt8, bytes: [UInt8]) throws(BinaryError) -> ClinicalEvent {
        let result: Result<ClinicalEvent, BinaryError> = bytes.withUnsafeBytes { raw in
            do throws(BinaryError) {
                return .success(try decode(type: type, schemaVersion: schemaVersion, bytes: raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: primitives

    static func writeSignature(_ s: ElectronicSignature?, _ w: inout BinaryWriter) {
        guard let s else {
            w.writeByte(0)
            return
        }
        w.writeByte(1)
        w.writeString(s.actorId)
        w.writeString(s.name)
        w.writeByte(s.meaning.payloadCode)
        w.writeVarInt(s.signedAt.epochMillis)
        w.writeVarInt(Int64(s.signedAt.offsetMinutes))
    }

    static func readSignature(_ r: inout BinaryReader) throws(BinaryError) -> ElectronicSignature? {
        guard try r.readBool() else { return nil }
        let actorId = try r.readString()
        let name = try r.readString()
        let meaning = try readEnum(&r, SignatureMeaning.init(payloadCode:))
        let millis = try r.readVarInt()
        let offset = try r.readVarInt()
        guard let minutes = Int16(exactly: offset), abs(minutes) < 24 * 60 else { throw .invalidValue("signature offset \(offset)") }
        return ElectronicSignature(
            actorId: actorId, name: name, meaning: meaning, signedAt: Timestamp(epochMillis: millis, offsetMinutes: minutes))
    }

    @inline(__always)
    static func writeOptionalInt(_ v: Int?, _ w: inout BinaryWriter) {
        if let v {
            w.writeByte(1)
            w.writeVarInt(Int64(v))
        } else {
            w.writeByte(0)
        }
    }

    @inline(__always)
    static func writeOptionalDouble(_ v: Double?, _ w: inout BinaryWriter) {
        if let v {
            w.writeByte(1)
            w.writeDouble(v)
        } else {
            w.writeByte(0)
        }
    }

    static func readOptionalDouble(_ r: inout BinaryReader) throws(BinaryError) -> Double? {
        try r.readBool() ? try r.readDouble() : nil
    }

    static func writeOptionalBool(_ v: Bool?, _ w: inout BinaryWriter) {
        if let v {
            w.writeByte(1)
            w.writeBool(v)
        } else {
            w.writeByte(0)
        }
    }

    static func readOptionalBool(_ r: inout BinaryReader) throws(BinaryError) -> Bool? {
        try r.readBool() ? try r.readBool() : nil
    }

    static func readInt(_ r: inout BinaryReader) throws(BinaryError) -> Int {
        Int(truncatingIfNeeded: try r.readVarInt())
    }

    @inline(__always)
    static func readOptionalInt(_ r: inout BinaryReader) throws(BinaryError) -> Int? {
        try r.readBool() ? try readInt(&r) : nil
    }

    @inline(__always)
    static func readEnum<E>(_ r: inout BinaryReader, _ make: (UInt8) -> E?) throws(BinaryError) -> E {
        let at = r.offset
        let code = try r.readByte()
        guard let e = make(code) else { throw .invalidValue("unknown \(E.self) code \(code) at byte \(at)") }
        return e
    }

    static func writeUUID(_ u: UUID, _ w: inout BinaryWriter) {
        withUnsafeBytes(of: u.uuid) { w.bytes.append(contentsOf: $0) }
    }

    static func readUUID(_ r: inout BinaryReader) throws(BinaryError) -> UUID {
        let raw = try r.readRaw(16)
        var t: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        )
        withUnsafeMutableBytes(of: &t) { $0.copyMemory(from: raw) }
        return UUID(uuid: t)
    }

    static func writeJSON(_ v: JSONValue, _ w: inout BinaryWriter) {
        switch v {
        case .null: w.writeByte(0)
        case .bool(let b): w.writeByte(b ? 2 : 1)
        case .int(let i):
            w.writeByte(3)
            w.writeVarInt(i)
        case .double(let d):
            w.writeByte(4)
            w.writeDouble(d)
        case .string(let s):
            w.writeByte(5)
            w.writeString(s)
        case .array(let a):
            w.writeByte(6)
            w.writeVarUInt(UInt64(a.count))
            for e in a { writeJSON(e, &w) }
        case .object(let m):
            w.writeByte(7)
            w.writeVarUInt(UInt64(m.count))
            for (k, e) in m {
                w.writeString(k)
                writeJSON(e, &w)
            }
        }
    }

    static func readJSON(_ r: inout BinaryReader, depth: Int) throws(BinaryError) -> JSONValue {
        let at = r.offset
        let tag = try r.readByte()
        switch tag {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try r.readVarInt())
        case 4: return .double(try r.readDouble())
        case 5: return .string(try r.readString())
        case 6, 7:
            guard depth < JSONParser.maxDepth else { throw .invalidValue("JSON nested deeper than \(JSONParser.maxDepth) at byte \(at)") }
            let n = try r.readLength()
            if tag == 6 {
                var a: [JSONValue] = []
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(try readJSON(&r, depth: depth + 1)) }
                return .array(a)
            }
            var m: [(String, JSONValue)] = []
            m.reserveCapacity(n)
            for _ in 0..<n {
                let k = try r.readString()
                m.append((k, try readJSON(&r, depth: depth + 1)))
            }
            return .object(m)
        default:
            throw .invalidValue("unknown JSON tag \(tag) at byte \(at)")
        }
    }
}

// MARK: - Stable one-byte codes of the domain's enums (never reorder, never reuse)
//
// Each enum's `payloadCode` switch is its one table; `init?(payloadCode:)` is derived from it
// (`_CodeIndex`, an array indexed by the code). `StableCodeTests` pins every value.

extension TreatmentProtocol: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .intervalExtension: 1
        case .symptomTriggered: 2
        case .hybrid: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension ConsentKind: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .initial: 1
        case .reaffirmation: 2
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension Route: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .iv: 1
        case .im: 2
        case .intranasal: 3
        case .sublingual: 4
        case .oral: 5
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension DoseUnit: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .mgPerKg: 1
        case .mg: 2
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension Series: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .acute: 1
        case .maintenance: 2
        case .booster: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension Instrument: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .madrs: 1
        case .phq2: 2
        case .phq9: 3
        case .moca: 4
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension LabTest: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .urinalysis: 1
        case .lft: 2
        case .ecg: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension SideEffectCategory: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .urological: 1
        case .hepatic: 2
        case .cognitive: 3
        case .dissociative: 4
        case .cardiovascular: 5
        case .psychotic: 6
        case .nausea: 7
        case .other: 8
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension Severity: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .mild: 1
        case .moderate: 2
        case .severe: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension ScreeningKind: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .substanceUse: 1
        case .urologicalSymptoms: 2
        case .sideEffectsReview: 3
        case .dissociativeSymptoms: 4
        case .psychoticSymptoms: 5
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension AssessmentKind: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .treatmentResponse: 1
        case .comprehensivePsychiatric: 2
        case .treatmentPlanReview: 3
        case .goalSetting: 4
        case .fullSafety: 5
        case .continuationDiscussion: 6
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension MedicationAction: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .start: 1
        case .stop: 2
        case .change: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension PregnancyStatus: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .planning: 1
        case .pregnant: 2
        case .notPregnant: 3
        case .postpartum: 4
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension SignatureMeaning: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .reviewed: 1
        case .approved: 2
        case .responsibility: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension CredentialChange: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .passwordSet: 1
        case .tokenIssued: 2
        case .tokenRevoked: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension Drug: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .ketamine: 1
        case .esketamine: 2
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension DisposalMethod: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .reverseDistributor: 1
        case .destroyed: 2
        case .returned: 3
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension AdjustmentReason: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .loss: 1
        case .theft: 2
        case .breakage: 3
        case .countCorrection: 4
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}

extension CountKind: _PayloadCoded {
    var payloadCode: UInt8 {
        switch self {
        case .routine: 1
        case .biennial: 2
        }
    }
    static let _byPayloadCode = _makePayloadCodes()
}
