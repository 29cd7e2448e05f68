import Foundation
import Glibc
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

/// A store check (`StoreChecks.check`: correction targets, a second enrolment) refusing a line.
struct StoreCheckRefusal: Error {
    var error: InputError
}

/// The path of NDJSON into the log: every line parsed, validated and appended as it is read, in
/// one write transaction per file.
///
/// An import is all or nothing, whatever the file's length: the file is read in chunks
/// (`NDJSONReader`) and each line parsed, validated and appended inside one write transaction
/// (every store check in it, each seeing the file's earlier lines), which is committed only
/// when every line passed. A bad line (unparsable, refused by the registry or a store check, a
/// stale version) stops the writing and aborts the transaction, so nothing of the file is
/// written; the rest of the file is still parsed to report its bad lines. Memory does not grow
/// with the file: a line is held while it is appended, and LMDB spills the transaction's dirty
/// pages to the file past its limit. The price: the writer lock is held while the file is read
/// and parsed (ARCHITECTURE.md, decision "Import in one transaction").
public struct Importer {
    public let store: ClinicStore
    /// At most this many bad lines are listed; the rest are counted.
    public var maxReported = 50
    /// Called after each line appended inside the transaction with how many were so far (the
    /// kill drills SIGKILL an import mid-transaction with it).
    public var onAppended: ((Int) -> Void)?
    /// Shared by this importer's imports (a long-running importer loads the registry once).
    let registryCache = RegistryCache()
    /// Set by the web interface: every line's `actor.id` must be this signed-in actor
    /// (web.md); nil lets an interface name any registered actor, as `kstore import` does.
    public var onBehalfOf: String?

    public init(store: ClinicStore) { self.store = store }

    /// Imports the NDJSON `bytes` read from `source` (a file name or `-`).
    public func importNDJSON(_ bytes: [UInt8], source: String) throws(AppError) -> ImportSummary {
        try importLines(NDJSONReader(bytes: bytes), source: source)
    }

