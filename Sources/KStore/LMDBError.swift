import CLMDB
import Glibc

/// A failed LMDB call: the operation, LMDB's return code and its own message.
///
/// Match a code by name, as with swift-system's `Errno`:
/// `catch let e as LMDBError where e.code == .mapFull`, `switch e.code { case .mapFull: … }`,
/// or `catch LMDBError.Code.mapFull { … }`.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Code
    public let operation: String

    public init(code: Code, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// `mdb_strerror`'s text (or the system's, for errno values).
    public var message: String { String(cString: mdb_strerror(code.rawValue)) }

    public var description: String {
        var text = "\(operation) failed: \(message) (LMDB code \(code.rawValue))"
        if let remedy { text += "; \(remedy)" }
        return text
    }

    /// How a person may remedy it, where there is something to say.
    public var remedy: String? {
        switch code {
        case .readersFull: "too many processes are reading the store at once; retry shortly"
        case .versionMismatch, .invalid: "the files are not an LMDB store of a version this kstore reads"
        case .corrupted, .pageNotFound: "the store's files are damaged; restore from a backup (`kstore backup`)"
        case .accessDenied: "check that this OS user owns the store directory"
        case .noSpace: "the disk is full; free space and retry"
        default: nil
        }
    }
}

extension LMDBError {
    /// A return code of an LMDB call: one of LMDB's own (`MDB_*`, negative) or a system
    /// `errno` value LMDB passed on (positive). Named like swift-system's `Errno`.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32

        public init(rawValue: Int32) { self.rawValue = rawValue }

        // MARK: LMDB's own codes

        /// `MDB_KEYEXIST`: key/data pair already exists.
        public static let keyExists = Code(rawValue: MDB_KEYEXIST)
        /// `MDB_NOTFOUND`: key/data pair not found (EOF).
        public static let notFound = Code(rawValue: MDB_NOTFOUND)
        /// `MDB_PAGE_NOTFOUND`: requested page not found (usually corruption).
        public static let pageNotFound = Code(rawValue: MDB_PAGE_NOTFOUND)
        /// `MDB_CORRUPTED`: located page was the wrong type.
        public static let corrupted = Code(rawValue: MDB_CORRUPTED)
        /// `MDB_PANIC`: update of meta page failed or environment had a fatal error.
        public static let panic = Code(rawValue: MDB_PANIC)
        /// `MDB_VERSION_MISMATCH`: environment version mismatch.
        public static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        /// `MDB_INVALID`: file is not a valid LMDB file.
        public static let invalid = Code(rawValue: MDB_INVALID)
        /// `MDB_MAP_FULL`: environment map size reached.
        public static let mapFull = Code(rawValue: MDB_MAP_FULL)
        /// `MDB_DBS_FULL`: environment maxdbs reached.
        public static let dbsFull = Code(rawValue: MDB_DBS_FULL)
        /// `MDB_READERS_FULL`: environment maxreaders reached.
        public static let readersFull = Code(rawValue: MDB_READERS_FULL)
        /// `MDB_TLS_FULL`: too many TLS keys in use.
        public static let tlsFull = Code(rawValue: MDB_TLS_FULL)
        /// `MDB_TXN_FULL`: transaction has too many dirty pages.
        public static let txnFull = Code(rawValue: MDB_TXN_FULL)
        /// `MDB_CURSOR_FULL`: cursor stack too deep.
        public static let cursorFull = Code(rawValue: MDB_CURSOR_FULL)
        /// `MDB_PAGE_FULL`: page has not enough space.
        public static let pageFull = Code(rawValue: MDB_PAGE_FULL)
        /// `MDB_MAP_RESIZED`: another process grew the map beyond this one's size.
        public static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        /// `MDB_INCOMPATIBLE`: operation and database incompatible, or the database's flags changed.
        public static let incompatible = Code(rawValue: MDB_INCOMPATIBLE)
        /// `MDB_BAD_RSLOT`: invalid reuse of a reader locktable slot.
        public static let badReaderSlot = Code(rawValue: MDB_BAD_RSLOT)
        /// `MDB_BAD_TXN`: transaction must abort, has a child, or is invalid.
        public static let badTxn = Code(rawValue: MDB_BAD_TXN)
        /// `MDB_BAD_VALSIZE`: unsupported size of key, database name or data.
        public static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)
        /// `MDB_BAD_DBI`: the database handle was closed or changed unexpectedly.
        public static let badDBI = Code(rawValue: MDB_BAD_DBI)

        // MARK: System errno values LMDB returns

        /// `EACCES`: permission denied.
        public static let accessDenied = Code(rawValue: EACCES)
        /// `ENOSPC`: no space left on the device.
        public static let noSpace = Code(rawValue: ENOSPC)
        /// `EIO`: input/output error.
        public static let ioError = Code(rawValue: EIO)
        /// `EROFS`: read-only file system.
        public static let readOnlyFS = Code(rawValue: EROFS)
        /// `ENOENT`: no such file or directory.
        public static let noSuchFile = Code(rawValue: ENOENT)
        /// `ENOMEM`: out of memory.
        public static let noMemory = Code(rawValue: ENOMEM)
        /// `EINVAL`: an invalid parameter.
        public static let invalidArgument = Code(rawValue: EINVAL)

        /// `catch LMDBError.Code.mapFull { … }`: true when `error` is an `LMDBError` with this code.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? LMDBError)?.code == code
        }

        /// `case LMDBError.Code.notFound:` over a raw return code.
        public static func ~= (code: Code, rc: Int32) -> Bool {
            code.rawValue == rc
        }
    }
}

/// Passes every LMDB return code through one place: 0 is success, anything else a typed error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if rc != 0 { throw LMDBError(code: LMDBError.Code(rawValue: rc), operation: operation()) }
}
