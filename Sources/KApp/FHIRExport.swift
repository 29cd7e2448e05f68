import Foundation
import KClinic
import KStore

/// `kstore audit export --format fhir`: the log and the read-access log as FHIR R4 resources,
/// one a line (NDJSON), for auditors.
///
/// - **AuditEvent per recorded event** (recordedAt's UTC date in the range), id = the eventId.
///   `type` is DICOM DCM 110110 "Patient Record" (the DICOM audit event ID for a create, read,
///   update or delete of patient data, the coding IHE ATNA and the FHIR AuditEvent examples use
///   for such events); `subtype` names the kstore event type (system `urn:kstore:event-type`).
///   `action` is C for a record, U for an `EventAmended`, D for an `EventVoided`. `recorded` is
///   recordedAt (RFC 3339 instant, UTC, microseconds). `agent`: the actor
///   (`urn:kstore:actor`), their kstore role (`urn:kstore:role`), `requestor` true, `altId` the
///   OS account. `entity`: the event (`urn:kstore:event`, object role 4 Domain Resource, with
///   its sequence, type and occurredAt in `detail`), the patient (`urn:kstore:patient`, object
///   role 1 Patient) unless a system stream, and for a correction the event it corrects.
/// - **AuditEvent per audited read** (the access log; its time's UTC date in the range), action
///   R, id `read-<sequence>`: the OS account as agent, the patients read as entities (or, when
///   more than `AccessLog.listLimit` were read, their number), the command as a query entity.
/// - **Provenance per correction** (`EventAmended`/`EventVoided` in the range), id
///   `correction-<eventId>`: `target` the correction event (what the activity produced, W3C
///   PROV's reading), `recorded`, `reason` (text), `activity` UPDATE/DELETE (v3-DataOperation),
///   `agent` the actor (participant type author), `entity` the corrected original event with
///   role `revision` (it stays in the log as recorded).
///
/// Every resource satisfies R4's required elements and cardinalities (AuditEvent: type, recorded,
/// agent 1..* with requestor, source.observer; Provenance: target 1..*, recorded, agent 1..* with
/// who, entity role and what). `tools/validate-fhir.py` checks the output against the R4B
/// models of the `fhir.resources` package (R4B keeps R4's AuditEvent and Provenance).
///
/// After them, the clinical record of session.md (R13–R15) as FHIR resources (`ClinicalRecords`):
/// an Encounter per effective infusion, Observations per effective ObservationRecorded, a
/// SupplyDelivery per StockReceived and an AuditEvent per waste, disposal, adjustment or count.
public enum FHIRExport {
    static let dicom = "http://dicom.nema.org/resources/ontology/DCM"
    static let entityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
    static let objectRole = "http://terminology.hl7.org/CodeSystem/object-role"
    static let sourceType = "http://terminology.hl7.org/CodeSystem/security-source-type"
    static let participationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
    static let dataOperation = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
    static let provenanceParticipant = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

    /// Every resource for events recorded, and reads made, between `from` and `to` (UTC dates,
    /// inclusive): the events' AuditEvents (and Provenances) in log order, then the reads'.
    public static func resources(_ store: ClinicStore, from: Day, to: Day) throws -> [JSONValue] {
        let observer =
            "kstore "
            + store.log.storeId.map { b in
                let s = String(b, radix: 16)
                return s.count == 1 ? "0" + s : s
            }.joined()
        var out: [JSONValue] = []
        var clinical = ClinicalRecords()
        try store.log.scan { view in
            let day = AuditTrail.utcDay(micros: view.recordedAtMicros)
            let inRange = day >= from && day <= to
            if inRange || ClinicalRecords.wanted.contains(view.typeCode) {
                let r = try EventMapping.recorded(view)
                if inRange {
                    out.append(auditEvent(r, observer: observer))
                    if let p = provenance(r) { out.append(p) }
                    if let s = signatureProvenance(r) { out.append(s) }
                }
                clinical.add(r, inRange: inRange)
            }
            return true
        }
        for e in try AccessLog.entries(store).entries {
            let day = AuditTrail.utcDay(micros: e.atMicros)
            if day >= from && day <= to { out.append(readEvent(e, observer: observer)) }
        }
        out.append(contentsOf: clinical.resources())
        return out
    }

