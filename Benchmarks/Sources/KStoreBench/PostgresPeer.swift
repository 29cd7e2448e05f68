import Foundation
import KApp
import KBinary
import KClinic
import PostgresNIO

/// Where the PostgreSQL peer connects: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]`
/// (`sslmode` disable, prefer, require or verify-full; the password may come from PGPASSWORD).
/// The password is never printed: `redacted` is the URL the report shows.
struct PostgresTarget: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslmode: String

    static func parse(_ text: String) throws -> PostgresTarget {
        guard let c = URLComponents(string: text), c.scheme == "postgresql" || c.scheme == "postgres" else {
            throw BenchFailure("--postgres: not a postgresql:// URL")
        }
        guard let host = c.host, !host.isEmpty else { throw BenchFailure("--postgres: the URL names no host") }
        guard let user = c.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw BenchFailure("--postgres: the URL names no user")
        }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw BenchFailure("--postgres: the URL names no database") }
        let password = c.percentEncodedPassword?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let sslmode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslmode) else {
            throw BenchFailure("--postgres: sslmode=\(sslmode) is not one of disable, prefer, require, verify-full")
        }
        return PostgresTarget(host: host, port: c.port ?? 5432, user: user, password: password, database: database, sslmode: sslmode)
    }

    var redacted: String { "postgresql://\(user)@\(host):\(port)/\(database)?sslmode=\(sslmode)" }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "allow", "prefer", "require":
            var config = TLSConfiguration.makeClientConfiguration()
            config.certificateVerification = .none
            let context = try NIOSSLContext(configuration: config)
            tls = sslmode == "require" ? .require(context) : .prefer(context)
        default:
            tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}

/// One sentence for a PostgreSQL failure (PSQLError's own description hides the server's
/// message; no password is ever part of it).
func describePostgres(_ error: any Error) -> String {
    guard let e = error as? PSQLError else { return "\(error)" }
    var parts = ["\(e.code)"]
    if let info = e.serverInfo {
        if let message = info[.message] { parts.append(message) }
        if let state = info[.sqlState] { parts.append("SQLSTATE \(state)") }
    }
    if let underlying = e.underlying { parts.append("\(underlying)") }
    return parts.joined(separator: ": ")
}

