import Foundation
import Glibc
import Testing

/// `kstore ship` against a real PostgreSQL (one scratch cluster per test run, a fresh database
/// per test), driving the built `kstore` and `kstore-drill` executables.
@Suite(.serialized) struct ShipTests {
    func events(_ store: String) throws -> Int {
        let r = try kstore(["audit", "verify", "--store", store, "--json"])
        let doc = try #require(try parseJSON(r.stdout) as? [String: Any])
        return try #require(doc["events"] as? Int)
    }

    @Test func shipThenResumeShipsEveryEventExactlyOnce() throws {
        let db = try Scratch.database()
        let store = try makeStore(Array(caseFixtures.prefix(2)))
        defer { try? FileManager.default.removeItem(atPath: store) }
        let first = try events(store)
        let r1 = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--batch", "97", "--json"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let doc = try #require(try parseJSON(r1.stdout) as? [String: Any])
        #expect(doc["site"] as? String == "clinic-a")
        #expect(doc["shipped"] as? Int == first)
        #expect(doc["throughSequence"] as? Int == first)
        #expect(doc["seconds"] is Double || doc["seconds"] is Int)
        #expect(try Scratch.psql(db.name, "SELECT count(*), max(sequence) FROM kstore.events") == "\(first)|\(first)")

        // Nothing new: nothing shipped. Then more events: only those.
        let r2 = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--json"])
        #expect(r2.status == 0)
        #expect((try parseJSON(r2.stdout) as? [String: Any])?["shipped"] as? Int == 0)
        let imported = try kstore([
            "import", "--store", store, packageRoot.appendingPathComponent("fixtures/\(caseFixtures[2])").path,
        ])
        #expect(imported.status == 0)
        let second = try events(store)
        // The password may come from PGPASSWORD, the URL from KSTORE_SHIP_URL.
        let password = try #require(URLComponents(string: db.url)?.password)
        let r3 = try kstore(
            ["ship", "--store", store, "--site", "clinic-a", "--json"],
            environment: ["KSTORE_SHIP_URL": db.url.replacingOccurrences(of: ":\(password)@", with: "@"), "PGPASSWORD": password])
        #expect(r3.status == 0, "\(r3.stderr)")
        #expect((try parseJSON(r3.stdout) as? [String: Any])?["shipped"] as? Int == second - first)
        #expect(
            try Scratch.psql(db.name, "SELECT count(*), count(DISTINCT event_id), max(sequence) FROM kstore.events")
                == "\(second)|\(second)|\(second)")
        #expect(try Scratch.psql(db.name, "SELECT shipped_through, store_id IS NOT NULL FROM kstore.sites") == "\(second)|t")
        let v = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--verify", "--json"])
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        #expect((try parseJSON(v.stdout) as? [String: Any])?["ok"] as? Bool == true)
        // The password is never printed nor kept in the access log.
        for text in [r1.stdout, r1.stderr, r2.stdout, r3.stdout, v.stdout] { #expect(!text.contains(password)) }
        let access = try kstore(["audit", "access", "--store", store])
        #expect(!access.stdout.contains(password))
        #expect(access.stdout.contains("kstore ship"))

        // The events' columns: the import format's data, the clinical date in the event's own offset.
        let row = try Scratch.psql(
            db.name,
            "SELECT type, clinical_date, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), jsonb_typeof(data), length(hash) FROM kstore.events WHERE sequence = (SELECT min(sequence) FROM kstore.events WHERE stream NOT LIKE '$%')"
        )
        let log = try kstore(["log", "--store", store, "--json"])
        let all = try #require(try parseJSON(log.stdout) as? [[String: Any]])
        let firstPatient = try #require(all.first { ($0["patient"] as? String).map { !$0.isEmpty && !$0.hasPrefix("$") } ?? false })
        let occurred = try #require(firstPatient["occurredAt"] as? String)
        #expect(row.hasPrefix("\(firstPatient["type"] as? String ?? "")|\(occurred.prefix(10))|"))
        #expect(row.hasSuffix("|object|32"))
        let dataInDB = try Scratch.psql(db.name, "SELECT data FROM kstore.events WHERE sequence = \(firstPatient["sequence"] as? Int ?? 0)")
        #expect(try canonical(try parseJSON(dataInDB)) == (try canonical(firstPatient["data"] ?? [:])))
    }