    /// The patients the resources name (entities with a `urn:kstore:patient` identifier), for
    /// recording the export as an audited read.
    public static func patients(in resources: [JSONValue]) -> [String] {
        var out: [String] = []
        for r in resources {
            if case .string(let p)? = member(member(member(r, "subject"), "identifier"), "value") { out.append(p) }
            guard case .array(let entities)? = member(r, "entity") else { continue }
            for e in entities {
                guard let ident = member(member(e, "what"), "identifier"),
                    member(ident, "system") == .string("urn:kstore:patient"), case .string(let p)? = member(ident, "value")
                else { continue }
                out.append(p)
            }
        }
        return out
    }

    static func member(_ v: JSONValue?, _ key: String) -> JSONValue? {
        guard case .object(let m)? = v else { return nil }
        return m.first { $0.0 == key }?.1
    }

    static func coding(_ system: String, _ code: String, _ display: String? = nil) -> JSONValue {
        var m: [(String, JSONValue)] = [("system", .string(system)), ("code", .string(code))]
        if let display { m.append(("display", .string(display))) }
        return .object(m)
    }

    static func concept(_ system: String, _ code: String, _ display: String? = nil) -> JSONValue {
        .object([("coding", .array([coding(system, code, display)]))])
    }

    static func identifier(_ system: String, _ value: String) -> JSONValue {
        .object([("identifier", .object([("system", .string(system)), ("value", .string(value))]))])
    }

    static func detail(_ type: String, _ value: String) -> JSONValue {
        .object([("type", .string(type)), ("valueString", .string(value))])
    }

    static func id(_ u: UUID) -> String { u.uuidString.lowercased() }

    static var recordType: JSONValue { coding(dicom, "110110", "Patient Record") }

    static func source(_ observer: String) -> JSONValue {
        .object([
            ("observer", .object([("display", .string(observer))])),
            ("type", .array([coding(sourceType, "4", "Application Server")])),
        ])
    }

    static func patientEntity(_ patient: String) -> JSONValue {
        .object([
            ("what", identifier("urn:kstore:patient", patient)),
            ("type", coding(entityType, "1", "Person")),
            ("role", coding(objectRole, "1", "Patient")),
        ])
    }

    static func correction(_ event: ClinicalEvent) -> (target: UUID, reason: String, action: String)? {
        switch event {
        case .eventAmended(let a): (a.target, a.reason, "U")
        case .eventVoided(let v): (v.target, v.reason, "D")
        default: nil
        }
    }

    static func auditEvent(_ r: Recorded, observer: String) -> JSONValue {
        let fix = correction(r.event)
        var entities: [JSONValue] = [
            .object([
                ("what", identifier("urn:kstore:event", id(r.eventId))),
                ("type", coding(entityType, "2", "System Object")),
                ("role", coding(objectRole, "4", "Domain Resource")),
                ("description", .string("\(r.type.rawValue), sequence \(r.sequence)")),
                (
                    "detail",
                    .array([
                        detail("sequence", String(r.sequence)),
                        detail("type", r.type.rawValue),
                        detail("occurredAt", r.occurredAt.rfc3339),
                    ])
                ),
            ])
        ]
        if !r.patient.isEmpty && !SystemStream.isSystem(r.patient) { entities.append(patientEntity(r.patient)) }
        if let fix {
            entities.append(
                .object([
                    ("what", identifier("urn:kstore:event", id(fix.target))),
                    ("type", coding(entityType, "2", "System Object")),
                    ("role", coding(objectRole, "4", "Domain Resource")),
                    ("description", .string(fix.action == "D" ? "the event voided" : "the event amended")),
                    ("detail", .array([detail("reason", fix.reason)])),
                ]))
        }
        return .object([
            ("resourceType", .string("AuditEvent")),
            ("id", .string(id(r.eventId))),
            ("type", recordType),
            ("subtype", .array([coding("urn:kstore:event-type", r.type.rawValue, r.type.rawValue)])),
            ("action", .string(fix?.action ?? "C")),
            ("recorded", .string(EventMapping.formatMicros(r.recordedAtMicros))),
            ("outcome", .string("0")),
            (
                "agent",
                .array([
                    .object([
                        ("type", concept(participationType, "AUT", "author")),
                        ("role", .array([concept("urn:kstore:role", r.actor.role.rawValue, r.actor.role.rawValue)])),
                        ("who", identifier("urn:kstore:actor", r.actor.id)),
                        ("altId", .string(r.osUser)),
                        ("requestor", .bool(true)),
                    ])
                ])
            ),
            ("source", source(observer)),
            ("entity", .array(entities)),
        ])
    }

