import Foundation
import KApp
import KClinic
import NIOCore
import PostgresNIO

/// What `kstore ship` is asked to do.
public struct ShipOptions: Sendable {
    public enum InsertMethod: String, Sendable, CaseIterable {
        /// `COPY kstore.events FROM STDIN`, text format (the default: the faster, BENCHMARKS.md).
        case copy
        /// `INSERT … SELECT * FROM unnest($2::bigint[], …)`, one array bind per column.
        case unnest
    }

    public var url: ShipURL
    public var site: String
    public var follow = false
    public var batch = 10_000
    public var insert = InsertMethod.copy
    /// How often `--follow` looks for new commits.
    public var pollInterval: Duration = .milliseconds(100)
    /// `--follow`: the shortest time between two refreshes of the inventory (its ledger is rebuilt
    /// from the whole log).
    public var inventoryInterval: Duration = .seconds(10)

    public init(url: ShipURL, site: String) {
        self.url = url
        self.site = site
    }

    /// ship.md's site name: `^[a-z0-9-]{1,32}$`.
    public static func isValidSite(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return !u.isEmpty && u.count <= 32 && u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}

/// `{"site", "shipped", "throughSequence", "seconds"}`.
public struct ShipReport: Sendable {
    public var site: String
    public var shipped: UInt64
    public var throughSequence: UInt64
    public var seconds: Double

    public var json: JSONValue {
        .object([
            ("site", .string(site)), ("shipped", .int(Int64(shipped))), ("throughSequence", .int(Int64(throughSequence))),
            ("seconds", .double((seconds * 1000).rounded() / 1000)),
        ])
    }
}

/// Ships one store's log into PostgreSQL (ship.md). Each batch is one PostgreSQL transaction
/// that locks the site's row, checks that the copy ends where this process thinks it does and
/// with the hash the local log has there, writes the events and moves `shipped_through` and
/// `head_hash` with them: whatever is killed when, each event is in the copy once.
public final class Shipper {
    let store: ClinicStore
    let options: ShipOptions
    let stop: StopSignal
    /// A line for standard error (retries, reconnections).
    let say: (String) -> Void

    var connection: PostgresConnection?
    /// The copy's `shipped_through` and `head_hash` as last read or written.
    var shippedThrough: UInt64 = 0
    var headHash: [UInt8]?
    var shipped: UInt64 = 0
    /// Patients whose projections are stale in the database (touched by shipped events).
    var touched: Set<String> = []
    var ledgerDirty = false
    var rulesDirty = false
    /// The day of the last refresh of every patient in this run (nil: none yet).
    var fullRefreshDay: Day?
    var lastInventory: ContinuousClock.Instant?
    /// Time spent reading batches from the log and sending them (KSTORE_SHIP_TIMING=1 prints them).
    var readTime: Duration = .zero
    /// The batch after the one being sent, read while it was sent.
    var prefetched: [ShipRecord]?
    var sendTime: Duration = .zero
    /// The insert in use: `options.insert`, unless row-level security applies to this role on
    /// `kstore.events` (PostgreSQL refuses COPY FROM there): then `unnest`.
    var insert = ShipOptions.InsertMethod.copy
    /// `--follow`: when `sites.last_seen` was last moved (every minute, even with nothing to ship).
    var lastSeen: ContinuousClock.Instant?

    public init(store: ClinicStore, options: ShipOptions, stop: StopSignal, say: @escaping (String) -> Void) {
        self.store = store
        self.options = options
        self.stop = stop
        self.say = say
    }

    var site: String { options.site }
    var url: ShipURL { options.url }

    // MARK: Running

    public func run() async throws(ShipError) -> ShipReport {
        let started = ContinuousClock.now
        do {
            try await open()
            if options.follow {
                try await follow()
            } else {
                while !stop.isSet {
                    let n = try await shipBatch()
                    if n < options.batch { break }
                }
                try await refresh(patients: nil, ledger: true)
            }
        } catch {
            await close()
            throw classify(error)
        }
        await close()
        if ProcessInfo.processInfo.environment["KSTORE_SHIP_TIMING"] == "1" {
            say("timing: reading the log \(readTime), sending \(sendTime)")
        }
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        return ShipReport(site: site, shipped: shipped, throughSequence: shippedThrough, seconds: seconds)
    }