    @Test func projectionsInTheDatabaseEqualTheQueries() throws {
        let db = try Scratch.database()
        let store = try makeStore(caseFixtures + ["sessions-clinic.ndjson"])
        defer { try? FileManager.default.removeItem(atPath: store) }
        let r = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a"])
        #expect(r.status == 0, "\(r.stderr)")
        for (kind, table) in [("phase", "phase"), ("due", "due")] {
            let local = try #require(try parseJSON(try kstore(["query", kind, "--store", store, "--json"]).stdout) as? [Any])
            let inDB = try #require(
                try parseJSON(try Scratch.psql(db.name, "SELECT coalesce(jsonb_agg(document), '[]') FROM kstore.\(table)")) as? [Any])
            #expect(try local.map(canonical).sorted() == inDB.map(canonical).sorted(), "\(kind)")
            #expect(!local.isEmpty)
        }
        let inventory = try parseJSON(try kstore(["query", "inventory", "--store", store, "--json"]).stdout)
        let inDB = try parseJSON(try Scratch.psql(db.name, "SELECT document FROM kstore.inventory WHERE lot = ''"))
        #expect(try canonical(inventory) == canonical(inDB))
        let lots = try #require((inventory as? [String: Any])?["lots"] as? [Any])
        #expect(try Scratch.psql(db.name, "SELECT count(*) FROM kstore.inventory WHERE lot <> ''") == "\(lots.count)")
        // Columns from the documents.
        let phase = try #require(try parseJSON(try kstore(["query", "phase", "--store", store, "--json"]).stdout) as? [[String: Any]])
        let c1 = try #require(phase.first)
        let cols = try Scratch.psql(
            db.name,
            "SELECT status, phase, coalesce(next_infusion_due::text, '-') FROM kstore.phase WHERE patient = '\(c1["patient"] ?? "")'")
        #expect(cols == "\(c1["status"] ?? "")|\(c1["phase"] ?? "")|\(c1["nextInfusionDue"] as? String ?? "-")")
    }

    @Test func aStoreRewrittenAfterShippingIsRefusedAndVerifyNamesTheSequence() throws {
        let db = try Scratch.database()
        let store = try makeStore(caseFixtures)
        defer { try? FileManager.default.removeItem(atPath: store) }
        let n = try events(store)
        #expect(try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a"]).status == 0)
        // Rewritten from 700 on with recomputed hashes: `audit verify` alone passes.
        let t = try run(try executable("kstore-drill"), ["tamper", "--store", store, "--mode", "rewrite", "--at", "700"])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(try kstore(["audit", "verify", "--store", store]).status == 0)
        let s = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a"])
        #expect(s.status == 1)
        #expect(s.stderr.contains("diverged at sequence \(n)"), "\(s.stderr)")
        let v = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--verify", "--json"])
        #expect(v.status == 1)
        let doc = try #require(try parseJSON(v.stdout) as? [String: Any])
        #expect(doc["firstDifference"] as? Int == 700)
        #expect(doc["ok"] as? Bool == false)
        #expect(v.stderr.contains("sequence 700"))
        #expect(try Scratch.psql(db.name, "SELECT count(*) FROM kstore.events") == "\(n)")

        // The copy's own chain: a row changed in the database is named too.
        let db2 = try Scratch.database()
        let clean = try makeStore(Array(caseFixtures.prefix(1)))
        defer { try? FileManager.default.removeItem(atPath: clean) }
        #expect(try kstore(["ship", "--store", clean, "--to", db2.url, "--site", "clinic-b"]).status == 0)
        try Scratch.psql(db2.name, "UPDATE kstore.events SET record = record || '\\x00'::bytea WHERE sequence = 42")
        let v2 = try kstore(["ship", "--store", clean, "--to", db2.url, "--site", "clinic-b", "--verify", "--json"])
        #expect(v2.status == 1)
        let problems = try #require((try parseJSON(v2.stdout) as? [String: Any])?["problems"] as? [[String: Any]])
        #expect(problems.first?["sequence"] as? Int == 42)
        #expect(problems.first?["kind"] as? String == "copy-chain")
    }

    @Test func anotherStoreUnderAUsedSiteIsRefused() throws {
        let db = try Scratch.database()
        let a = try makeStore(Array(caseFixtures.prefix(1)))
        let b = try makeStore(Array(caseFixtures.suffix(1)))
        defer {
            try? FileManager.default.removeItem(atPath: a)
            try? FileManager.default.removeItem(atPath: b)
        }
        #expect(try kstore(["ship", "--store", a, "--to", db.url, "--site", "clinic-a"]).status == 0)
        let before = try Scratch.psql(db.name, "SELECT count(*), max(last_shipped) FROM kstore.events, kstore.sites")
        let r = try kstore(["ship", "--store", b, "--to", db.url, "--site", "clinic-a"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("site clinic-a is bound to store"), "\(r.stderr)")
        #expect(try Scratch.psql(db.name, "SELECT count(*), max(last_shipped) FROM kstore.events, kstore.sites") == before)
        // Under its own site it ships.
        #expect(try kstore(["ship", "--store", b, "--to", db.url, "--site", "clinic-b"]).status == 0)
        #expect(try Scratch.psql(db.name, "SELECT count(*) FROM kstore.sites") == "2")
    }

    @Test func aSiteRoleUnderRowLevelSecurityShipsItsOwnSiteOnly() throws {
        let db = try Scratch.database()
        let a = try makeStore(Array(caseFixtures.prefix(1)))
        let b = try makeStore(Array(caseFixtures.suffix(1)))
        defer {
            try? FileManager.default.removeItem(atPath: a)
            try? FileManager.default.removeItem(atPath: b)
        }
        // The owner's first ship creates the schema (README, "Setting up the network's database").
        #expect(try kstore(["ship", "--store", a, "--to", db.url, "--site", "north"]).status == 0)
        let role = "ship_south_\(db.name)"
        let password = "pw-\(db.name)"
        try Scratch.psql(
            db.name,
            """
            CREATE ROLE \(role) LOGIN PASSWORD '\(password)';
            GRANT USAGE ON SCHEMA kstore TO \(role);
            GRANT SELECT ON kstore.schema_version TO \(role);
            GRANT SELECT, INSERT ON kstore.events TO \(role);
            GRANT SELECT, INSERT, UPDATE ON kstore.sites TO \(role);
            GRANT SELECT, INSERT, UPDATE, DELETE ON kstore.phase, kstore.due, kstore.inventory TO \(role);
            CREATE TABLE kstore.site_roles (role name PRIMARY KEY, site text NOT NULL);
            INSERT INTO kstore.site_roles VALUES ('\(role)', 'south');
            GRANT SELECT ON kstore.site_roles TO \(role);
            DO $$ DECLARE t text; BEGIN
              FOREACH t IN ARRAY ARRAY['sites', 'events', 'phase', 'due', 'inventory'] LOOP
                EXECUTE format('ALTER TABLE kstore.%I ENABLE ROW LEVEL SECURITY', t);
                EXECUTE format($p$CREATE POLICY own_site ON kstore.%I
                  USING (site = (SELECT site FROM kstore.site_roles WHERE role = current_user))
                  WITH CHECK (site = (SELECT site FROM kstore.site_roles WHERE role = current_user))$p$, t);
              END LOOP; END $$;
            """)
        let base = try #require(URLComponents(string: db.url))
        let url = "postgresql://\(role):\(password)@127.0.0.1:\(base.port ?? 0)/\(db.name)?sslmode=disable"
        let own = try kstore(["ship", "--store", b, "--to", url, "--site", "south", "--json"])
        #expect(own.status == 0, "\(own.stderr)")
        #expect(try kstore(["ship", "--store", b, "--to", url, "--site", "south", "--verify"]).status == 0)
        let before = try Scratch.psql(db.name, "SELECT count(*) FROM kstore.events WHERE site = 'north'")
        // Another site's rows: refused by the policies (77), nothing written.
        let other = try kstore(["ship", "--store", a, "--to", url, "--site", "north"])
        #expect(other.status == 77, "\(other.stderr)")
        #expect(try Scratch.psql(db.name, "SELECT count(*) FROM kstore.events WHERE site = 'north'") == before)
        #expect(try Scratch.psql(db.name, "SELECT count(*) > 0 FROM kstore.phase WHERE site = 'south'") == "t")
    }

    @Test func threeSitesIntoOneDatabaseOverdueIsTheUnionOfEachSite() throws {
        let db = try Scratch.database()
        var expected: [String] = []
        var stores: [String] = []
        defer { for s in stores { try? FileManager.default.removeItem(atPath: s) } }
        for (i, site) in ["north", "south", "east"].enumerated() {
            let file = try generatedClinic(patients: 6, seed: 20 + i)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let store = try makeStore([file])
            stores.append(store)
            let r = try kstore(["ship", "--store", store, "--to", db.url, "--site", site])
            #expect(r.status == 0, "\(r.stderr)")
            let due = try #require(
                try parseJSON(try kstore(["query", "due", "--store", store, "--status", "overdue", "--json"]).stdout) as? [[String: Any]])
            for d in due { expected.append("\(site)|\(d["patient"] ?? "")|\(d["item"] ?? "")|\(d["dueBy"] as? String ?? "")") }
            let phase = try #require(try parseJSON(try kstore(["query", "phase", "--store", store, "--json"]).stdout) as? [[String: Any]])
            for p in phase where (p["infusionOverdueDays"] as? Int ?? 0) > 0 {
                expected.append("\(site)|\(p["patient"] ?? "")|infusion|\(p["nextInfusionDue"] as? String ?? "")")
            }
        }
        let rows = try Scratch.psql(db.name, "SELECT site, patient, item, coalesce(due_by::text, '') FROM kstore.overdue")
        let got = rows.split(separator: "\n").map(String.init).sorted()
        #expect(got == expected.sorted())
        #expect(!expected.isEmpty)
        #expect(Set(got.map { $0.split(separator: "|")[0] }).count == 3)
    }

    @Test func unavailableDatabasesGive69AndAnotherSchemaVersion65() throws {
        let db = try Scratch.database()
        let store = try makeStore(Array(caseFixtures.prefix(1)))
        defer { try? FileManager.default.removeItem(atPath: store) }
        let password = try #require(URLComponents(string: db.url)?.password)
        let wrong = db.url.replacingOccurrences(of: ":\(password)@", with: ":not-\(password)@")
        let refusedPort = "postgresql://kstore:\(password)@127.0.0.1:1/\(db.name)?sslmode=disable"
        let tls = db.url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        let noDB = db.url.replacingOccurrences(of: "/\(db.name)?", with: "/nosuchdb?")
        for (what, url) in [("wrong password", wrong), ("unreachable", refusedPort), ("TLS refused", tls), ("no database", noDB)] {
            let r = try kstore(["ship", "--store", store, "--to", url, "--site", "clinic-a"])
            #expect(r.status == 69, "\(what): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(what): \(r.stderr)")
            #expect(!r.stderr.contains(password), "\(what)")
            #expect(r.stdout.isEmpty)
        }
        #expect(try Scratch.psql(db.name, "SELECT to_regclass('kstore.events') IS NULL") == "t")
        // A schema of another version: 65, naming both, nothing written.
        #expect(try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a"]).status == 0)
        try Scratch.psql(db.name, "UPDATE kstore.schema_version SET version = 99")
        let before = try Scratch.psql(db.name, "SELECT last_shipped FROM kstore.sites")
        let r = try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("version 99") && r.stderr.contains("version 1"), "\(r.stderr)")
        #expect(try Scratch.psql(db.name, "SELECT last_shipped FROM kstore.sites") == before)
        // Bad usage.
        #expect(try kstore(["ship", "--store", store, "--to", db.url, "--site", "Clinic_A"]).status == 64)
        #expect(try kstore(["ship", "--store", store, "--to", "mysql://x@y/z", "--site", "a"]).status == 64)
    }

    @Test func followShipsAnAppendWithinASecondSurvivesARestartAndStopsOnSIGTERM() throws {
        let db = try Scratch.database()
        let store = try makeStore(Array(caseFixtures.prefix(1)))
        defer { try? FileManager.default.removeItem(atPath: store) }
        let p = try Child.spawn(
            try executable("kstore"), ["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--follow", "--json"])
        var finished = false
        defer {
            if !finished {
                kill(p.pid, SIGKILL)
                _ = p.finish()
            }
        }
        func count() throws -> Int { Int((try? Scratch.psql(db.name, "SELECT count(*) FROM kstore.events")) ?? "") ?? -1 }
        func waitFor(_ n: Int, seconds: Double) throws -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if try count() == n { return Date().timeIntervalSince(start) }
                usleep(50_000)
            }
            return nil
        }
        let n0 = try events(store)
        #expect(try waitFor(n0, seconds: 20) != nil)
        // One append: visible within a second of its commit.
        let append = try kstore([
            "append", "--store", store, "--patient", "C1", "--type", "VitalsRecorded", "--at", "2026-01-05T09:30:00-05:00",
            "--actor", "rn.kim", "--role", "nurse", "--data", #"{"systolic":120,"diastolic":80,"heartRate":70}"#,
        ])
        #expect(append.status == 0, "\(append.stderr)")
        let seen = try waitFor(n0 + 1, seconds: 5)
        #expect(seen.map { $0 < 1.0 } == true, "visible after \(seen.map { "\($0) s" } ?? "never")")

        // PostgreSQL restarts; the next appends arrive after the reconnection.
        try Scratch.restart()
        let more = try kstore(["import", "--store", store, packageRoot.appendingPathComponent("fixtures/\(caseFixtures[1])").path])
        #expect(more.status == 0)
        let n1 = try events(store)
        #expect(try waitFor(n1, seconds: 30) != nil)

        kill(p.pid, SIGTERM)
        let result = p.finish()
        finished = true
        #expect(result.status == 0)
        let stdout = result.stdout
        let stderr = result.stderr
        #expect(stderr.contains("retrying in 1 s"), "\(stderr)")
        #expect(stderr.contains("reconnected"), "\(stderr)")
        let doc = try #require(try parseJSON(stdout) as? [String: Any])
        #expect(doc["throughSequence"] as? Int == n1)
        #expect(try Scratch.psql(db.name, "SELECT count(*), max(sequence) FROM kstore.events") == "\(n1)|\(n1)")
        #expect(try kstore(["ship", "--store", store, "--to", db.url, "--site", "clinic-a", "--verify"]).status == 0)
    }

    @Test func shipDrillShort() throws {
        _ = try Scratch.baseURL()
        let bin = URL(fileURLWithPath: try executable("kstore")).deletingLastPathComponent().path
        let r = try run("/bin/bash", [packageRoot.appendingPathComponent("tools/ship-drill.sh").path, "41", "3", "1", bin])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("PASS: ship drill"))
    }
}
