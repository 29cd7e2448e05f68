import struct Foundation.UUID

/// R15 (session.md): the controlled-substance log as a pure fold over the effective stock events
/// and the effective infusions. `Ledger(entries:acknowledgements:)` takes them in any order;
/// everything is derived in instant order (equal instants in log order).
public struct LedgerEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case received, given, wasted, disposed, adjusted, counted }
    public var kind: Kind
    public var at: Timestamp
    public var sequence: UInt64
    public var eventId: UUID
    /// nil: an infusion naming no lot.
    public var lot: String?
    /// A receipt's or an infusion's own drug (nil for the other stock events).
    public var drug: Drug?
    /// Signed as it enters the balance is decided by `kind`; nil: an infusion's unknown amount.
    public var quantity: Milligrams?
    public var patient: String?
    public var actor: String
    public var witness: String?
    public var countKind: CountKind?
    /// What the record says besides the quantity: a receipt's supplier and invoice, a waste's
    /// reason (and infusion), a disposal's method and reference, an adjustment's reason and
    /// reference (e.g. a DEA Form 106 number).
    public var detail: String?

    public init(
        kind: Kind, at: Timestamp, sequence: UInt64, eventId: UUID, lot: String?, drug: Drug?, quantity: Milligrams?, patient: String?,
        actor: String, witness: String?, countKind: CountKind? = nil
    ) {
        self.kind = kind
        self.at = at
        self.sequence = sequence
        self.eventId = eventId
        self.lot = lot
        self.drug = drug
        self.quantity = quantity
        self.patient = patient
        self.actor = actor
        self.witness = witness
        self.countKind = countKind
        self.detail = nil
    }

    public var day: Day { at.clinicalDay }

    /// What it does to the balance.
    var delta: Milligrams {
        guard let q = quantity else { return .zero }
        switch kind {
        case .received, .adjusted: return q
        case .given, .wasted, .disposed: return -q
        case .counted: return .zero
        }
    }

    /// Takes stock away (the events after which an overdrawn lot is flagged).
    var draws: Bool {
        switch kind {
        case .given, .wasted, .disposed: true
        case .adjusted: quantity.map(\.isNegative) ?? false
        case .received, .counted: false
        }
    }

    /// An entry may be built from the event itself.
    public static func from(_ event: ClinicalEvent, at: Timestamp, sequence: UInt64, eventId: UUID, patient: String?, actor: String)
        -> LedgerEntry?
    {
        func mg(_ d: Double) -> Milligrams? { Milligrams(d) }
        func with(_ parts: [String?], _ e: LedgerEntry) -> LedgerEntry {
            var e = e
            let text = parts.compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            e.detail = text.isEmpty ? nil : text
            return e
        }
        switch event {
        case .infusionAdministered(let inf):
            return LedgerEntry(
                kind: .given, at: at, sequence: sequence, eventId: eventId, lot: inf.lot, drug: inf.givenDrug, quantity: inf.amountGiven,
                patient: patient, actor: actor, witness: nil)
        case .stockReceived(let s):
            return with(
                [s.supplier, s.invoice.map { "invoice \($0)" }],
                LedgerEntry(
                    kind: .received, at: at, sequence: sequence, eventId: eventId, lot: s.lot, drug: s.drug, quantity: mg(s.quantityMg),
                    patient: nil,
                    actor: actor, witness: nil))
        case .stockWasted(let s):
            return with(
                [s.reason, s.infusion.map { "infusion \($0.uuidString.lowercased())" }],
                LedgerEntry(
                    kind: .wasted, at: at, sequence: sequence, eventId: eventId, lot: s.lot, drug: nil, quantity: mg(s.quantityMg),
                    patient: nil,
                    actor: actor, witness: s.witness))
        case .stockDisposed(let s):
            return with(
                [s.method.rawValue, s.reference.map { "reference \($0)" }],
                LedgerEntry(
                    kind: .disposed, at: at, sequence: sequence, eventId: eventId, lot: s.lot, drug: nil, quantity: mg(s.quantityMg),
                    patient: nil,
                    actor: actor, witness: s.witness))
        case .stockAdjusted(let s):
            return with(
                [s.reason.rawValue, s.reference.map { "reference \($0)" }],
                LedgerEntry(
                    kind: .adjusted, at: at, sequence: sequence, eventId: eventId, lot: s.lot, drug: nil, quantity: mg(s.quantityMg),
                    patient: nil,
                    actor: actor, witness: s.witness))
        case .inventoryCounted(let s):
            return LedgerEntry(
                kind: .counted, at: at, sequence: sequence, eventId: eventId, lot: s.lot, drug: nil, quantity: mg(s.onHandMg), patient: nil,
                actor: actor, witness: nil, countKind: s.kind)
        default:
            return nil
        }
    }
}

