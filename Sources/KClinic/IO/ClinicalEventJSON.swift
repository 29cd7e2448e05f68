import struct Foundation.UUID

/// The `data` object of each event type, both ways: validation from JSON (events.md, "Types and
/// their data") and the data back as JSON.
///
/// Field names of errors are paths under `data` (`data.dose.value`). An optional field given as
/// `null` counts as absent (so an amendment can clear an optional field with `null`).
extension ClinicalEvent {
    /// The data fields of each type, in the order events.md lists them.
    public static func dataFields(of type: EventType) -> [String] {
        switch type {
        case .patientEnrolled: _DataFieldNames.patientEnrolled
        case .consentRecorded: _DataFieldNames.consentRecorded
        case .infusionAdministered: _DataFieldNames.infusionAdministered
        case .scoreRecorded: _DataFieldNames.scoreRecorded
        case .labResulted: _DataFieldNames.labResulted
        case .vitalsRecorded: _DataFieldNames.vitalsRecorded
        case .sideEffectReported: _DataFieldNames.sideEffectReported
        case .screeningRecorded: _DataFieldNames.screeningRecorded
        case .assessmentRecorded: _DataFieldNames.assessmentRecorded
        case .medicationChanged: _DataFieldNames.medicationChanged
        case .scheduleAdjusted: _DataFieldNames.scheduleAdjusted
        case .drugHolidayStarted: _DataFieldNames.drugHolidayStarted
        case .drugHolidayEnded: _DataFieldNames.drugHolidayEnded
        case .taperStarted: _DataFieldNames.taperStarted
        case .maintenanceDiscontinued: _DataFieldNames.maintenanceDiscontinued
        case .pregnancyStatusRecorded: _DataFieldNames.pregnancyStatusRecorded
        case .alertAcknowledged: _DataFieldNames.alertAcknowledged
        case .auditReviewed: _DataFieldNames.auditReviewed
        case .eventAmended: _DataFieldNames.eventAmended
        case .eventVoided: _DataFieldNames.eventVoided
        case .ruleSetAdopted: _DataFieldNames.ruleSetAdopted
        case .actorRegistered: _DataFieldNames.actorRegistered
        case .actorRetired: _DataFieldNames.actorRetired
        case .actorCredentialChanged: _DataFieldNames.actorCredentialChanged
        case .observationRecorded: _DataFieldNames.observationRecorded
        case .dischargeRecorded: _DataFieldNames.dischargeRecorded
        case .remsFormSubmitted: _DataFieldNames.remsFormSubmitted
        case .stockReceived: _DataFieldNames.stockReceived
        case .stockWasted: _DataFieldNames.stockWasted
        case .stockDisposed: _DataFieldNames.stockDisposed
        case .stockAdjusted: _DataFieldNames.stockAdjusted
        case .inventoryCounted: _DataFieldNames.inventoryCounted
        }
    }

    /// Validates `data` as the data of `type`. `now` bounds `birthYear` (its year, in its own
    /// offset); the domain reads no clock, so the caller passes it. Every type is accepted here, the non-importable ones
    /// too (refusing those is `IncomingEvent.parse`'s job).
    public static func from(type: EventType, data: JSONValue, now: Timestamp) throws(InputError) -> ClinicalEvent {
        try _DataValidator(type: type, now: now).validate(data)
    }

