import Foundation
import KClinic
import KStore

/// What an import wrote.
public struct ImportSummary: Equatable, Sendable {
    public var imported: Int
    public var duplicates: Int
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?

    public init(imported: Int, duplicates: Int, firstSequence: UInt64? = nil, lastSequence: UInt64? = nil) {
        self.imported = imported
        self.duplicates = duplicates
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }

    public var json: JSONValue {
        .object([
            ("imported", .int(Int64(imported))), ("duplicates", .int(Int64(duplicates))),
            ("firstSequence", firstSequence.map { .int(Int64($0)) } ?? .null),
            ("lastSequence", lastSequence.map { .int(Int64($0)) } ?? .null),
        ])
    }
}

/// The rules in force and the actor registry of the current write transaction: the registry's
/// permission table is the `permissions` of those rules, so a write is judged by the rule set of
/// the very snapshot it is written into. Loaded once per transaction, and reused by a later
/// transaction whose `$actors` and `$rules` streams still have the versions they were loaded at
/// (both are append-only, so the same versions hold the same events).
final class RegistryCache {
    private var rules: RulesInForce?
    private var registry: ActorRegistry?
    /// Held (not just its address) so a later transaction can never be mistaken for it.
    private var transaction: Transaction?
    /// Versions of `$actors` and `$rules` that `rules` and `registry` were loaded at.
    private var stamp: [UInt64] = []
    /// `ActorRegistry.check`'s answers in this transaction for events that correct nothing
    /// (a pure function of the registry and these fields; an import asks it once a line).
    private var verdicts: [VerdictKey: ActorRefusal?] = [:]

    private struct VerdictKey: Hashable {
        var actor: String
        var role: Role
        var type: EventType
        var osUser: String
    }

    func registry(_ reader: LogReader) throws -> ActorRegistry {
        try load(reader).registry
    }

    /// `ActorRegistry.check` against this transaction's registry (nil: permitted).
    func check(
        _ reader: LogReader, actor: Actor, type: EventType, osUser: String, originalActor: String?, clinicianCorrected: UUID? = nil
    ) throws -> ActorRefusal? {
        let registry = try load(reader).registry
        guard originalActor == nil else {
            return registry.check(
                actor: actor, type: type, osUser: osUser, originalActor: originalActor, clinicianCorrected: clinicianCorrected)
        }
        let key = VerdictKey(actor: actor.id, role: actor.role, type: type, osUser: osUser)
        if let verdict = verdicts[key] { return verdict }
        let verdict = registry.check(actor: actor, type: type, osUser: osUser, originalActor: nil)
        verdicts[key] = verdict
        return verdict
    }

    private func load(_ reader: LogReader) throws -> (rules: RulesInForce, registry: ActorRegistry) {
        if let rules, let registry, transaction === reader.txn { return (rules, registry) }
        let now = [try reader.streamVersion(SystemStream.actors), try reader.streamVersion(SystemStream.rules)]
        if let rules, let registry, stamp == now {
            transaction = reader.txn
            return (rules, registry)
        }
        let loadedRules = try RulesInForce.load(reader)
        let loaded = try ActorRegistry.load(reader, table: loadedRules.rules.permissions)
        rules = loadedRules
        registry = loaded
        stamp = now
        transaction = reader.txn
        verdicts = [:]
        return (loadedRules, loaded)
    }
}

/// A store check (`StoreChecks.check`: correction targets, a second enrolment) refusing the
/// batch's `index`-th event.
struct StoreCheckRefusal: Error {
    var index: Int
    var error: InputError
}

/// One validated line on its way to the log.
struct PendingEvent {
    var line: Int
    var incoming: IncomingEvent
    var record: NewEvent
}

