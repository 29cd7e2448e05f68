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
    /// The ledger at the head of the log, from the stored ledger (`LedgerCache`) caught up with
    /// the records appended since, or from the whole log when none is stored (or it no longer
    /// matches the log). `persist`: store what was caught up (the command line; the server's
    /// readers pass false: only its writer writes).
    public static func ledger(_ store: ClinicStore, persist: Bool = true) throws -> Ledger {
        let head = try store.log.count()
        var raw = try LedgerCache.load(store, head: head) ?? LedgerCache(through: 0, headHash: "")
        let before = raw.through
        if raw.through < head { try raw.collect(store, from: raw.through + 1) }
        if persist && raw.through != before { try raw.store(store) }
        return try raw.resolve(store)
    }

    /// The ledger from the whole log, ignoring what is stored (`audit verify`'s reference).
    public static func rebuilt(_ store: ClinicStore) throws -> Ledger {
        var raw = LedgerCache(through: 0, headHash: "")
        try raw.collect(store, from: 1)
        return try raw.resolve(store)
    }

    /// Replaces the stored ledger with one built from the whole log (`kstore replay`) and
    /// returns it.
    public static func rebuildStoring(_ store: ClinicStore) throws -> Ledger {
        var raw = LedgerCache(through: 0, headHash: "")
        try raw.collect(store, from: 1)
        try raw.store(store, replacing: true)
        return try raw.resolve(store)
    }

    /// Whether the stored ledger, caught up, equals the ledger rebuilt from the log, and the
    /// sequence it was stored through (nil: none stored). For `audit verify`.
    public static func checkStored(_ store: ClinicStore) throws -> (through: UInt64, equal: Bool)? {
        let head = try store.log.count()
        guard var raw = try LedgerCache.load(store, head: head, trusting: true) else { return nil }
        let through = raw.through
        if raw.through < head { try raw.collect(store, from: raw.through + 1) }
        let cached = try raw.resolve(store)
        let fresh = try rebuilt(store)
        let equal = cached.lots == fresh.lots && cached.unlotted == fresh.unlotted && cached.acknowledgements == fresh.acknowledgements
        return (through, equal)
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