    /// A signed review or rule-set adoption (issue 13): a Provenance whose `signature` carries
    /// the signer, the instant and the meaning (ASTM E1762 signature types: reviewed → Review
    /// Signature, approved → Validation Signature, responsibility → Author's Signature), the
    /// printed name as the signer's display.
    static func signatureProvenance(_ r: Recorded) -> JSONValue? {
        let signature: ElectronicSignature
        switch r.event {
        case .auditReviewed(let a):
            guard let s = a.signature else { return nil }
            signature = s
        case .ruleSetAdopted(let a):
            guard let s = a.signature else { return nil }
            signature = s
        default:
            return nil
        }
        let (code, display) =
            switch signature.meaning {
            case .reviewed: ("1.2.840.10065.1.12.1.13", "Review Signature")
            case .approved: ("1.2.840.10065.1.12.1.6", "Validation Signature")
            case .responsibility: ("1.2.840.10065.1.12.1.1", "Author's Signature")
            }
        let who: JSONValue = .object([
            ("identifier", .object([("system", .string("urn:kstore:actor")), ("value", .string(signature.actorId))])),
            ("display", .string(signature.name)),
        ])
        return .object([
            ("resourceType", .string("Provenance")),
            ("id", .string("signature-" + id(r.eventId))),
            ("target", .array([identifier("urn:kstore:event", id(r.eventId))])),
            ("recorded", .string(EventMapping.formatMicros(r.recordedAtMicros))),
            ("reason", .array([.object([("text", .string("signed: \(signature.meaning.rawValue)"))])])),
            (
                "agent",
                .array([
                    .object([
                        ("type", concept(provenanceParticipant, "author", "Author")),
                        ("role", .array([concept("urn:kstore:role", r.actor.role.rawValue, r.actor.role.rawValue)])),
                        ("who", who),
                    ])
                ])
            ),
            (
                "signature",
                .array([
                    .object([
                        (
                            "type",
                            .array([
                                .object([
                                    ("system", .string("urn:iso-astm:E1762-95:2013")), ("code", .string(code)),
                                    ("display", .string(display)),
                                ])
                            ])
                        ),
                        ("when", .string(signature.signedAt.rfc3339)),
                        ("who", who),
                    ])
                ])
            ),
        ])
    }

    static func provenance(_ r: Recorded) -> JSONValue? {
        guard let fix = correction(r.event) else { return nil }
        return .object([
            ("resourceType", .string("Provenance")),
            ("id", .string("correction-" + id(r.eventId))),
            // W3C PROV / FHIR: the target is what the activity produced (the correction, the new
            // version of the record); the entity with role `revision` is the version it revised
            // (the original event, still in the log as recorded).
            ("target", .array([identifier("urn:kstore:event", id(r.eventId))])),
            ("occurredDateTime", .string(r.occurredAt.rfc3339)),
            ("recorded", .string(EventMapping.formatMicros(r.recordedAtMicros))),
            ("reason", .array([.object([("text", .string(fix.reason))])])),
            ("activity", concept(dataOperation, fix.action == "D" ? "DELETE" : "UPDATE", fix.action == "D" ? "delete" : "revise")),
            (
                "agent",
                .array([
                    .object([
                        ("type", concept(provenanceParticipant, "author", "Author")),
                        ("role", .array([concept("urn:kstore:role", r.actor.role.rawValue, r.actor.role.rawValue)])),
                        ("who", identifier("urn:kstore:actor", r.actor.id)),
                    ])
                ])
            ),
            (
                "entity",
                .array([
                    .object([
                        ("role", .string("revision")),
                        ("what", identifier("urn:kstore:event", id(fix.target))),
                    ])
                ])
            ),
        ])
    }