/// An acknowledgement of a lot alert.
public struct LotAcknowledgement: Sendable, Equatable {
    public var alertId: String
    public var lot: String
    public var ref: EventRef
    public init(alertId: String, lot: String, ref: EventRef) {
        self.alertId = alertId
        self.lot = lot
        self.ref = ref
    }
}

/// One lot on a date (`query inventory`).
public struct LotSummary: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var on: Day
        public var onHand: Milligrams
        public var discrepancy: Milligrams
    }
    public var lot: String
    public var drug: Drug?
    public var received = Milligrams.zero
    public var given = Milligrams.zero
    public var wasted = Milligrams.zero
    public var disposed = Milligrams.zero
    public var adjusted = Milligrams.zero
    public var balance = Milligrams.zero
    public var administrations = 0
    public var unknownAmounts = 0
    public var lastCount: Count?
}

/// One lot over a period (`kstore report dispensing`): opening + received − given − wasted −
/// disposed + adjusted = closing, exactly.
public struct LotPeriod: Sendable, Equatable {
    public var lot: String
    public var drug: Drug?
    public var opening: Milligrams
    public var received: Milligrams
    public var given: Milligrams
    public var wasted: Milligrams
    public var disposed: Milligrams
    public var adjusted: Milligrams
    public var closing: Milligrams
    public var administrations: Int
    public var unknownAmounts: Int
    public var counts: [LotSummary.Count]
}

/// A lot alert (R15): `patient` is always null.
public struct LotAlert: Sendable, Equatable {
    public var kind: AlertKind
    public var lot: String
    public var source: EventRef
    public var acknowledged: EventRef?
    /// inventory-discrepancy: counted − balance; lot-overdrawn: the balance after the event.
    public var amount: Milligrams
    public var id: String { kind.rawValue + ":" + source.eventId.uuidString.lowercased() }
    public var raisedOn: Day { source.day }

    public var detail: String {
        switch kind {
        case .inventoryDiscrepancy:
            return "Count of lot \(lot) differs from the balance by \(amount.text) mg: correct the wrong entry or record a StockAdjusted."
        default:
            return amount.isNegative
                ? "Lot \(lot) is overdrawn: the balance after this entry is \(amount.text) mg."
                : "Lot \(lot) was drawn on before any receipt was recorded."
        }
    }
}

/// R15's biennial inventory (21 CFR 1304.11), a clinic-wide rolling item.
public struct BiennialInventory: Sendable, Equatable {
    public var lastDone: Day?
    public var dueFrom: Day?
    public var dueBy: Day?
    public var status: DueStatus?
    public init(lastDone: Day? = nil, dueFrom: Day? = nil, dueBy: Day? = nil, status: DueStatus? = nil) {
        self.lastDone = lastDone
        self.dueFrom = dueFrom
        self.dueBy = dueBy
        self.status = status
    }
}

public struct Ledger: Sendable {
    /// Per lot, in instant order (equal instants in log order).
    public private(set) var lots: [String: [LedgerEntry]] = [:]
    /// Infusions naming no lot, in the same order.
    public private(set) var unlotted: [LedgerEntry] = []
    public private(set) var acknowledgements: [LotAcknowledgement]

    public init(entries: [LedgerEntry], acknowledgements: [LotAcknowledgement]) {
        self.init(entries: entries, replacing: [:], acknowledgements: acknowledgements)
    }

    /// R15's order: instant, then log order.
    @inlinable
    public static func inOrder(_ a: LedgerEntry, _ b: LedgerEntry) -> Bool {
        (a.at.epochMillis, a.sequence) < (b.at.epochMillis, b.sequence)
    }

    /// Entries already grouped: `lots` by lot (every entry naming that lot) and `unlotted`, each
    /// list in `inOrder` order (the stored ledger keeps them so; nothing is copied).
    public init(lots: [String: [LedgerEntry]], unlotted: [LedgerEntry], acknowledgements: [LotAcknowledgement]) {
        self.lots = lots.filter { !$0.value.isEmpty }
        self.unlotted = unlotted
        self.acknowledgements = acknowledgements
    }

