import Foundation
import KClinic
import KStore

/// `kstore audit trail`: every event as the log recorded it, with who recorded it, from which OS
/// account, when it happened and when it was recorded; each correction beside the event it
/// corrects, the original value still shown (21 CFR 11.10(e): a change must not obscure what
/// was recorded before); late entries flagged; a summary per actor.
///
/// Readings:
/// - **Selection.** `Filter` selects the *entries* listed: patient (the event's stream), actor
///   id, event type, and a date range. Each listed entry then shows its *whole* correction
///   history as the log holds it now, whatever the filters (a correction recorded after `--to`,
///   or by another actor, is still shown under the event it corrects: leaving it out would hide
///   that the value no longer stands). A correction is also an event of its own and is listed
///   as an entry when it matches the filters, with `corrects` naming the event it corrects and
///   that event's data as recorded, so either side can be read alone.
/// - **Dates.** `from`/`to` are calendar dates, both inclusive. By default they select by
///   `recordedAt`, the audit-trail time (the store's clock, UTC date); `dates: .occurred` selects
///   by the clinical date of `occurredAt` (in its own UTC offset) instead.
/// - **Late entries.** An event is late when `recordedAt − occurredAt` exceeds the rule set's
///   `lateEntryHours` (default 24; the rule set in force when the trail is read). Every event is
///   judged the same way, corrections and system events too; an event recorded before the time
///   it names (occurredAt may be up to 24 h ahead) has a negative delay and is never late.
///   Importing a backlog flags every event of it that is older than the threshold, which is what
///   a reviewer needs to see.
/// - **Corrections** are resolved as the projections resolve them (`CorrectionIndex`,
///   `CorrectionHistory`): a void is in force unless a void in force names it (voiding a void
///   undoes it); amendments in force apply in log order. Every correction is listed, those no
///   longer in force too (`voided: true`, with the sequence of the void that undid it).
/// - **Reading** (`AuditTrailReader`) is a streaming scan of the log in bounded read
///   transactions (or the patient's stream index with `patient`), plus one pass that decodes
///   only `EventAmended`/`EventVoided` records (type code peeked). `build` holds the entries
///   listed; the reader hands them out one at a time, so its memory grows with the corrections
///   in the log, not with the entries.
public struct AuditTrail: Sendable {
    /// Which timestamp `from`/`to` select by.
    public enum DateBasis: String, Sendable, CaseIterable {
        /// recordedAt's UTC date (the default: the audit-trail time).
        case recorded
        /// occurredAt's clinical date (in its own offset).
        case occurred
    }

    public struct Filter: Sendable, Equatable {
        public var patient: String?
        public var actor: String?
        public var type: EventType?
        public var from: Day?
        public var to: Day?
        public var dates: DateBasis

        public init(
            patient: String? = nil, actor: String? = nil, type: EventType? = nil, from: Day? = nil, to: Day? = nil,
            dates: DateBasis = .recorded
        ) {
            self.patient = patient
            self.actor = actor
            self.type = type
            self.from = from
            self.to = to
            self.dates = dates
        }

        func matches(_ view: RecordView) -> Bool {
            if let patient, view.stream != patient { return false }
            if let actor, view.actorId != actor { return false }
            if let type, view.typeCode != type.code { return false }
            if from != nil || to != nil {
                let day: Day
                switch dates {
                case .recorded: day = AuditTrail.utcDay(micros: view.recordedAtMicros)
                case .occurred: day = Timestamp(epochMillis: view.occurredAtMillis, offsetMinutes: view.offsetMinutes).clinicalDay
                }
                if let from, day < from { return false }
                if let to, day > to { return false }
            }
            return true
        }

        var json: JSONValue {
            .object([
                ("patient", patient.map { .string($0) } ?? .null),
                ("actor", actor.map { .string($0) } ?? .null),
                ("type", type.map { .string($0.rawValue) } ?? .null),
                ("from", from.map { .string($0.description) } ?? .null),
                ("to", to.map { .string($0.description) } ?? .null),
                ("dates", .string(dates.rawValue)),
            ])
        }
    }

