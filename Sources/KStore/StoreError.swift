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
        }
    }
}
