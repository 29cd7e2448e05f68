extension EventLog {
    /// Reads every entry of every tree in the file, the free-page list and the main database
    /// included, and touches the first and last byte of every value (so its overflow pages are
    /// read too): a damaged page that the chain and index checks never reach (the access log,
    /// the projections, the free list a later write would trust) is met here, as an LMDB error
    /// or, where LMDB follows a bad pointer, a crash. `kstore audit verify` runs it in a child
    /// process for that reason. Returns the number of entries read and a checksum of the bytes
    /// touched.
    @discardableResult
    public func walkEveryTree() throws -> (entries: Int, checksum: UInt8) {
        let trees =
            [Database(dbi: 0, name: "free pages"), Database(dbi: 1, name: "main"), meta, streams]
            + auxiliary.keys.sorted().compactMap { auxiliary[$0] }
        return try env.read { txn in
            var entries = 0
            var touched: UInt8 = 0
            for tree in trees {
                try txn.withCursor(tree) { cursor in
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        entries += 1
                        if let first = key.first { touched ^= first }
                        if let first = value.first, let last = value.last { touched ^= first ^ last }
                        entry = try cursor.next()
                    }
                }
            }
            return (entries, touched)
        }
    }
}