    /// The event's `data` as JSON: keys as events.md names them, optional fields omitted when nil.
    /// `ClinicalEvent.from(type: e.type, data: e.dataJSON) == e`.
    public var dataJSON: JSONValue {
        switch self {
        case .patientEnrolled(let e):
            var m: [(String, JSONValue)] = [("protocol", .string(e.protocol.rawValue))]
            if let y = e.birthYear { m.append(("birthYear", .int(Int64(y)))) }
            if let s = e.substanceUseHistory { m.append(("substanceUseHistory", .bool(s))) }
            return .object(m)
        case .consentRecorded(let e):
            return .object([("kind", .string(e.kind.rawValue))])
        case .infusionAdministered(let e):
            var m: [(String, JSONValue)] = [
                ("route", .string(e.route.rawValue)),
                ("dose", .object([("value", jsonNumber(e.dose.value)), ("unit", .string(e.dose.unit.rawValue))])),
                ("series", .string(e.series.rawValue)),
            ]
            if let j = e.justification { m.append(("justification", .string(j))) }
            if let d = e.drug { m.append(("drug", .string(d.rawValue))) }
            if let w = e.weightKg { m.append(("weightKg", jsonNumber(w))) }
            if let l = e.lot { m.append(("lot", .string(l))) }
            if let d = e.durationMinutes { m.append(("durationMinutes", .int(Int64(d)))) }
            return .object(m)
        case .scoreRecorded(let e):
            return .object([("instrument", .string(e.instrument.rawValue)), ("value", .int(Int64(e.value)))])
        case .labResulted(let e):
            var m: [(String, JSONValue)] = [("test", .string(e.test.rawValue)), ("abnormal", .bool(e.abnormal))]
            if let values = e.values { m.append(("values", .object(values.map { ($0.0, jsonNumber($0.1)) }))) }
            return .object(m)
        case .vitalsRecorded(let e):
            var m: [(String, JSONValue)] = [("systolic", .int(Int64(e.systolic))), ("diastolic", .int(Int64(e.diastolic)))]
            if let h = e.heartRate { m.append(("heartRate", .int(Int64(h)))) }
            return .object(m)
        case .sideEffectReported(let e):
            var m: [(String, JSONValue)] = [("category", .string(e.category.rawValue)), ("severity", .string(e.severity.rawValue))]
            if let n = e.note { m.append(("note", .string(n))) }
            return .object(m)
        case .screeningRecorded(let e):
            return .object([("kind", .string(e.kind.rawValue)), ("positive", .bool(e.positive))])
        case .assessmentRecorded(let e):
            var m: [(String, JSONValue)] = [("kind", .string(e.kind.rawValue))]
            if let n = e.note { m.append(("note", .string(n))) }
            return .object(m)
        case .medicationChanged(let e):
            var m: [(String, JSONValue)] = [("name", .string(e.name)), ("action", .string(e.action.rawValue))]
            if let d = e.dose { m.append(("dose", .string(d))) }
            return .object(m)
        case .scheduleAdjusted(let e):
            return .object([("intervalDays", .int(Int64(e.intervalDays))), ("reason", .string(e.reason))])
        case .drugHolidayStarted(let e):
            return .object([("plannedWeeks", .int(Int64(e.plannedWeeks)))])
        case .drugHolidayEnded(let e):
            if let r = e.resumeIntervalDays { return .object([("resumeIntervalDays", .int(Int64(r)))]) }
            return .object([])
        case .taperStarted(let e):
            guard let steps = e.steps else { return .object([]) }
            return .object([
                (
                    "steps",
                    .array(steps.map { .object([("intervalDays", .int(Int64($0.intervalDays))), ("months", .int(Int64($0.months)))]) })
                )
            ])
        case .maintenanceDiscontinued(let e):
            return .object([("reason", .string(e.reason))])
        case .pregnancyStatusRecorded(let e):
            return .object([("status", .string(e.status.rawValue))])
        case .alertAcknowledged(let e):
            var m: [(String, JSONValue)] = [("alertId", .string(e.alertId))]
            if let n = e.note { m.append(("note", .string(n))) }
            if let l = e.lot { m.append(("lot", .string(l))) }
            return .object(m)
        case .auditReviewed(let e):
            var m: [(String, JSONValue)] = [("throughSequence", jsonUInt64(e.throughSequence))]
            if let h = e.checkpointHash { m.append(("checkpointHash", .string(h))) }
            if let n = e.note { m.append(("note", .string(n))) }
            if let s = e.signature { m.append(("signature", s.json)) }
            return .object(m)
        case .eventAmended(let e):
            return .object([("target", .string(e.target.lowercaseString)), ("reason", .string(e.reason)), ("data", .object(e.data))])
        case .eventVoided(let e):
            return .object([("target", .string(e.target.lowercaseString)), ("reason", .string(e.reason))])
        case .ruleSetAdopted(let e):
            var m: [(String, JSONValue)] = [
                ("version", .string(e.version)), ("contentHash", .string(e.contentHash)), ("content", .string(e.content)),
            ]
            if let s = e.signature { m.append(("signature", s.json)) }
            return .object(m)
        case .actorRegistered(let e):
            var m: [(String, JSONValue)] = [("id", .string(e.id)), ("role", .string(e.role.rawValue)), ("osUser", .string(e.osUser))]
            if let n = e.name { m.append(("name", .string(n))) }
            return .object(m)
        case .actorRetired(let e):
            return .object([("id", .string(e.id))])
        case .actorCredentialChanged(let e):
            return .object([("id", .string(e.id)), ("change", .string(e.change.rawValue))])
        case .observationRecorded(let e):
            var m: [(String, JSONValue)] = [("infusion", .string(e.infusion.lowercaseString))]
            if let v = e.systolic { m.append(("systolic", .int(Int64(v)))) }
            if let v = e.diastolic { m.append(("diastolic", .int(Int64(v)))) }
            if let v = e.heartRate { m.append(("heartRate", .int(Int64(v)))) }
            if let v = e.spo2 { m.append(("spo2", jsonNumber(v))) }
            if let v = e.moaas { m.append(("moaas", .int(Int64(v)))) }
            if let v = e.cadss { m.append(("cadss", .int(Int64(v)))) }
            if let v = e.respiratoryDepression { m.append(("respiratoryDepression", .bool(v))) }
            return .object(m)
        case .dischargeRecorded(let e):
            var m: [(String, JSONValue)] = [
                ("infusion", .string(e.infusion.lowercaseString)), ("criteriaMet", .bool(e.criteriaMet)), ("escort", .bool(e.escort)),
            ]
            if let t = e.transferred { m.append(("transferred", .bool(t))) }
            if let n = e.note { m.append(("note", .string(n))) }
            return .object(m)
        case .remsFormSubmitted(let e):
            var m: [(String, JSONValue)] = [("infusion", .string(e.infusion.lowercaseString))]
            if let r = e.reference { m.append(("reference", .string(r))) }
            return .object(m)
        case .stockReceived(let e):
            var m: [(String, JSONValue)] = [
                ("drug", .string(e.drug.rawValue)), ("lot", .string(e.lot)), ("quantityMg", jsonNumber(e.quantityMg)),
                ("supplier", .string(e.supplier)),
            ]
            if let i = e.invoice { m.append(("invoice", .string(i))) }
            if let c = e.concentrationMgPerMl { m.append(("concentrationMgPerMl", jsonNumber(c))) }
            return .object(m)
        case .stockWasted(let e):
            var m: [(String, JSONValue)] = [
                ("lot", .string(e.lot)), ("quantityMg", jsonNumber(e.quantityMg)), ("witness", .string(e.witness)),
                ("reason", .string(e.reason)),
            ]
            if let i = e.infusion { m.append(("infusion", .string(i.lowercaseString))) }
            return .object(m)
        case .stockDisposed(let e):
            var m: [(String, JSONValue)] = [
                ("lot", .string(e.lot)), ("quantityMg", jsonNumber(e.quantityMg)), ("method", .string(e.method.rawValue)),
                ("witness", .string(e.witness)),
            ]
            if let r = e.reference { m.append(("reference", .string(r))) }
            return .object(m)
        case .stockAdjusted(let e):
            var m: [(String, JSONValue)] = [
                ("lot", .string(e.lot)), ("quantityMg", jsonNumber(e.quantityMg)), ("reason", .string(e.reason.rawValue)),
                ("witness", .string(e.witness)),
            ]
            if let r = e.reference { m.append(("reference", .string(r))) }
            return .object(m)
        case .inventoryCounted(let e):
            return .object([("lot", .string(e.lot)), ("onHandMg", jsonNumber(e.onHandMg)), ("kind", .string(e.kind.rawValue))])
        }
    }

