import CLMDB

/// A transaction, valid only inside the closure that received it, on that closure's thread.
/// Bytes it returns are borrowed from the map: copy them out or decode them before it ends.
public final class Transaction {
    let handle: OpaquePointer
    var isOpen = true

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    /// The value for `key`, borrowed; nil when absent (`MDB_NOTFOUND` is not an error).
    public func get(_ db: Database, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(db.name))")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    public func get(_ db: Database, _ key: [UInt8]) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var result: UnsafeRawBufferPointer?
        var failure: LMDBError?
        key.withUnsafeBytes { k in
            do throws(LMDBError) { result = try get(db, k) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    public struct PutFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The key is greater than every key present (fast path for sequences).
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
        /// Fail with `MDB_KEYEXIST` instead of overwriting.
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// `dupSort` databases: the value is greater than every value the key holds, so it goes
        /// at the end of the key's values (full pages; `MDB_KEYEXIST` when it is not greater).
        public static let appendDup = PutFlags(rawValue: UInt32(MDB_APPENDDUP))
    }

    public func put(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, flags: PutFlags = []) throws(LMDBError)
    {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, db.dbi, &k, &v, flags.rawValue), "mdb_put(\(db.name))")
    }

    public func put(_ db: Database, _ key: [UInt8], _ value: [UInt8], flags: PutFlags = []) throws(LMDBError) {
        var failure: LMDBError?
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                do throws(LMDBError) { try put(db, k, v, flags: flags) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// Deletes `key`; false when it was absent.
    @discardableResult
    public func delete(_ db: Database, _ key: [UInt8]) throws(LMDBError) -> Bool {
        var rc: Int32 = 0
        key.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            rc = mdb_del(handle, db.dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(db.name))")
        return true
    }

    /// `dupSort` databases: deletes the one value `value` of `key`; false when absent.
    @discardableResult
    public func delete(_ db: Database, _ key: [UInt8], value: [UInt8]) throws(LMDBError) -> Bool {
        var rc: Int32 = 0
        key.withUnsafeBytes { kb in
            value.withUnsafeBytes { vb in
                var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                rc = mdb_del(handle, db.dbi, &k, &v)
            }
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(db.name))")
        return true
    }

    /// Removes every entry of `db` (the database itself stays).
    public func clear(_ db: Database) throws(LMDBError) {
        try check(mdb_drop(handle, db.dbi, 0), "mdb_drop(\(db.name))")
    }

    /// Opens the named database `name` in this transaction; nil when it does not exist and
    /// `create` is false. Created with `flags`; a handle opened in a write transaction is the
    /// environment's once it commits (and gone if it aborts).
    func openDatabase(_ name: String, flags: DatabaseFlags = [], create: Bool = false) throws(LMDBError) -> Database? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(handle, name, (create ? UInt32(MDB_CREATE) : 0) | flags.rawValue, &dbi)
        if rc == MDB_NOTFOUND && !create { return nil }
        try check(rc, "mdb_dbi_open(\(name))")
        return Database(dbi: dbi, name: name)
    }

    /// The flags `db` was created with.
    func flags(_ db: Database) throws(LMDBError) -> DatabaseFlags {
        var flags: UInt32 = 0
        try check(mdb_dbi_flags(handle, db.dbi, &flags), "mdb_dbi_flags(\(db.name))")
        return DatabaseFlags(rawValue: flags)
    }

    /// Deletes `db` from the environment (its entries and its name) and closes its handle.
    func deleteDatabase(_ db: Database) throws(LMDBError) {
        try check(mdb_drop(handle, db.dbi, 1), "mdb_drop(\(db.name), delete)")
    }

    /// Number of entries in `db`.
    public func count(_ db: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "mdb_stat(\(db.name))")
        return stat.ms_entries
    }

    /// Runs `body` with a cursor on `db`, closed afterwards.
    public func withCursor<T>(_ db: Database, _ body: (Cursor) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        guard let cursor else { throw LMDBError(code: .panic, operation: "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(cursor, db: db))
    }
}

@available(*, unavailable)
extension Transaction: Sendable {}

/// A position in a database; entries it returns are borrowed from the transaction.
public struct Cursor {
    let handle: OpaquePointer
    let db: Database

    init(_ handle: OpaquePointer, db: Database) {
        self.handle = handle
        self.db = db
    }

    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    @inline(__always)
    func op(_ operation: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, operation)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(db.name))")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// As `op`, with a value passed in (`MDB_GET_BOTH`).
    @inline(__always)
    func op(_ operation: MDB_cursor_op, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_cursor_get(handle, &k, &v, operation)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(db.name))")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    public func first() throws(LMDBError) -> Entry? { try op(MDB_FIRST) }
    public func last() throws(LMDBError) -> Entry? { try op(MDB_LAST) }
    public func next() throws(LMDBError) -> Entry? { try op(MDB_NEXT) }
    public func previous() throws(LMDBError) -> Entry? { try op(MDB_PREV) }
    /// The first entry whose key is ≥ `key`.
    public func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? { try op(MDB_SET_RANGE, key: key) }

    // MARK: dupSort databases (a key with several sorted values)

    /// The entry with exactly `key`, at its first value (`MDB_SET_KEY`); nil when absent.
    public func find(_ key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? { try op(MDB_SET_KEY, key: key) }

    public func find(_ key: [UInt8]) throws(LMDBError) -> Entry? {
        var result: Entry?
        var failure: LMDBError?
        key.withUnsafeBytes { k in
            do throws(LMDBError) { result = try find(k) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    /// Positions at `key` holding exactly `value` (`MDB_GET_BOTH`); nil when that pair is absent.
    public func find(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        try op(MDB_GET_BOTH, key: key, value: value)
    }

    /// How many values the current key holds (`mdb_cursor_count`); the cursor must be positioned.
    public func valueCount() throws(LMDBError) -> Int {
        var n = 0
        try check(mdb_cursor_count(handle, &n), "mdb_cursor_count(\(db.name))")
        return n
    }

    /// The first value of the next key (`MDB_NEXT_NODUP`).
    public func nextKey() throws(LMDBError) -> Entry? { try op(MDB_NEXT_NODUP) }

    /// `dupFixed` databases: the values of the current key on the cursor's page, packed
    /// (`MDB_GET_MULTIPLE`, then `MDB_NEXT_MULTIPLE` page after page; nil after the last).
    /// LMDB returns the whole page holding the position, so call `valuesPage(next: false)` only
    /// right after `find` (positioned at the first value). For a key with a single value LMDB
    /// returns nothing here: use the value `find` returned.
    public func valuesPage(next: Bool) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, next ? MDB_NEXT_MULTIPLE : MDB_GET_MULTIPLE)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(db.name), multiple)")
        guard v.mv_size > 0 else { return nil }
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    public func seek(atLeast key: [UInt8]) throws(LMDBError) -> Entry? {
        var result: Entry?
        var failure: LMDBError?
        key.withUnsafeBytes { k in
            do throws(LMDBError) { result = try seek(atLeast: k) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