    /// `replacing`: entries to use instead of those of the same event id (nil: leave it out),
    /// applied while grouping, so the entries are copied once.
    public init(entries: [LedgerEntry], replacing: [UUID: LedgerEntry?], acknowledgements: [LotAcknowledgement]) {
        // Count first, so every lot's array is allocated once.
        var counts: [String: Int] = [:]
        for e in entries { if let lot = e.lot { counts[lot, default: 0] += 1 } }
        var grouped: [String: [LedgerEntry]] = [:]
        grouped.reserveCapacity(counts.count)
        for (lot, n) in counts {
            var list: [LedgerEntry] = []
            list.reserveCapacity(n)
            grouped[lot] = list
        }
        var loose: [LedgerEntry] = []
        func add(_ e: LedgerEntry) {
            if let lot = e.lot { grouped[lot, default: []].append(e) } else { loose.append(e) }
        }
        for e in entries {
            if !replacing.isEmpty, let r = replacing[e.eventId] {
                if let r { add(r) }
            } else {
                add(e)
            }
        }
        let order: (LedgerEntry, LedgerEntry) -> Bool = { ($0.at.epochMillis, $0.sequence) < ($1.at.epochMillis, $1.sequence) }
        // Log order is nearly always instant order: sort (moving whole entries) only when not.
        func sorted(_ list: inout [LedgerEntry]) {
            var inOrder = true
            var i = 1
            while inOrder && i < list.count {
                if order(list[i], list[i - 1]) { inOrder = false }
                i += 1
            }
            if !inOrder { list.sort(by: order) }
        }
        for k in grouped.keys where grouped[k]?.isEmpty == false { sorted(&grouped[k, default: []]) }
        grouped = grouped.filter { !$0.value.isEmpty }
        sorted(&loose)
        lots = grouped
        unlotted = loose
        self.acknowledgements = acknowledgements
    }

    /// The drug of a lot: its first receipt's in R15's order, else its first infusion's.
    public func drug(of lot: String) -> Drug? {
        let list = lots[lot] ?? []
        return list.first(where: { $0.kind == .received })?.drug ?? list.first(where: { $0.kind == .given })?.drug
    }

    /// Every lot on `day`, sorted by lot.
    public func summaries(on day: Day) -> [LotSummary] {
        lots.keys.sorted().compactMap { summary($0, on: day) }
    }

    public func summary(_ lot: String, on day: Day) -> LotSummary? {
        guard let list = lots[lot], list.contains(where: { $0.day <= day }) else { return nil }
        var s = LotSummary(lot: lot, drug: drug(of: lot))
        var running = Milligrams.zero
        for e in list {
            let before = running
            running += e.delta
            if e.kind == .counted, e.day <= day, let q = e.quantity {
                // A count compares with the balance of every event before it, whatever D.
                s.lastCount = LotSummary.Count(on: e.day, onHand: q, discrepancy: q - before)
            }
            guard e.day <= day else { continue }
            switch e.kind {
            case .received: s.received += e.quantity ?? .zero
            case .given:
                s.administrations += 1
                if let q = e.quantity { s.given += q } else { s.unknownAmounts += 1 }
            case .wasted: s.wasted += e.quantity ?? .zero
            case .disposed: s.disposed += e.quantity ?? .zero
            case .adjusted: s.adjusted += e.quantity ?? .zero
            case .counted: break
            }
        }
        s.balance = s.received - s.given - s.wasted - s.disposed + s.adjusted
        return s
    }

    /// The lot alerts raised on or before `day`, each with its acknowledgement (dated on or after
    /// the day raised, on or before `day`), by date raised then sequence.
    public func alerts(on day: Day, tolerance: Milligrams, lot only: String? = nil) -> [LotAlert] {
        var out: [LotAlert] = []
        for lot in lots.keys.sorted() where only.map({ $0 == lot }) ?? true {
            guard let list = lots[lot] else { continue }
            // A count compares with every event before it by instant, whatever D; the rest of R15
            // (the overdraw's balance and "no receipt before it") takes the events dated ≤ D only,
            // which differ when mixed offsets put an event earlier by instant but later by date.
            var running = Milligrams.zero
            var runningOnD = Milligrams.zero
            var receivedOnD = false
            for e in list {
                let before = running
                running += e.delta
                let ref = EventRef(sequence: e.sequence, eventId: e.eventId, day: e.day)
                if e.kind == .counted, e.day <= day, let q = e.quantity, (q - before).magnitude > tolerance {
                    out.append(LotAlert(kind: .inventoryDiscrepancy, lot: lot, source: ref, acknowledged: nil, amount: q - before))
                }
                guard e.day <= day else { continue }
                runningOnD += e.delta
                if e.kind == .received { receivedOnD = true }
                if e.draws && (runningOnD.isNegative || !receivedOnD) {
                    out.append(LotAlert(kind: .lotOverdrawn, lot: lot, source: ref, acknowledged: nil, amount: runningOnD))
                }
            }
        }
        out = out.filter { $0.raisedOn <= day }
        for k in out.indices {
            let a = out[k]
            out[k].acknowledged =
                acknowledgements
                .filter { $0.alertId == a.id && $0.lot == a.lot && $0.ref.day >= a.raisedOn && $0.ref.day <= day }
                .min(by: { ($0.ref.day, $0.ref.sequence) < ($1.ref.day, $1.ref.sequence) })?.ref
        }
        out.sort { ($0.raisedOn, $0.source.sequence, $0.kind.rawValue) < ($1.raisedOn, $1.source.sequence, $1.kind.rawValue) }
        return out
    }

