import CLMDB

extension EventLog {
    /// Reads every entry of every tree in the file, the free-page list and the main database
    /// included, and touches the first and last byte of every value (so its overflow pages are
    /// read too): a damaged page that the chain and index checks never reach (the access log,
    /// the projections, the free list a later write would trust) is met here, as an LMDB error
    /// or, where LMDB follows a bad pointer, a crash. `kstore audit verify` runs it in a child
    /// process for that reason.
    ///
    /// LMDB trusts an overflow page's header (a compacting copy copies as many pages as it
    /// says); here each value that starts an overflow page has its header checked first: the
    /// overflow flag, its own page number, and as many pages as the value needs, inside the
    /// file. A header that is not is `MDB_CORRUPTED`. Returns the number of entries read and a
    /// checksum of the bytes touched.
    @discardableResult
    public func walkEveryTree() throws -> (entries: Int, checksum: UInt8) {
        let trees =
            [Database(dbi: 0, name: "free pages"), Database(dbi: 1, name: "main"), meta, streams]
            + auxiliary.keys.sorted().compactMap { auxiliary[$0] }
        return try env.read { txn in
            let overflow = OverflowCheck(env)
            let pages = overflow.pages
            var entries = 0
            var touched: UInt8 = 0
            for tree in trees {
                try txn.withCursor(tree) { cursor in
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        entries += 1
                        if let first = key.first { touched ^= first }
                        try overflow.check(value, in: tree)
                        if tree.dbi == 0 {
                            try checkFreeListEntry(key, value, pages: pages)
                        } else if tree.dbi == 1 {
                            try checkDatabaseRecord(key, value, pages: pages)
                        }
                        if let first = value.first, let last = value.last { touched ^= first ^ last }
                        entry = try cursor.next()
                    }
                }
            }
            return (entries, touched)
        }
    }

    /// A free-list entry a later write will trust: key a transaction id, value a list of page
    /// numbers (its length, then that many numbers, each a page of the file past the metas).
    private func checkFreeListEntry(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, pages: Int) throws(LMDBError) {
        let word = MemoryLayout<Int>.size
        var ok = key.count == word && value.count >= word && value.count % word == 0
        if ok {
            let n = value.loadUnaligned(as: UInt.self)
            ok = n == UInt(value.count / word - 1)
            if ok {
                for i in 1..<(value.count / word) {
                    let pgno = value.loadUnaligned(fromByteOffset: i * word, as: UInt.self)
                    if pgno < 2 || pgno >= UInt(pages) {
                        ok = false
                        break
                    }
                }
            }
        }
        guard ok else {
            throw LMDBError(code: .corrupted, operation: "the free-page list holds an entry that is not a list of pages of the file")
        }
    }

    /// A named database's record in the main database: 48 bytes whose root is a page of the
    /// file (or none).
    private func checkDatabaseRecord(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, pages: Int) throws(LMDBError) {
        guard value.count == 48 else {
            throw LMDBError(code: .corrupted, operation: "the main database holds a record of \(value.count) bytes for a named database")
        }
        let root = value.loadUnaligned(fromByteOffset: 40, as: UInt64.self)
        guard root == UInt64.max || (root >= 2 && root < UInt64(pages)) else {
            let name = String(decoding: key, as: UTF8.self)
            throw LMDBError(code: .corrupted, operation: "the main database's record of \(name) names root page \(root), outside the file")
        }
    }
}

/// LMDB trusts an overflow page's header (a compacting copy copies as many pages as it says):
/// a value that starts an overflow page (it begins 16 bytes into a page) has the header
/// checked: the overflow flag, its own page number, and as many pages as the value needs,
/// inside the file. A header that is not is `MDB_CORRUPTED`.
struct OverflowCheck {
    let base: UInt
    let pageSize: Int
    let pages: Int

    init(_ env: Environment) {
        var info = MDB_envinfo()
        mdb_env_info(env.handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(env.handle, &stat)
        base = UInt(bitPattern: info.me_mapaddr)
        pageSize = max(Int(stat.ms_psize), 64)
        pages = info.me_last_pgno + 1
    }

    /// The header of an overflow page: `pgno` (8 bytes), padding (2), flags (2, `P_OVERFLOW`
    /// = 0x04), number of pages (4).
    @inline(__always)
    func check(_ value: UnsafeRawBufferPointer, in tree: Database) throws(LMDBError) {
        guard let start = value.baseAddress, base != 0 else { return }
        let offset = UInt(bitPattern: start) &- base
        guard offset % UInt(pageSize) == 16 else { return }
        let page = start - 16
        let pgno = page.loadUnaligned(as: UInt64.self)
        let flags = page.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        let span = page.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        let needed = (16 - 1 + value.count) / pageSize + 1
        let here = Int(offset) / pageSize
        guard flags & 0x04 != 0, pgno == UInt64(here), Int(span) == needed, here + needed <= pages else {
            throw LMDBError(
                code: .corrupted,
                operation:
                    "the overflow page \(here) of a value in \(tree.name) has a damaged header (flags \(flags), page \(pgno), \(span) pages for \(needed))"
            )
        }
    }
}
