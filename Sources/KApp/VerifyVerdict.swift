import Glibc
import KStore

/// The last `kstore audit verify`'s verdict, kept in the store directory (`verify-verdict`,
/// owner-only) so that a write into a store whose last verify failed warns. Written as a
/// whole (a temporary file renamed over it); skipped silently where the directory is
/// read-only or not this user's to write.
public enum VerifyVerdict {
    public static let fileName = "verify-verdict"

    /// Records the verdict: `ok`, or the first line of what failed.
    public static func record(store path: String, ok: Bool, summary: String, at timestamp: String) {
        let first = summary.split(separator: "\n").first.map { String($0.prefix(500)) } ?? ""
        let line = (ok ? "ok" : "failed") + "\t" + timestamp + "\t" + first.replacingTabs + "\n"
        let dirFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return }
        defer { close(dirFD) }
        let temporary = fileName + ".tmp-\(getpid())"
        let fd = openat(dirFD, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        if written != bytes.count || renameat(dirFD, temporary, dirFD, fileName) != 0 {
            unlinkat(dirFD, temporary, 0)
        }
    }

    /// The warning a write command prints when the last verify of the store failed, else nil.
    public static func warning(store path: String) -> String? {
        let dirFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return nil }
        defer { close(dirFD) }
        let fd = openat(dirFD, fileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let fields =
            String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first?.split(
                separator: "\t", omittingEmptySubsequences: false) ?? []
        guard fields.count >= 3, fields[0] == "failed" else { return nil }
        return
            "warning: the last `kstore audit verify` of this store, at \(fields[1]), failed (\(fields[2])); this write goes into a store that may be damaged: run `kstore audit verify`, and restore from the latest verified backup if it still fails"
    }
}

/// Damage to the store's file, as LMDB or the log reports it (rather than a full disk, a
/// permission or a missing store).
public enum StoreDamage {
    static let codes: Set<LMDBError.Code> = [
        .corrupted, .pageNotFound, .invalid, .versionMismatch, .panic, .badTxn, .cursorFull, .badValueSize,
    ]

    static let names = [
        "MDB_CORRUPTED", "MDB_PAGE_NOTFOUND", "MDB_INVALID", "MDB_VERSION_MISMATCH", "MDB_PANIC", "MDB_BAD_TXN", "MDB_CURSOR_FULL",
        "MDB_BAD_VALSIZE",
    ]

    /// Whether `error` (an LMDB error, or a sentence wrapping one) says the file is damaged.
    public static func isDamage(_ error: any Error) -> Bool {
        if let e = error as? LMDBError { return codes.contains(e.code) }
        if let e = error as? StoreError {
            switch e {
            case .corrupt, .truncated, .notAStore: return true
            default: break
            }
        }
        // Found at open before LMDB read a page (a data.mdb cut short, empty, without meta).
        if let e = error as? AppError, case .damaged = e { return true }
        let text = "\(error)"
        return names.contains { text.contains($0) }
    }

    /// Whether a store that failed to open (`error`) is damaged rather than absent or not this
    /// user's: its `data.mdb` is there and not empty, and the failure is not a permission, a
    /// read-only medium or a full reader table (a damaged meta page makes LMDB ask for an
    /// impossible map, ENOMEM, or read a page that is not there).
    public static func openFailureIsDamage(store path: String, _ error: any Error) -> Bool {
        if isDamage(error) { return true }
        var st = stat()
        guard stat(path + "/data.mdb", &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0 else { return false }
        let text = "\(error)"
        let notDamage = [
            "ermission denied", "Read-only file system", "MDB_READERS_FULL", "No such file", "Resource temporarily unavailable",
        ]
        return !notDamage.contains { text.contains($0) }
    }

    /// cli.md's sentence for a damaged store found by `what` (e.g. "verify's walk of data.mdb").
    public static func sentence(_ what: String, _ how: String) -> String {
        "the store's file is damaged: \(what) \(how); restore from the latest verified backup"
    }
}

extension String {
    fileprivate var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
