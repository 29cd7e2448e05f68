import KShip
import Testing

/// The URL and the site name, without a database.
struct ShipURLTests {
    @Test func parsesTheURLAndKeepsThePasswordOutOfItsDescription() throws {
        let u = try ShipURL("postgresql://ship%40a:s3cr%3At@db.example.org:6432/network?sslmode=verify-full", environment: [:])
        #expect(u.user == "ship@a")
        #expect(u.password == "s3cr:t")
        #expect(u.host == "db.example.org")
        #expect(u.port == 6432)
        #expect(u.database == "network")
        #expect(u.sslMode == .verifyFull)
        #expect(!u.description.contains("s3cr"))
        #expect(u.redact("error near s3cr:t and s3cr%3At") == "error near *** and ***")
    }

    @Test func passwordFromPGPASSWORDAndDefaults() throws {
        let u = try ShipURL("postgres://kstore@127.0.0.1/kstore", environment: ["PGPASSWORD": "pw"])
        #expect(u.password == "pw")
        #expect(u.port == 5432)
        #expect(u.sslMode == .require)
    }

    @Test func badURLsAreUsageErrors() {
        for bad in [
            "mysql://a@b/c", "postgresql://b/c", "postgresql://a@b", "postgresql://a@b/c?sslmode=prefer", "postgresql://a@b/c?x=1",
        ] {
            #expect(throws: ShipError.self) { try ShipURL(bad, environment: [:]) }
            if let e = try? ShipURL(bad, environment: [:]) { Issue.record("accepted \(bad): \(e)") }
        }
        do {
            _ = try ShipURL("mysql://a@b/c", environment: [:])
        } catch {
            #expect(error.exitCode == 64)
        }
    }

    @Test func siteNames() {
        for ok in ["a", "clinic-7", String(repeating: "x", count: 32)] { #expect(ShipOptions.isValidSite(ok), "\(ok)") }
        for bad in ["", "Clinic", "clinic_a", "clinic a", String(repeating: "x", count: 33), "é"] {
            #expect(!ShipOptions.isValidSite(bad), "\(bad)")
        }
    }
}
