/// A failure of `kstore ship`: one sentence (never the URL's password) and ship.md's exit code.
public enum ShipError: Error, Sendable, CustomStringConvertible {
    /// Bad usage: a site name or URL that cannot be used. Exit 64.
    case usage(String)
    /// No database at the URL, wrong credentials, a refused TLS, a lost connection. Exit 69.
    case unavailable(String)
    /// A `kstore` schema of another version, or a site bound to another store. Exit 65.
    case refused(String)
    /// The database refused this role a read or write (privileges, row-level security). Exit 77.
    case notPermitted(String)
    /// The local store and its copy differ (resume's hash check, `--verify`). Exit 1.
    case diverged(String)
    /// Anything else. Exit 70.
    case `internal`(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .unavailable: 69
        case .refused: 65
        case .diverged: 1
        case .notPermitted: 77
        case .internal: 70
        }
    }

    public var description: String {
        switch self {
        case .usage(let s), .unavailable(let s), .refused(let s), .diverged(let s), .notPermitted(let s), .internal(let s): s
        }
    }
}