/// The PostgreSQL peer: the event table a team on Marten (the .NET event store on PostgreSQL)
/// would have — `mt_events`, one row an event, the event's data as jsonb, a unique index on
/// (stream_id, version) — loaded with COPY, replayed in `seq_id` order by keyset pages,
/// decoded into the same KClinic events and folded by the same `PatientProjection.fold`.
/// Everything lives in the schema `kstore_bench` (dropped and created again on every run).
///
/// Not main-actor isolated on purpose: its methods run on the global executor, where
/// postgres-nio's row sequence hands rows over without an executor hop a row. Iterated on the
/// main actor (the class was `@MainActor` at first), every row hopped to the global executor
/// and back: the read pass at 100k events ran at 26–67k rows/s against 231–261k here.
final class PostgresPeer: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let target: PostgresTarget
    let serverVersion: String

    static let schema = "kstore_bench"
    /// Rows a keyset page of the replay reads.
    static let pageSize = 10_000

    /// Marten's mt_events columns (seq_id … is_archived), then kstore's envelope fields the
    /// folds need as plain columns: the event's occurred time with its own UTC offset (the
    /// clinical date; a timestamptz would drop the offset) and who recorded it. Marten keeps
    /// such metadata in optional columns of the same table (correlation_id, headers jsonb).
    /// `timestamp` is when the row was written (Marten's default), as kstore's recorded time.
    static let ddl = [
        "DROP SCHEMA IF EXISTS kstore_bench CASCADE",
        "CREATE SCHEMA kstore_bench",
        "SET search_path TO kstore_bench",
        """
        CREATE TABLE mt_events (
          seq_id bigserial PRIMARY KEY,
          id uuid NOT NULL,
          stream_id text NOT NULL,
          version integer NOT NULL,
          data jsonb NOT NULL,
          type varchar(500) NOT NULL,
          timestamp timestamptz NOT NULL DEFAULT now(),
          tenant_id varchar DEFAULT '*DEFAULT*',
          mt_dotnet_type varchar,
          is_archived boolean DEFAULT false,
          occurred_at text NOT NULL,
          actor_id text,
          actor_role text,
          CONSTRAINT pk_mt_events_id_unique UNIQUE (id)
        )
        """,
        "CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON mt_events (stream_id, version)",
        // The folded states, one document a patient (Marten's mt_doc_<aggregate>).
        "CREATE TABLE mt_doc_patient (id text PRIMARY KEY, data bytea NOT NULL, mt_last_modified timestamptz DEFAULT now())",
    ]

    static let columns = "seq_id, id, stream_id, version, type, occurred_at, timestamp, actor_id, actor_role, data"

    private init(connection: PostgresConnection, logger: Logger, target: PostgresTarget, serverVersion: String) {
        self.connection = connection
        self.logger = logger
        self.target = target
        self.serverVersion = serverVersion
    }

    static func connect(_ target: PostgresTarget) async throws -> PostgresPeer {
        var logger = Logger(label: "kstore-bench.postgres")
        logger.logLevel = .critical
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try target.configuration(), id: 1, logger: logger)
        } catch {
            throw BenchFailure("cannot connect to \(target.redacted): \(describePostgres(error))")
        }
        var version = "unknown"
        do {
            let rows = try await connection.query("SHOW server_version", logger: logger)
            for try await row in rows { version = try row.decode(String.self) }
        } catch {
            throw BenchFailure("PostgreSQL at \(target.redacted): SHOW server_version: \(describePostgres(error))")
        }
        return PostgresPeer(connection: connection, logger: logger, target: target, serverVersion: version)
    }

    func close() async {
        try? await connection.close()
    }

    func exec(_ sql: String) async throws {
        do { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) } catch {
            throw BenchFailure("PostgreSQL: \(sql.prefix(60)): \(describePostgres(error))")
        }
    }

    /// The first column of the first row as text.
    func scalar(_ sql: String) async throws -> String? {
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            for try await row in rows { return try row.decode(String?.self) }
            return nil
        } catch {
            throw BenchFailure("PostgreSQL: \(sql.prefix(60)): \(describePostgres(error))")
        }
    }

    /// A fresh schema (what the SQLite baseline's new file is).
    func create() async throws {
        for sql in PostgresPeer.ddl { try await exec(sql) }
    }

    // MARK: Load

    /// Every line parsed and validated by kstore's `IncomingEvent.parse` first (all or nothing,
    /// as the SQLite baseline), then one `COPY mt_events FROM STDIN` (text format) streamed in
    /// 1 MB writes: postgres-nio's fastest bulk path (1.33.2 has COPY FROM; no binary format).
    func load(_ bytes: [UInt8], now: Timestamp) async throws -> SQLiteBaseline.ImportResult {
        let events = try SQLiteBaseline.parseAll(bytes, now: now)
        var maxDay = Day(ordinal: .min)
        var versions: [String: Int] = [:]
        var payload: [UInt8] = []
        payload.reserveCapacity(512)
        let allocator = ByteBufferAllocator()
        do {
            try await connection.copyFrom(
                table: "mt_events",
                columns: ["id", "stream_id", "version", "data", "type", "occurred_at", "actor_id", "actor_role"],
                logger: logger
            ) { writer in
                var buffer = allocator.buffer(capacity: (1 << 20) + 4096)
                for e in events {
                    let id =
                        e.eventId
                        ?? EventMapping.contentEventId(
                            EventMapping.newEvent(
                                eventId: UUID(), patient: e.patient, occurredAt: e.occurredAt, actor: e.actor, osUser: "",
                                event: e.event))
                    let version = (versions[e.patient] ?? 0) + 1
                    versions[e.patient] = version
                    payload.removeAll(keepingCapacity: true)
                    JSONWriter.write(e.event.dataJSON, into: &payload)
                    buffer.writeString(id.uuidString.lowercased())
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    PostgresPeer.copyEscaped(Array(e.patient.utf8), into: &buffer)
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    buffer.writeString(String(version))
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    PostgresPeer.copyEscaped(payload, into: &buffer)
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    buffer.writeString(e.type.rawValue)
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    buffer.writeString(e.occurredAt.rfc3339)
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    PostgresPeer.copyEscaped(Array(e.actor.id.utf8), into: &buffer)
                    buffer.writeInteger(UInt8(ascii: "\t"))
                    buffer.writeString(e.actor.role.rawValue)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                    let day = e.occurredAt.clinicalDay
                    if day > maxDay { maxDay = day }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
        } catch let e as BenchFailure {
            throw e
        } catch {
            throw BenchFailure("PostgreSQL COPY mt_events: \(describePostgres(error))")
        }
        return SQLiteBaseline.ImportResult(events: events.count, maxDay: maxDay)
    }

    /// COPY's text format: backslash, tab, newline and carriage return escaped.
    static func copyEscaped(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        var plain = true
        for b in bytes where b == 0x5C || b == 0x09 || b == 0x0A || b == 0x0D {
            plain = false
            break
        }
        if plain {
            buffer.writeBytes(bytes)
            return
        }
        for b in bytes {
            switch b {
            case 0x5C: buffer.writeBytes([0x5C, 0x5C])
            case 0x09: buffer.writeBytes([0x5C, UInt8(ascii: "t")])
            case 0x0A: buffer.writeBytes([0x5C, UInt8(ascii: "n")])
            case 0x0D: buffer.writeBytes([0x5C, UInt8(ascii: "r")])
            default: buffer.writeInteger(b)
            }
        }
    }

    /// mt_events with its indexes and TOAST (after a VACUUM so the visibility map is current).
    func bytesOnDisk() async throws -> Int {
        try await exec("VACUUM (ANALYZE) mt_events")
        return Int(try await scalar("SELECT pg_total_relation_size('mt_events')::text") ?? "") ?? 0
    }

    /// The plan PostgreSQL picks for one page of the replay.
    func replayPlan() async throws -> String {
        let sql = "EXPLAIN SELECT \(PostgresPeer.columns) FROM mt_events WHERE seq_id > 0 ORDER BY seq_id LIMIT \(PostgresPeer.pageSize)"
        do {
            var lines: [String] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            for try await row in rows { lines.append(try row.decode(String.self).trimmingCharacters(in: .whitespaces)) }
            return lines.joined(separator: "; ")
        } catch {
            throw BenchFailure("PostgreSQL: EXPLAIN: \(describePostgres(error))")
        }
    }

    // MARK: Reading and replay

    /// Every row in `seq_id` order, by keyset pages (`WHERE seq_id > last ORDER BY seq_id LIMIT
    /// pageSize`: what an async projection daemon reads), each row handed to `body`.
    func forEachRow(_ body: (PostgresRow) throws -> Void) async throws -> Int {
        var last: Int64 = 0
        var count = 0
        while true {
            let query: PostgresQuery =
                "SELECT seq_id, id, stream_id, version, type, occurred_at, timestamp, actor_id, actor_role, data FROM mt_events WHERE seq_id > \(last) ORDER BY seq_id LIMIT \(PostgresPeer.pageSize)"
            var n = 0
            do {
                let rows = try await connection.query(query, logger: logger)
                for try await row in rows {
                    n += 1
                    last = try row.decode(Int64.self)
                    try body(row)
                }
            } catch let e as BenchFailure {
                throw e
            } catch {
                throw BenchFailure("PostgreSQL replay read after seq_id \(last): \(describePostgres(error))")
            }
            count += n
            if n < PostgresPeer.pageSize { return count }
        }
    }

    /// The replay's read with every cell touched and nothing decoded: PostgreSQL's own floor for
    /// this replay (the server's jsonb → text, the wire, postgres-nio's row parsing).
    func readPass() async throws -> (rows: Int, bytes: Int) {
        var bytes = 0
        let rows = try await forEachRow { row in
            for cell in row { bytes &+= cell.bytes?.readableBytes ?? 0 }
        }
        return (rows, bytes)
    }

    /// One row into kstore's `Recorded`. jsonb arrives as its version byte (1) then the JSON
    /// text; timestamptz as microseconds since 2000-01-01 UTC.
    static func recorded(
        _ row: PostgresRow, _ decoding: SQLiteBaseline.PayloadDecoding, decoder: JSONDecoder, sequenceBase: UInt64, now: Timestamp
    ) throws -> Recorded {
        let (seq, eventId, patient, version, typeText, occurredText, recordedAt, actorId, roleText, data) = try row.decode(
            (Int64, UUID, String, Int32, String, String, ByteBuffer, String?, String?, ByteBuffer).self)
        guard let type = EventType(rawValue: typeText) else { throw BenchFailure("seq_id \(seq): unknown type \(typeText)") }
        var occurredUTF8 = occurredText
        let occurredAt: Timestamp
        do {
            occurredAt = try occurredUTF8.withUTF8 { buf throws(TimestampParseError) in
                try Timestamp.parseRFC3339(UnsafeRawBufferPointer(buf))
            }
        } catch {
            throw BenchFailure("seq_id \(seq): occurred_at: \(error)")
        }
        guard let roleText, let role = Role(rawValue: roleText) else { throw BenchFailure("seq_id \(seq): bad actor_role") }
        guard let micros2000 = recordedAt.getInteger(at: recordedAt.readerIndex, as: Int64.self) else {
            throw BenchFailure("seq_id \(seq): bad timestamp")
        }
        guard data.readableBytes >= 1, data.getInteger(at: data.readerIndex, as: UInt8.self) == 1 else {
            throw BenchFailure("seq_id \(seq): data is not jsonb version 1")
        }
        let event: ClinicalEvent
        switch decoding {
        case .jsonDecoder:
            event = try MirrorDecoder.decode(type: type, payload: Data(data.readableBytesView.dropFirst()), decoder: decoder)
        case .kstoreParser:
            do {
                let json = try data.withUnsafeReadableBytes { raw in try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw.dropFirst()))
                }
                event = try ClinicalEvent.from(type: type, data: json, now: now)
            } catch {
                throw BenchFailure("seq_id \(seq): payload: \(error)")
            }
        }
        return Recorded(
            sequence: UInt64(seq) + sequenceBase, eventId: eventId, patient: patient, streamVersion: UInt64(version),
            occurredAt: occurredAt, recordedAtMicros: micros2000 + 946_684_800_000_000, actor: Actor(id: actorId ?? "", role: role),
            osUser: "", schemaVersion: 1, event: event)
    }

    /// Reads every event in log (`seq_id`) order, decodes it, gathers each patient's events
    /// (a log-order read must hold them all: a patient's fold needs its corrections, which come
    /// later in the log), folds each patient with `PatientProjection.fold` and stores every
    /// patient's states in one transaction (one COPY into mt_doc_patient), as the SQLite
    /// baseline and kstore's replay store theirs.
    func replay(_ decoding: SQLiteBaseline.PayloadDecoding, rules: RuleSet, sequenceBase: UInt64, now: Timestamp) async throws -> (
        events: Int, folds: [String: SQLiteBaseline.Fold]
    ) {
        let decoder = JSONDecoder()
        var groups: [String: [Recorded]] = [:]
        let count = try await forEachRow { row in
            let r = try PostgresPeer.recorded(row, decoding, decoder: decoder, sequenceBase: sequenceBase, now: now)
            groups[r.patient, default: []].append(r)
        }
        var folds: [String: SQLiteBaseline.Fold] = [:]
        folds.reserveCapacity(groups.count)
        for (patient, events) in groups {
            let (phase, monitoring) = PatientProjection.fold(
                patient: patient, events: events, rules: rules, through: nil, recordedAtOrBefore: nil,
                amend: PhaseProjection.standardAmend)
            folds[patient] = SQLiteBaseline.Fold(phase: phase, monitoring: monitoring)
        }
        groups = [:]
        try await store(folds)
        return (count, folds)
    }

    /// Every patient's encoded states into mt_doc_patient: TRUNCATE and one COPY (bytea as hex),
    /// in one transaction.
    func store(_ folds: [String: SQLiteBaseline.Fold]) async throws {
        let allocator = ByteBufferAllocator()
        let hex = Array("0123456789abcdef".utf8)
        do {
            try await exec("BEGIN")
            try await exec("TRUNCATE mt_doc_patient")
            try await connection.copyFrom(table: "mt_doc_patient", columns: ["id", "data"], logger: logger) { writer in
                var buffer = allocator.buffer(capacity: (1 << 20) + 65536)
                for (patient, f) in folds {
                    var w = BinaryWriter(capacity: 1024)
                    f.phase.encode(into: &w)
                    f.monitoring.encode(into: &w)
                    PostgresPeer.copyEscaped(Array(patient.utf8), into: &buffer)
                    buffer.writeBytes([UInt8(ascii: "\t"), 0x5C, 0x5C, UInt8(ascii: "x")])
                    for b in w.bytes {
                        buffer.writeInteger(hex[Int(b >> 4)])
                        buffer.writeInteger(hex[Int(b & 15)])
                    }
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
            try await exec("COMMIT")
        } catch {
            try? await exec("ROLLBACK")
            if let e = error as? BenchFailure { throw e }
            throw BenchFailure("PostgreSQL: storing the states: \(describePostgres(error))")
        }
    }

    /// One patient's current state the way Marten answers it without a stored projection (a
    /// live aggregation): its events by the (stream_id, version) index, decoded and folded.
    func liveFold(patient: String, rules: RuleSet, sequenceBase: UInt64, now: Timestamp) async throws -> SQLiteBaseline.Fold {
        let query: PostgresQuery =
            "SELECT seq_id, id, stream_id, version, type, occurred_at, timestamp, actor_id, actor_role, data FROM mt_events WHERE stream_id = \(patient) ORDER BY version"
        var events: [Recorded] = []
        let decoder = JSONDecoder()
        do {
            let rows = try await connection.query(query, logger: logger)
            for try await row in rows {
                events.append(try PostgresPeer.recorded(row, .kstoreParser, decoder: decoder, sequenceBase: sequenceBase, now: now))
            }
        } catch let e as BenchFailure {
            throw e
        } catch {
            throw BenchFailure("PostgreSQL: stream \(patient): \(describePostgres(error))")
        }
        let (phase, monitoring) = PatientProjection.fold(
            patient: patient, events: events, rules: rules, through: nil, recordedAtOrBefore: nil, amend: PhaseProjection.standardAmend)
        return SQLiteBaseline.Fold(phase: phase, monitoring: monitoring)
    }
}

/// Wall seconds of an async `body` (monotonic clock).
@MainActor
func timedAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}