    /// This event's data with an amendment's fields merged in (top-level keys replace the
    /// original's, a nested object such as `dose` whole; `null` clears an optional field), then
    /// validated again as this event's type. Errors name the field under `data.`
    /// (`data.dose.unit`), i.e. the amendment's own `data` object.
    public func amended(with fields: [(String, JSONValue)], now: Timestamp) throws(InputError) -> ClinicalEvent {
        guard case .object(var members) = dataJSON else {
            return self  // unreachable: dataJSON is always an object
        }
        for (key, value) in fields {
            if let k = members.firstIndex(where: { $0.0 == key }) {
                members[k].1 = value
            } else {
                members.append((key, value))
            }
        }
        return try ClinicalEvent.from(type: type, data: .object(members), now: now)
    }
}

/// Static so that checking a line's keys allocates nothing.
private enum _DataFieldNames {
    static let patientEnrolled: [String] = ["protocol", "birthYear", "substanceUseHistory"]
    static let consentRecorded: [String] = ["kind"]
    static let infusionAdministered: [String] = ["route", "dose", "series", "justification", "drug", "weightKg", "lot", "durationMinutes"]
    static let scoreRecorded: [String] = ["instrument", "value"]
    static let labResulted: [String] = ["test", "abnormal", "values"]
    static let vitalsRecorded: [String] = ["systolic", "diastolic", "heartRate"]
    static let sideEffectReported: [String] = ["category", "severity", "note"]
    static let screeningRecorded: [String] = ["kind", "positive"]
    static let assessmentRecorded: [String] = ["kind", "note"]
    static let medicationChanged: [String] = ["name", "action", "dose"]
    static let scheduleAdjusted: [String] = ["intervalDays", "reason"]
    static let drugHolidayStarted: [String] = ["plannedWeeks"]
    static let drugHolidayEnded: [String] = ["resumeIntervalDays"]
    static let taperStarted: [String] = ["steps"]
    static let maintenanceDiscontinued: [String] = ["reason"]
    static let pregnancyStatusRecorded: [String] = ["status"]
    static let alertAcknowledged: [String] = ["alertId", "note", "lot"]
    static let observationRecorded: [String] = [
        "infusion", "systolic", "diastolic", "heartRate", "spo2", "moaas", "cadss", "respiratoryDepression",
    ]
    static let dischargeRecorded: [String] = ["infusion", "criteriaMet", "escort", "transferred", "note"]
    static let remsFormSubmitted: [String] = ["infusion", "reference"]
    static let stockReceived: [String] = ["drug", "lot", "quantityMg", "supplier", "invoice", "concentrationMgPerMl"]
    static let stockWasted: [String] = ["lot", "quantityMg", "witness", "reason", "infusion"]
    static let stockDisposed: [String] = ["lot", "quantityMg", "method", "witness", "reference"]
    static let stockAdjusted: [String] = ["lot", "quantityMg", "reason", "witness", "reference"]
    static let inventoryCounted: [String] = ["lot", "onHandMg", "kind"]
    static let auditReviewed: [String] = ["throughSequence", "checkpointHash", "note", "signature"]
    static let eventAmended: [String] = ["target", "reason", "data"]
    static let eventVoided: [String] = ["target", "reason"]
    static let ruleSetAdopted: [String] = ["version", "contentHash", "content", "signature"]
    static let actorRegistered: [String] = ["id", "role", "osUser", "name"]
    static let actorRetired: [String] = ["id"]
    static let actorCredentialChanged: [String] = ["id", "change"]
}

