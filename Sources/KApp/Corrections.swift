import Foundation
import KClinic
import KStore

/// Checks that need the log: a correction's target, a second enrolment.
enum StoreChecks {
    /// Refuses a correction whose target is missing, belongs to another patient, is itself an
    /// amendment (amend the original instead), or is already voided; and an amendment whose
    /// merged data would not be a valid event of the target's type.
    /// `history`: the patient's corrections when the caller has already read them (one read of
    /// the stream a correction; an import line's permission check needs them too).
    static func check(
        _ event: ClinicalEvent, patient: String, at: Timestamp? = nil, now: Timestamp, reader: LogReader,
        history known: CorrectionHistory? = nil
    ) throws -> InputError? {
        switch event {
        case .eventAmended(let a):
            guard let target = try targetRecord(a.target, patient: patient, reader: reader) else {
                return missing(a.target, patient: patient)
            }
            if case .failure(let e) = target { return e }
            guard case .success(let original) = target else { return nil }
            if original.type == .eventAmended || original.type == .eventVoided {
                return InputError(
                    field: "data.target", problem: "event \(a.target.uuidString.lowercased()) is itself a correction",
                    expected: "the eventId of the original event; to undo a correction, void it")
            }
            let history = try known ?? CorrectionHistory(patient: patient, reader: reader)
            if history.isVoided(a.target) {
                return voided(a.target)
            }
            let effective = CorrectionResolution.applying(history.amendmentsInForce(of: a.target), to: original.event)
            if let e = SessionChecks.frozen(effective, a.data) { return e }
            let merged: ClinicalEvent
            do {
                merged = try effective.amended(with: a.data, now: now)
            } catch {
                return error.prefixed("data.")
            }
            // session.md: the amended event as a whole, with its link (not the log-order rules).
            return try SessionChecks.check(
                merged, patient: patient, at: original.occurredAt, original: false, reader: reader, target: a.target)
        case .eventVoided(let v):
            guard let target = try targetRecord(v.target, patient: patient, reader: reader) else {
                return missing(v.target, patient: patient)
            }
            if case .failure(let e) = target { return e }
            let history = try known ?? CorrectionHistory(patient: patient, reader: reader)
            if history.isVoided(v.target) { return voided(v.target) }
            // Only voiding a void can bring an event back into force (a second enrolment).
            guard case .success(let original) = target, original.type == .eventVoided else { return nil }
            return try secondEnrolment(voiding: v.target, patient: patient, history: history, reader: reader)
        case .patientEnrolled:
            var enrolled: UInt64?
            try reader.forEachInStream(patient, typeCodes: [EventType.patientEnrolled.code]) { view in
                if enrolled == nil { enrolled = view.sequence }
            }
            if let enrolled {
                let history = try CorrectionHistory(patient: patient, reader: reader)
                if let rec = try reader.record(enrolled), !history.resolution.isVoided(EventMapping.uuid(rec.eventId)) {
                    return InputError(
                        field: "type", problem: "patient \(patient) is already enrolled (sequence \(enrolled))",
                        expected: "one PatientEnrolled per patient; to change the protocol, amend the enrolment")
                }
            }
            return nil
        default:
            guard let at else { return nil }
            return try SessionChecks.check(event, patient: patient, at: at, original: true, reader: reader)
        }
    }

    /// events.md (revision 4): a void that would leave the patient with two enrolments in force
    /// (voiding the void of an enrolment that a later enrolment replaced) is refused.
    private static func secondEnrolment(voiding target: UUID, patient: String, history: CorrectionHistory, reader: LogReader)
        throws -> InputError?
    {
        var enrolments: [(sequence: UInt64, id: UUID)] = []
        try reader.forEachInStream(patient, typeCodes: [EventType.patientEnrolled.code]) { view in
            enrolments.append((view.sequence, EventMapping.uuid(view.eventId)))
        }
        guard enrolments.count > 1 else { return nil }
        // The resolution with this void added (it is the newest correction).
        var list = history.resolution.corrections
        let next = (list.last?.sequence ?? 0) + 1
        list.append(
            CorrectionResolution.Correction(
                id: UUID(), sequence: next, target: target, action: .void, role: .clinician,
                recordedAt: Timestamp(epochMillis: 0, offsetMinutes: 0)))
        let after = CorrectionResolution(list)
        let inForce = enrolments.filter { !after.isVoided($0.id) }
        guard inForce.count > 1 else { return nil }
        let seqs = inForce.map { String($0.sequence) }.joined(separator: " and ")
        return InputError(
            field: "data.target",
            problem:
                "voiding event \(target.uuidString.lowercased()) would leave patient \(patient) with two enrolments in force (sequences \(seqs))",
            expected: "one PatientEnrolled in force per patient; to change the protocol, amend the enrolment in force")
    }

    /// Whether a clinician has already corrected `id` (events.md, revision 4: then only a
    /// clinician may correct it again).
    static func correctedByClinician(_ id: UUID, history: CorrectionHistory) -> Bool {
        history.resolution.correctedByClinician(id)
    }

    /// The actor who recorded `id` (nil when no such event: the correction check reports that).
    static func actorOf(_ id: UUID, reader: LogReader) throws -> String? {
        guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), let view = try reader.record(seq) else { return nil }
        return view.actorId
    }

    private static func targetRecord(_ id: UUID, patient: String, reader: LogReader) throws -> Result<Recorded, InputError>? {
        guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), let view = try reader.record(seq) else {
            return nil
        }
        if view.stream != patient {
            return .failure(
                InputError(
                    field: "data.target", problem: "event \(id.uuidString.lowercased()) belongs to another stream",
                    expected: "the eventId of an earlier event of patient \(patient)"))
        }
        return .success(try EventMapping.recorded(view))
    }

    private static func missing(_ id: UUID, patient: String) -> InputError {
        InputError(
            field: "data.target", problem: "no event \(id.uuidString.lowercased()) is in the store",
            expected: "the eventId of an earlier event of patient \(patient)")
    }

    private static func voided(_ id: UUID) -> InputError {
        InputError(
            field: "data.target", problem: "event \(id.uuidString.lowercased()) is already voided",
            expected: "an event that is not voided; void the void to restore it")
    }
}

/// The corrections of one patient's stream, resolved (KClinic's `CorrectionResolution`).
struct CorrectionHistory {
    let resolution: CorrectionResolution

    init(patient: String, reader: LogReader) throws {
        var list: [CorrectionResolution.Correction] = []
        try reader.forEachInStream(patient, typeCodes: [EventType.eventVoided.code, EventType.eventAmended.code]) { view in
            if let c = CorrectionResolution.Correction(try EventMapping.recorded(view)) { list.append(c) }
        }
        resolution = CorrectionResolution(list)
    }

    /// Voided when a void in force names it (voiding a void undoes it).
    func isVoided(_ id: UUID) -> Bool { resolution.isVoided(id) }

    /// The amendments of `id` in force, in log order.
    func amendmentsInForce(of id: UUID) -> [CorrectionResolution.Amendment] { resolution.amendmentsInForce(of: id) }
}