    /// One field an amendment changed: its value just before the amendment (the event's data
    /// with the corrections in force before it; nil when the field was absent) and after.
    public struct Change: Sendable, Equatable {
        public var field: String
        public var before: JSONValue?
        public var after: JSONValue

        public init(field: String, before: JSONValue?, after: JSONValue) {
            self.field = field
            self.before = before
            self.after = after
        }
    }

    /// An event named by a correction, as recorded (nil `record`: not in the log).
    public struct Reference: Sendable, Equatable {
        public var eventId: UUID
        public var record: Recorded?
    }

    /// One amendment or void in the correction history of an entry.
    public struct Correction: Sendable, Equatable {
        public enum Kind: String, Sendable { case amended, voided }

        public var record: Recorded
        public var kind: Kind
        /// The event this correction names: the entry's event, or (a void of a correction)
        /// an earlier correction in this history.
        public var targetSequence: UInt64?
        public var targetEventId: UUID
        public var reason: String
        /// An amendment's corrected fields, as given.
        public var fields: [(String, JSONValue)]?
        /// An amendment's fields with their values before and after it.
        public var changes: [Change]
        /// The corrected original's data once this correction and every correction in force
        /// before it apply; nil when the original is void at that point.
        public var effectiveData: JSONValue?
        /// This correction is itself undone (a void in force names it).
        public var voided: Bool
        /// The void in force that undid it.
        public var voidedBy: UInt64?

        public static func == (a: Correction, b: Correction) -> Bool {
            a.record == b.record && a.kind == b.kind && a.targetSequence == b.targetSequence
                && a.targetEventId == b.targetEventId && a.reason == b.reason
                && a.fields.map { JSONValue.object($0) } == b.fields.map { JSONValue.object($0) }
                && a.changes == b.changes && a.effectiveData == b.effectiveData && a.voided == b.voided
                && a.voidedBy == b.voidedBy
        }
    }

    public struct Entry: Sendable, Equatable {
        /// The event exactly as recorded (envelope and data).
        public var record: Recorded
        /// recordedAt − occurredAt, microseconds (negative: recorded before the time it names).
        public var delayMicros: Int64
        public var late: Bool
        /// Undone by a void in force.
        public var voided: Bool
        public var voidedBy: UInt64?
        /// This event's data after the corrections in force; nil when voided.
        public var effectiveData: JSONValue?
        /// For a correction: the event it names, as recorded.
        public var corrects: Reference?
        /// Every correction naming this event (or naming one of those), in log order.
        public var corrections: [Correction]
    }

    public struct ActorSummary: Sendable, Equatable {
        public var id: String
        /// The role of the actor's latest event in the trail.
        public var role: Role
        /// Every role the actor recorded under, in the order first seen.
        public var roles: [Role]
        /// Entries this actor recorded (their corrections included).
        public var events: Int
        /// Of those, amendments and voids.
        public var corrections: Int
        /// Entries of theirs with a correction recorded by another actor.
        public var correctedByOthers: Int
        public var lateEntries: Int
    }

    public var filter: Filter
    public var lateEntryHours: Int
    public var rulesVersion: String
    public var entries: [Entry]
    public var actors: [ActorSummary]

    /// The trail of `store` under `filter`, every entry in memory (`AuditTrailReader` streams
    /// it). `lateEntryHours` overrides the rule set in force.
    public static func build(_ store: ClinicStore, filter: Filter = Filter(), lateEntryHours: Int? = nil) throws -> AuditTrail {
        let reader = try AuditTrailReader(store, filter: filter, lateEntryHours: lateEntryHours)
        var entries: [Entry] = []
        entries.reserveCapacity(reader.count)
        try reader.forEachEntry { entries.append($0) }
        return AuditTrail(
            filter: filter, lateEntryHours: reader.lateEntryHours, rulesVersion: reader.rulesVersion, entries: entries,
            actors: reader.actors)
    }