/// A number as JSON: an integer when it is one exactly (within ±2^53), else a double.
func jsonNumber(_ d: Double) -> JSONValue {
    if d.rounded(.towardZero) == d, abs(d) <= 9_007_199_254_740_992, !(d == 0 && d.sign == .minus) {
        return .int(Int64(d))
    }
    return .double(d)
}

func jsonUInt64(_ v: UInt64) -> JSONValue {
    v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v))
}

// MARK: - Validation of each type's data

struct _DataValidator {
    let type: EventType
    let now: Timestamp
    let prefix = "data"

    func path(_ key: String) -> String { prefix + "." + key }

    /// The data object's members, every key known for the type.
    func members(_ data: JSONValue) throws(InputError) -> [(String, JSONValue)] {
        guard case .object(let m) = data else { throw wrongKind(prefix, data, "an object, possibly empty") }
        let known = ClinicalEvent.dataFields(of: type)
        for (key, _) in m where !known.contains(key) {
            throw unknownField(prefix, key, known: known)
        }
        return m
    }

    /// The value of `key`, nil when absent or null.
    @inline(__always)
    func value(_ m: [(String, JSONValue)], _ key: String) -> JSONValue? {
        for (k, v) in m where k == key {
            if case .null = v { return nil }
            return v
        }
        return nil
    }

    func required(_ m: [(String, JSONValue)], _ key: String, _ expected: @autoclosure () -> String) throws(InputError) -> JSONValue {
        for (k, v) in m where k == key {
            if case .null = v { throw InputError(field: path(key), problem: "is null", expected: expected()) }
            return v
        }
        throw missingField(path(key), expected())
    }

    func requiredEnum<E: _FastNamed>(_ m: [(String, JSONValue)], _ key: String, _: E.Type) throws(InputError) -> E {
        try readEnum(try required(m, key, enumExpected(E.self)), E.self, path(key))
    }

    func requiredBool(_ m: [(String, JSONValue)], _ key: String) throws(InputError) -> Bool {
        try readBool(try required(m, key, "true or false"), path(key))
    }

    func requiredInt(_ m: [(String, JSONValue)], _ key: String, _ range: ClosedRange<Int>) throws(InputError) -> Int {
        try readInt(try required(m, key, intExpected(range)), range, path(key))
    }

    func optionalInt(_ m: [(String, JSONValue)], _ key: String, _ range: ClosedRange<Int>) throws(InputError) -> Int? {
        guard let v = value(m, key) else { return nil }
        return try readInt(v, range, path(key))
    }

    func requiredText(_ m: [(String, JSONValue)], _ key: String, max: Int = InputLimits.maxTextLength) throws(InputError) -> String {
        try readText(try required(m, key, textExpected(required: true, max: max)), required: true, path(key), max: max)
    }

    func optionalText(_ m: [(String, JSONValue)], _ key: String) throws(InputError) -> String? {
        guard let v = value(m, key) else { return nil }
        return try readText(v, required: false, path(key))
    }

    /// `signature` `{actor, name, meaning, signedAt}` of a signed review or adoption, if present.
    func optionalSignature(_ m: [(String, JSONValue)]) throws(InputError) -> ElectronicSignature? {
        guard let v = value(m, "signature") else { return nil }
        let expected = "an object {actor, name, meaning, signedAt}"
        guard case .object(let s) = v else { throw wrongKind(path("signature"), v, expected) }
        let actor = try readActorId(try required(s, "actor", actorIdExpected), path("signature.actor"))
        let name = try readText(try required(s, "name", expected), required: true, path("signature.name"))
        let meaning = try readEnum(
            try required(s, "meaning", enumExpected(SignatureMeaning.self)), SignatureMeaning.self, path("signature.meaning"))
        guard case .string(let at) = try required(s, "signedAt", "an RFC 3339 timestamp"), let signedAt = try? Timestamp(rfc3339: at) else {
            throw InputError(field: path("signature.signedAt"), problem: "is not a timestamp", expected: "RFC 3339 with an offset")
        }
        return ElectronicSignature(actorId: actor, name: name, meaning: meaning, signedAt: signedAt)
    }

    func requiredUUID(_ m: [(String, JSONValue)], _ key: String) throws(InputError) -> UUID {
        try readUUID(try required(m, key, uuidExpected), path(key))
    }

    func currentYear() -> Int {
        now.clinicalDay.civil.year
    }

