/// A failure a command reports: one clear sentence (or one line per bad input line) and the
/// exit code of cli.md.
public enum AppError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bad input data: each line is `FILE:LINE: field: what is wrong (what was expected)`. Exit 65.
    case badInput([String])
    /// A stale `expectedVersion`. Exit 3.
    case conflict(String)
    /// No store, or it cannot be opened. Exit 66.
    case noStore(String)
    /// Not permitted. Exit 77.
    case notPermitted(String)
    /// A check found problems (already reported). Exit 1.
    case checkFailed(String)
    /// Bad usage that the argument parser could not see. Exit 64.
    case usage(String)
    /// Anything else. Exit 70.
    case `internal`(String)

    public var exitCode: Int32 {
        switch self {
        case .badInput: 65
        case .conflict: 3
        case .noStore: 66
        case .notPermitted: 77
        case .checkFailed: 1
        case .usage: 64
        case .internal: 70
        }
    }

    public var description: String {
        switch self {
        case .badInput(let lines): lines.joined(separator: "\n")
        case .conflict(let s), .noStore(let s), .notPermitted(let s), .checkFailed(let s), .usage(let s), .internal(let s): s
        }
    }
}