    /// Adds entry `e` to the per-actor summary `byId`.
    static func count(_ e: Entry, into byId: inout [String: ActorSummary]) {
        let actor = e.record.actor
        var s =
            byId[actor.id]
            ?? ActorSummary(id: actor.id, role: actor.role, roles: [], events: 0, corrections: 0, correctedByOthers: 0, lateEntries: 0)
        s.role = actor.role
        if !s.roles.contains(actor.role) { s.roles.append(actor.role) }
        s.events += 1
        if e.corrects != nil { s.corrections += 1 }
        if e.corrections.contains(where: { $0.record.actor.id != actor.id }) { s.correctedByOthers += 1 }
        if e.late { s.lateEntries += 1 }
        byId[actor.id] = s
    }

    /// The UTC calendar date of a recordedAt.
    static func utcDay(micros: Int64) -> Day {
        let millis = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        return Timestamp(epochMillis: millis, offsetMinutes: 0).clinicalDay
    }

    /// A delay as a reviewer reads it: `3d 4h`, `5h 12m`, `40m`, `12s`; negative: `-2h 0m`.
    public static func describeDelay(micros: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let secs = micros.magnitude / 1_000_000
        let d = secs / 86_400
        let h = secs % 86_400 / 3600
        let m = secs % 3600 / 60
        if d > 0 { return "\(sign)\(d)d \(h)h" }
        if h > 0 { return "\(sign)\(h)h \(m)m" }
        if m > 0 { return "\(sign)\(m)m" }
        return "\(sign)\(secs)s"
    }

    // MARK: JSON

    /// `{"filter", "lateEntryHours", "rulesVersion", "entries": […], "actors": […]}`.
    public var json: JSONValue {
        .object([
            ("filter", filter.json),
            ("lateEntryHours", .int(Int64(lateEntryHours))),
            ("rulesVersion", .string(rulesVersion)),
            ("entries", .array(entries.map(AuditTrail.json))),
            ("actors", .array(actors.map(AuditTrail.json))),
        ])
    }

    /// The bytes of `JSONWriter.writeLine(json)` (keys sorted, one line), written entry by entry
    /// and handed to `flush` in chunks of about `chunk` bytes, so a long trail never exists as
    /// one JSON tree or one buffer.
    public func writeJSONLine(chunk: Int = 1 << 20, _ flush: ([UInt8]) -> Void) {
        AuditTrail.writeJSONLine(
            filter: filter, lateEntryHours: lateEntryHours, rulesVersion: rulesVersion, actors: actors, chunk: chunk,
            entries: { body in for e in entries { body(e) } }, flush)
    }