    static func readEvent(_ e: AccessLog.Entry, observer: String) -> JSONValue {
        var entities: [JSONValue] = e.patients.map(patientEntity)
        var query: [(String, JSONValue)] = [
            ("type", coding(entityType, "2", "System Object")),
            ("role", coding(objectRole, "24", "Query")),
            ("description", .string(e.command)),
            ("detail", .array([detail("command", e.command), detail("patientCount", String(e.patientCount))])),
        ]
        if e.patients.isEmpty && e.patientCount > 0 {
            query[2] = ("description", .string("\(e.command) (\(e.patientCount) patients, not listed)"))
        }
        entities.append(.object(query))
        return .object([
            ("resourceType", .string("AuditEvent")),
            ("id", .string("read-\(e.sequence)")),
            ("type", recordType),
            ("action", .string("R")),
            ("recorded", .string(EventMapping.formatMicros(e.atMicros))),
            ("outcome", .string("0")),
            (
                "agent",
                .array([
                    .object([
                        ("who", identifier("urn:kstore:os-user", e.osUser)),
                        ("altId", .string(e.osUser)),
                        ("requestor", .bool(true)),
                    ])
                ])
            ),
            ("source", source(observer)),
            ("entity", .array(entities)),
        ])
    }
}

/// The clinical part of the FHIR export (session.md R13–R15), for events recorded in the range,
/// corrections applied (a voided event exports nothing, an amended one its amended data; the
/// observations and discharge of a voided infusion belong to no session and export nothing):
///
/// - **Encounter per effective infusion**, id = the infusion's eventId: status `finished` once a
///   `DischargeRecorded` exists (else `in-progress`), class AMB (v3-ActCode ambulatory),
///   `period.start` the infusion's instant, `period.end` its discharge's instant, a transfer's
///   `hospitalization.dischargeDisposition` = `other-hcf` (discharge-disposition: to another
///   health care facility, the emergency or hospital care of session.md).
/// - **Observation per reading**, id = eventId + a suffix: status final, `subject` the Patient
///   (a logical reference: type Patient, identifier `urn:kstore:patient`), `effectiveDateTime`,
///   `encounter` the session's Encounter (R4's `Observation.partOf` cannot reference an
///   Encounter, so `encounter` is the link). LOINC: 85354-9 blood pressure panel with components
///   8480-6 systolic and 8462-4 diastolic (mm[Hg]), 8867-4 heart rate (/min), 59408-5 SpO2 (%).
///   MOAA/S, CADSS and respiratory depression have no LOINC code we can vouch for: they are coded
///   in the kstore code system `urn:kstore:observation` (`moaas`, `cadss`,
///   `respiratory-depression`), with text; respiratory depression is a valueBoolean.
/// - **SupplyDelivery per StockReceived** (status completed, type medication): the supplied item
///   is a contained Medication naming the drug with `batch.lotNumber` = the lot, its quantity in
///   mg (UCUM), the supplier as display, the recorder as receiver, the invoice as an identifier.
/// - **AuditEvent per waste, disposal, adjustment or count**, id `stock-<eventId>`: FHIR R4 has
///   no inventory resource (InventoryReport arrives in R5), so these are recorded as audit
///   events of the controlled-substance log: type `urn:kstore:stock` `controlled-substance`,
///   subtype the kind, action E, `period` the event's instant, the recorder (and the witness,
///   participation WIT) as agents, the lot as entity with the quantity in mg and the reason,
///   method or count kind as details.
struct ClinicalRecords {
    static let wanted: Set<UInt16> = Set(
        [
            EventType.infusionAdministered, .observationRecorded, .dischargeRecorded, .stockReceived, .stockWasted, .stockDisposed,
            .stockAdjusted, .inventoryCounted, .eventAmended, .eventVoided,
        ].map(\.code))

    static let loinc = "http://loinc.org"
    static let ucum = "http://unitsofmeasure.org"
    static let category = "http://terminology.hl7.org/CodeSystem/observation-category"
    static let kstoreObservation = "urn:kstore:observation"

