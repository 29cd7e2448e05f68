/// Why a store could not be created or opened, or a record read.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    case alreadyExists(path: String)
    case cannotCreate(path: String, reason: String)
    case corrupt(sequence: UInt64, detail: String)
    /// The store was written by a newer kstore (its `meta.format` is above `EventLog.formatVersion`).
    case newerFormat(path: String, format: UInt8)
    /// A format-1 store whose indexes disagree with its events is not upgraded (nothing changed).
    case upgradeRefused(path: String, detail: String)
    /// A write asked of a store opened read-only.
    case readOnly(path: String)
    /// lock.mdb was deleted or replaced while this process had the store open (see
    /// `Environment.holdingWriterLock`): it no longer shares LMDB's lock with other processes.
    case lockFileReplaced(path: String)
    /// This process's lock.mdb was created while another process (holding a deleted one) was
    /// inside a write transaction: LMDB's view of the log in it predates that commit.
    case lockFileStale(path: String)
    /// data.mdb is shorter than its own meta page says (cut by a bad copy, a full disk during a
    /// copy): reading the missing pages would kill the process.
    case truncated(path: String, fileBytes: Int, usedBytes: Int)
    /// A data.mdb that holds no kstore store: empty, or without its `meta` (store id, format).
    case notAStore(path: String, detail: String)
    /// This OS user may not read (or, for a write, write) the store's directory or files.
    case permissionDenied(path: String, user: String, detail: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            "no kstore store at \(path); create one with `kstore init --store \(path)` or point --store/KSTORE_PATH at an existing one"
        case .alreadyExists(let path):
            "a kstore store already exists at \(path); nothing was changed"
        case .cannotCreate(let path, let reason):
            "cannot create a store at \(path): \(reason)"
        case .corrupt(let seq, let detail):
            "the record at sequence \(seq) cannot be read (\(detail)); run `kstore audit verify`"
        case .newerFormat(let path, let format):
            "the store at \(path) has layout format \(format), written by a newer kstore than this one (format \(EventLog.formatVersion)); use that kstore or a later one"
        case .upgradeRefused(let path, let detail):
            "the store at \(path) (layout format 1) was not upgraded to format \(EventLog.formatVersion): \(detail); nothing was changed. "
                + "Check it with the kstore release that wrote it (`kstore audit verify`) or restore a backup, then open it again"
        case .readOnly(let path):
            "the store at \(path) is open read-only; nothing was written"
        case .lockFileReplaced(let path):
            "the store's lock file \(path)/lock.mdb was deleted or replaced while this command had the store open "
                + "(never remove lock.mdb while kstore runs); nothing more was written by this command: run it again"
        case .lockFileStale(let path):
            "the store's lock file \(path)/lock.mdb was recreated while another process was writing (someone deleted it); "
                + "nothing was written, so nothing is lost: stop every kstore process using this store and run the command again"
        case .truncated(let path, let fileBytes, let usedBytes):
            "the store's file \(path)/data.mdb is damaged: it is \(fileBytes) bytes long but its own header says \(usedBytes) "
                + "are in use (cut short, as by an incomplete copy); nothing was read or written. Restore the store from its latest "
                + "verified backup (`kstore backup` makes them)"
        case .notAStore(let path, let detail):
            "the store's file \(path)/data.mdb is damaged or is not a kstore store: \(detail); nothing was read or written. "
                + "If it held one, restore it from its latest verified backup; to start a new store, run `kstore init --store DIR`"
        case .permissionDenied(let path, let user, let detail):
            "permission denied for this OS user (\(user)) on the store at \(path): \(detail); run kstore as the OS user "
                + "that owns the store, or ask whoever administers it for access"
        }
    }
}
