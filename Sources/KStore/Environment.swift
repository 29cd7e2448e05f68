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
    /// How this process opened the files.
    public let access: Access
    /// kstore's own writer lock: a descriptor of data.mdb that every write transaction holds an
    /// exclusive `flock` on (-1 when opened read-only). LMDB's writer mutex lives in lock.mdb; a
    /// clean-up script that deletes that file lets a second process in with a mutex of its own,
    /// and two writers then commit over each other. The `flock` is on the data file, so it
    /// serialises writers whatever happens to lock.mdb.
    private let writerLock: Int32
    /// Device and inode of the lock.mdb this process opened, checked under `writerLock` before
    /// every write transaction: a process whose lock file was replaced no longer shares its
    /// reader table with new processes, so it refuses to write (`StoreError.lockFileReplaced`).
    private let lockFile: (device: UInt64, inode: UInt64)?
    /// Set while `group` runs (on the one thread that writes): `write` then runs its body in a
    /// transaction nested in the group's, committed into it (no sync of its own) or aborted
    /// alone; the group's transaction is committed, durably, once for all of them.
    private var groupParent: OpaquePointer?
    /// A process with transactions on several threads (the server) may not resize the map while
    /// any of them is open (`mdb_env_set_mapsize`): it maps a large size once at open and sets
    /// this, and then a full map, or another process's growth of it, is an error, not a resize.
    public var fixedMapSize = false

    /// How a store is opened.
    public enum Access: Sendable, Equatable {
        /// Reads and writes (the files are created if missing).
        case readWrite
        /// Reads only, registered in LMDB's reader table (lock.mdb must be writable).
        case readOnly
        /// Reads only, without LMDB's lock file (`MDB_NOLOCK`): for an archive this OS user may
        /// not write (read-only media, another user's copy), where nobody writes meanwhile.
        case readOnlyUnlocked

        public var isReadOnly: Bool { self != .readWrite }
    }

    /// Opens (creating the files if needed, unless `access` is read-only) the environment in
    /// `path`, which must exist.
    public init(path: String, maxDatabases: UInt32 = 16, mapSize: Int, access: Access = .readWrite) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: .panic, operation: "mdb_env_create") }
        var flags = UInt32(MDB_NOTLS)
        switch access {
        case .readWrite: break
        case .readOnly: flags |= UInt32(MDB_RDONLY)
        case .readOnlyUnlocked: flags |= UInt32(MDB_RDONLY) | UInt32(MDB_NOLOCK)
        }
        var lockFD: Int32 = -1
        do throws(LMDBError) {
            try check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, 254), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            try check(mdb_env_open(env, path, flags, 0o600), "mdb_env_open(\(path))")
            if access != .readOnlyUnlocked {
                // Clear slots left by readers that died (a killed process never releases its slot).
                var dead: Int32 = 0
                try check(mdb_reader_check(env, &dead), "mdb_reader_check")
            }
            if access == .readWrite {
                lockFD = open(path + "/data.mdb", O_RDONLY | O_CLOEXEC)
                if lockFD < 0 { throw LMDBError(code: LMDBError.Code(rawValue: errno), operation: "open(\(path)/data.mdb)") }
            }
        } catch {
            if lockFD >= 0 { close(lockFD) }
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.access = access
        self.writerLock = lockFD
        self.lockFile = access == .readWrite ? Environment.identity(path + "/lock.mdb") : nil
    }

    deinit {
        mdb_env_close(handle)
        if writerLock >= 0 { close(writerLock) }
    }

    /// Device and inode of the file at `path` (nil when there is none).
    private static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Runs `body` holding kstore's writer lock (see `writerLock`), after checking that lock.mdb
    /// is still the file this process opened. Writers of other processes wait here.
    private func holdingWriterLock<T>(_ body: () throws -> T) throws -> T {
        guard writerLock >= 0 else { throw StoreError.readOnly(path: path) }
        while flock(writerLock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw LMDBError(code: LMDBError.Code(rawValue: errno), operation: "flock(\(path)/data.mdb)")
            }
        }
        defer { _ = flock(writerLock, LOCK_UN) }
        if let opened = lockFile {
            let now = Environment.identity(path + "/lock.mdb")
            if now?.device != opened.device || now?.inode != opened.inode { throw StoreError.lockFileReplaced(path: path) }
        }
        return try body()
    }

    /// The size of data.mdb in bytes, and the bytes its meta page says are in use
    /// (`usedBytes`): a file shorter than that was cut (a bad copy) and reading its missing
    /// pages would kill the process with SIGBUS.
    public func fileBytes() throws(LMDBError) -> Int {
        var fd: Int32 = -1
        try check(mdb_env_get_fd(handle, &fd), "mdb_env_get_fd")
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LMDBError(code: LMDBError.Code(rawValue: errno), operation: "fstat(\(path)/data.mdb)") }
        return Int(st.st_size)
    }

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

    func beginTransaction(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_MAP_RESIZED && fixedMapSize {
            throw LMDBError(
                code: .mapResized,
                operation:
                    "mdb_txn_begin: another process grew the store's map beyond this server's \(mapSize >> 30) GiB; restart the server")
        }
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
        if let parent = groupParent { return try nested(parent, body) }
        return try holdingWriterLock {
            do {
                return try writeLocked(body)
            } catch let error as LMDBError where error.code == .ioError {
                throw diskFull(error) ?? error
            }
        }
    }

    /// Runs `body` as one group of writes: every `write` it makes (on this thread) runs in a
    /// transaction nested in one write transaction, which is committed, durably, when `body`
    /// returns: one sync for all of them (group commit). A `write` that throws leaves nothing of
    /// itself and the others stand. A full map aborts the whole group, grows the map (unless
    /// `fixedMapSize`) and runs `body` again from the start, so `body` must compute everything
    /// from the transactions it is given. Nothing is durable, or visible to readers, before
    /// `group` returns.
    public func group<T>(_ body: () throws -> T) throws -> T {
        precondition(groupParent == nil, "write groups do not nest")
        return try holdingWriterLock {
            do {
                return try writeLocked { parent in
                    groupParent = parent.handle
                    defer { groupParent = nil }
                    return try body()
                }
            } catch let error as LMDBError where error.code == .ioError {
                throw diskFull(error) ?? error
            }
        }
    }

    /// One write of a group: a child transaction of `parent`, committed into it or aborted alone.
    private func nested<T>(_ parent: OpaquePointer, _ body: (Transaction) throws -> T) throws -> T {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, parent, 0, &txn), "mdb_txn_begin(nested)")
        guard let txn else { throw LMDBError(code: .panic, operation: "mdb_txn_begin(nested)") }
        let t = Transaction(txn)
        do {
            let result = try body(t)
            t.isOpen = false
            try check(mdb_txn_commit(txn), "mdb_txn_commit(nested)")
            return result
        } catch {
            if t.isOpen {
                t.isOpen = false
                mdb_txn_abort(txn)
            }
            throw error
        }
    }

    /// LMDB reports a short write (the file system filled up in the middle of a commit) as
    /// `EIO`, "Input/output error": when the store's file system has (almost) nothing left,
    /// that is what it was, and the person is told the disk is full.
    private func diskFull(_ error: LMDBError) -> LMDBError? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        guard free < 16 << 20 else { return nil }
        return LMDBError(
            code: .noSpace, operation: "\(error.operation) (a short write: \(free / 1024) KiB left on the disk holding \(path))")
    }

    /// Begins a write transaction (under `holdingWriterLock`), refusing one whose base is not
    /// the last commit. LMDB's writer takes the log's last transaction id from lock.mdb, not
    /// from data.mdb; a lock file created while a process holding a deleted one was inside a
    /// write transaction keeps the id of before that commit, and a transaction begun from it
    /// would write over the commit. Then nothing is written (`StoreError.lockFileStale`).
    private func beginWriteTransaction() throws -> OpaquePointer {
        let txn = try beginTransaction(readOnly: false)
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        guard mdb_txn_id(txn) == info.me_last_txnid + 1 else {
            mdb_txn_abort(txn)
            throw StoreError.lockFileStale(path: path)
        }
        return txn
    }

    private func writeLocked<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let txn = try beginWriteTransaction()
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
                if fixedMapSize {
                    throw LMDBError(
                        code: .mapFull, operation: "\(error.operation): the store's map of \(mapSize >> 30) GiB is full; restart the server"
                    )
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
    public func openDatabases(_ names: [String]) throws -> [String: Database] {
        try openDatabases(names.map { ($0, DatabaseFlags()) })
    }

    /// As `openDatabases(_:)`, each database created with its flags; an existing database whose
    /// stored layout differs from the one asked for is refused (`MDB_INCOMPATIBLE`), never
    /// silently used with the wrong comparison.
    public func openDatabases(_ specs: [(name: String, flags: DatabaseFlags)]) throws -> [String: Database] {
        if let found = try openDatabases(specs, create: false) { return found }
        guard !access.isReadOnly else {
            throw LMDBError(code: .notFound, operation: "mdb_dbi_open: a database is missing and the store is open read-only")
        }
        return try holdingWriterLock {
            guard let created = try openDatabases(specs, create: true) else { throw LMDBError(code: .notFound, operation: "mdb_dbi_open") }
            return created
        }
    }

    /// The named databases of `names` that exist (a read-only store made by an older kstore
    /// may lack a database a newer one adds; its readers treat it as empty).
    public func openDatabasesIfPresent(_ names: [String]) throws -> [String: Database] {
        var found: [String: Database] = [:]
        for name in names {
            if let one = try openDatabases([(name, DatabaseFlags())], create: false) { found.merge(one) { a, _ in a } }
        }
        return found
    }

    /// One attempt of `openDatabases(_:)`: nil when `create` is false and a database is missing.
    private func openDatabases(_ specs: [(name: String, flags: DatabaseFlags)], create: Bool) throws -> [String: Database]? {
        let txn = create ? try beginWriteTransaction() : try beginTransaction(readOnly: true)
        var result: [String: Database] = [:]
        for (name, flags) in specs {
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, (create ? UInt32(MDB_CREATE) : 0) | flags.rawValue, &dbi)
            if rc == MDB_NOTFOUND && !create {
                mdb_txn_abort(txn)
                return nil
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
        try check(mdb_txn_commit(txn), "mdb_txn_commit(open databases)")
        return result
    }
}

@available(*, unavailable)
extension Environment: Sendable {}