    var found: [(Recorded, Bool)] = []
    var corrections: [CorrectionResolution.Correction] = []

    mutating func add(_ r: Recorded, inRange: Bool) {
        if let c = CorrectionResolution.Correction(r) {
            corrections.append(c)
        } else if ClinicalRecords.wanted.contains(r.type.code) {
            found.append((r, inRange))
        }
    }

    func resources() -> [JSONValue] {
        let resolution = CorrectionResolution(corrections)
        var effective: [(Recorded, Bool)] = []
        for (r, inRange) in found where !resolution.isVoided(r.eventId) {
            var e = r
            e.event = CorrectionResolution.applying(resolution.amendmentsInForce(of: r.eventId), to: r.event)
            effective.append((e, inRange))
        }
        var infusions: Set<UUID> = []
        var discharges: [UUID: (Recorded, DischargeRecorded)] = [:]
        for (r, _) in effective {
            if case .infusionAdministered = r.event { infusions.insert(r.eventId) }
        }
        for (r, _) in effective {
            if case .dischargeRecorded(let d) = r.event, infusions.contains(d.infusion), discharges[d.infusion] == nil {
                discharges[d.infusion] = (r, d)
            }
        }
        var out: [JSONValue] = []
        for (r, inRange) in effective where inRange {
            switch r.event {
            case .infusionAdministered(let inf):
                out.append(encounter(r, inf, discharges[r.eventId]))
            case .observationRecorded(let o) where infusions.contains(o.infusion):
                out.append(contentsOf: observations(r, o))
            case .stockReceived(let s):
                out.append(supplyDelivery(r, s))
            case .stockWasted, .stockDisposed, .stockAdjusted, .inventoryCounted:
                if let a = stockAudit(r) { out.append(a) }
            default:
                break
            }
        }
        return out
    }

    static func subject(_ patient: String) -> JSONValue {
        .object([
            ("type", .string("Patient")),
            ("identifier", .object([("system", .string("urn:kstore:patient")), ("value", .string(patient))])),
        ])
    }

    static func quantity(_ value: JSONValue, _ unit: String, _ code: String) -> JSONValue {
        .object([("value", value), ("unit", .string(unit)), ("system", .string(ucum)), ("code", .string(code))])
    }

    static func mg(_ d: Double) -> JSONValue {
        Milligrams(d).map(Views.mg) ?? .double(d)
    }