    func validate(_ data: JSONValue) throws(InputError) -> ClinicalEvent {
        let m = try members(data)
        switch type {
        case .patientEnrolled:
            var proto = TreatmentProtocol.intervalExtension
            if let v = value(m, "protocol") { proto = try readEnum(v, TreatmentProtocol.self, path("protocol")) }
            var birthYear: Int? = nil
            if let v = value(m, "birthYear") { birthYear = try readInt(v, 1900...currentYear(), path("birthYear")) }
            var history: Bool? = nil
            if let v = value(m, "substanceUseHistory") { history = try readBool(v, path("substanceUseHistory")) }
            return .patientEnrolled(PatientEnrolled(protocol: proto, birthYear: birthYear, substanceUseHistory: history))

        case .consentRecorded:
            return .consentRecorded(ConsentRecorded(kind: try requiredEnum(m, "kind", ConsentKind.self)))

        case .infusionAdministered:
            let route = try requiredEnum(m, "route", Route.self)
            let dose = try self.dose(try required(m, "dose", doseExpected))
            let series = try requiredEnum(m, "series", Series.self)
            let justification = try optionalText(m, "justification")
            var drug: Drug? = nil
            if let v = value(m, "drug") { drug = try readEnum(v, Drug.self, path("drug")) }
            var weight: Double? = nil
            if let v = value(m, "weightKg") { weight = try number(v, "weightKg", 20...350) }
            let lot = try optionalLot(m, "lot")
            let duration = try optionalInt(m, "durationMinutes", 1...240)
            if drug == .esketamine {
                // The esketamine label: one to three 28 mg nasal devices.
                guard route == .intranasal else {
                    throw InputError(
                        field: path("route"), problem: "\(route.rawValue) is not how esketamine is given",
                        expected: "intranasal for esketamine")
                }
                guard dose.unit == .mg, [28.0, 56.0, 84.0].contains(dose.value) else {
                    throw InputError(
                        field: path("dose"), problem: "\(jsonNumber(dose.value).jsonText) \(dose.unit.rawValue) is not an esketamine dose",
                        expected: "28, 56 or 84 mg (one to three 28 mg devices)")
                }
            }
            return .infusionAdministered(
                InfusionAdministered(
                    route: route, dose: dose, series: series, justification: justification, drug: drug, weightKg: weight, lot: lot,
                    durationMinutes: duration))

        case .scoreRecorded:
            let instrument = try requiredEnum(m, "instrument", Instrument.self)
            let score = try requiredInt(m, "value", instrument.range)
            return .scoreRecorded(ScoreRecorded(instrument: instrument, value: score))

        case .labResulted:
            let test = try requiredEnum(m, "test", LabTest.self)
            let abnormal = try requiredBool(m, "abnormal")
            var values: [(String, Double)]? = nil
            if let v = value(m, "values") { values = try labValues(v) }
            return .labResulted(LabResulted(test: test, abnormal: abnormal, values: values))

        case .vitalsRecorded:
            let systolic = try requiredInt(m, "systolic", 50...260)
            let diastolic = try requiredInt(m, "diastolic", 30...160)
            let heartRate = try optionalInt(m, "heartRate", 20...250)
            guard systolic > diastolic else {
                throw InputError(
                    field: path("systolic"), problem: "\(systolic) is not above the diastolic \(diastolic)",
                    expected: "systolic greater than diastolic")
            }
            return .vitalsRecorded(VitalsRecorded(systolic: systolic, diastolic: diastolic, heartRate: heartRate))

        case .sideEffectReported:
            let category = try requiredEnum(m, "category", SideEffectCategory.self)
            let severity = try requiredEnum(m, "severity", Severity.self)
            let note = try optionalText(m, "note")
            return .sideEffectReported(SideEffectReported(category: category, severity: severity, note: note))

        case .screeningRecorded:
            let kind = try requiredEnum(m, "kind", ScreeningKind.self)
            let positive = try requiredBool(m, "positive")
            return .screeningRecorded(ScreeningRecorded(kind: kind, positive: positive))

        case .assessmentRecorded:
            let kind = try requiredEnum(m, "kind", AssessmentKind.self)
            let note = try optionalText(m, "note")
            return .assessmentRecorded(AssessmentRecorded(kind: kind, note: note))

        case .medicationChanged:
            let name = try requiredText(m, "name")
            let action = try requiredEnum(m, "action", MedicationAction.self)
            let dose = try optionalText(m, "dose")
            return .medicationChanged(MedicationChanged(name: name, action: action, dose: dose))

        case .scheduleAdjusted:
            let days = try requiredInt(m, "intervalDays", 1...180)
            let reason = try requiredText(m, "reason")
            return .scheduleAdjusted(ScheduleAdjusted(intervalDays: days, reason: reason))

        case .drugHolidayStarted:
            return .drugHolidayStarted(DrugHolidayStarted(plannedWeeks: try requiredInt(m, "plannedWeeks", 1...26)))

        case .drugHolidayEnded:
            return .drugHolidayEnded(DrugHolidayEnded(resumeIntervalDays: try optionalInt(m, "resumeIntervalDays", 1...180)))

        case .taperStarted:
            var steps: [TaperStep]? = nil
            if let v = value(m, "steps") { steps = try taperSteps(v) }
            return .taperStarted(TaperStarted(steps: steps))

        case .maintenanceDiscontinued:
            return .maintenanceDiscontinued(MaintenanceDiscontinued(reason: try requiredText(m, "reason")))

        case .pregnancyStatusRecorded:
            return .pregnancyStatusRecorded(PregnancyStatusRecorded(status: try requiredEnum(m, "status", PregnancyStatus.self)))

        case .alertAcknowledged:
            let alertId = try requiredText(m, "alertId")
            let note = try optionalText(m, "note")
            let lot = try optionalLot(m, "lot")
            return .alertAcknowledged(AlertAcknowledged(alertId: alertId, note: note, lot: lot))

        case .observationRecorded:
            let infusion = try requiredUUID(m, "infusion")
            let systolic = try optionalInt(m, "systolic", 50...260)
            let diastolic = try optionalInt(m, "diastolic", 30...160)
            let heartRate = try optionalInt(m, "heartRate", 20...250)
            var spo2: Double? = nil
            if let v = value(m, "spo2") { spo2 = try number(v, "spo2", 50...100) }
            let moaas = try optionalInt(m, "moaas", 0...5)
            let cadss = try optionalInt(m, "cadss", 0...92)
            var depression: Bool? = nil
            if let v = value(m, "respiratoryDepression") { depression = try readBool(v, path("respiratoryDepression")) }
            if let s = systolic, let d = diastolic, s <= d {
                throw InputError(
                    field: path("systolic"), problem: "\(s) is not above the diastolic \(d)", expected: "systolic greater than diastolic")
            }
            let o = ObservationRecorded(
                infusion: infusion, systolic: systolic, diastolic: diastolic, heartRate: heartRate, spo2: spo2, moaas: moaas, cadss: cadss,
                respiratoryDepression: depression)
            guard
                systolic != nil || diastolic != nil || heartRate != nil || spo2 != nil || moaas != nil || cadss != nil || depression != nil
            else {
                throw InputError(
                    field: prefix, problem: "has no reading",
                    expected: "at least one of systolic, diastolic, heartRate, spo2, moaas, cadss, respiratoryDepression")
            }
            return .observationRecorded(o)

        case .dischargeRecorded:
            let infusion = try requiredUUID(m, "infusion")
            let criteria = try requiredBool(m, "criteriaMet")
            let escort = try requiredBool(m, "escort")
            var transferred: Bool? = nil
            if let v = value(m, "transferred") { transferred = try readBool(v, path("transferred")) }
            let note = try optionalText(m, "note")
            return .dischargeRecorded(
                DischargeRecorded(infusion: infusion, criteriaMet: criteria, escort: escort, transferred: transferred, note: note))

        case .remsFormSubmitted:
            let infusion = try requiredUUID(m, "infusion")
            let reference = try optionalShort(m, "reference", max: 64)
            return .remsFormSubmitted(RemsFormSubmitted(infusion: infusion, reference: reference))

        case .stockReceived:
            let drug = try requiredEnum(m, "drug", Drug.self)
            let lot = try requiredLot(m)
            let quantity = try quantity(m, "quantityMg")
            let supplier = try requiredText(m, "supplier", max: 120)
            let invoice = try optionalShort(m, "invoice", max: 64)
            var concentration: Double? = nil
            if let v = value(m, "concentrationMgPerMl") {
                let c = try readNumber(v, path("concentrationMgPerMl"), "a number above 0, at most 500 mg/mL")
                guard c > 0, c <= 500 else {
                    throw InputError(
                        field: path("concentrationMgPerMl"), problem: "\(shortJSON(v)) is out of range",
                        expected: "a number above 0, at most 500 mg/mL")
                }
                concentration = c
            }
            return .stockReceived(
                StockReceived(
                    drug: drug, lot: lot, quantityMg: quantity, supplier: supplier, invoice: invoice, concentrationMgPerMl: concentration))

        case .stockWasted:
            let lot = try requiredLot(m)
            let quantity = try quantity(m, "quantityMg")
            let witness = try readActorId(try required(m, "witness", actorIdExpected), path("witness"))
            let reason = try requiredText(m, "reason")
            var infusion: UUID? = nil
            if let v = value(m, "infusion") { infusion = try readUUID(v, path("infusion")) }
            return .stockWasted(StockWasted(lot: lot, quantityMg: quantity, witness: witness, reason: reason, infusion: infusion))

        case .stockDisposed:
            let lot = try requiredLot(m)
            let quantity = try quantity(m, "quantityMg")
            let method = try requiredEnum(m, "method", DisposalMethod.self)
            let witness = try readActorId(try required(m, "witness", actorIdExpected), path("witness"))
            let reference = try optionalShort(m, "reference", max: 64)
            return .stockDisposed(StockDisposed(lot: lot, quantityMg: quantity, method: method, witness: witness, reference: reference))

        case .stockAdjusted:
            let lot = try requiredLot(m)
            let reason = try requiredEnum(m, "reason", AdjustmentReason.self)
            let expected =
                reason.isLoss
                ? "a number below 0, at least -100000 mg (a \(reason.rawValue) takes stock away)"
                : "a non-zero number from -100000 to 100000 mg"
            let jq = try required(m, "quantityMg", expected)
            let q = try readNumber(jq, path("quantityMg"), expected)
            guard q != 0, abs(q) <= 100_000, !reason.isLoss || q < 0, Milligrams(q) != nil else {
                throw InputError(field: path("quantityMg"), problem: "\(shortJSON(jq)) is out of range", expected: expected)
            }
            let witness = try readActorId(try required(m, "witness", actorIdExpected), path("witness"))
            let reference = try optionalShort(m, "reference", max: 64)
            return .stockAdjusted(StockAdjusted(lot: lot, quantityMg: q, reason: reason, witness: witness, reference: reference))

        case .inventoryCounted:
            let lot = try requiredLot(m)
            let expected = "a number from 0 to 100000 mg"
            let jq = try required(m, "onHandMg", expected)
            let q = try readNumber(jq, path("onHandMg"), expected)
            guard q >= 0, q <= 100_000 else {
                throw InputError(field: path("onHandMg"), problem: "\(shortJSON(jq)) is out of range", expected: expected)
            }
            return .inventoryCounted(InventoryCounted(lot: lot, onHandMg: q, kind: try requiredEnum(m, "kind", CountKind.self)))

        case .auditReviewed:
            let through = try readUInt64(try required(m, "throughSequence", uint64Expected), path("throughSequence"))
            let hash = try optionalText(m, "checkpointHash")
            let note = try optionalText(m, "note")
            return .auditReviewed(
                AuditReviewed(throughSequence: through, checkpointHash: hash, note: note, signature: try optionalSignature(m)))

        case .eventAmended:
            let target = try requiredUUID(m, "target")
            let reason = try requiredText(m, "reason")
            let expected = "a non-empty object of the corrected fields"
            let corrected = try required(m, "data", expected)
            guard case .object(let fields) = corrected else { throw wrongKind(path("data"), corrected, expected) }
            guard !fields.isEmpty else { throw InputError(field: path("data"), problem: "is empty", expected: expected) }
            return .eventAmended(EventAmended(target: target, reason: reason, data: fields))

        case .eventVoided:
            let target = try requiredUUID(m, "target")
            let reason = try requiredText(m, "reason")
            return .eventVoided(EventVoided(target: target, reason: reason))

        case .ruleSetAdopted:
            let version = try requiredText(m, "version")
            let hash = try requiredText(m, "contentHash")
            let content = try requiredText(m, "content", max: Int.max)
            return .ruleSetAdopted(
                RuleSetAdopted(version: version, contentHash: hash, content: content, signature: try optionalSignature(m)))

        case .actorRegistered:
            let id = try readActorId(try required(m, "id", actorIdExpected), path("id"))
            let role = try requiredEnum(m, "role", Role.self)
            let osUser = try requiredText(m, "osUser")
            return .actorRegistered(ActorRegistered(id: id, role: role, osUser: osUser, name: try optionalText(m, "name")))

        case .actorRetired:
            return .actorRetired(ActorRetired(id: try readActorId(try required(m, "id", actorIdExpected), path("id"))))

        case .actorCredentialChanged:
            let id = try readActorId(try required(m, "id", actorIdExpected), path("id"))
            return .actorCredentialChanged(ActorCredentialChanged(id: id, change: try requiredEnum(m, "change", CredentialChange.self)))
        }
    }

