import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import KApp
import KClinic
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// `kstore serve`: what it listens on and how.
public struct ServerConfiguration: Sendable {
    public var storePath: String
    public var host: String
    public var port: Int
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Seconds without a request after which a session ends (web.md: 15 minutes).
    public var idleLimit: Double = 15 * 60
    /// Threads for reads (LMDB read transactions and bcrypt).
    public var readerThreads = max(2, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    /// Seconds a client has to send a request's head, and then its body (a slow client does
    /// not hold a connection forever).
    public var headerSeconds: Int64 = 30
    public var bodySeconds: Int64 = 120
    /// Writes committed together at most (group commit); 1: one transaction a request.
    public var maxGroup = 256

    public init(storePath: String, host: String, port: Int, tlsCertificate: String?, tlsKey: String?) {
        self.storePath = storePath
        self.host = host
        self.port = port
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
    }

    /// Whether `host` is a loopback address (the only kind served without TLS).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// The running server's shared parts: the store's threads, sessions, the actors' registry.
final class WebServer: @unchecked Sendable {
    let config: ServerConfiguration
    let shared: SharedStore
    let readers: StoreReaders
    let writer: StoreWriter
    let sessions: SessionStore
    let pending = PendingRules()
    let tls: Bool
    /// The OS user the server runs as (a registered interface account).
    let osUser: String
    private let registryLock = NSLock()
    private var registryCache: (version: UInt64, registry: ActorRegistry)?

    init(config: ServerConfiguration, store: ClinicStore) {
        self.config = config
        shared = SharedStore(store)
        readers = StoreReaders(shared, threads: config.readerThreads)
        writer = StoreWriter(shared, maxGroup: config.maxGroup)
        sessions = SessionStore(idleLimit: config.idleLimit)
        tls = config.tlsCertificate != nil
        osUser = store.osUser
    }

    /// The registered actors as the store says now (re-read only when `$actors` changed).
    func registry() async throws -> ActorRegistry {
        let known = registryLock.withLock { registryCache }
        let fresh = try await readers.run { store in try Actors.registry(store, ifChangedSince: known?.version) }
        if let fresh {
            registryLock.withLock { registryCache = fresh }
            return fresh.registry
        }
        if let known { return known.registry }
        throw WebError(.internalServerError, "the actors' registry could not be read")
    }

    /// Records, durably and before the response is sent, that `principal` read these patients'
    /// data through `request` (the access log, as the CLI's reads).
    func recordRead(_ principal: Principal, _ request: Request, patients: [String]) async throws {
        let command =
            "kstore serve: \(principal.actor.id) (\(principal.actor.role.rawValue)) \(request.method.rawValue) \(request.pathAndQuery)"
        let shown = patients.filter { !$0.hasPrefix("$") }
        do {
            try await writer.run { store in try AccessLog.record(store, command: String(command.prefix(2000)), patients: shown) }
        } catch {
            throw WebError(.internalServerError, "could not record this read in the access log; nothing was shown")
        }
    }

    func webError(_ error: any Error) -> WebError { WebError.from(error, store: config.storePath) }
}

/// Starts `kstore serve` and runs until SIGTERM or SIGINT: then it stops accepting, finishes
/// the requests in flight (at most 10 s), commits what the writer holds, and returns.
public enum Server {
    /// Why `serve` refuses to start (exit 64 or 77 with one sentence).
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        public var exitCode: Int32
    }

    public static func run(_ config: ServerConfiguration, announce: @escaping @Sendable (String) -> Void) async throws {
        if !ServerConfiguration.isLoopback(config.host) && (config.tlsCertificate == nil || config.tlsKey == nil) {
            throw Refusal(
                description:
                    "--listen \(config.host):\(config.port) is not a loopback address: the web interface carries patients' records and passwords, so anywhere but 127.0.0.1 it is served only over TLS (give --tls-cert FILE --tls-key FILE)",
                exitCode: 64)
        }
        if (config.tlsCertificate == nil) != (config.tlsKey == nil) {
            throw Refusal(
                description: "--tls-cert and --tls-key go together (the certificate chain and its private key, PEM)", exitCode: 64)
        }
        // One map of 1 TiB (address space, not disk): the map is never resized while reader
        // threads hold transactions.
        let store = try ClinicStore.open(at: config.storePath, mapSize: 1 << 40)
        store.log.fixedMapSize = true
        let registry = try Actors.list(store)
        guard registry.contains(where: { $0.active && $0.role == .interface && $0.osUser == store.osUser }) else {
            throw Refusal(
                description:
                    "OS user \(store.osUser) is not a registered interface account of this store: the server records on behalf of signed-in actors, so an admin first runs `kstore actor add --id web --role interface --os-user \(store.osUser)`",
                exitCode: 77)
        }
        // Stored projections at the head before the first request (readers never write them).
        _ = try ProjectionEngine(store: store).catchUp()
        _ = try LedgerReader.ledger(store, persist: true)
        Credentials.prepare()

        let server = WebServer(config: config, store: store)
        let router = Router(context: WebContext.self)
        router.add(middleware: GuardMiddleware(server: server))
        APIRoutes(server: server).add(to: router)
        PageRoutes(server: server).add(to: router)

        var logger = Logger(label: "kstore-serve")
        logger.logLevel = .warning
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(headerSeconds: config.headerSeconds, bodySeconds: config.bodySeconds)],
            idleTimeout: .seconds(60))
        let builder: HTTPServerBuilder
        if let cert = config.tlsCertificate, let key = config.tlsKey {
            let tlsConfig: TLSConfiguration
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                c.minimumTLSVersion = .tlsv12
                tlsConfig = c
            } catch {
                throw Refusal(
                    description: "cannot read the TLS certificate or key (\(error)); give PEM files this OS user may read", exitCode: 64)
            }
            builder = try .http2Upgrade(
                tlsConfiguration: tlsConfig,
                configuration: .init(idleTimeout: .seconds(60), streamConfiguration: http1))
        } else {
            builder = .http1(configuration: http1)
        }
        let app = Application(
            router: router, server: builder,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.port
                announce(
                    "kstore serve: listening on \(config.tlsCertificate == nil ? "http" : "https")://\(config.host):\(port) (store \(config.storePath))"
                )
            },
            logger: logger)
        // web.md: SIGTERM finishes the requests in flight in at most 10 s. The graceful shutdown
        // waits for every connection; one that hangs is cut off here. Whatever was acknowledged is
        // committed already (each answer waits for its commit); what was not, was not promised.
        let watchdog = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        watchdog.setEventHandler {
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                FileHandle.standardError.write(Data("kstore serve: requests still open 10 s after SIGTERM were cut off\n".utf8))
                exit(0)
            }
        }
        watchdog.resume()
        defer { watchdog.cancel() }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        server.writer.close()
        server.readers.close()
        let (groups, jobs) = server.writer.counts
        announce("kstore serve: stopped; \(jobs) writes committed in \(groups) durable transactions")
    }
}

