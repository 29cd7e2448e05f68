import CLMDB

/// A named database inside an environment: a handle valid for the environment's lifetime.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
    public let name: String
}

/// How a named database stores its entries; fixed when the database is created.
public struct DatabaseFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// A key holds several values, kept sorted (`MDB_DUPSORT`).
    public static let dupSort = DatabaseFlags(rawValue: UInt32(MDB_DUPSORT))
    /// With `dupSort`: every value has the same size, packed in pages of their own (`MDB_DUPFIXED`).
    public static let dupFixed = DatabaseFlags(rawValue: UInt32(MDB_DUPFIXED))
    /// The flags this layer knows how to compare.
    static let layout: DatabaseFlags = [.dupSort, .dupFixed]
}
