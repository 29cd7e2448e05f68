import Foundation
import KClinic
import KStore

/// Checks that need the log: a correction's target, a second enrolment.
enum StoreChecks {
    /// Refuses a correction whose target is missing, belongs to another patient, is itself an
    /// amendment (amend the original instead), or is already voided; and an amendment whose
    /// merged data would not be a valid event of the target's type.
    static func check(_ event: ClinicalEvent, patient: String, reader: LogReader) throws -> InputError? {
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
            let history = try CorrectionHistory(patient: patient, reader: reader)
            if history.isVoided(a.target) {
                return voided(a.target)
            }
            var effective = original.event
            for fields in history.amendments(of: a.target) {
                if let merged = try? effective.amended(with: fields) { effective = merged }
            }
            do {
                _ = try effective.amended(with: a.data)
            } catch {
                return error.prefixed("data.")
            }
            return nil
        case .eventVoided(let v):
            guard let target = try targetRecord(v.target, patient: patient, reader: reader) else {
                return missing(v.target, patient: patient)
            }
            if case .failure(let e) = target { return e }
            let history = try CorrectionHistory(patient: patient, reader: reader)
            if history.isVoided(v.target) { return voided(v.target) }
            return nil
        case .patientEnrolled:
            var enrolled: UInt64?
            try reader.forEachInStream(patient, typeCodes: [EventType.patientEnrolled.code]) { view in
                if enrolled == nil { enrolled = view.sequence }
            }
            if let enrolled {
                let history = try CorrectionHistory(patient: patient, reader: reader)
                if let rec = try reader.record(enrolled), !history.isVoided(EventMapping.uuid(rec.eventId)) {
                    return InputError(
                        field: "type", problem: "patient \(patient) is already enrolled (sequence \(enrolled))",
                        expected: "one PatientEnrolled per patient; to change the protocol, amend the enrolment")
                }
            }
            return nil
        default:
            return nil
        }
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

/// The corrections of one patient's stream, in log order.
struct CorrectionHistory {
    /// target → the voids naming it
    private var voids: [UUID: [UUID]] = [:]
    /// target → (amendment id, fields) in log order
    private var amends: [UUID: [(UUID, [(String, JSONValue)])]] = [:]

    init(patient: String, reader: LogReader) throws {
        try reader.forEachInStream(patient, typeCodes: [EventType.eventVoided.code, EventType.eventAmended.code]) { view in
            let r = try EventMapping.recorded(view)
            switch r.event {
            case .eventVoided(let v): voids[v.target, default: []].append(r.eventId)
            case .eventAmended(let a): amends[a.target, default: []].append((r.eventId, a.data))
            default: break
            }
        }
    }

    /// Voided when a void names it that is not itself voided (voiding a void undoes it).
    func isVoided(_ id: UUID, depth: Int = 0) -> Bool {
        guard depth < 64, let vs = voids[id] else { return false }
        return vs.contains { !isVoided($0, depth: depth + 1) }
    }

    /// The fields of each amendment of `id` still in force, in log order.
    func amendments(of id: UUID) -> [[(String, JSONValue)]] {
        (amends[id] ?? []).filter { !isVoided($0.0) }.map(\.1)
    }
}
