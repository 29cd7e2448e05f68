import Foundation

/// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require|verify-full]` (ship.md),
/// with libpq's `sslrootcert=PATH` for verify-full against a private CA. The password, from the
/// URL or else `PGPASSWORD`, is kept only here and never appears in `description`.
public struct ShipURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable {
        case disable, require
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCert: String?

    /// Parses `text`; `environment` supplies `PGPASSWORD` when the URL has no password.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ShipError) {
        let usage = "a URL postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|require|verify-full]"
        guard let c = URLComponents(string: text), let scheme = c.scheme, scheme == "postgresql" || scheme == "postgres" else {
            throw .usage("--to (or KSTORE_SHIP_URL) must be \(usage)")
        }
        guard let user = c.user, !user.isEmpty else { throw .usage("the URL names no user; it must be \(usage)") }
        guard let host = c.host, !host.isEmpty else { throw .usage("the URL names no host; it must be \(usage)") }
        var db = c.path
        if db.hasPrefix("/") { db.removeFirst() }
        guard !db.isEmpty, !db.contains("/") else { throw .usage("the URL names no database; it must be \(usage)") }
        self.user = user
        let fromURL = c.password.flatMap { $0.isEmpty ? nil : $0 }
        self.password = fromURL ?? environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw .usage("the URL's port \(port) is not a TCP port") }
        self.database = db
        var mode = SSLMode.require
        var root: String?
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let v = item.value, let m = SSLMode(rawValue: v) else {
                    throw .usage("sslmode must be disable, require or verify-full, not \(item.value ?? "empty")")
                }
                mode = m
            case "sslrootcert": root = item.value
            default: throw .usage("the URL's parameter \(item.name) is not supported (sslmode, sslrootcert)")
            }
        }
        self.sslMode = mode
        self.sslRootCert = root
    }

    /// `USER@HOST:PORT/DB`, without the password.
    public var description: String { "\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// Where the server is, for sentences.
    public var endpoint: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// `text` with every occurrence of the password (as given and percent-encoded) replaced.
    public func redact(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        var out = text.replacingOccurrences(of: password, with: "***")
        if let enc = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics), enc != password {
            out = out.replacingOccurrences(of: enc, with: "***")
        }
        return out
    }
}