    static let lotExpected = "1 to 40 of A-Z a-z 0-9 . _ / -"

    func optionalLot(_ m: [(String, JSONValue)], _ key: String) throws(InputError) -> String? {
        guard let v = value(m, key) else { return nil }
        guard case .string(let s) = v else { throw wrongKind(path(key), v, _DataValidator.lotExpected) }
        guard LotStream.isValidLot(s) else {
            throw InputError(field: path(key), problem: "\(quotedForMessage(s)) is not a valid lot", expected: _DataValidator.lotExpected)
        }
        return s
    }

    func requiredLot(_ m: [(String, JSONValue)]) throws(InputError) -> String {
        _ = try required(m, "lot", _DataValidator.lotExpected)
        guard let lot = try optionalLot(m, "lot") else { throw missingField(path("lot"), _DataValidator.lotExpected) }
        return lot
    }

    /// A stock quantity: above 0, at most 100,000 mg.
    func quantity(_ m: [(String, JSONValue)], _ key: String) throws(InputError) -> Double {
        let expected = "a number above 0, at most 100000 mg"
        let v = try required(m, key, expected)
        let q = try readNumber(v, path(key), expected)
        guard q > 0, q <= 100_000, Milligrams(q) != nil else {
            throw InputError(field: path(key), problem: "\(shortJSON(v)) is out of range", expected: expected)
        }
        return q
    }