    func classify(_ error: any Error) -> ShipError {
        if let e = error as? ShipError { return e }
        if let e = error as? AppError { return .internal(e.description) }
        if Link.isPermissionDenied(error) {
            return .notPermitted(Link.sentence(error, url: url, connecting: false) + "; nothing more was written")
        }
        if Link.isConnectionLoss(error, connection) {
            return .unavailable(Link.sentence(error, url: url, connecting: false))
        }
        return .internal(url.redact(Link.sentence(error, url: url, connecting: false)))
    }

    /// The connection, unless the server has closed it (a query on a closed postgres-nio
    /// connection may never answer, so it is checked before every transaction).
    func live() throws -> PostgresConnection {
        guard let c = connection, !c.isClosed else { throw ShipError.unavailable("lost the connection to PostgreSQL at \(url.endpoint)") }
        return c
    }

    func close() async {
        if let c = connection {
            try? await c.close()
            connection = nil
        }
    }

    /// Connects, checks the schema, binds or checks the site and the hash at its shipped-through.
    func open() async throws {
        let c = try await Link.connect(url)
        connection = c
        try await Schema.ensure(c, url: url)
        insert = options.insert
        if insert == .copy {
            let rls = try await c.run(
                """
                SELECT c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls OR (pg_has_role(c.relowner, 'USAGE') AND NOT c.relforcerowsecurity))
                FROM pg_class c, pg_roles r WHERE c.oid = 'kstore.events'::regclass AND r.rolname = current_user
                """)
            for try await (applies) in rls.decode(Bool.self) where applies { insert = .unnest }
        }
        try await bind(c)
    }

    /// The site's row: created with this store's id on the first ship; another store's id is
    /// refused; the local event at its shipped-through must carry its head hash.
    func bind(_ c: PostgresConnection) async throws {
        let id = store.storeIdHex
        try await c.run(
            "INSERT INTO kstore.sites (site, store_id) VALUES (\(site), \(id)) ON CONFLICT (site) DO NOTHING")
        guard let row = try await siteRow(c, lock: false) else {
            throw ShipError.internal("the site \(site) vanished from kstore.sites")
        }
        guard row.storeId == id else {
            throw ShipError.refused(
                "site \(site) is bound to store \(row.storeId), not to this store (\(id)): ship each store under its own site; nothing was written"
            )
        }
        try checkHash(through: row.shippedThrough, hash: row.headHash)
        shippedThrough = row.shippedThrough
        headHash = row.headHash
    }

    struct SiteRow: Sendable {
        var storeId: String
        var shippedThrough: UInt64
        var headHash: [UInt8]?
    }

    func siteRow(_ c: PostgresConnection, lock: Bool) async throws -> SiteRow? {
        try await Shipper.siteRow(c, site: site, lock: lock)
    }

    static func siteRow(_ c: PostgresConnection, site: String, lock: Bool) async throws -> SiteRow? {
        let rows =
            lock
            ? try await c.run(
                "SELECT store_id, shipped_through, head_hash FROM kstore.sites WHERE site = \(site) FOR UPDATE")
            : try await c.run("SELECT store_id, shipped_through, head_hash FROM kstore.sites WHERE site = \(site)")
        var found: SiteRow?
        for try await (store, through, hash) in rows.decode((String, Int64, ByteBuffer?).self) {
            found = SiteRow(storeId: store, shippedThrough: UInt64(max(0, through)), headHash: hash.map { Array($0.readableBytesView) })
        }
        return found
    }

    /// The local event at `through` must have `hash` (ship.md: else the two have diverged).
    func checkHash(through: UInt64, hash: [UInt8]?) throws {
        guard through > 0 else { return }
        let local = try ShipSource.hash(store, at: through)
        guard let local else {
            throw ShipError.diverged(
                "the local store and its copy in \(url.description) have diverged at sequence \(through): the copy has shipped through \(through) but the local log ends at \(try ShipSource.head(store)); nothing was written"
            )
        }
        guard local == hash else {
            throw ShipError.diverged(
                "the local store and its copy in \(url.description) have diverged at sequence \(through): the local event's hash \(hexString(local).prefix(16))… is not the copy's \(hash.map { hexString($0).prefix(16) + "…" } ?? "(none)"); nothing was written"
            )
        }
    }