    func encounter(_ r: Recorded, _ inf: InfusionAdministered, _ discharge: (Recorded, DischargeRecorded)?) -> JSONValue {
        var period: [(String, JSONValue)] = [("start", .string(r.occurredAt.rfc3339))]
        if let (d, _) = discharge { period.append(("end", .string(d.occurredAt.rfc3339))) }
        var m: [(String, JSONValue)] = [
            ("resourceType", .string("Encounter")),
            ("id", .string(FHIRExport.id(r.eventId))),
            (
                "identifier",
                .array([.object([("system", .string("urn:kstore:event")), ("value", .string(FHIRExport.id(r.eventId)))])])
            ),
            ("status", .string(discharge == nil ? "in-progress" : "finished")),
            ("class", FHIRExport.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")),
            ("type", .array([.object([("text", .string("\(inf.givenDrug.rawValue) session"))])])),
            ("subject", ClinicalRecords.subject(r.patient)),
            ("period", .object(period)),
        ]
        if let (_, d) = discharge, d.isTransfer {
            m.append(
                (
                    "hospitalization",
                    .object([
                        (
                            "dischargeDisposition",
                            FHIRExport.concept(
                                "http://terminology.hl7.org/CodeSystem/discharge-disposition", "other-hcf", "Other healthcare facility")
                        )
                    ])
                ))
        }
        return .object(m)
    }

    func observations(_ r: Recorded, _ o: ObservationRecorded) -> [JSONValue] {
        let base = FHIRExport.id(r.eventId)
        func observation(
            _ suffix: String, _ categoryCode: String, _ code: JSONValue, _ value: (String, JSONValue)?, components: [JSONValue] = []
        )
            -> JSONValue
        {
            var m: [(String, JSONValue)] = [
                ("resourceType", .string("Observation")),
                ("id", .string(base + "-" + suffix)),
                (
                    "identifier",
                    .array([.object([("system", .string("urn:kstore:event")), ("value", .string(base))])])
                ),
                ("status", .string("final")),
                ("category", .array([FHIRExport.concept(ClinicalRecords.category, categoryCode)])),
                ("code", code),
                ("subject", ClinicalRecords.subject(r.patient)),
                ("encounter", .object([("reference", .string("Encounter/" + FHIRExport.id(o.infusion)))])),
                ("effectiveDateTime", .string(r.occurredAt.rfc3339)),
            ]
            if let value { m.append(value) }
            if !components.isEmpty { m.append(("component", .array(components))) }
            return .object(m)
        }
        func loincCode(_ code: String, _ display: String) -> JSONValue {
            .object([("coding", .array([FHIRExport.coding(ClinicalRecords.loinc, code, display)])), ("text", .string(display))])
        }
        func kstoreCode(_ code: String, _ text: String) -> JSONValue {
            .object([("coding", .array([FHIRExport.coding(ClinicalRecords.kstoreObservation, code, text)])), ("text", .string(text))])
        }
        var out: [JSONValue] = []
        if o.systolic != nil || o.diastolic != nil {
            var components: [JSONValue] = []
            if let s = o.systolic {
                components.append(
                    .object([
                        ("code", loincCode("8480-6", "Systolic blood pressure")),
                        ("valueQuantity", ClinicalRecords.quantity(.int(Int64(s)), "mmHg", "mm[Hg]")),
                    ]))
            }
            if let d = o.diastolic {
                components.append(
                    .object([
                        ("code", loincCode("8462-4", "Diastolic blood pressure")),
                        ("valueQuantity", ClinicalRecords.quantity(.int(Int64(d)), "mmHg", "mm[Hg]")),
                    ]))
            }
            out.append(
                observation(
                    "bp", "vital-signs", loincCode("85354-9", "Blood pressure panel with all children optional"), nil,
                    components: components))
        }
        if let h = o.heartRate {
            out.append(
                observation(
                    "heart-rate", "vital-signs", loincCode("8867-4", "Heart rate"),
                    ("valueQuantity", ClinicalRecords.quantity(.int(Int64(h)), "beats/minute", "/min"))))
        }
        if let s = o.spo2 {
            out.append(
                observation(
                    "spo2", "vital-signs",
                    loincCode("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                    ("valueQuantity", ClinicalRecords.quantity(.double(s), "%", "%"))))
        }
        if let m = o.moaas {
            out.append(
                observation(
                    "moaas", "exam", kstoreCode("moaas", "Modified Observer's Assessment of Alertness/Sedation (MOAA/S)"),
                    ("valueInteger", .int(Int64(m)))))
        }
        if let c = o.cadss {
            out.append(
                observation(
                    "cadss", "survey", kstoreCode("cadss", "Clinician-Administered Dissociative States Scale (CADSS)"),
                    ("valueInteger", .int(Int64(c)))))
        }
        if let d = o.respiratoryDepression {
            out.append(
                observation(
                    "respiratory-depression", "exam", kstoreCode("respiratory-depression", "Respiratory depression"),
                    ("valueBoolean", .bool(d))))
        }
        return out
    }

    func supplyDelivery(_ r: Recorded, _ s: StockReceived) -> JSONValue {
        var identifiers: [JSONValue] = [
            .object([("system", .string("urn:kstore:event")), ("value", .string(FHIRExport.id(r.eventId)))])
        ]
        if let invoice = s.invoice {
            identifiers.append(.object([("system", .string("urn:kstore:invoice")), ("value", .string(invoice))]))
        }
        let medication: JSONValue = .object([
            ("resourceType", .string("Medication")),
            ("id", .string("lot")),
            ("code", .object([("text", .string(s.drug.rawValue))])),
            ("batch", .object([("lotNumber", .string(s.lot))])),
        ])
        return .object([
            ("resourceType", .string("SupplyDelivery")),
            ("id", .string(FHIRExport.id(r.eventId))),
            ("contained", .array([medication])),
            ("identifier", .array(identifiers)),
            ("status", .string("completed")),
            (
                "type",
                FHIRExport.concept("http://terminology.hl7.org/CodeSystem/supply-item-type", "medication", "Medication")
            ),
            (
                "suppliedItem",
                .object([
                    ("quantity", ClinicalRecords.quantity(ClinicalRecords.mg(s.quantityMg), "mg", "mg")),
                    ("itemReference", .object([("reference", .string("#lot"))])),
                ])
            ),
            ("occurrenceDateTime", .string(r.occurredAt.rfc3339)),
            ("supplier", .object([("display", .string(s.supplier))])),
            ("receiver", .array([FHIRExport.identifier("urn:kstore:actor", r.actor.id)])),
        ])
    }

    func stockAudit(_ r: Recorded) -> JSONValue? {
        let kind: String
        let lot: String
        let quantityMg: Double
        var witness: String?
        var details: [JSONValue] = []
        switch r.event {
        case .stockWasted(let e):
            (kind, lot, quantityMg, witness) = ("wasted", e.lot, e.quantityMg, e.witness)
            details.append(FHIRExport.detail("reason", e.reason))
            if let i = e.infusion { details.append(FHIRExport.detail("infusion", FHIRExport.id(i))) }
        case .stockDisposed(let e):
            (kind, lot, quantityMg, witness) = ("disposed", e.lot, e.quantityMg, e.witness)
            details.append(FHIRExport.detail("method", e.method.rawValue))
            if let x = e.reference { details.append(FHIRExport.detail("reference", x)) }
        case .stockAdjusted(let e):
            (kind, lot, quantityMg, witness) = ("adjusted", e.lot, e.quantityMg, e.witness)
            details.append(FHIRExport.detail("reason", e.reason.rawValue))
            if let x = e.reference { details.append(FHIRExport.detail("reference", x)) }
        case .inventoryCounted(let e):
            (kind, lot, quantityMg) = ("counted", e.lot, e.onHandMg)
            details.append(FHIRExport.detail("kind", e.kind.rawValue))
        default:
            return nil
        }
        let mgText = Milligrams(quantityMg)?.text ?? String(quantityMg)
        details.insert(FHIRExport.detail(kind == "counted" ? "onHandMg" : "quantityMg", mgText), at: 0)
        var agents: [JSONValue] = [
            .object([
                ("type", FHIRExport.concept(FHIRExport.participationType, "AUT", "author")),
                ("who", FHIRExport.identifier("urn:kstore:actor", r.actor.id)),
                ("requestor", .bool(true)),
            ])
        ]
        if let witness {
            agents.append(
                .object([
                    ("type", FHIRExport.concept(FHIRExport.participationType, "WIT", "witness")),
                    ("who", FHIRExport.identifier("urn:kstore:actor", witness)),
                    ("requestor", .bool(false)),
                ]))
        }
        return .object([
            ("resourceType", .string("AuditEvent")),
            ("id", .string("stock-" + FHIRExport.id(r.eventId))),
            ("type", FHIRExport.coding("urn:kstore:stock", "controlled-substance", "Controlled substance record")),
            ("subtype", .array([FHIRExport.coding("urn:kstore:stock-kind", kind, kind)])),
            ("action", .string("E")),
            ("period", .object([("start", .string(r.occurredAt.rfc3339)), ("end", .string(r.occurredAt.rfc3339))])),
            ("recorded", .string(EventMapping.formatMicros(r.recordedAtMicros))),
            ("outcome", .string("0")),
            ("agent", .array(agents)),
            ("source", .object([("observer", .object([("display", .string("kstore"))]))])),
            (
                "entity",
                .array([
                    .object([
                        ("what", FHIRExport.identifier("urn:kstore:lot", lot)),
                        ("type", FHIRExport.coding(FHIRExport.entityType, "2", "System Object")),
                        ("description", .string("lot \(lot): \(kind) \(mgText) mg")),
                        ("detail", .array(details)),
                    ])
                ])
            ),
        ])
    }
}
