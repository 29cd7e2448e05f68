import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Connecting to the network's PostgreSQL and saying, in one sentence without the password, why
/// it failed.
enum Link {
    /// A logger that writes nothing: postgres-nio's logs would name the connection's parameters.
    static let quiet = Logger(label: "kstore.ship", factory: { _ in SwiftLogNoOpLogHandler() })

    static func configuration(_ url: ShipURL) throws(ShipError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch url.sslMode {
        case .disable:
            tls = .disable
        case .require, .verifyFull:
            var config = TLSConfiguration.makeClientConfiguration()
            if url.sslMode == .require {
                // libpq's sslmode=require: encrypted, the certificate not checked.
                config.certificateVerification = .none
            } else {
                config.certificateVerification = .fullVerification
                if let root = url.sslRootCert { config.trustRoots = .file(root) }
            }
            do {
                tls = .require(try NIOSSLContext(configuration: config))
            } catch {
                throw .usage("cannot set up TLS for sslmode=\(url.sslMode.rawValue): \(error)")
            }
        }
        var c = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        c.options.connectTimeout = .seconds(10)
        if url.sslMode == .verifyFull, !url.host.allSatisfy({ $0.isNumber || $0 == "." }), !url.host.contains(":") {
            c.options.tlsServerName = url.host
        }
        return c
    }

    static func connect(_ url: ShipURL, id: Int = 1) async throws(ShipError) -> PostgresConnection {
        let config = try configuration(url)
        do {
            return try await PostgresConnection.connect(configuration: config, id: id, logger: quiet)
        } catch {
            throw .unavailable(sentence(error, url: url, connecting: true))
        }
    }

    /// Whether `error` means the connection is gone (a retry on a new one may succeed).
    static func isConnectionLoss(_ error: any Error, _ connection: PostgresConnection?) -> Bool {
        if let connection, connection.isClosed { return true }
        if error is ConnectionClosed { return true }
        if let e = error as? PostgresTransactionError {
            let inner = e.closureError ?? e.commitError ?? e.beginError
            return inner.map { isConnectionLoss($0, connection) } ?? false
        }
        guard let p = error as? PSQLError else { return error is ChannelError || error is IOError }
        switch p.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        case .server:
            let state = p.serverInfo?[.sqlState] ?? ""
            // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now; 08xxx connection exceptions.
            return state.hasPrefix("57") || state.hasPrefix("08")
        default: return false
        }
    }

    /// SQLSTATE 42501 (insufficient privilege, a row-level security policy's refusal).
    static func isPermissionDenied(_ error: any Error) -> Bool {
        if let e = error as? PostgresTransactionError {
            return (e.closureError ?? e.commitError ?? e.beginError).map(isPermissionDenied) ?? false
        }
        guard let p = error as? PSQLError, p.code == .server else { return false }
        return p.serverInfo?[.sqlState] == "42501"
    }

    /// One sentence for `error`, naming the server but never the password.
    static func sentence(_ error: any Error, url: ShipURL, connecting: Bool) -> String {
        let at = "PostgreSQL at \(url.endpoint)"
        var text: String
        if let p = error as? PSQLError {
            switch p.code {
            case .sslUnsupported:
                text = "\(at) does not offer TLS, which sslmode=\(url.sslMode.rawValue) requires; nothing was written"
            case .server:
                let state = p.serverInfo?[.sqlState] ?? ""
                let message = p.serverInfo?[.message] ?? "an error"
                switch state {
                case "28P01", "28000":
                    text = "\(at) refused the credentials of user \(url.user) (\(message)); nothing was written"
                case "3D000":
                    text = "\(at) has no database \(url.database); nothing was written"
                case "42501":
                    text = "\(at) refused user \(url.user): \(message)"
                case let s where s.hasPrefix("57") || s.hasPrefix("08"):
                    text = "\(at) is not accepting connections (\(message)); nothing was written"
                default:
                    text = "\(at) answered \(state): \(message)"
                }
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                let why = p.underlying.map { reason($0) } ?? "the connection closed"
                text = connecting ? "cannot reach \(at) (\(why)); nothing was written" : "lost the connection to \(at) (\(why))"
            case .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
                text = "TLS with \(at) failed; nothing was written"
            case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
                text =
                    "\(at) asks for a password for user \(url.user) that was not given or not accepted "
                    + "(in the URL or PGPASSWORD); nothing was written"
            default:
                text = "\(at): \(p.code)"
            }
        } else if error is ConnectionClosed {
            text = connecting ? "cannot reach \(at) (the connection closed); nothing was written" : "lost the connection to \(at)"
        } else if let e = error as? NIOSSLError {
            text = "TLS with \(at) failed (\(e)); nothing was written"
        } else if let e = error as? BoringSSLError {
            text = "TLS with \(at) failed (\(e)); nothing was written"
        } else if let e = error as? PostgresTransactionError {
            let inner = e.closureError ?? e.commitError ?? e.beginError
            return inner.map { sentence($0, url: url, connecting: connecting) } ?? "\(at): a transaction failed"
        } else {
            text = connecting ? "cannot reach \(at) (\(reason(error))); nothing was written" : "\(at): \(reason(error))"
        }
        return url.redact(text)
    }

    private static func reason(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return reason(first.error) }
            if let dns = e.dnsAAAAError ?? e.dnsAError { return "cannot resolve the host: \(dns)" }
            return "connection failed"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? NIOSSLError { return "TLS: \(e)" }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        if error is ChannelError { return "\(error)" }
        return "\(error)"
    }
}

extension PostgresConnection {
    /// `query`, refused at once on a connection the server has closed: postgres-nio 1.33 writes a
    /// query to a closed channel without failing its promise, so it would never answer.
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ConnectionClosed() }
        return try await self.query(query, logger: Link.quiet)
    }
}

/// The server closed the connection before a query could be sent.
struct ConnectionClosed: Error {}