    // MARK: Batches

    /// Ships at most one batch from the copy's shipped-through on; returns how many events it read
    /// from the log (0 when there were none). While the batch is in PostgreSQL's hands, the next
    /// one is read from the log (on this task; the send runs as a child task on Sendable values).
    @discardableResult
    func shipBatch() async throws -> Int {
        let c = try live()
        let from = shippedThrough + 1
        let records: [ShipRecord]
        if let p = prefetched, p.first?.sequence == from {
            records = p
        } else {
            let t0 = ContinuousClock.now
            records = try ShipSource.batch(store, from: from, limit: options.batch)
            readTime += ContinuousClock.now - t0
        }
        prefetched = nil
        guard let last = records.last else { return 0 }
        let localHash = shippedThrough == 0 ? nil : try ShipSource.hash(store, at: shippedThrough)
        let t1 = ContinuousClock.now
        let (site, expected, expectedHash, insert) = (self.site, shippedThrough, headHash, self.insert)
        async let sending = Shipper.send(
            records, c, site: site, expected: expected, expectedHash: expectedHash, localHash: localHash, insert: insert)
        var next: [ShipRecord]?
        var readError: (any Error)?
        if records.count == options.batch {
            let t0 = ContinuousClock.now
            do { next = try ShipSource.batch(store, from: last.sequence + 1, limit: options.batch) } catch { readError = error }
            readTime += ContinuousClock.now - t0
        }
        let outcome = try await sending
        sendTime += ContinuousClock.now - t1
        if let readError { throw readError }
        switch outcome {
        case .moved(let row):
            // Another shipper of this store moved it: start again from where the copy ends.
            try checkHash(through: row.shippedThrough, hash: row.headHash)
            shippedThrough = row.shippedThrough
            headHash = row.headHash
            return try await shipBatch()
        case .diverged(let row):
            try checkHash(through: row.shippedThrough, hash: row.headHash)
            throw ShipError.internal("the copy's head hash at \(row.shippedThrough) is not the local one")
        case .committed:
            break
        }
        prefetched = next
        shippedThrough = last.sequence
        headHash = last.hash
        shipped += UInt64(records.count)
        for r in records {
            if let p = r.patient { touched.insert(p) }
            if r.touchesLedger { ledgerDirty = true }
            if r.touchesRules { rulesDirty = true }
        }
        return records.count
    }

    enum SendOutcome: Sendable {
        case committed
        /// The site's row is not where this process last saw it.
        case moved(SiteRow)
        /// The site's head hash is not the local log's hash at its shipped-through.
        case diverged(SiteRow)
    }

    /// One batch's transaction: lock the site's row, check it ends at `expected` with
    /// `expectedHash` = `localHash`, write the events, move the row, commit.
    static func send(
        _ records: [ShipRecord], _ c: PostgresConnection, site: String, expected: UInt64, expectedHash: [UInt8]?,
        localHash: [UInt8]?, insert: ShipOptions.InsertMethod
    ) async throws -> SendOutcome {
        guard let last = records.last else { return .committed }
        try await c.run("BEGIN")
        do {
            guard let row = try await siteRow(c, site: site, lock: true) else {
                throw ShipError.internal("the site \(site) vanished from kstore.sites")
            }
            if row.shippedThrough != expected || row.headHash != expectedHash {
                try await c.run("ROLLBACK")
                return .moved(row)
            }
            if row.shippedThrough > 0 && row.headHash != localHash {
                try await c.run("ROLLBACK")
                return .diverged(row)
            }
            switch insert {
            case .copy: try await copy(records, c, site: site)
            case .unnest: try await unnest(records, c, site: site)
            }
            let hash = ByteBuffer(bytes: last.hash)
            try await c.run(
                """
                UPDATE kstore.sites SET shipped_through = \(Int64(last.sequence)), head_hash = \(hash), last_shipped = now(),
                    last_seen = now()
                WHERE site = \(site)
                """)
            try await c.run("COMMIT")
            return .committed
        } catch {
            if !c.isClosed { _ = try? await c.run("ROLLBACK") }
            throw error
        }
    }

