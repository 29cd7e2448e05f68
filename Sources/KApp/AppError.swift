import KClinic
import KStore

/// A failure a command reports: one clear sentence (or one line per bad input line) and the
/// exit code of cli.md.
public enum AppError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bad input data: one `LineError` per refusal (`FILE:LINE: field: what is wrong (what was
    /// expected)`). Exit 65.
    case badInput([LineError])
    /// A stale `expectedVersion`. Exit 3.
    case conflict(String)
    /// No store, or it cannot be opened. Exit 66.
    case noStore(String)
    /// The store's files are damaged (cut short, empty, without kstore's meta): the sentence
    /// says what and how to restore. Exit 66; `audit verify` reports it as a failed check (1).
    case damaged(String)
    /// Not permitted. Exit 77.
    case notPermitted(Refusal)
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
        case .noStore, .damaged: 66
        case .notPermitted: 77
        case .checkFailed: 1
        case .usage: 64
        case .internal: 70
        }
    }

    public var description: String {
        switch self {
        case .badInput(let lines): lines.map(\.description).joined(separator: "\n")
        case .notPermitted(let refusal): refusal.description
        case .conflict(let s), .noStore(let s), .damaged(let s), .checkFailed(let s), .usage(let s), .internal(let s): s
        }
    }
}

/// One refused piece of input, with where it was found: `FILE:LINE: field: problem (expected)`.
///
/// `file` is an input file (`-` for standard input, `append`/`amend`/`void` for those commands'
/// one event), `line` its line; `field` a JSON path (`data.value`), an option (`--data`) or a
/// file's field (`publicKey`). Every part but `problem` may be absent, and is then not printed.
public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var field: String?
    public var problem: String
    public var expected: String?

    public init(file: String? = nil, line: Int? = nil, field: String? = nil, problem: String, expected: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.expected = expected
    }

    /// The domain's refusal of a field, found at `file`:`line`.
    public init(file: String?, line: Int?, _ error: InputError) {
        self.init(file: file, line: line, field: error.field, problem: error.problem, expected: error.expected)
    }

    /// A refusal of the option `option` (`--data`, `--event`…), which has no file or line.
    public static func option(_ option: String, _ problem: String, expected: String? = nil) -> LineError {
        LineError(field: option, problem: problem, expected: expected)
    }

    /// `FILE:LINE: `, `FILE: ` or nothing.
    public var location: String {
        guard let file else { return "" }
        return line.map { "\(file):\($0): " } ?? "\(file): "
    }

    public var description: String {
        var text = location
        if let field { text += field + ": " }
        text += problem
        if let expected { text += " (\(expected))" }
        return text
    }
}

/// Why the running OS user or an event's actor may not do what was asked (exit 77).
public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line of an import (or the one event of `append`, `amend`, `void`) refused for who records
    /// it. Nothing of `file` was written.
    case line(file: String, line: Int, ActorRefusal)
    /// An `AuditReviewed` refused for who records it.
    case review(ActorRefusal)
    /// The running OS user is not a registered admin; `task` is what only an admin may do (nil:
    /// managing actors).
    case notAdmin(osUser: String, task: String?)
    /// A signed-in web actor (or a token's) may not do this; the sentence says what and who may.
    case web(String)
    /// The store's master key is missing, wrong, or kept where it may not be (encryption at rest).
    case key(String)

    public var description: String {
        switch self {
        case .web(let sentence), .key(let sentence):
            sentence
        case .line(let file, let line, let refusal):
            "\(file):\(line): \(refusal); nothing of \(file) was written"
        case .review(let refusal):
            "\(refusal); a review is recorded by a registered compliance actor"
        case .notAdmin(let osUser, let task):
            "OS user \(osUser) is not a registered admin of this store; only an admin "
                + (task.map { "may \($0)" } ?? "manages actors")
        }
    }
}

extension AppError {
    /// A key problem: exit 77 (the master key is needed, wrong, or unsafely kept), but a damaged
    /// key record in the store is damage (66).
    public init(_ error: KeyError) {
        if case .malformedStoreKey = error {
            self = .damaged(error.description)
        } else if case .exists = error {
            self = .usage(error.description)
        } else {
            self = .notPermitted(.key(error.description))
        }
    }
}