    func number(_ v: JSONValue, _ key: String, _ range: ClosedRange<Double>) throws(InputError) -> Double {
        let expected = "a number from \(jsonNumber(range.lowerBound).jsonText) to \(jsonNumber(range.upperBound).jsonText)"
        let x = try readNumber(v, path(key), expected)
        guard range.contains(x) else { throw InputError(field: path(key), problem: "\(shortJSON(v)) is out of range", expected: expected) }
        return x
    }

    func optionalShort(_ m: [(String, JSONValue)], _ key: String, max: Int) throws(InputError) -> String? {
        guard let v = value(m, key) else { return nil }
        return try readText(v, required: false, path(key), max: max)
    }

    var doseExpected: String { "an object {value, unit}: value from 0.01 to 5 mg/kg or from 1 to 1000 mg" }

    func dose(_ v: JSONValue) throws(InputError) -> Dose {
        let field = path("dose")
        guard case .object(let m) = v else { throw wrongKind(field, v, doseExpected) }
        var jValue: JSONValue? = nil
        var jUnit: JSONValue? = nil
        for (k, x) in m {
            switch k {
            case "value": jValue = x
            case "unit": jUnit = x
            default: throw unknownField(field, k, known: ["value", "unit"])
            }
        }
        guard let jUnit, jUnit != .null else { throw missingField(field + ".unit", enumExpected(DoseUnit.self)) }
        let unit = try readEnum(jUnit, DoseUnit.self, field + ".unit")
        let max = InputLimits.maxDose(unit)
        let min = InputLimits.minDose(unit)
        func valueExpected() -> String {
            "a number from \(jsonNumber(min).jsonText) to \(jsonNumber(max).jsonText) \(unit.rawValue)"
        }
        guard let jValue, jValue != .null else { throw missingField(field + ".value", valueExpected()) }
        let amount = try readNumber(jValue, field + ".value", valueExpected())
        guard amount > 0 else {
            throw InputError(field: field + ".value", problem: "\(shortJSON(jValue)) is not greater than 0", expected: valueExpected())
        }
        guard amount >= min else {
            throw InputError(
                field: field + ".value",
                problem: "\(shortJSON(jValue)) is below the smallest plausible dose, \(jsonNumber(min).jsonText) \(unit.rawValue)",
                expected: valueExpected())
        }
        guard amount <= max else {
            throw InputError(
                field: field + ".value", problem: "\(shortJSON(jValue)) is more than \(jsonNumber(max).jsonText) \(unit.rawValue)",
                expected: valueExpected())
        }
        return Dose(value: amount, unit: unit)
    }