/// On every response: web.md's headers (no caching of patient data, a CSP without inline
/// script, no framing); every error as one sentence (JSON for the API, a page for the rest),
/// never a stack trace or a path of the server's machine.
struct GuardMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let server: WebServer

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var response: Response
        let api = request.uri.path.hasPrefix("/api/")
        do {
            response = try await next(request, context)
        } catch let e as HTTPError {
            let sentence: String
            switch e.status {
            case .contentTooLarge: sentence = "the body is over 16 MiB; send a smaller file (split an import into several)"
            case .notFound: sentence = "there is no such page or route"
            case .methodNotAllowed: sentence = "this route does not take \(request.method.rawValue)"
            default: sentence = e.status.reasonPhrase.isEmpty ? "the request was refused" : e.status.reasonPhrase.lowercased()
            }
            response = api ? .error(WebError(e.status, sentence)) : PageRoutes.errorPage(nil, WebError(e.status, sentence))
        } catch {
            let e = server.webError(error)
            if e.status == .internalServerError {
                FileHandle.standardError.write(Data("kstore serve: \(request.method.rawValue) \(request.uri.path): \(error)\n".utf8))
            }
            if api {
                response = .error(e)
            } else {
                // A page's refusal keeps the navigation of whoever is signed in.
                var principal: Principal? = nil
                if case .principal(let p)? = try? await server.authenticate(request) { principal = p }
                response = PageRoutes.errorPage(principal, e)
            }
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        if server.tls { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}

extension WebServer {
    enum Authentication {
        case none
        case expired
        case principal(Principal)
    }

    /// Who sent `request`: a bearer token, else the session cookie (touched); a retired actor's
    /// session is ended at once.
    func authenticate(_ request: Request) async throws -> Authentication {
        if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") {
            let token = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard token.count <= 200 else { return .none }
            let lookup = Credentials.actor(forToken: token)
            guard let id = try await readers.run({ store in try lookup(store) }) else { return .none }
            guard let record = try await registry().actors[id], record.active else { return .none }
            return .principal(Principal(actor: Actor(id: record.id, role: record.role), name: record.name, session: nil))
        }
        guard let id = request.cookie("kstore_session"), id.count <= 100 else { return .none }
        switch sessions.touch(id) {
        case .unknown: return .none
        case .expired: return .expired
        case .valid(let s):
            guard let record = try await registry().actors[s.actorId], record.active else {
                sessions.endAll(actorId: s.actorId)
                return .none
            }
            return .principal(Principal(actor: Actor(id: record.id, role: record.role), name: record.name, session: s))
        }
    }

    /// The principal of an API request, else 401; the role must be one of `roles` (403).
    func require(_ request: Request, _ roles: Set<Role>) async throws -> Principal {
        switch try await authenticate(request) {
        case .none: throw WebError.notSignedIn
        case .expired: throw WebError(.unauthorized, "the session ended after 15 minutes without a request; sign in again")
        case .principal(let p):
            guard roles.contains(p.actor.role) else {
                throw WebError.forbidden(
                    "\(p.actor.role.article) \(p.actor.role.rawValue) may not use this; it is for "
                        + roles.map(\.rawValue).sorted().joined(separator: ", "))
            }
            return p
        }
    }

    /// A state-changing request authenticated by the cookie must carry the session's CSRF token
    /// (header `X-CSRF-Token` or form field `csrf`); a bearer token needs none.
    func checkCSRF(_ principal: Principal, _ request: Request, form: [String: String]? = nil) throws {
        guard let session = principal.session else { return }
        let sent = request.headers[.csrfToken] ?? form?["csrf"] ?? ""
        guard constantTimeEqual(sent, session.csrf) else {
            throw WebError.forbidden("the CSRF token is missing or wrong: reload the page and try again (nothing was written)")
        }
    }
}

/// Roles of web.md's table.
enum Roles {
    static let clinical: Set<Role> = [.clinician, .nurse, .interface]
    static let clinicalAndCompliance: Set<Role> = [.clinician, .nurse, .interface, .compliance]
    static let compliance: Set<Role> = [.compliance, .admin]
    /// The stock's readers: the roles that record stock events (session.md), and interface
    /// accounts; web.md gives compliance no stock route.
    static let stock: Set<Role> = [.clinician, .nurse, .admin, .interface]
    static let everyone: Set<Role> = Set(Role.allCases)
}
