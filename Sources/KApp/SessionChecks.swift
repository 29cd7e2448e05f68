import Foundation
import KClinic
import KStore

/// session.md's checks that need the log (65): a session event's infusion, a waste's infusion,
/// a lot's one drug, the fields of a stock event no amendment may change.
enum SessionChecks {
    static let maxSessionMillis: Int64 = 12 * 3_600_000

    /// The records of `stream` after `sequence`: every correction of an event, and every session
    /// event of an infusion, comes after it in the log, so a check reads only the stream's tail
    /// (a session's handful of records, not the patient's whole history: the import of a
    /// 1.26M-event clinic with sessions took 175 s reading whole streams, see BENCHMARKS.md).
    static func tail(_ stream: String, after sequence: UInt64, reader: LogReader) throws -> [Recorded] {
        var out: [Recorded] = []
        let all = try reader.streamSequences(stream)
        // Sorted: start at the first sequence after `sequence`.
        var lo = 0
        var hi = all.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if all[mid] <= sequence { lo = mid + 1 } else { hi = mid }
        }
        for seq in all[lo...] {
            guard let view = try reader.record(seq) else { continue }
            out.append(try EventMapping.recorded(view))
        }
        return out
    }

    /// The effective infusion `id` of `patient` with the records after it in its stream and their
    /// corrections resolved (nil with the refusal when it is not one).
    static func infusion(_ id: UUID, patient: String, reader: LogReader, field: String = "data.infusion") throws -> Result<
        (Recorded, InfusionAdministered, [Recorded], CorrectionResolution), InputError
    > {
        let idText = id.uuidString.lowercased()
        guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), let view = try reader.record(seq) else {
            return .failure(
                InputError(
                    field: field, problem: "no event \(idText) is in the store",
                    expected: "the eventId of an earlier InfusionAdministered of this patient"))
        }
        guard view.stream == patient else {
            return .failure(
                InputError(
                    field: field, problem: "event \(idText) belongs to another patient's record",
                    expected: "the eventId of an earlier InfusionAdministered of patient \(patient)"))
        }
        let rec = try EventMapping.recorded(view)
        guard case .infusionAdministered = rec.event else {
            return .failure(
                InputError(
                    field: field, problem: "event \(idText) is a \(rec.type.rawValue)", expected: "the eventId of an InfusionAdministered"))
        }
        let after = try tail(patient, after: seq, reader: reader)
        let history = CorrectionResolution(after.compactMap(CorrectionResolution.Correction.init))
        if history.isVoided(id) {
            return .failure(InputError(field: field, problem: "infusion \(idText) is voided", expected: "an infusion in force"))
        }
        let effective = CorrectionResolution.applying(history.amendmentsInForce(of: id), to: rec.event)
        guard case .infusionAdministered(let inf) = effective else {
            return .failure(InputError(field: field, problem: "event \(idText) is not an infusion", expected: "an InfusionAdministered"))
        }
        return .success((rec, inf, after, history))
    }

    /// An observation, discharge or REMS form at `at` for its infusion. `original`: the
    /// recording itself (the log-order rules apply); false for an amendment's merged event.
    static func session(_ event: ClinicalEvent, patient: String, at: Timestamp, original: Bool, reader: LogReader, exclude: UUID? = nil)
        throws
        -> InputError?
    {
        guard let id = event.sessionInfusion else { return nil }
        let found = try infusion(id, patient: patient, reader: reader)
        let (rec, inf, after, history): (Recorded, InfusionAdministered, [Recorded], CorrectionResolution)
        switch found {
        case .failure(let e): return e
        case .success(let v): (rec, inf, after, history) = v
        }
        let t0 = rec.occurredAt.epochMillis
        let what = event.type.rawValue
        if at.epochMillis < t0 {
            return InputError(
                field: "occurredAt", problem: "\(at.rfc3339) is before the infusion's \(rec.occurredAt.rfc3339)",
                expected: "a \(what) at or after its infusion")
        }
        if case .remsFormSubmitted = event, inf.givenDrug != .esketamine {
            return InputError(
                field: "data.infusion", problem: "infusion \(id.uuidString.lowercased()) is \(inf.givenDrug.rawValue)",
                expected: "an esketamine infusion (the REMS form is esketamine's)")
        }
        let late = at.epochMillis - t0 > maxSessionMillis
        switch event {
        case .observationRecorded where late:
            return InputError(
                field: "occurredAt", problem: "\(at.rfc3339) is more than 12 hours after the infusion's \(rec.occurredAt.rfc3339)",
                expected: "an observation within 12 hours of its infusion")
        case .dischargeRecorded(let d) where late && !d.isTransfer:
            return InputError(
                field: "occurredAt", problem: "\(at.rfc3339) is more than 12 hours after the infusion's \(rec.occurredAt.rfc3339)",
                expected: "a discharge within 12 hours of its infusion, unless transferred")
        case .dischargeRecorded(let d) where d.isTransfer && at.epochMillis - t0 > SessionState.transferMillis:
            return InputError(
                field: "occurredAt", problem: "\(at.rfc3339) is more than 72 hours after the infusion's \(rec.occurredAt.rfc3339)",
                expected: "a transfer charted within 72 hours of its infusion")
        default: break
        }
        guard original || event.type == .dischargeRecorded else { return nil }
        // The infusion's other session events already recorded (all after it in the log).
        var discharges: [Timestamp] = []
        var latestObservation: Timestamp?
        for r in after where r.type == .observationRecorded || r.type == .dischargeRecorded {
            guard r.event.sessionInfusion == id, !history.isVoided(r.eventId), r.eventId != exclude else { continue }
            if r.type == .dischargeRecorded {
                discharges.append(r.occurredAt)
            } else if latestObservation.map({ r.occurredAt.epochMillis > $0.epochMillis }) ?? true {
                latestObservation = r.occurredAt
            }
        }
        switch event {
        case .observationRecorded:
            if let d = discharges.first, at.epochMillis > d.epochMillis {
                return InputError(
                    field: "occurredAt", problem: "\(at.rfc3339) is after the patient's discharge at \(d.rfc3339)",
                    expected: "an observation during the session, before its discharge")
            }
        case .dischargeRecorded:
            if !discharges.isEmpty {
                return InputError(
                    field: "data.infusion", problem: "infusion \(id.uuidString.lowercased()) already has a discharge",
                    expected: "one discharge a session; correct the first by amendment")
            }
            if original, let o = latestObservation, at.epochMillis < o.epochMillis {
                return InputError(
                    field: "occurredAt", problem: "\(at.rfc3339) is before an observation of the session at \(o.rfc3339)",
                    expected: "a discharge after the session's observations")
            }
        default: break
        }
        return nil
    }

    /// The drug of lot `lot`: its first effective receipt's (by instant), nil when none.
    static func lotDrug(_ lot: String, reader: LogReader, excluding: UUID? = nil) throws -> Drug? {
        let stream = LotStream.stream(lot)
        let history = try CorrectionHistory(patient: stream, reader: reader)
        var best: (Int64, UInt64, Drug)?
        try reader.forEachInStream(stream, typeCodes: [EventType.stockReceived.code]) { view in
            let r = try EventMapping.recorded(view)
            guard !history.isVoided(r.eventId), r.eventId != excluding else { return }
            let e = CorrectionResolution.applying(history.amendmentsInForce(of: r.eventId), to: r.event)
            guard case .stockReceived(let s) = e else { return }
            let key = (r.occurredAt.epochMillis, r.sequence)
            if best.map({ key < ($0.0, $0.1) }) ?? true { best = (key.0, key.1, s.drug) }
        }
        return best?.2
    }

    /// The checks of a new (or amended, `original` false) event's own links.
    static func check(_ event: ClinicalEvent, patient: String, at: Timestamp, original: Bool, reader: LogReader, target: UUID? = nil) throws
        -> InputError?
    {
        switch event {
        case .observationRecorded, .dischargeRecorded, .remsFormSubmitted:
            return try session(event, patient: patient, at: at, original: original, reader: reader, exclude: target)
        case .infusionAdministered(let inf):
            guard let lot = inf.lot, let drug = try lotDrug(lot, reader: reader), drug != inf.givenDrug else { return nil }
            return InputError(
                field: "data.lot", problem: "lot \(lot) is \(drug.rawValue), this infusion \(inf.givenDrug.rawValue)",
                expected: "a lot of the drug given")
        case .stockReceived(let s):
            guard let drug = try lotDrug(s.lot, reader: reader, excluding: target), drug != s.drug else { return nil }
            return InputError(
                field: "data.drug", problem: "lot \(s.lot) is \(drug.rawValue), not \(s.drug.rawValue)",
                expected: "the drug of the lot's first receipt (a lot belongs to one drug)")
        case .stockWasted(let w):
            guard original, let id = w.infusion else { return nil }
            // The infusion may be any patient's: find its stream.
            guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), let view = try reader.record(seq) else {
                return InputError(
                    field: "data.infusion", problem: "no event \(id.uuidString.lowercased()) is in the store",
                    expected: "the eventId of an infusion naming lot \(w.lot)")
            }
            let found = try infusion(id, patient: view.stream, reader: reader)
            switch found {
            case .failure(let e): return e
            case .success(let (_, inf, _, _)):
                guard inf.lot == w.lot else {
                    return InputError(
                        field: "data.infusion", problem: "infusion \(id.uuidString.lowercased()) names lot \(inf.lot ?? "none")",
                        expected: "an infusion naming lot \(w.lot)")
                }
                return nil
            }
        default:
            return nil
        }
    }

    /// Fields of a stock event an amendment may not change (void and re-record instead).
    static func frozen(_ original: ClinicalEvent, _ fields: [(String, JSONValue)]) -> InputError? {
        guard let lot = original.stockLot, original.type.isStock else { return nil }
        for (key, value) in fields {
            if key == "lot", value != .string(lot) {
                return InputError(
                    field: "data.lot", problem: "a stock event's lot cannot be amended",
                    expected: "void the event and record it again under the right lot")
            }
            if key == "drug", case .stockReceived(let s) = original, value != .string(s.drug.rawValue) {
                return InputError(
                    field: "data.drug", problem: "a receipt's drug cannot be amended", expected: "void the receipt and record it again")
            }
        }
        return nil
    }
}
