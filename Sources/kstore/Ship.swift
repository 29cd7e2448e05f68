import ArgumentParser
import Foundation
import KApp
import KShip

/// `kstore ship` (ship.md): the log and its projections into a network's PostgreSQL.
struct Ship: AsyncStoreCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ship the log into PostgreSQL (schema kstore), exactly once, batch by batch; --verify compares the copy.",
        discussion: """
            URL: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require|verify-full] \
            (default sslmode require), else $KSTORE_SHIP_URL; the password may come from $PGPASSWORD \
            and is never printed. --follow keeps shipping new events within a second until SIGTERM \
            or SIGINT, reconnecting with backoff. Exit 1: the store and its copy have diverged; 65: a \
            schema of another version, or the site bound to another store; 69: no database, wrong \
            credentials, refused TLS.
            """)
    @OptionGroup var options: StoreOptions
    @Option(help: "The database URL (default: $KSTORE_SHIP_URL).") var to: String?
    @Option(help: "The clinic's name in the network ([a-z0-9-]{1,32}).") var site: String
    @Flag(help: "Keep shipping new events until SIGTERM or SIGINT.") var follow = false
    @Option(help: "Events per PostgreSQL transaction.") var batch = 10_000
    @Flag(help: "Compare the copy with the local log and check the copy's chain.") var verify = false
    @Option(help: .hidden) var insert = "copy"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard ShipOptions.isValidSite(site) else {
            throw ValidationError("--site must match ^[a-z0-9-]{1,32}$ (lowercase letters, digits, hyphens), not \(site)")
        }
        guard batch >= 1, batch <= 1_000_000 else { throw ValidationError("--batch must be from 1 to 1000000") }
        guard ShipOptions.InsertMethod(rawValue: insert) != nil else { throw ValidationError("--insert must be copy or unnest") }
        guard !(verify && follow) else { throw ValidationError("--verify and --follow do not go together") }
        guard to != nil || ProcessInfo.processInfo.environment["KSTORE_SHIP_URL"].map({ !$0.isEmpty }) == true else {
            throw ValidationError("give the database with --to URL or KSTORE_SHIP_URL")
        }
    }

    func run(_ store: ClinicStore) async throws {
        let text = to ?? ProcessInfo.processInfo.environment["KSTORE_SHIP_URL"] ?? ""
        do {
            var o = ShipOptions(url: try ShipURL(text), site: site)
            o.follow = follow
            o.batch = batch
            o.insert = ShipOptions.InsertMethod(rawValue: insert) ?? .copy
            let stop = StopSignal()
            stop.install()
            let shipper = Shipper(store: store, options: o, stop: stop) { Output.error($0) }
            if verify {
                let report = try await shipper.verify()
                if json {
                    Output.json(report.json)
                } else if report.ok {
                    Output.line(
                        "site \(site): the copy's \(report.copyEvents) events equal the local log's (\(report.localEvents) locally) and its chain holds"
                    )
                } else {
                    for p in report.problems.sorted(by: { $0.sequence < $1.sequence }) {
                        Output.line("sequence \(p.sequence): \(p.kind): \(p.detail)")
                    }
                }
                if let first = report.firstDifference {
                    Output.error("site \(site): the copy and the local log differ first at sequence \(first)")
                    throw ExitCode(1)
                }
                return
            }
            let report = try await shipper.run()
            // Shipping reads every patient's record; the command is logged without the URL's password.
            do {
                try AccessLog.record(
                    store, command: "kstore ship --to \(o.url.description) --site \(site)\(follow ? " --follow" : "")",
                    patients: try LogReading.patients(store))
            } catch {
                throw AppError.internal("could not record this read in the access log (\(error))")
            }
            if json {
                Output.json(report.json)
            } else {
                Output.line(
                    "site \(site): shipped \(report.shipped) event(s), through sequence \(report.throughSequence), in \(String(format: "%.2f", report.seconds)) s"
                )
            }
        } catch let e as ShipError {
            Output.error(e.description)
            throw ExitCode(e.exitCode)
        }
    }
}