    /// R15's biennial inventory on `day`.
    public func biennial(on day: Day, months: Int) -> BiennialInventory {
        var firstReceipt: Day? = nil
        var biennialDays = Set<Day>()
        for list in lots.values {
            for e in list where e.kind == .received || e.kind == .counted {
                let d = e.day
                guard d <= day else { continue }
                if e.kind == .received {
                    if firstReceipt.map({ d < $0 }) ?? true { firstReceipt = d }
                } else if e.countKind == .biennial {
                    biennialDays.insert(d)
                }
            }
        }
        guard let firstReceipt else {
            return BiennialInventory(lastDone: nil, dueFrom: nil, dueBy: nil, status: nil)
        }
        var lastDone: Day?
        for d in biennialDays.sorted(by: >) {
            // Every lot with a positive balance at the end of d has a count dated d.
            var done = true
            for (_, list) in lots {
                var balance = Milligrams.zero
                var counted = false
                for e in list where e.day <= d {
                    balance += e.delta
                    if e.kind == .counted && e.day == d { counted = true }
                }
                if balance > .zero && !counted {
                    done = false
                    break
                }
            }
            if done {
                lastDone = d
                break
            }
        }
        let anchor = lastDone ?? firstReceipt
        let from = anchor.adding(months: months - 1)
        let by = anchor.adding(months: months)
        let status: DueStatus = day < from ? .ok : (day <= by ? .due : .overdue)
        return BiennialInventory(lastDone: lastDone, dueFrom: from, dueBy: by, status: status)
    }

    /// One lot over [from, to] (`kstore report dispensing`): the balance at the end of the day
    /// before `from`, what entered and left in the period (events dated in it), the balance at
    /// the end of `to`, and the counts of the period with their discrepancies (R15: a count
    /// compares with every event before it by instant). nil: nothing of the lot dated ≤ `to`.
    public func period(_ lot: String, from: Day, to: Day) -> LotPeriod? {
        guard let end = summary(lot, on: to) else { return nil }
        let start = summary(lot, on: from.adding(days: -1)) ?? LotSummary(lot: lot, drug: end.drug)
        var counts: [LotSummary.Count] = []
        var running = Milligrams.zero
        for e in lots[lot] ?? [] {
            let before = running
            running += e.delta
            if e.kind == .counted, e.day >= from, e.day <= to, let q = e.quantity {
                counts.append(LotSummary.Count(on: e.day, onHand: q, discrepancy: q - before))
            }
        }
        return LotPeriod(
            lot: lot, drug: end.drug, opening: start.balance, received: end.received - start.received, given: end.given - start.given,
            wasted: end.wasted - start.wasted, disposed: end.disposed - start.disposed, adjusted: end.adjusted - start.adjusted,
            closing: end.balance, administrations: end.administrations - start.administrations,
            unknownAmounts: end.unknownAmounts - start.unknownAmounts, counts: counts)
    }

    /// `query dispensing`: rows dated in [from, to], in instant order; `lot` keeps that lot's.
    public func dispensing(from: Day, to: Day, lot: String? = nil) -> [LedgerEntry] {
        var rows: [LedgerEntry] = []
        if let lot {
            rows = lots[lot] ?? []
        } else {
            rows = lots.values.flatMap { $0 } + unlotted
        }
        return rows.filter { $0.day >= from && $0.day <= to }.sorted {
            ($0.at.epochMillis, $0.sequence) < ($1.at.epochMillis, $1.sequence)
        }
    }
}
