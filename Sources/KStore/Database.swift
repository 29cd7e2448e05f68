import CLMDB

/// A named database inside an environment: a handle valid for the environment's lifetime.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
    public let name: String
}
