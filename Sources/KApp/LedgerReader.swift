import Foundation
import KClinic
import KStore

/// Builds R15's `Ledger` from the log: every effective stock event (the `$lot:` streams) and every
/// effective infusion, corrections applied (a voided one counts for nothing, an amended one with
/// its amended data).
///
/// One pass over the log, decoding only infusions, stock events, lot acknowledgements and
/// corrections. Measured in BENCHMARKS.md ("the controlled-substance log").
public enum LedgerReader {
    public static func ledger(_ store: ClinicStore) throws -> Ledger {
        let amended = EventType.eventAmended.code
        let voided = EventType.eventVoided.code
        let ack = EventType.alertAcknowledged.code
        // A table by type code: no hashing per record.
        var wanted = [Bool](repeating: false, count: 256)
        for t in EventType.allCases where t.isStock || t == .infusionAdministered || t.isCorrection { wanted[Int(t.code)] = true }
        var found: [Recorded] = []
        var corrections: [CorrectionResolution.Correction] = []
        let lotPrefix = Array(LotStream.prefix.utf8)
        try store.log.scanRaw { seq, bytes in
            // The type code is peeked from the record's first bytes: only the records the ledger
            // needs are decoded.
            guard let code = RecordView.peekTypeCode(bytes) else {
                throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
            }
            if code == ack {
                guard let stream = RecordView.peekStream(bytes), stream.starts(with: lotPrefix) else { return true }
            } else if Int(code) >= wanted.count || !wanted[Int(code)] {
                return true
            }
            let rec = try EventMapping.decodeRecorded(bytes, sequence: seq)
            if code == amended || code == voided {
                if let c = CorrectionResolution.Correction(rec) { corrections.append(c) }
            } else {
                found.append(rec)
            }
            return true
        }
        let resolution = CorrectionResolution(corrections)
        var entries: [LedgerEntry] = []
        var acks: [LotAcknowledgement] = []
        for r in found where !resolution.isVoided(r.eventId) {
            let event = CorrectionResolution.applying(resolution.amendmentsInForce(of: r.eventId), to: r.event)
            if case .alertAcknowledged(let a) = event, let lot = a.lot {
                acks.append(
                    LotAcknowledgement(
                        alertId: a.alertId, lot: lot, ref: EventRef(sequence: r.sequence, eventId: r.eventId, day: r.occurredAt.clinicalDay)
                    ))
                continue
            }
            let patient = LotStream.lot(ofStream: r.patient) == nil ? r.patient : nil
            if let e = LedgerEntry.from(
                event, at: r.occurredAt, sequence: r.sequence, eventId: r.eventId, patient: patient, actor: r.actor.id)
            {
                entries.append(e)
            }
        }
        return Ledger(entries: entries, acknowledgements: acks)
    }
}

/// `query inventory` and `query dispensing` as JSON (session.md R15).
extension Views {
    public static func mg(_ m: Milligrams) -> JSONValue {
        let d = m.double
        if d == d.rounded(), abs(d) < 1e15 { return .int(Int64(d)) }
        return .double(d)
    }

    public static func lotAlert(_ a: LotAlert) -> JSONValue {
        .object([
            ("id", .string(a.id)), ("kind", .string(a.kind.rawValue)), ("severity", .string(a.kind.severity.rawValue)),
            ("patient", .null), ("lot", .string(a.lot)), ("raisedOn", .string(a.raisedOn.description)),
            (
                "source",
                .object([("sequence", .int(Int64(a.source.sequence))), ("eventId", .string(a.source.eventId.uuidString.lowercased()))])
            ),
            ("acknowledged", .bool(a.acknowledged != nil)),
            ("acknowledgedBy", a.acknowledged.map { .string($0.eventId.uuidString.lowercased()) } ?? .null),
            (a.kind == .inventoryDiscrepancy ? "discrepancyMg" : "balanceMg", mg(a.amount)),
            ("detail", .string(a.detail)),
        ])
    }

    public static func inventory(_ ledger: Ledger, on day: Day, lot: String?, rules: RuleSet) -> JSONValue {
        let lots = (lot.map { l in ledger.summary(l, on: day).map { [$0] } ?? [] } ?? ledger.summaries(on: day))
        let b = ledger.biennial(on: day, months: rules.session.inventoryMonths)
        return .object([
            (
                "lots",
                .array(
                    lots.map { s in
                        .object([
                            ("lot", .string(s.lot)), ("drug", s.drug.map { .string($0.rawValue) } ?? .null),
                            ("receivedMg", mg(s.received)), ("givenMg", mg(s.given)), ("wastedMg", mg(s.wasted)),
                            ("disposedMg", mg(s.disposed)), ("adjustedMg", mg(s.adjusted)), ("balanceMg", mg(s.balance)),
                            ("administrations", .int(Int64(s.administrations))), ("unknownAmounts", .int(Int64(s.unknownAmounts))),
                            (
                                "lastCount",
                                s.lastCount.map { c in
                                    .object([
                                        ("on", .string(c.on.description)), ("onHandMg", mg(c.onHand)), ("discrepancyMg", mg(c.discrepancy)),
                                    ])
                                } ?? .null
                            ),
                        ])
                    })
            ),
            (
                "biennialInventory",
                .object([
                    ("lastDone", b.lastDone.map { .string($0.description) } ?? .null),
                    ("dueFrom", b.dueFrom.map { .string($0.description) } ?? .null),
                    ("dueBy", b.dueBy.map { .string($0.description) } ?? .null),
                    ("status", b.status.map { .string($0.rawValue) } ?? .null),
                ])
            ),
            ("alerts", .array(ledger.alerts(on: day, tolerance: rules.session.inventoryToleranceMg, lot: lot).map(lotAlert))),
        ])
    }

    public static func dispensingRow(_ e: LedgerEntry, ledger: Ledger) -> JSONValue {
        let drug = e.lot.flatMap { ledger.drug(of: $0) } ?? e.drug
        return .object([
            ("at", .string(e.at.rfc3339)), ("lot", e.lot.map { .string($0) } ?? .null),
            ("drug", drug.map { .string($0.rawValue) } ?? .null),
            ("kind", .string(e.kind.rawValue)), ("quantityMg", e.quantity.map(mg) ?? .null),
            ("patient", e.patient.map { .string($0) } ?? .null), ("actor", .string(e.actor)),
            ("witness", e.witness.map { .string($0) } ?? .null), ("event", .string(e.eventId.uuidString.lowercased())),
        ])
    }
}
