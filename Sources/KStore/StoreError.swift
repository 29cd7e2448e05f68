/// Why a store could not be created or opened, or a record read.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    case alreadyExists(path: String)
    case cannotCreate(path: String, reason: String)
    case corrupt(sequence: UInt64, detail: String)

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
        }
    }
}
