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
        try store.log.scan { view in
            let day = AuditTrail.utcDay(micros: view.recordedAtMicros)
            if day >= from && day <= to {
                let r = try EventMapping.recorded(view)
                out.append(auditEvent(r, observer: observer))
                if let p = provenance(r) { out.append(p) }
                if let s = signatureProvenance(r) { out.append(s) }
            }
            return true
        }
        for e in try AccessLog.entries(store).entries {
            let day = AuditTrail.utcDay(micros: e.atMicros)
            if day >= from && day <= to { out.append(readEvent(e, observer: observer)) }
        }
        return out
    }

    /// The patients the resources name (entities with a `urn:kstore:patient` identifier), for
    /// recording the export as an audited read.
    public static func patients(in resources: [JSONValue]) -> [String] {
        var out: [String] = []
        for r in resources {
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
