import CLMDB
import Glibc

/// One LMDB environment (a directory holding data.mdb and lock.mdb), opened once per process.
///
/// Transactions are closure-scoped and synchronous: LMDB binds a write transaction to its
/// thread, so never `await` inside one. The environment is opened with `MDB_NOTLS` so read
/// transactions are not tied to thread-local slots.
public final class Environment {
    let handle: OpaquePointer
    public let path: String

    /// Opens (creating the files if needed) the environment in `path`, which must exist.
    public init(path: String, maxDatabases: UInt32 = 16, mapSize: Int) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .panic, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, 254), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            try check(mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o600), "mdb_env_open(\(path))")
            // Clear slots left by readers that died (a killed process never releases its slot).
            var dead: Int32 = 0
            try check(mdb_reader_check(env, &dead), "mdb_reader_check")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
    }

    deinit { mdb_env_close(handle) }

    /// The current size of the memory map in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Bytes of the map actually in use (last page used × page size).
    public var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return (info.me_last_pgno + 1) * Int(stat.ms_psize)
    }

    /// Grows the map (only while this process has no transaction open).
    func setMapSize(_ size: Int) throws(LMDBError) {
        try check(mdb_env_set_mapsize(handle, size), "mdb_env_set_mapsize(\(size))")
    }

    /// Compacting hot copy into an existing empty directory (`mdb_env_copy2` with `MDB_CP_COMPACT`).
    public func copy(to directory: String) throws(LMDBError) {
        try check(mdb_env_copy2(handle, directory, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2(\(directory))")
    }

    func beginTransaction(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map: adopt its size and begin again.
            try check(mdb_env_set_mapsize(handle, 0), "mdb_env_set_mapsize(0)")
            rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        }
        try check(rc, readOnly ? "mdb_txn_begin(read)" : "mdb_txn_begin(write)")
        guard let txn else { throw LMDBError(code: .panic, operation: "mdb_txn_begin") }
        return txn
    }

    /// Runs `body` in a read transaction (a consistent snapshot), aborted afterwards.
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        let txn = try beginTransaction(readOnly: true)
        let t = Transaction(txn)
        defer {
            t.isOpen = false
            mdb_txn_abort(txn)
        }
        return try body(t)
    }

    /// Runs `body` in a write transaction and commits it; a throwing body leaves nothing behind.
    ///
    /// When the map is full the transaction is abandoned, the map doubled and `body` run again,
    /// so `body` must compute everything it writes from the transaction it is given.
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let txn = try beginTransaction(readOnly: false)
            let t = Transaction(txn)
            do {
                let result = try body(t)
                t.isOpen = false
                // mdb_txn_commit frees the handle even when it fails.
                try check(mdb_txn_commit(txn), "mdb_txn_commit")
                return result
            } catch let error as LMDBError where error.code == .mapFull {
                if t.isOpen {
                    t.isOpen = false
                    mdb_txn_abort(txn)
                }
                try setMapSize(max(mapSize * 2, 1 << 20))
                continue
            } catch {
                if t.isOpen {
                    t.isOpen = false
                    mdb_txn_abort(txn)
                }
                throw error
            }
        }
    }

    /// Opens every named database once, at start-up, creating the missing ones.
    ///
    /// Tries a read transaction first (committed, so the handles outlive it) and takes the
    /// writer lock only when a database has to be created, so a query never waits for a writer.
    public func openDatabases(_ names: [String]) throws(LMDBError) -> [String: Database] {
        try openDatabases(names.map { ($0, DatabaseFlags()) })
    }

    /// As `openDatabases(_:)`, each database created with its flags; an existing database whose
    /// stored layout differs from the one asked for is refused (`MDB_INCOMPATIBLE`), never
    /// silently used with the wrong comparison.
    public func openDatabases(_ specs: [(name: String, flags: DatabaseFlags)]) throws(LMDBError) -> [String: Database] {
        for create in [false, true] {
            let txn = try beginTransaction(readOnly: !create)
            var result: [String: Database] = [:]
            var missing = false
            for (name, flags) in specs {
                var dbi: MDB_dbi = 0
                let rc = mdb_dbi_open(txn, name, (create ? UInt32(MDB_CREATE) : 0) | flags.rawValue, &dbi)
                if rc == MDB_NOTFOUND && !create {
                    missing = true
                    break
                }
                if rc != 0 {
                    mdb_txn_abort(txn)
                    throw LMDBError(code: LMDBError.Code(rawValue: rc), operation: "mdb_dbi_open(\(name))")
                }
                var stored: UInt32 = 0
                let frc = mdb_dbi_flags(txn, dbi, &stored)
                if frc != 0 || DatabaseFlags(rawValue: stored).intersection(.layout) != flags.intersection(.layout) {
                    mdb_txn_abort(txn)
                    throw LMDBError(
                        code: frc != 0 ? LMDBError.Code(rawValue: frc) : .incompatible,
                        operation: "mdb_dbi_open(\(name)): stored flags \(stored), expected \(flags.rawValue)")
                }
                result[name] = Database(dbi: dbi, name: name)
            }
            if missing {
                mdb_txn_abort(txn)
                continue
            }
            try check(mdb_txn_commit(txn), "mdb_txn_commit(open databases)")
            return result
        }
        throw LMDBError(code: .notFound, operation: "mdb_dbi_open")
    }
}

@available(*, unavailable)
extension Environment: Sendable {}
