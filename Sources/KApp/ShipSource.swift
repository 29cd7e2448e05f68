import Foundation
import KClinic
import KStore

/// One stored event as `kstore ship` sends it to PostgreSQL (ship.md's `events` table): the
/// envelope's fields as text, the import format's data as JSON text, and the stored bytes the
/// chain hash covers, so the copy's own chain can be recomputed where it is kept.
public struct ShipRecord: Sendable {
    public var sequence: UInt64
    public var eventId: UUID
    public var stream: String
    public var streamVersion: UInt64
    public var type: String
    /// RFC 3339 with the offset it was written in.
    public var occurredAt: String
    /// The calendar date in that offset (protocol.md's clinical date).
    public var clinicalDate: String
    /// RFC 3339 UTC with microseconds (the store's clock).
    public var recordedAt: String
    public var actorId: String
    public var actorRole: String
    public var osUser: String
    /// `kstore log --json`'s `data`: the import format's data object.
    public var dataJSON: String
    /// SHA-256(previous record's hash ‖ `record`).
    public var hash: [UInt8]
    /// Every stored byte of the record before its hash.
    public var record: [UInt8]
    /// The patient whose projections this event can change (nil for system and lot streams).
    public var patient: String?
    /// A lot's stock event or an infusion: the ledger (`query inventory`) may change.
    public var touchesLedger: Bool
    /// A rule set adoption: every patient's projections may change.
    public var touchesRules: Bool
}

/// (sequence, eventId, hash) of a stored event: what `ship --verify` compares.
public struct ShipIdentity: Sendable, Equatable {
    public var sequence: UInt64
    public var eventId: UUID
    public var hash: [UInt8]
}

/// The projection documents `kstore ship` writes into PostgreSQL: exactly `query phase --json`'s,
/// `query due --json`'s and `query inventory --json`'s (the same views, the same code).
public struct ShipProjections: Sendable {
    /// `Views.phase` of each patient in scope.
    public var phase: [JSONValue]
    /// `Views.due` of each item of each patient in scope.
    public var due: [JSONValue]
    /// The patients in scope that have no phase view on the day (no event on or before it).
    public var patients: [String]
    /// The log's last sequence the stored projections were caught up to when these were computed.
    public var throughSequence: UInt64
}

/// Reading the log for `kstore ship` (KShip never imports KStore): synchronous batches in log
/// order, read inside one bounded read transaction and returned as values, so the caller never
/// awaits inside an LMDB transaction.
public enum ShipSource {
    /// The log's last sequence (0 when empty).
    public static func head(_ store: ClinicStore) throws -> UInt64 { try store.log.count() }

    /// The stored hash of the event at `sequence`, nil when the log has no such event.
    public static func hash(_ store: ClinicStore, at sequence: UInt64) throws -> [UInt8]? {
        try store.log.read { reader in try reader.record(sequence).map { Array($0.hash) } }
    }

    /// At most `limit` events from `from` on, in log order, decoded for PostgreSQL.
    public static func batch(_ store: ClinicStore, from: UInt64, limit: Int) throws -> [ShipRecord] {
        var out: [ShipRecord] = []
        out.reserveCapacity(min(limit, 65_536))
        guard limit > 0 else { return out }
        try store.log.scan(from: from, chunk: limit) { view in
            let r = try EventMapping.recorded(view)
            let lot = LotStream.lot(ofStream: r.patient)
            let isPatient = lot == nil && !SystemStream.isSystem(r.patient)
            out.append(
                ShipRecord(
                    sequence: r.sequence, eventId: r.eventId, stream: r.patient, streamVersion: r.streamVersion,
                    type: r.type.rawValue, occurredAt: r.occurredAt.rfc3339, clinicalDate: r.occurredAt.clinicalDay.description,
                    recordedAt: EventMapping.formatMicros(r.recordedAtMicros), actorId: r.actor.id, actorRole: r.actor.role.rawValue,
                    osUser: r.osUser, dataJSON: JSONWriter.string(r.event.dataJSON), hash: Array(view.hash), record: Array(view.body),
                    patient: isPatient ? r.patient : nil,
                    touchesLedger: lot != nil || r.type == .infusionAdministered || r.type == .eventAmended || r.type == .eventVoided,
                    touchesRules: r.patient == SystemStream.rules))
            return out.count < limit
        }
        return out
    }

    /// At most `limit` (sequence, eventId, hash) from `from` on, in log order, decoding only the envelope.
    public static func identities(_ store: ClinicStore, from: UInt64, limit: Int) throws -> [ShipIdentity] {
        var out: [ShipIdentity] = []
        guard limit > 0 else { return out }
        try store.log.scan(from: from, chunk: limit) { view in
            out.append(ShipIdentity(sequence: view.sequence, eventId: EventMapping.uuid(view.eventId), hash: Array(view.hash)))
            return out.count < limit
        }
        return out
    }

    /// The `query phase` and `query due` documents on `day` of `patients` (every patient when nil),
    /// computed as those commands compute them (stored projections caught up, a patient whose
    /// events reach past `day` refolded through it).
    public static func projections(_ store: ClinicStore, patients: Set<String>?, on day: Day) throws -> ShipProjections {
        let engine = ProjectionEngine(store: store)
        let (views, items, names, through) = try engine.shipViews(patients: patients, on: day)
        return ShipProjections(phase: views.map(Views.phase), due: items.map(Views.due), patients: names, throughSequence: through)
    }

    /// `query inventory --json` on `day` (every lot, the biennial item, lot alerts).
    public static func inventory(_ store: ClinicStore, on day: Day) throws -> JSONValue {
        let rules = try ProjectionEngine(store: store).rulesInForce().rules
        return Views.inventory(try LedgerReader.ledger(store), on: day, lot: nil, rules: rules)
    }
}

extension ProjectionEngine {
    /// `phase(patient: nil, on: day, asOf: nil)` and `due(…)` restricted to `patients`, from one
    /// catch-up of the stored projections; also the sequence that catch-up reached.
    func shipViews(patients: Set<String>?, on day: Day) throws -> ([PhaseView], [DueItem], [String], UInt64) {
        let (set, rules, checkpoint, _) = try current(patient: nil)
        var views: [PhaseView] = []
        var items: [DueItem] = []
        var names: [String] = []
        for name in set.index.keys.sorted() where patients?.contains(name) ?? true {
            guard let i = set.index[name] else { continue }
            let stored = set.entries[i]
            let p = stored.maxDay > day ? try refold(name, rules: rules.rules, day: day) : stored
            names.append(name)
            if let v = PhaseProjection.view(p.state, on: day, rules: rules.rules, explain: false) { views.append(v) }
            items += MonitoringProjection.due(p.monitoring, phase: p.state, on: day, rules: rules.rules)
        }
        return (views, items, names, checkpoint)
    }
}