    static func copy(_ records: [ShipRecord], _ c: PostgresConnection, site: String) async throws {
        // postgres-nio quotes the table name whole, so the schema comes from the search path.
        try await c.run("SET LOCAL search_path TO kstore")
        try await c.copyFrom(table: "events", columns: CopyRows.columns, logger: Link.quiet) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for r in records {
                CopyRows.row(site: site, r, into: &buffer)
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    static func unnest(_ records: [ShipRecord], _ c: PostgresConnection, site: String) async throws {
        let query: PostgresQuery = """
            INSERT INTO kstore.events (site, sequence, event_id, stream, stream_version, type, occurred_at, clinical_date,
                recorded_at, actor_id, actor_role, os_user, data, hash, record)
            SELECT \(site), * FROM unnest(\(records.map { Int64($0.sequence) })::bigint[], \(records.map(\.eventId))::uuid[],
                \(records.map(\.stream))::text[], \(records.map { Int64($0.streamVersion) })::bigint[], \(records.map(\.type))::text[],
                \(records.map(\.occurredAt))::timestamptz[], \(records.map(\.clinicalDate))::date[],
                \(records.map(\.recordedAt))::timestamptz[], \(records.map(\.actorId))::text[], \(records.map(\.actorRole))::text[],
                \(records.map(\.osUser))::text[], \(records.map(\.dataJSON))::jsonb[], \(records.map { ByteBuffer(bytes: $0.hash) })::bytea[],
                \(records.map { ByteBuffer(bytes: $0.record) })::bytea[])
            """
        try await c.run(query)
    }

    // MARK: --follow

    func follow() async throws {
        var delay: Duration = .seconds(1)
        while !stop.isSet {
            do {
                if connection == nil {
                    try await open()
                    // A batch whose COMMIT's answer was lost may have committed: refresh everyone.
                    fullRefreshDay = nil
                    say("reconnected to PostgreSQL at \(url.endpoint); resuming after sequence \(shippedThrough)")
                    delay = .seconds(1)
                }
                let n = try await shipBatch()
                if n >= options.batch { continue }
                try await refreshIfDue()
                if n > 0 { lastSeen = .now }
                if lastSeen.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true {
                    try await live().run("UPDATE kstore.sites SET last_seen = now() WHERE site = \(site)")
                    lastSeen = .now
                }
                if n == 0 { try? await Task.sleep(for: options.pollInterval) }
            } catch {
                // A diverged store, another store's site, a schema of another version: fatal.
                if let e = error as? ShipError, case .unavailable = e {
                } else if !Link.isConnectionLoss(error, connection) {
                    throw error
                }
                let sentence = (error as? ShipError)?.description ?? Link.sentence(error, url: url, connecting: false)
                say("\(sentence); retrying in \(delay.components.seconds) s")
                if let c = connection {
                    try? await c.close()
                    connection = nil
                }
                try await sleepUnlessStopped(delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    func sleepUnlessStopped(_ d: Duration) async throws {
        let end = ContinuousClock.now + d
        while !stop.isSet, ContinuousClock.now < end {
            try? await Task.sleep(for: min(.milliseconds(100), end - ContinuousClock.now))
        }
    }

    /// In `--follow`, after each batch that reached the log's end: every patient when the day has
    /// changed (or not yet this run), else the patients touched since the last refresh.
    func refreshIfDue() async throws {
        let today = SystemClock.today()
        if fullRefreshDay != today || rulesDirty {
            try await refresh(patients: nil, ledger: true)
            fullRefreshDay = today
            return
        }
        let inventoryDue = ledgerDirty && lastInventory.map { ContinuousClock.now - $0 >= options.inventoryInterval } ?? true
        if !touched.isEmpty || inventoryDue {
            try await refresh(patients: touched, ledger: inventoryDue)
        }
    }
}

/// Lowercase hex.
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0x0F)])
    }
    return s
}
