import PostgresNIO

/// The `kstore` schema in PostgreSQL (ship.md's tables), created when absent and versioned in
/// `kstore.schema_version`; a schema of another version is refused (exit 65), never altered.
enum Schema {
    static let version = 1

    /// Every statement of version 1, run in one transaction (under an advisory lock, so two
    /// shippers starting at once do not both create it).
    static let statements: [String] = [
        "CREATE SCHEMA IF NOT EXISTS kstore",
        "CREATE TABLE kstore.schema_version (version integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
        """
        CREATE TABLE kstore.sites (
            site text PRIMARY KEY CHECK (site ~ '^[a-z0-9-]{1,32}$'),
            store_id text NOT NULL,
            first_shipped timestamptz NOT NULL DEFAULT now(),
            last_shipped timestamptz NOT NULL DEFAULT now(),
            last_seen timestamptz NOT NULL DEFAULT now(),
            shipped_through bigint NOT NULL DEFAULT 0,
            head_hash bytea,
            projections_through bigint NOT NULL DEFAULT 0,
            projections_on date,
            projections_at timestamptz
        )
        """,
        """
        CREATE TABLE kstore.events (
            -- No foreign key to sites: the batch's transaction holds the site's row locked, and a
            -- per-row check would cost a fifth of the ingest (BENCHMARKS.md).
            site text NOT NULL,
            sequence bigint NOT NULL,
            event_id uuid NOT NULL,
            stream text NOT NULL,
            stream_version bigint NOT NULL,
            type text NOT NULL,
            occurred_at timestamptz NOT NULL,
            clinical_date date NOT NULL,
            recorded_at timestamptz NOT NULL,
            actor_id text NOT NULL,
            actor_role text NOT NULL,
            os_user text NOT NULL,
            data jsonb NOT NULL,
            hash bytea NOT NULL,
            record bytea NOT NULL,
            -- When the row was written into the copy (the shipping transaction commits right after).
            shipped_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (site, sequence)
        )
        """,
        """
        CREATE TABLE kstore.phase (
            site text NOT NULL REFERENCES kstore.sites (site),
            patient text NOT NULL,
            protocol text,
            phase text,
            status text,
            week_of_treatment integer,
            response_status text,
            baseline_madrs integer,
            nadir_madrs integer,
            latest_madrs integer,
            interval_days integer,
            treatments_at_interval integer,
            required_before_extension integer,
            next_infusion_due date,
            infusion_overdue_days integer NOT NULL DEFAULT 0,
            document jsonb NOT NULL,
            evaluated_on date NOT NULL,
            through_sequence bigint NOT NULL,
            PRIMARY KEY (site, patient)
        )
        """,
        """
        CREATE TABLE kstore.due (
            site text NOT NULL REFERENCES kstore.sites (site),
            patient text NOT NULL,
            item text NOT NULL,
            session text NOT NULL DEFAULT '',
            last_done date,
            due_from date,
            due_by date,
            status text NOT NULL,
            evaluated_on date NOT NULL,
            through_sequence bigint NOT NULL,
            document jsonb NOT NULL,
            PRIMARY KEY (site, patient, item, session)
        )
        """,
        """
        CREATE TABLE kstore.inventory (
            site text NOT NULL REFERENCES kstore.sites (site),
            lot text NOT NULL,
            drug text,
            balance_mg numeric,
            received_mg numeric,
            given_mg numeric,
            last_count_on date,
            last_done date,
            due_from date,
            due_by date,
            status text,
            evaluated_on date NOT NULL,
            through_sequence bigint NOT NULL,
            document jsonb NOT NULL,
            PRIMARY KEY (site, lot)
        )
        """,
        // No index by stream: inserting into one costs half the ingest (BENCHMARKS.md); a network
        // that reads patients' events in SQL adds it (README).
        // recordedAt never decreases in log order: a BRIN index costs next to nothing per row.
        "CREATE INDEX events_recorded ON kstore.events USING brin (recorded_at)",
        "CREATE INDEX due_status ON kstore.due (status, site)",
        """
        CREATE VIEW kstore.overdue (site, patient, item, due_by, days_overdue) AS
            SELECT site, patient, item, due_by, evaluated_on - due_by
              FROM kstore.due WHERE status = 'overdue'
            UNION ALL
            SELECT site, patient, 'infusion', next_infusion_due, infusion_overdue_days
              FROM kstore.phase WHERE infusion_overdue_days > 0
        """,
        "INSERT INTO kstore.schema_version (version) VALUES (\(version))",
    ]

    /// Creates the schema when `kstore.schema_version` is absent; refuses another version.
    static func ensure(_ connection: PostgresConnection, url: ShipURL) async throws {
        if let found = try await currentVersion(connection) {
            guard found == version else { throw mismatch(found) }
            return
        }
        try await connection.run("BEGIN")
        do {
            try await connection.run("SELECT pg_advisory_xact_lock(727172601)")
            if let found = try await currentVersion(connection) {
                try await connection.run("ROLLBACK")
                guard found == version else { throw mismatch(found) }
                return
            }
            for s in statements { try await connection.run(PostgresQuery(unsafeSQL: s)) }
            try await connection.run("COMMIT")
        } catch {
            _ = try? await connection.run("ROLLBACK")
            throw error
        }
    }

    static func mismatch(_ found: Int) -> ShipError {
        .refused("the database's kstore schema is version \(found); this kstore writes version \(version); nothing was written")
    }

    /// The version in `kstore.schema_version`, nil when that table does not exist.
    static func currentVersion(_ connection: PostgresConnection) async throws -> Int? {
        let rows = try await connection.run("SELECT to_regclass('kstore.schema_version') IS NOT NULL")
        var exists = false
        for try await (e) in rows.decode(Bool.self) { exists = e }
        guard exists else { return nil }
        let versions = try await connection.run("SELECT max(version) FROM kstore.schema_version")
        var found: Int?
        for try await (v) in versions.decode(Int?.self) { found = v }
        return found ?? 0
    }
}
