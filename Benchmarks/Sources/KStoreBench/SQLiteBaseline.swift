import Foundation
import KApp
import KBinary
import KClinic

/// The baseline: the same clinic on SQLite, built the way a small team would. WAL mode, one
/// `events` table with the event's JSON `data` in a text column and an index on patient, lines
/// parsed and validated by kstore's own `IncomingEvent.parse`, replay through kstore's own
/// `PatientProjection.fold` (same rules, same corrections).
final class SQLiteBaseline {
    let path: String
    let db: SQLiteDB

    static let schema = """
        CREATE TABLE events(
          seq INTEGER PRIMARY KEY,
          event_id TEXT UNIQUE NOT NULL,
          patient TEXT NOT NULL,
          type TEXT NOT NULL,
          occurred_at TEXT NOT NULL,
          recorded_at INTEGER NOT NULL,
          actor_id TEXT,
          actor_role TEXT,
          payload TEXT NOT NULL /* the event's JSON data */
        );
        CREATE INDEX events_patient ON events(patient, seq);
        CREATE TABLE projections(patient TEXT PRIMARY KEY, state BLOB NOT NULL);
        """

    static let insertSQL = """
        INSERT INTO events(event_id, patient, type, occurred_at, recorded_at, actor_id, actor_role, payload)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
        """

    /// The replay's query: each patient's events together, in log order, through the index (the
    /// shape `PatientProjection.fold(patient:events:)` wants; memory stays one patient's events).
    static let replaySQL = """
        SELECT seq, event_id, patient, type, occurred_at, recorded_at, actor_id, actor_role, payload
        FROM events ORDER BY patient, seq
        """