/// The path of NDJSON into the log: parse and validate every line, then append.
///
/// An import is all or nothing: every line is parsed and validated first; a file of at most
/// `batchSize` events is then appended in one write transaction (every store check inside it,
/// nothing written unless all pass). A larger one is checked whole first (`EventLog.check`: the
/// same store checks as an append, in a read transaction that sees the file's earlier lines on
/// top of the store, writing nothing) and only then committed, in batches of `batchSize`.
public struct Importer {
    public let store: ClinicStore
    /// Events per write transaction. 2^20 keeps a transaction's dirty pages (about 60k, 240 MB,
    /// for a million events into a million-event store) well under LMDB's 131,072-page limit
    /// past which it spills pages to disk, and its writer lock at a few seconds; one transaction
    /// per file writes each B-tree page once, where commits of 4,096 rewrote most `ids` and
    /// `streams` pages every commit (ARCHITECTURE.md, decision "Import in one transaction").
    public var batchSize = 1 << 20
    /// At most this many bad lines are listed; the rest are counted.
    public var maxReported = 50
    /// Shared by this importer's imports (a long-running importer loads the registry once).
    let registryCache = RegistryCache()

    public init(store: ClinicStore) { self.store = store }

    /// Imports the NDJSON `bytes` read from `source` (a file name or `-`).
    public func importNDJSON(_ bytes: [UInt8], source: String) throws(AppError) -> ImportSummary {
        let now = store.now
        var pending: [PendingEvent] = []
        var errors: [LineError] = []
        var badLines = 0
        bytes.withUnsafeBytes { buf in
            var lineNo = 0
            var start = 0
            let n = buf.count
            while start < n {
                var end = start
                while end < n && buf[end] != 0x0A { end += 1 }
                lineNo += 1
                var stop = end
                if stop > start && buf[stop - 1] == 0x0D { stop -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buf[start..<stop])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do throws(InputError) {
                    let incoming = try IncomingEvent.parse(line: line, now: now)
                    pending.append(makePending(incoming, line: lineNo))
                } catch {
                    badLines += 1
                    if errors.count < maxReported { errors.append(LineError(file: source, line: lineNo, error)) }
                }
            }
        }
        if badLines > errors.count {
            errors.append(LineError(file: source, problem: "and \(badLines - errors.count) more bad lines; nothing was imported"))
        }
        if !errors.isEmpty { throw .badInput(errors) }
        return try append(pending, source: source)
    }

    /// Imports one validated event as line 1 of `source` (`kstore append`, `amend`, `void`).
    public func importEvent(_ incoming: IncomingEvent, source: String) throws(AppError) -> ImportSummary {
        try append([makePending(incoming, line: 1)], source: source)
    }

    func makePending(_ incoming: IncomingEvent, line: Int) -> PendingEvent {
        var record = EventMapping.newEvent(
            eventId: incoming.eventId ?? UUID(), patient: incoming.patient, occurredAt: incoming.occurredAt,
            actor: incoming.actor, osUser: store.osUser, event: incoming.event, expectedVersion: incoming.expectedVersion)
        if incoming.eventId == nil {
            record.eventId = EventMapping.uuidBytes(EventMapping.contentEventId(record))
        }
        return PendingEvent(line: line, incoming: incoming, record: record)
    }

