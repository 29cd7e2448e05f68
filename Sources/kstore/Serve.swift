import ArgumentParser
import Foundation
import KApp
import KServer

/// `kstore serve`: the web interface and the HTTP API (web.md).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the web interface and the JSON API (web.md) from the store.",
        discussion: """
            Listens on 127.0.0.1:8480 by default. Any other address needs TLS (--tls-cert and \
            --tls-key, PEM). The OS user running it must be registered as an interface actor; it \
            records on behalf of the actors who sign in. SIGTERM stops it gracefully.
            """)
    @Option(help: "The store directory (default: $KSTORE_PATH, else ./kstore-data).") var store: String?
    @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8480"
    @Option(name: .customLong("tls-cert"), help: "The clinic's certificate chain (PEM).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Its private key (PEM, readable only by this OS user).") var tlsKey: String?

    func parsedListen() throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8480")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8480") }
        return (host, port)
    }

    func validate() throws { _ = try parsedListen() }

    func run() async throws {
        let (host, port) = try parsedListen()
        var config = ServerConfiguration(
            storePath: ClinicStore.resolvePath(store), host: host, port: port, tlsCertificate: tlsCert, tlsKey: tlsKey)
        if let idle = ProcessInfo.processInfo.environment["KSTORE_WEB_IDLE_SECONDS"].flatMap(Double.init), idle > 0 {
            config.idleLimit = idle
        }
        // For the security tests: shorter deadlines for a slow client.
        if let s = ProcessInfo.processInfo.environment["KSTORE_WEB_HEADER_SECONDS"].flatMap(Int64.init), s > 0 { config.headerSeconds = s }
        // For the measurement of group commit (BENCHMARKS.md): 1 commits each write alone.
        if let g = ProcessInfo.processInfo.environment["KSTORE_WEB_GROUP_MAX"].flatMap(Int.init), g > 0 { config.maxGroup = g }
        do {
            try await Server.run(config) { line in Output.write(line + "\n", to: 2) }
        } catch let refusal as Server.Refusal {
            Output.error(refusal.description)
            throw ExitCode(refusal.exitCode)
        } catch let e as AppError {
            Output.error(e.description)
            throw ExitCode(e.exitCode)
        }
    }
}