    init(path: String, synchronous: String = "FULL") throws {
        self.path = path
        db = try SQLiteDB(path: path)
        let mode = try db.text("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else { throw BenchFailure("SQLite refused WAL mode (journal_mode=\(mode ?? "nil"))") }
        try setSynchronous(synchronous)
    }

    static func create(at path: String) throws -> SQLiteBaseline {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let b = try SQLiteBaseline(path: path)
        try b.db.exec(schema)
        return b
    }

    /// FULL: every commit fsyncs the WAL (durable, as LMDB's commit is). NORMAL: commits do not
    /// sync (only checkpoints do): survives a crash of the process, not of the machine.
    func setSynchronous(_ level: String) throws {
        try db.exec("PRAGMA synchronous=\(level)")
    }

    /// The plan SQLite picks for the replay's query.
    func replayPlan() throws -> String {
        let s = try db.prepare("EXPLAIN QUERY PLAN " + SQLiteBaseline.replaySQL)
        var details: [String] = []
        while try s.step() { details.append(s.string(3) ?? "") }
        return details.joined(separator: "; ")
    }

    /// data file + WAL, after a checkpoint that empties the WAL.
    func bytesOnDisk() throws -> Int {
        try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return fileSize(path) + fileSize(path + "-wal")
    }

    // MARK: Import

    struct ImportResult {
        var events: Int
        /// The latest clinical date among the events.
        var maxDay: Day
    }

    /// Every line of an NDJSON file parsed and validated by kstore's `IncomingEvent.parse`
    /// (all or nothing); blank lines skipped.
    static func parseAll(_ bytes: [UInt8], now: Timestamp) throws -> [IncomingEvent] {
        var events: [IncomingEvent] = []
        var errors: [String] = []
        bytes.withUnsafeBytes { buf in
            var start = 0
            var lineNo = 0
            let n = buf.count
            while start < n {
                var end = start
                while end < n && buf[end] != 0x0A { end += 1 }
                lineNo += 1
                let line = UnsafeRawBufferPointer(rebasing: buf[start..<end])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do throws(InputError) {
                    events.append(try IncomingEvent.parse(line: line, now: now))
                } catch {
                    if errors.count < 10 { errors.append("line \(lineNo): \(error)") }
                }
            }
        }
        guard errors.isEmpty else { throw BenchFailure("bad lines: " + errors.joined(separator: "; ")) }
        return events
    }

    /// Every line parsed and validated first (all or nothing, as kstore's import), then inserted
    /// with one prepared statement in transactions of 4,096 rows.
    func importNDJSON(_ bytes: [UInt8], now: Timestamp) throws -> ImportResult {
        let events: [IncomingEvent]
        do { events = try SQLiteBaseline.parseAll(bytes, now: now) } catch { throw BenchFailure("SQLite import: \(error)") }
        let insert = try db.prepare(SQLiteBaseline.insertSQL)
        var maxDay = Day(ordinal: .min)
        var payload: [UInt8] = []
        payload.reserveCapacity(512)
        try db.exec("BEGIN")
        for (i, e) in events.enumerated() {
            if i > 0 && i % 4096 == 0 {
                try db.exec("COMMIT")
                try db.exec("BEGIN")
            }
            try bind(insert, e, recordedAt: SystemClock.nowMicros(), payload: &payload)
            try insert.step()
            try insert.reset()
            let day = e.occurredAt.clinicalDay
            if day > maxDay { maxDay = day }
        }
        try db.exec("COMMIT")
        return ImportResult(events: events.count, maxDay: maxDay)
    }

    func bind(_ s: Statement, _ e: IncomingEvent, recordedAt: Int64, payload: inout [UInt8]) throws {
        let id =
            e.eventId
            ?? EventMapping.contentEventId(
                EventMapping.newEvent(
                    eventId: UUID(), patient: e.patient, occurredAt: e.occurredAt, actor: e.actor, osUser: "", event: e.event))
        try s.bind(1, id.uuidString.lowercased())
        try s.bind(2, e.patient)
        try s.bind(3, e.type.rawValue)
        try s.bind(4, e.occurredAt.rfc3339)
        try s.bind(5, recordedAt)
        try s.bind(6, e.actor.id)
        try s.bind(7, e.actor.role.rawValue)
        payload.removeAll(keepingCapacity: true)
        JSONWriter.write(e.event.dataJSON, into: &payload)
        try s.bind(8, utf8: payload)
    }

    // MARK: Appends

    /// One line, parsed and validated, inserted in its own (autocommit) transaction.
    func append(line: [UInt8], with insert: Statement, now: Timestamp) throws {
        let e: IncomingEvent
        do throws(InputError) { e = try IncomingEvent.parse(line: line, now: now) } catch { throw BenchFailure("append: \(error)") }
        var payload: [UInt8] = []
        try bind(insert, e, recordedAt: SystemClock.nowMicros(), payload: &payload)
        try insert.step()
        try insert.reset()
    }

    // MARK: Reading and replay

    /// The replay's query stepped through, every column touched, nothing decoded: SQLite's own
    /// floor for this replay. `inLogOrder`: the same by `seq` (a table scan, no index), what
    /// a replay holding every patient's events in memory at once could read instead.
    func readPass(inLogOrder: Bool = false) throws -> (rows: Int, bytes: Int) {
        let s = try db.prepare(
            inLogOrder
                ? SQLiteBaseline.replaySQL.replacingOccurrences(of: "ORDER BY patient, seq", with: "ORDER BY seq")
                : SQLiteBaseline.replaySQL)
        var rows = 0
        var bytes = 0
        while try s.step() {
            rows += 1
            bytes &+= Int(s.int64(0)) &+ Int(s.int64(5))
            for c: Int32 in [1, 2, 3, 4, 6, 7, 8] { bytes &+= s.bytes(c).count }
        }
        return (rows, bytes)
    }

    enum PayloadDecoding {
        /// (a) Foundation's JSONDecoder into Decodable mirrors (PayloadMirrors.swift).
        case jsonDecoder
        /// (b) kstore's hand-written JSONParser, then the domain's own `ClinicalEvent.from`.
        case kstoreParser
    }

    struct Fold {
        var phase: PhaseState
        var monitoring: MonitoringState
    }

    /// Reads every event (per patient, in log order), decodes it, folds each patient with
    /// `PatientProjection.fold` (corrections applied by the domain's amendment rule, as kstore
    /// does) and stores every patient's states in one transaction. `sequenceBase` is added to the
    /// SQLite sequence (kstore's log starts with its actor registrations) so that the event
    /// references inside the states compare with kstore's.
    func replay(_ decoding: PayloadDecoding, rules: RuleSet, sequenceBase: UInt64, now: Timestamp) throws -> (
        events: Int, folds: [String: Fold]
    ) {
        let s = try db.prepare(SQLiteBaseline.replaySQL)
        let decoder = JSONDecoder()
        var folds: [String: Fold] = [:]
        var group: [Recorded] = []
        var current = ""
        var count = 0
        let amend: PhaseProjection.Amend = PhaseProjection.standardAmend
        func flush() {
            guard !group.isEmpty else { return }
            let (phase, monitoring) = PatientProjection.fold(
                patient: current, events: group, rules: rules, through: nil, recordedAtOrBefore: nil, amend: amend)
            folds[current] = Fold(phase: phase, monitoring: monitoring)
            group.removeAll(keepingCapacity: true)
        }
        while try s.step() {
            count += 1
            guard let patient = s.string(2) else { throw BenchFailure("row without patient") }
            if patient != current {
                flush()
                current = patient
            }
            let seq = s.int64(0)
            guard let idText = s.string(1), let eventId = UUID(uuidString: idText) else { throw BenchFailure("seq \(seq): bad event_id") }
            guard let typeText = s.string(3), let type = EventType(rawValue: typeText) else {
                throw BenchFailure("seq \(seq): unknown type")
            }
            let occurredAt: Timestamp
            do throws(TimestampParseError) { occurredAt = try Timestamp.parseRFC3339(s.bytes(4)) } catch {
                throw BenchFailure("seq \(seq): occurred_at: \(error)")
            }
            guard let roleText = s.string(7), let role = Role(rawValue: roleText) else { throw BenchFailure("seq \(seq): bad actor_role") }
            let actor = Actor(id: s.string(6) ?? "", role: role)
            let event: ClinicalEvent
            switch decoding {
            case .jsonDecoder:
                let payload = s.bytes(8)
                event = try MirrorDecoder.decode(type: type, payload: Data(payload), decoder: decoder)
            case .kstoreParser:
                do {
                    let json = try JSONParser.parse(s.bytes(8))
                    event = try ClinicalEvent.from(type: type, data: json, now: now)
                } catch {
                    throw BenchFailure("seq \(seq): payload: \(error)")
                }
            }
            group.append(
                Recorded(
                    sequence: UInt64(seq) + sequenceBase, eventId: eventId, patient: patient, streamVersion: UInt64(group.count + 1),
                    occurredAt: occurredAt, recordedAtMicros: s.int64(5), actor: actor, osUser: "", schemaVersion: 1, event: event))
        }
        flush()
        // Store the projections (one transaction), as kstore's replay does.
        let put = try db.prepare("INSERT OR REPLACE INTO projections(patient, state) VALUES (?1, ?2)")
        try db.exec("BEGIN")
        for (patient, f) in folds {
            var w = BinaryWriter(capacity: 1024)
            f.phase.encode(into: &w)
            f.monitoring.encode(into: &w)
            try put.bind(1, patient)
            try put.bindBlob(2, w.bytes)
            try put.step()
            try put.reset()
        }
        try db.exec("COMMIT")
        return (count, folds)
    }
}
