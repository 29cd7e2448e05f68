import CLMDB
import Crypto
import Glibc

extension EventLog {
    /// Copies this log into `target` (a new, empty log) record by record: each opened with this
    /// log's cipher (none for a plain store) and sealed with the target's, keeping its sequence,
    /// eventId, stream, version, times, actor and payload; the target's chain is computed anew
    /// over its own stored bytes (so its hashes differ from this log's). Both in one write
    /// transaction each: this log's writer lock is held throughout, so nothing is appended here
    /// meanwhile, and nothing of the target is visible unless all of it is. `body` then copies
    /// the caller's auxiliary databases (source reader, target writer) in the same transactions.
    /// Returns the events copied.
    public func convert(into target: EventLog, _ body: (LogReader, LogReader) throws -> Void) throws -> UInt64 {
        try target.reserveMap(env.usedBytes + env.usedBytes / 2 + (64 << 20))
        return try env.write { txn in
            let source = LogReader(log: self, txn: txn)
            return try target.env.write { out in
                let appends = StreamAppends()
                var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
                var copied: UInt64 = 0
                var expected: UInt64 = 1
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        guard let seq = Keys.decodeUInt64(key), seq == expected else {
                            throw StoreError.corrupt(
                                sequence: expected, detail: "the log has a gap or a bad key here; nothing was converted")
                        }
                        var record = try view(value, sequence: seq).materialize()
                        var bytes = record.encodedBody(cipher: target.cipher)
                        record.hash = EventRecord.chainHash(previous: prevHash, body: bytes)
                        bytes.append(contentsOf: record.hash)
                        let seqKey = Keys.sequence(seq)
                        try out.put(target.events, seqKey, bytes, flags: .append)
                        try out.put(target.ids, target.idKey(record.eventId), seqKey, flags: .noOverwrite)
                        appends.add(record.stream, seq)
                        if appends.held >= LogAppender.flushEvery { try appends.flush(into: out, target.streams, key: target.streamKey) }
                        prevHash = record.hash
                        copied += 1
                        expected += 1
                        if copied % UInt64(LogAppender.releaseEvery) == 0 { env.releaseResidentPagesIfOverBudget() }
                        entry = try cursor.next()
                    }
                }
                try appends.flush(into: out, target.streams, key: target.streamKey)
                try body(source, LogReader(log: target, txn: out))
                return copied
            }
        }
    }

    /// Swaps the directories `a` and `b` in one step (`renameat2` with `RENAME_EXCHANGE`): a
    /// process opening `a` finds either the old store or the new one, never half of each.
    public static func exchangeDirectories(_ a: String, _ b: String) throws(FileSystemError) {
        guard kstore_exchange_paths(a, b) == 0 else { throw FileSystemError(operation: "exchanging with \(b)", path: a, code: errno) }
    }

    /// The creation time (µs) in `meta`, kept by a conversion.
    public var createdAtMicros: Int64 {
        get throws {
            let metaDB = meta
            return try env.read { txn in
                guard let b = try txn.get(metaDB, Array("createdAt".utf8)), let v = Keys.decodeUInt64(b) else { return 0 }
                return Int64(bitPattern: v)
            }
        }
    }
}