    /// The one writer of the trail's JSON line: `entries` calls its argument with each entry in
    /// order (from memory, or as `AuditTrailReader` reads them), each written as it comes.
    static func writeJSONLine(
        filter: Filter, lateEntryHours: Int, rulesVersion: String, actors: [ActorSummary], chunk: Int,
        entries: ((Entry) -> Void) throws -> Void, _ flush: ([UInt8]) -> Void
    ) rethrows {
        var out: [UInt8] = []
        out.reserveCapacity(min(chunk, 1 << 20) + 4096)
        func text(_ s: String) { out.append(contentsOf: Array(s.utf8)) }
        // Top-level keys in JSONWriter's order (sorted): actors, entries, filter, lateEntryHours, rulesVersion.
        text(#"{"actors":"#)
        JSONWriter.write(.array(actors.map(AuditTrail.json)), into: &out)
        text(#","entries":["#)
        var first = true
        try withoutActuallyEscaping(flush) { flush in
            try entries { e in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.write(AuditTrail.json(e), into: &out)
                if out.count >= chunk {
                    flush(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }
        text(#"],"filter":"#)
        JSONWriter.write(filter.json, into: &out)
        text(#","lateEntryHours":"#)
        JSONWriter.write(.int(Int64(lateEntryHours)), into: &out)
        text(#","rulesVersion":"#)
        JSONWriter.write(.string(rulesVersion), into: &out)
        text("}\n")
        flush(out)
    }

    static func actorJSON(_ a: Actor) -> JSONValue {
        .object([("id", .string(a.id)), ("role", .string(a.role.rawValue))])
    }

    static func seqJSON(_ s: UInt64?) -> JSONValue { s.map { .int(Int64(clamping: $0)) } ?? .null }

    /// The envelope of `kstore log --json`, then `late`, `delaySeconds`, `voided`, `voidedBy`,
    /// `effectiveData`, `corrects`, `corrections`.
    public static func json(_ e: Entry) -> JSONValue {
        guard case .object(var members) = EventMapping.json(e.record) else { return .null }
        members.append(("late", .bool(e.late)))
        members.append(("delaySeconds", .int(e.delayMicros / 1_000_000)))
        members.append(("voided", .bool(e.voided)))
        members.append(("voidedBy", seqJSON(e.voidedBy)))
        members.append(("effectiveData", e.effectiveData ?? .null))
        members.append(("corrects", e.corrects.map(json) ?? .null))
        members.append(("corrections", .array(e.corrections.map(json))))
        return .object(members)
    }

    /// `{"sequence", "eventId", "type", "patient", "actor", "occurredAt", "recordedAt", "data"}`
    /// of the corrected event as recorded (nulls but `eventId` when it is not in the log).
    public static func json(_ r: Reference) -> JSONValue {
        let rec = r.record
        return .object([
            ("sequence", seqJSON(rec?.sequence)),
            ("eventId", .string(r.eventId.uuidString.lowercased())),
            ("type", rec.map { .string($0.type.rawValue) } ?? .null),
            ("patient", rec.map { .string($0.patient) } ?? .null),
            ("actor", rec.map { actorJSON($0.actor) } ?? .null),
            ("occurredAt", rec.map { .string($0.occurredAt.rfc3339) } ?? .null),
            ("recordedAt", rec.map { .string(EventMapping.formatMicros($0.recordedAtMicros)) } ?? .null),
            ("data", rec?.event.dataJSON ?? .null),
        ])
    }

    public static func json(_ c: Correction) -> JSONValue {
        .object([
            ("sequence", seqJSON(c.record.sequence)),
            ("eventId", .string(c.record.eventId.uuidString.lowercased())),
            ("type", .string(c.kind.rawValue)),
            ("target", .object([("sequence", seqJSON(c.targetSequence)), ("eventId", .string(c.targetEventId.uuidString.lowercased()))])),
            ("actor", actorJSON(c.record.actor)),
            ("osUser", .string(c.record.osUser)),
            ("occurredAt", .string(c.record.occurredAt.rfc3339)),
            ("recordedAt", .string(EventMapping.formatMicros(c.record.recordedAtMicros))),
            ("reason", .string(c.reason)),
            ("fields", c.fields.map { .object($0) } ?? .null),
            (
                "changes",
                .array(
                    c.changes.map { ch in
                        .object([("field", .string(ch.field)), ("before", ch.before ?? .null), ("after", ch.after)])
                    })
            ),
            ("effectiveData", c.effectiveData ?? .null),
            ("voided", .bool(c.voided)),
            ("voidedBy", seqJSON(c.voidedBy)),
        ])
    }

    public static func json(_ a: ActorSummary) -> JSONValue {
        .object([
            ("id", .string(a.id)),
            ("role", .string(a.role.rawValue)),
            ("roles", .array(a.roles.map { .string($0.rawValue) })),
            ("events", .int(Int64(a.events))),
            ("corrections", .int(Int64(a.corrections))),
            ("correctedByOthers", .int(Int64(a.correctedByOthers))),
            ("lateEntries", .int(Int64(a.lateEntries))),
        ])
    }
}

/// The corrections of the log (or of one patient's stream) in log order, resolved the way the
/// projections resolve them.
struct CorrectionLog {
    static let amendedCode = EventType.eventAmended.code
    static let voidedCode = EventType.eventVoided.code

    /// Corrections in log order.
    private(set) var list: [Recorded] = []
    private(set) var byId: [UUID: Recorded] = [:]
    /// Which voids and amendments are in force (KClinic's `CorrectionResolution`, as the
    /// projections resolve them).
    private var resolution = CorrectionResolution([])
    private var byRoot: [UUID: [Int]] = [:]

    static func target(of event: ClinicalEvent) -> UUID? {
        switch event {
        case .eventAmended(let a): a.target
        case .eventVoided(let v): v.target
        default: nil
        }
    }

    mutating func add(_ r: Recorded) {
        guard CorrectionLog.target(of: r.event) != nil, byId[r.eventId] == nil else { return }
        list.append(r)
        byId[r.eventId] = r
    }

    /// Settles which voids are in force (walking back in log order, every void is settled
    /// before the event it names: voiding a void undoes it) and groups corrections by original.
    mutating func resolve() {
        list.sort { $0.sequence < $1.sequence }
        resolution = CorrectionResolution(list.compactMap(CorrectionResolution.Correction.init))
        byRoot = [:]
        for (i, c) in list.enumerated() { byRoot[root(of: c.eventId), default: []].append(i) }
    }

    /// When `c` was recorded: an amendment's merge is validated as of then.
    private func resolutionTime(_ c: Recorded) -> Timestamp {
        Timestamp(epochMillis: c.recordedAtMicros / 1000, offsetMinutes: 0)
    }

    /// The sequence of the void in force naming `id`, if any.
    func voidInForce(naming id: UUID) -> UInt64? { resolution.voidInForce(naming: id) }

    /// The original event at the end of `id`'s chain of targets (`id` itself for an event that
    /// is not a correction). Bounded: a chain longer than 64 (impossible when written through
    /// the import checks) stops there.
    func root(of id: UUID) -> UUID {
        var current = id
        for _ in 0..<64 {
            guard let c = byId[current], let t = CorrectionLog.target(of: c.event) else { return current }
            current = t
        }
        return current
    }

    /// `id`'s chain of targets passes through `ancestor` (not counting `id` itself).
    func descends(_ id: UUID, from ancestor: UUID) -> Bool {
        var current = id
        for _ in 0..<64 {
            guard let c = byId[current], let t = CorrectionLog.target(of: c.event) else { return false }
            if t == ancestor { return true }
            current = t
        }
        return false
    }

    /// The history of original `id`, each correction with the original's data once it and the
    /// corrections in force before it apply.
    func corrections(ofRoot id: UUID, original: Recorded?, known: [UUID: Recorded]) -> [AuditTrail.Correction] {
        guard let indices = byRoot[id] else { return [] }
        var current: ClinicalEvent? = original?.event
        var out: [AuditTrail.Correction] = []
        out.reserveCapacity(indices.count)
        for i in indices {
            let c = list[i]
            let inForce = resolution.voidInForce(naming: c.eventId) == nil
            let target: UUID
            let reason: String
            var fields: [(String, JSONValue)]?
            var changes: [AuditTrail.Change] = []
            let kind: AuditTrail.Correction.Kind
            switch c.event {
            case .eventAmended(let a):
                kind = .amended
                target = a.target
                reason = a.reason
                fields = a.data
                let before = current?.dataJSON
                changes = a.data.map { AuditTrail.Change(field: $0.0, before: before?[$0.0], after: $0.1) }
                if inForce, let event = current, let merged = try? event.amended(with: a.data, now: resolutionTime(c)) {
                    current = merged
                }
            case .eventVoided(let v):
                kind = .voided
                target = v.target
                reason = v.reason
                if inForce && v.target == id { current = nil }
            default:
                continue
            }
            out.append(
                AuditTrail.Correction(
                    record: c, kind: kind, targetSequence: known[target]?.sequence, targetEventId: target, reason: reason,
                    fields: fields, changes: changes, effectiveData: current?.dataJSON, voided: !inForce,
                    voidedBy: resolution.voidInForce(naming: c.eventId)))
        }
        return out
    }
}