    /// Imports the NDJSON file at `path` (`-`: standard input), reading it as it is appended.
    public func importNDJSON(file path: String) throws(AppError) -> ImportSummary {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Importer.unreadable(path) }
        let input: NDJSONReader
        do throws(NDJSONReader.ReadFailure) {
            input = try NDJSONReader(descriptor: fd, owned: path != "-", spoolDirectory: store.path)
        } catch {
            throw Importer.unreadable(path)
        }
        return try importLines(input, source: path)
    }

    /// Imports what `fd` holds (read to its end; a pipe is spooled beside the store).
    public func importNDJSON(descriptor fd: Int32, source: String) throws(AppError) -> ImportSummary {
        let input: NDJSONReader
        do throws(NDJSONReader.ReadFailure) {
            input = try NDJSONReader(descriptor: fd, owned: false, spoolDirectory: store.path)
        } catch {
            throw Importer.unreadable(source)
        }
        return try importLines(input, source: source)
    }

    static func unreadable(_ file: String) -> AppError {
        .badInput([LineError(file: file, problem: "cannot read the file", expected: "check the path and permissions")])
    }

    /// Imports one validated event as line 1 of `source` (`kstore append`, `amend`, `void`).
    public func importEvent(_ incoming: IncomingEvent, source: String) throws(AppError) -> ImportSummary {
        let now = store.now
        return try transaction(source: source) { appender, tally in
            try append(incoming, line: 1, now: now, appender: appender, tally: &tally)
        }
    }

    func importLines(_ input: NDJSONReader, source: String) throws(AppError) -> ImportSummary {
        if let size = input.knownSize {
            // Room for the file's records and the pages the transaction copies, so that a
            // large import does not meet a full map and start over.
            do { try store.log.reserveMap(2 * size + store.log.env.usedBytes) } catch {
                throw .internal("import of \(source): cannot grow the map: \(error)")
            }
        }
        let now = store.now
        return try transaction(source: source) { appender, tally in
            do {
                try input.forEachLine { lineNo, line in
                    let incoming: IncomingEvent
                    do throws(InputError) { incoming = try IncomingEvent.parse(line: line, now: now) } catch {
                        tally.bad(lineNo, error)
                        return
                    }
                    guard tally.writing else { return }
                    try append(incoming, line: lineNo, now: now, appender: appender, tally: &tally)
                }
            } catch is NDJSONReader.ReadFailure {
                throw Importer.unreadable(source)
            }
        }
    }

    /// One write transaction for `source`: `body` appends, and the transaction commits only if
    /// no line was bad.
    func transaction(
        source: String, _ body: (LogAppender, inout ImportTally) throws -> Void
    ) throws(AppError) -> ImportSummary {
        do {
            return try store.log.appending(clockMicros: store.clockMicros) { appender in
                var tally = ImportTally(source: source, maxReported: maxReported)
                try body(appender, &tally)
                if let failure = tally.failure { throw failure }  // aborts: nothing written
                return tally.summary
            }
        } catch let e as AppError {
            throw e
        } catch let e as StoreError {
            // A lock file deleted or replaced under this process, a store opened read-only.
            throw .noStore(e.description)
        } catch let e as LMDBError {
            throw .internal("import of \(source) failed and nothing of it was written: \(e)")
        } catch {
            throw .internal("import of \(source) failed: \(error)")
        }
    }

    /// Appends `incoming` (line `line`), or notes the store's refusal of it in `tally`.
    func append(_ incoming: IncomingEvent, line: Int, now: Timestamp, appender: LogAppender, tally: inout ImportTally) throws {
        var incoming = incoming
        if incoming.patient.isEmpty {
            // session.md: a correction of a stock event carries no patient; its stream is the
            // target's lot.
            let target: UUID?
            switch incoming.event {
            case .eventAmended(let a): target = a.target
            case .eventVoided(let v): target = v.target
            default: target = nil
            }
            if let target, let seq = try appender.reader.sequence(forEventId: EventMapping.uuidBytes(target)),
                let view = try appender.reader.record(seq), LotStream.lot(ofStream: view.stream) != nil
            {
                incoming.patient = view.stream
            } else {
                tally.refused(
                    line,
                    .badInput([
                        LineError(
                            file: tally.source, line: line,
                            InputError(
                                field: "patient", problem: "is missing",
                                expected: "the patient of the corrected event (only a correction of a stock event carries none)"))
                    ]))
                return
            }
        }
        let record = newEvent(incoming)
        do {
            tally.written(try appender.append(record) { reader in try storeChecks(incoming, now: now, reader: reader) })
            if let onAppended { onAppended(tally.summary.imported + tally.summary.duplicates) }
        } catch let e as LogError {
            tally.refused(line, describe(e, line: line, source: tally.source))
        } catch let e as StoreCheckRefusal {
            tally.refused(line, .badInput([LineError(file: tally.source, line: line, e.error)]))
        } catch let e as PermissionDenied {
            tally.refused(line, .notPermitted(.line(file: tally.source, line: line, e.refusal)))
        }
    }

    func newEvent(_ incoming: IncomingEvent) -> NewEvent {
        var record = EventMapping.newEvent(
            eventId: incoming.eventId ?? UUID(), patient: incoming.patient, occurredAt: incoming.occurredAt,
            actor: incoming.actor, osUser: store.osUser, event: incoming.event, expectedVersion: incoming.expectedVersion)
        if incoming.eventId == nil {
            record.eventId = EventMapping.uuidBytes(EventMapping.contentEventId(record))
        }
        return record
    }

    /// The checks that need the store, inside the transaction: who may record what (exit 77),
    /// against the actors registered in this transaction's snapshot and the permission table of
    /// the rule set in force there; then correction targets and a second enrolment.
    func storeChecks(_ incoming: IncomingEvent, now: Timestamp, reader: LogReader) throws {
        var originalActor: String?
        var target: UUID?
        switch incoming.event {
        case .eventAmended(let a): target = a.target
        case .eventVoided(let v): target = v.target
        default: break
        }
        var clinicianCorrected: UUID?
        var history: CorrectionHistory?
        if let target {
            originalActor = try StoreChecks.actorOf(target, reader: reader)
            // The patient's corrections, read once for both checks of this line.
            let h = try CorrectionHistory(patient: incoming.patient, reader: reader)
            history = h
            // events.md (revision 4): once a clinician has corrected it, only a clinician.
            if incoming.actor.role != .clinician, originalActor == incoming.actor.id,
                StoreChecks.correctedByClinician(target, history: h)
            {
                clinicianCorrected = target
            }
        }
        if let signedIn = onBehalfOf, incoming.actor.id != signedIn {
            throw PermissionDenied(index: 0, refusal: .notTheSignedInActor(actorId: incoming.actor.id, signedIn: signedIn))
        }
        var lotAcknowledgement = false
        if case .alertAcknowledged(let a) = incoming.event, a.lot != nil { lotAcknowledgement = true }
        if let refusal = try registryCache.check(
            reader, actor: incoming.actor, type: incoming.type, osUser: store.osUser, originalActor: originalActor,
            clinicianCorrected: clinicianCorrected, lotAcknowledgement: lotAcknowledgement)
        {
            throw PermissionDenied(index: 0, refusal: refusal)
        }
        // session.md: a witness is a registered, active clinician or nurse other than the
        // recorder (and, in an amendment of the witness, other than the amender).
        var witness = incoming.event.witness
        var recorder = incoming.actor.id
        if case .eventAmended(let a) = incoming.event, let w = a.data.first(where: { $0.0 == "witness" })?.1, case .string(let id) = w {
            witness = id
            recorder = originalActor ?? recorder
        }
        if let witness {
            let registry = try registryCache.registry(reader)
            if let refusal = registry.checkWitness(
                witness, recorder: recorder, amender: incoming.type == .eventAmended ? incoming.actor.id : nil)
            {
                throw PermissionDenied(index: 0, refusal: refusal)
            }
        }
        if let problem = try StoreChecks.check(
            incoming.event, patient: incoming.patient, at: incoming.occurredAt, now: now, reader: reader, history: history)
        {
            throw StoreCheckRefusal(error: problem)
        }
    }

    func describe(_ e: LogError, line: Int, source: String) -> AppError {
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
