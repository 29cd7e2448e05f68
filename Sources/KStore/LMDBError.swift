import CLMDB

/// A failed LMDB call: the operation, LMDB's return code and its own message.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// `mdb_strerror`'s text (or the system's, for errno values).
    public var message: String { String(cString: mdb_strerror(code)) }

    public var description: String {
        var text = "\(operation) failed: \(message) (LMDB code \(code))"
        if let remedy { text += "; \(remedy)" }
        return text
    }

    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }

    /// How a person may remedy it, where there is something to say.
    public var remedy: String? {
        switch code {
        case MDB_READERS_FULL: "too many processes are reading the store at once; retry shortly"
        case MDB_VERSION_MISMATCH, MDB_INVALID: "the files are not an LMDB store of a version this kstore reads"
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND: "the store's files are damaged; restore from a backup (`kstore backup`)"
        case 13 /* EACCES */: "check that this OS user owns the store directory"
        case 28 /* ENOSPC */: "the disk is full; free space and retry"
        default: nil
        }
    }
}

/// Passes every LMDB return code through one place: 0 is success, anything else a typed error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if rc != 0 { throw LMDBError(code: rc, operation: operation()) }
}