    func labValues(_ v: JSONValue) throws(InputError) -> [(String, Double)] {
        let field = path("values")
        func expected() -> String { "an object of at most \(InputLimits.maxLabValues) named finite numbers" }
        guard case .object(let m) = v else { throw wrongKind(field, v, expected()) }
        guard m.count <= InputLimits.maxLabValues else {
            throw InputError(field: field, problem: "has \(m.count) entries", expected: expected())
        }
        var out: [(String, Double)] = []
        out.reserveCapacity(m.count)
        for (name, x) in m {
            do {
                _ = try readText(.string(name), required: true, field)
            } catch {
                throw InputError(field: field, problem: "an entry's name " + error.problem, expected: "names that are " + error.expected)
            }
            out.append((name, try readNumber(x, childPath(field, name), "a finite number")))
        }
        return out
    }

    func taperSteps(_ v: JSONValue) throws(InputError) -> [TaperStep] {
        let field = path("steps")
        let expected = "a non-empty array of {intervalDays, months}"
        guard case .array(let elements) = v else { throw wrongKind(field, v, expected) }
        guard !elements.isEmpty else { throw InputError(field: field, problem: "is empty", expected: expected) }
        var steps: [TaperStep] = []
        steps.reserveCapacity(elements.count)
        for (n, e) in elements.enumerated() {
            func here() -> String { "\(field)[\(n)]" }
            guard case .object(let m) = e else { throw wrongKind(here(), e, "an object {intervalDays, months}") }
            var jInterval: JSONValue? = nil
            var jMonths: JSONValue? = nil
            for (k, x) in m {
                switch k {
                case "intervalDays": jInterval = x
                case "months": jMonths = x
                default: throw unknownField(here(), k, known: ["intervalDays", "months"])
                }
            }
            guard let jInterval, jInterval != .null else { throw missingField(here() + ".intervalDays", intExpected(1...180)) }
            guard let jMonths, jMonths != .null else { throw missingField(here() + ".months", intExpected(1...24)) }
            steps.append(
                TaperStep(
                    intervalDays: try readInt(jInterval, 1...180, here() + ".intervalDays"),
                    months: try readInt(jMonths, 1...24, here() + ".months")))
        }
        return steps
    }
}

extension ElectronicSignature {
    /// `{"actor", "name", "meaning", "signedAt"}` as the event's data shows it.
    public var json: JSONValue {
        .object([
            ("actor", .string(actorId)), ("name", .string(name)), ("meaning", .string(meaning.rawValue)),
            ("signedAt", .string(signedAt.rfc3339)),
        ])
    }
}