    /// Appends validated events: a check of all of them, then the commits.
    func append(_ pending: [PendingEvent], source: String) throws(AppError) -> ImportSummary {
        guard !pending.isEmpty else { return ImportSummary(imported: 0, duplicates: 0) }
        let records = pending.map(\.record)
        let cache = registryCache
        let osUser = store.osUser
        let now = store.now
        let validate: (LogReader, NewEvent, Int) throws -> Void = { reader, _, index in
            let p = pending[index]
            // Who may record what (exit 77), checked against the actors registered in this
            // transaction's snapshot and the permission table of the rule set in force there.
            var originalActor: String?
            var target: UUID?
            switch p.incoming.event {
            case .eventAmended(let a): target = a.target
            case .eventVoided(let v): target = v.target
            default: break
            }
            var clinicianCorrected: UUID?
            var history: CorrectionHistory?
            if let target {
                originalActor = try StoreChecks.actorOf(target, reader: reader)
                // The patient's corrections, read once for both checks of this line.
                let h = try CorrectionHistory(patient: p.incoming.patient, reader: reader)
                history = h
                // events.md (revision 4): once a clinician has corrected it, only a clinician.
                if p.incoming.actor.role != .clinician, originalActor == p.incoming.actor.id,
                    StoreChecks.correctedByClinician(target, history: h)
                {
                    clinicianCorrected = target
                }
            }
            if let refusal = try cache.check(
                reader, actor: p.incoming.actor, type: p.incoming.type, osUser: osUser, originalActor: originalActor,
                clinicianCorrected: clinicianCorrected)
            {
                throw PermissionDenied(index: index, refusal: refusal)
            }
            if let problem = try StoreChecks.check(
                p.incoming.event, patient: p.incoming.patient, now: now, reader: reader, history: history)
            {
                throw StoreCheckRefusal(index: index, error: problem)
            }
        }
        var outcomes: [AppendOutcome] = []
        do {
            if records.count <= batchSize {
                outcomes = try store.log.append(records, clockMicros: store.clockMicros, validate: validate)
            } else {
                // Every check once, against the store plus the file's earlier lines, writing
                // nothing (a read transaction: no writer waits for it); then the commits.
                try store.log.check(records, clockMicros: store.clockMicros, validate: validate)
                var offset = 0
                while offset < records.count {
                    let end = min(offset + batchSize, records.count)
                    let base = offset
                    outcomes += try store.log.append(Array(records[offset..<end]), clockMicros: store.clockMicros) {
                        reader, event, index in try validate(reader, event, base + index)
                    }
                    offset = end
                }
            }
            return summarize(outcomes)
        } catch let e as LogError {
            throw partial(describe(e, pending: pending, source: source), committed: outcomes, source: source)
        } catch let e as StoreCheckRefusal {
            let line = e.index < pending.count ? pending[e.index].line : 0
            throw partial(.badInput([LineError(file: source, line: line, e.error)]), committed: outcomes, source: source)
        } catch let e as PermissionDenied {
            let line = e.index < pending.count ? pending[e.index].line : 0
            throw partial(.notPermitted(.line(file: source, line: line, e.refusal)), committed: outcomes, source: source)
        } catch let e as AppError {
            throw e
        } catch {
            throw .internal("import of \(source) failed: \(error)")
        }
    }

    /// A refusal met after earlier batches committed (another writer changed the store between
    /// the check and a batch): say exactly what is in the store, and how to finish.
    func partial(_ error: AppError, committed: [AppendOutcome], source: String) -> AppError {
        let s = summarize(committed)
        guard let first = s.firstSequence, let last = s.lastSequence else { return error }
        let note = PartialCommit(source: source, events: committed.count, firstSequence: first, lastSequence: last)
        switch error {
        case .badInput(let lines): return .badInput(lines + [note.line])
        case .conflict(let text): return .conflict(text + "\n" + note.description)
        case .notPermitted(.line(let file, let line, let refusal, _)):
            return .notPermitted(.line(file: file, line: line, refusal, committed: note))
        default: return error
        }
    }

    func summarize(_ outcomes: [AppendOutcome]) -> ImportSummary {
        var s = ImportSummary(imported: 0, duplicates: 0)
        for o in outcomes {
            switch o {
            case .appended(let seq, _):
                s.imported += 1
                if s.firstSequence == nil { s.firstSequence = seq }
                s.lastSequence = seq
            case .duplicate:
                s.duplicates += 1
            }
        }
        return s
    }

    func describe(_ e: LogError, pending: [PendingEvent], source: String) -> AppError {
        let index = e.index
        let line = index < pending.count ? pending[index].line : 0
        let at = "\(source):\(line)"
        switch e {
        case .conflict(_, let stream, let expected, let actual):
            return .conflict(
                "\(at): expectedVersion: stale: expected version \(expected) of \(stream), but it is at \(actual) (reload the patient's record and resend)"
            )
        case .eventIdReused:
            return .badInput([LineError(file: source, line: line, field: "eventId", problem: e.description)])
        case .rejected(_, let reason):
            return .badInput([LineError(file: source, line: line, problem: reason)])
        }
    }
}
