import Crypto
import Glibc
import KBinary

/// The append-only event log of one store: an LMDB environment with
///
/// - `events`: sequence (BE64) → record (`EventRecord` layout), gapless from 1, `MDB_APPEND`;
/// - `streams` (`MDB_DUPSORT|MDB_DUPFIXED`): stream id → the sequences (BE64) of its events,
///   sorted, each new one put with `MDB_APPENDDUP`. Versions are gapless from 1 in log order, so
///   the k-th sequence is version k and a stream's version is its number of values;
/// - `ids`: eventId (16 bytes) → sequence: idempotency and correction targets;
/// - `meta`: store id, format (`formatVersion`), creation time;
/// - auxiliary databases named by the caller (projections, access log), opaque to the log.
///
/// Sequence, stream versions and hashes are assigned inside the write transaction, which LMDB
/// serialises across processes, so concurrent writers get gapless sequences and contiguous
/// versions. Every commit is durable (LMDB's default sync) before `append` returns.
public final class EventLog {
    public let env: Environment
    public let path: String
    let events: Database
    let streams: Database
    let ids: Database
    let meta: Database
    public let auxiliary: [String: Database]
    /// 16 random bytes chosen at `create`.
    public let storeId: [UInt8]
    /// The store's keys when it is encrypted and was opened with its master key; nil for a plain
    /// store, and for an encrypted one opened without its key (`audit verify` only).
    public let cipher: StoreCipher?
    /// `cipher`'s record contexts as a plain struct (no reference count to share between threads).
    let recordContext: StoreCipher.RecordContext?
    /// Whether the store is encrypted (its `meta` holds a wrapped data key), key or no key.
    public let isEncrypted: Bool
    /// The id of the master key that wraps the data key (nil for a plain store).
    public let masterKeyId: String?

    public static let defaultMapSize = 256 << 20
    /// The layout this code writes (`meta.format`). 1: `streams` keyed by stream ‖ 0 ‖ version
    /// plus a `heads` database; a format-1 store is upgraded when opened (`upgradeIfNeeded`).
    public static let formatVersion: UInt8 = 2
    static let coreDatabases: [(name: String, flags: DatabaseFlags)] = [
        ("events", []), ("streams", [.dupSort, .dupFixed]), ("ids", []), ("meta", []),
    ]

    /// Creates a new, empty store in `path` (a new or empty directory, made owner-only).
    /// With `masterKey`, the store is encrypted: a random 256-bit data key is made, wrapped by
    /// the master key and kept in `meta` (with the master key's id, never the key).
    public static func create(
        at path: String, mapSize: Int = defaultMapSize, auxiliary: [String] = [], clockMicros: Int64, masterKey: MasterKey? = nil,
        storeId chosenId: [UInt8]? = nil
    ) throws
        -> EventLog
    {
        var st = stat()
        if stat(path, &st) == 0 {
            if access(path + "/data.mdb", F_OK) == 0 { throw StoreError.alreadyExists(path: path) }
        } else if mkdir(path, 0o700) != 0 {
            throw StoreError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        guard chmod(path, 0o700) == 0 else {
            throw StoreError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        let log = try EventLog(path: path, mapSize: mapSize, auxiliary: auxiliary)
        var rng = SystemRandomNumberGenerator()
        let id = chosenId ?? (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let wrapped = try masterKey.map { try WrappedDataKey.wrap(SymmetricKey(size: .bits256), with: $0, storeId: id) }
        try log.env.write { txn in
            try txn.put(log.meta, Array("storeId".utf8), id)
            try txn.put(log.meta, Array("format".utf8), [formatVersion])
            try txn.put(log.meta, Array("createdAt".utf8), Keys.sequence(UInt64(bitPattern: clockMicros)))
            if let wrapped { try txn.put(log.meta, WrappedDataKey.metaKey, wrapped) }
        }
        return try EventLog(path: path, mapSize: mapSize, auxiliary: auxiliary, masterKey: masterKey, keyPath: "the new key")
    }

    /// Opens an existing store (upgrading a format-1 store first, see `upgradeIfNeeded`).
    ///
    /// With `readOnly`, nothing is ever written (no upgrade, no database created) and the store
    /// may sit on read-only media or belong to another OS user: when this user may not write
    /// the directory or its lock.mdb, LMDB's lock file is not used at all (`readOnlyUnlocked`).
    ///
    /// Refused before any page is read: a path without data.mdb (`notFound`), one this user may
    /// not look into (`permissionDenied`), an empty data.mdb or one without kstore's `meta`
    /// (`notAStore`), and a data.mdb shorter than its header says (`truncated`).
    ///
    /// An encrypted store needs its master key (`masterKey`, read from `keyPath`): without it
    /// the open is refused (`KeyError.needed`) unless `keyless` (verify's walk of the chain and
    /// indexes, which reads no plaintext); a wrong key is refused before anything is read.
    public static func open(
        at path: String, mapSize: Int = defaultMapSize, auxiliary: [String] = [], readOnly: Bool = false, masterKey: MasterKey? = nil,
        keyPath: String = "", keyless: Bool = false
    ) throws
        -> EventLog
    {
        let data = path + "/data.mdb"
        var st = stat()
        guard stat(data, &st) == 0 else {
            if errno == EACCES {
                throw StoreError.permissionDenied(path: path, user: osUserName(), detail: "this user may not look into the directory")
            }
            throw StoreError.notFound(path: path)
        }
        guard st.st_size > 0 else { throw StoreError.notAStore(path: path, detail: "its data.mdb is empty (0 bytes)") }
        guard Glibc.access(data, R_OK) == 0 else {
            throw StoreError.permissionDenied(path: path, user: osUserName(), detail: "this user may not read data.mdb")
        }
        var access = Environment.Access.readWrite
        if readOnly {
            let lockWritable = Glibc.access(path + "/lock.mdb", W_OK) == 0
            let dirWritable = Glibc.access(path, W_OK) == 0
            access = lockWritable || (dirWritable && Glibc.access(path + "/lock.mdb", F_OK) != 0) ? .readOnly : .readOnlyUnlocked
        } else if Glibc.access(data, W_OK) != 0 {
            let reason = errno == EROFS ? "it is on a read-only file system" : "this user may not write data.mdb"
            throw StoreError.permissionDenied(
                path: path, user: osUserName(), detail: "\(reason) (`kstore audit verify` still checks it read-only)")
        }
        do {
            return try EventLog(
                path: path, mapSize: mapSize, auxiliary: auxiliary, access: access, existing: true, masterKey: masterKey, keyPath: keyPath,
                keyless: keyless)
        } catch let error as LMDBError where error.code == .accessDenied || error.code == .readOnlyFS {
            throw StoreError.permissionDenied(
                path: path, user: osUserName(),
                detail: "\(error.message.lowercased()) opening its files (lock.mdb must be writable by the user running kstore)")
        } catch let error as LMDBError where error.code == .invalid || error.code == .versionMismatch {
            throw StoreError.notAStore(path: path, detail: "its data.mdb has no valid LMDB header (\(error.message))")
        }
    }

    /// The name of the OS user running this process (its uid when it has none).
    static func osUserName() -> String {
        let uid = getuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }

    private init(
        path: String, mapSize: Int, auxiliary: [String], access: Environment.Access = .readWrite, existing: Bool = false,
        masterKey: MasterKey? = nil, keyPath: String = "", keyless: Bool = false
    ) throws {
        self.path = path
        // Room for every database plus the format-1 `heads` an upgrade opens to delete.
        env = try Environment(
            path: path, maxDatabases: UInt32(EventLog.coreDatabases.count + auxiliary.count + 3), mapSize: mapSize, access: access)
        if existing { try EventLog.checkExisting(env, path: path) }
        if access.isReadOnly {
            if try env.read({ txn in try EventLog.layout(txn, path: path) }) == .format1 {
                throw StoreError.upgradeRefused(
                    path: path, detail: "a format-1 store is upgraded when opened for writing, and this one is open read-only")
            }
        } else {
            try EventLog.upgradeIfNeeded(env, path: path)
        }
        var dbs = try env.openDatabases(EventLog.coreDatabases + (access.isReadOnly ? [] : auxiliary.map { ($0, DatabaseFlags()) }))
        if access.isReadOnly { dbs.merge(try env.openDatabasesIfPresent(auxiliary)) { a, _ in a } }
        func db(_ name: String) throws -> Database {
            guard let d = dbs[name] else { throw LMDBError(code: .notFound, operation: "mdb_dbi_open(\(name))") }
            return d
        }
        events = try db("events")
        streams = try db("streams")
        ids = try db("ids")
        meta = try db("meta")
        var aux: [String: Database] = [:]
        for name in auxiliary { aux[name] = access.isReadOnly ? dbs[name] : try db(name) }
        self.auxiliary = aux
        let metaDB = meta
        let (id, wrapped) = try env.read { txn in
            (try txn.get(metaDB, Array("storeId".utf8))?.copiedBytes ?? [], try txn.get(metaDB, WrappedDataKey.metaKey)?.copiedBytes)
        }
        storeId = id
        isEncrypted = wrapped != nil
        masterKeyId = wrapped.flatMap(WrappedDataKey.masterKeyId)
        if let wrapped {
            if let masterKey {
                let dataKey = try WrappedDataKey.unwrap(wrapped, with: masterKey, storeId: id, keyPath: keyPath)
                cipher = try StoreCipher(dataKey: dataKey, storeId: id)
            } else if keyless {
                cipher = nil
            } else {
                throw KeyError.needed(path: path)
            }
        } else {
            cipher = nil
        }
        recordContext = cipher?.recordContext
    }

    /// The key of `stream` in `streams`: its id's bytes, or in an encrypted store its pseudonym.
    @inline(__always)
    func streamKey(_ stream: String) -> [UInt8] {
        guard let cipher else { return Keys.stream(stream) }
        return cipher.pseudonym(stream, .stream)
    }

    /// The key of an eventId in `ids` (its pseudonym in an encrypted store).
    @inline(__always)
    func idKey(_ eventId: [UInt8]) -> [UInt8] {
        guard let cipher else { return eventId }
        return cipher.pseudonym(eventId, .eventId)
    }

    /// Reads a stored record (opening it in an encrypted store); an unreadable one is
    /// `StoreError.corrupt` at its sequence.
    public func view(_ bytes: UnsafeRawBufferPointer, sequence: UInt64, names: Bool = true) throws -> RecordView {
        do throws(BinaryError) { return try RecordView(bytes, cipher: cipher, names: names) } catch {
            throw StoreError.corrupt(sequence: sequence, detail: error.description)
        }
    }

    /// The type code of a stored record, to pick records by type: peeked from a plain one's first
    /// bytes, from a sealed one's first ciphertext block (`StoreCipher.peekTypeCode`: not
    /// authenticated; whatever is picked is opened, and checked, after). Nil when unreadable.
    public func typeCode(of bytes: UnsafeRawBufferPointer) -> UInt16? {
        guard let context = recordContext else { return RecordView.peekTypeCode(bytes) }
        guard let header = try? RecordHeader(bytes), header.isSealed else { return nil }
        return context.peekTypeCode(header.sealed)
    }

    /// Replaces the master key that wraps the data key (`kstore key rotate`): the data key is
    /// opened with `old` and wrapped again with `new` in one durable write; nothing else of the
    /// store changes, so it takes the same time whatever the store's size.
    public func rewrapDataKey(from old: MasterKey, oldPath: String, to new: MasterKey) throws {
        let metaDB = meta
        let id = storeId
        try env.write { txn in
            guard let stored = try txn.get(metaDB, WrappedDataKey.metaKey)?.copiedBytes else {
                throw KeyError.malformedStoreKey("the store is not encrypted")
            }
            let dataKey = try WrappedDataKey.unwrap(stored, with: old, storeId: id, keyPath: oldPath)
            try txn.put(metaDB, WrappedDataKey.metaKey, try WrappedDataKey.wrap(dataKey, with: new, storeId: id))
        }
    }

    /// What an existing store must be before a page of it is read: a data.mdb at least as long
    /// as its header says (LMDB reads pages through a memory map and trusts the file to hold
    /// them: a missing page is a SIGBUS), holding kstore's `meta` with a store id.
    static func checkExisting(_ env: Environment, path: String) throws {
        let fileBytes = try env.fileBytes()
        let usedBytes = env.usedBytes
        guard fileBytes >= usedBytes else { throw StoreError.truncated(path: path, fileBytes: fileBytes, usedBytes: usedBytes) }
        let storeId: [UInt8]? = try env.read { txn in
            guard let meta = try txn.openDatabase("meta") else { return nil }
            return try txn.get(meta, Array("storeId".utf8))?.copiedBytes
        }
        guard let storeId else {
            throw StoreError.notAStore(path: path, detail: "its data.mdb has no kstore meta (store id, layout format)")
        }
        guard storeId.count == 16 else {
            throw StoreError.notAStore(path: path, detail: "its store id is \(storeId.count) bytes, not 16")
        }
    }

    // MARK: Appending

    /// Appends `batch` in one durable write transaction and returns one outcome per event.
    ///
    /// An event whose eventId is already stored with the same content is skipped (`duplicate`);
    /// with other content the batch is refused. `validate` runs inside the transaction for each
    /// event about to be appended (after the duplicate and version checks), seeing everything
    /// written before it, this batch included; throwing refuses the whole batch. `clockMicros`
    /// is read inside the transaction, and recordedAt never goes backwards in log order.
    /// `thenInSameTransaction` runs after the events are written and before the commit, so a
    /// caller's own writes (e.g. projections under a newly adopted rule set) commit with them.
    @discardableResult
    public func append(
        _ batch: [NewEvent], clockMicros: () -> Int64,
        validate: (LogReader, NewEvent, Int) throws -> Void = { _, _, _ in },
        thenInSameTransaction: (LogReader, [AppendOutcome]) throws -> Void = { _, _ in }
    ) throws -> [AppendOutcome] {
        try appending(clockMicros: clockMicros) { appender in
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(batch.count)
            for (index, event) in batch.enumerated() {
                outcomes.append(try appender.append(event) { reader in try validate(reader, event, index) })
            }
            try appender.finish()
            // Caller's writes to auxiliary databases, committed atomically with the events.
            try thenInSameTransaction(appender.reader, outcomes)
            return outcomes
        }
    }

    /// Runs `body` with a `LogAppender` in one durable write transaction, committed when `body`
    /// returns (a throwing body writes nothing): a caller can append events as it reads them,
    /// a file of any length in one transaction, without holding them.
    ///
    /// When the map is full the transaction is abandoned, the map grown and `body` run again
    /// from the start with a new appender (`Environment.write`), so `body` must be able to read
    /// its input again.
    public func appending<T>(clockMicros: () -> Int64, _ body: (LogAppender) throws -> T) throws -> T {
        try env.write { txn in
            let appender = try LogAppender(log: self, txn: txn, clockMicros: clockMicros)
            let result = try body(appender)
            try appender.finish()
            return result
        }
    }

    /// Grows the map, before a write transaction, so that `bytes` more than are in use fit
    /// (to the next doubling of the current size): a large import then does not meet
    /// `MDB_MAP_FULL` and start over. The map is address space; the file grows only as pages
    /// are used.
    public func reserveMap(_ bytes: Int) throws {
        let needed = env.usedBytes + bytes
        var size = env.mapSize
        guard needed > size else { return }
        while size < needed { size *= 2 }
        try env.setMapSize(size)
    }

    /// Runs `body` as one group of writes committed in one durable transaction
    /// (`Environment.group`): every append and auxiliary write it makes on this thread is
    /// nested in it; one that throws leaves nothing of itself, the others stand.
    public func group<T>(_ body: () throws -> T) throws -> T { try env.group(body) }

    /// For a process with transactions on several threads: the map is never resized (see
    /// `Environment.fixedMapSize`); open it with a large `mapSize` instead.
    public var fixedMapSize: Bool {
        get { env.fixedMapSize }
        set { env.fixedMapSize = newValue }
    }

    // MARK: Reading

    /// Runs `body` with a consistent snapshot of the log.
    public func read<T>(_ body: (LogReader) throws -> T) throws -> T {
        try env.read { txn in try body(LogReader(log: self, txn: txn)) }
    }

    /// Runs `body` in a write transaction for the caller's auxiliary databases (events are
    /// only ever added through `append`). Committed when `body` returns.
    public func writeAuxiliary<T>(_ body: (LogReader) throws -> T) throws -> T {
        try env.write { txn in try body(LogReader(log: self, txn: txn)) }
    }

    /// Number of events (the last sequence; sequences are gapless from 1).
    public func count() throws -> UInt64 {
        try read { try $0.lastRecord()?.sequence ?? 0 }
    }

    /// Calls `body` for every record from `from` through `through` (inclusive) in log order.
    ///
    /// Reads in bounded read transactions of `chunk` records, so a long scan never pins old
    /// pages for its whole length (writers keep reusing free pages). `body` returns false to stop.
    public func scan(
        from: UInt64 = 1, through: UInt64 = .max, chunk: Int = 65_536,
        _ body: (RecordView) throws -> Bool
    ) throws {
        try scanRaw(from: from, through: through, chunk: chunk) { seq, bytes in
            return try body(try view(bytes, sequence: seq))
        }
    }

    /// Calls `body` with every stored record's sequence and bytes, decoding nothing, in bounded
    /// read transactions of `chunk` records; `body` returns false to stop. For passes that look
    /// at few records (e.g. by type code, see `RecordView.peekTypeCode`).
    ///
    /// Every `releaseEvery` records, when the process holds more than
    /// `Environment.residentBudget` of mapped file pages, they are released
    /// (`Environment.releaseResidentPages`), so a pass over the whole log keeps the process's
    /// resident memory bounded, not growing with the size of the store.
    public func scanRaw(
        from: UInt64 = 1, through: UInt64 = .max, chunk: Int = 65_536,
        _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var next = from
        var done = false
        var sinceRelease = 0
        while !done && next <= through {
            try env.read { txn in
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.seek(atLeast: Keys.sequence(next))
                    var n = 0
                    while let (key, value) = entry {
                        guard let seq = Keys.decodeUInt64(key) else { throw StoreError.corrupt(sequence: next, detail: "bad key") }
                        if seq > through {
                            done = true
                            return
                        }
                        next = seq + 1
                        if try !body(seq, value) {
                            done = true
                            return
                        }
                        n += 1
                        sinceRelease += 1
                        if sinceRelease >= EventLog.releaseEvery {
                            env.releaseResidentPagesIfOverBudget()
                            sinceRelease = 0
                        }
                        if n >= chunk { return }
                        entry = try cursor.next()
                    }
                    done = true
                }
            }
        }
    }

    /// Records between two looks at the resident memory during a scan (measured in
    /// ARCHITECTURE.md, "Resident memory of long passes").
    static let releaseEvery = 8_192

    /// A raw cursor pass over `events` touching every key and value, decoding nothing:
    /// the floor any replay is measured against. Returns entries and bytes seen.
    public func rawScan() throws -> (entries: Int, bytes: Int) {
        try env.read { txn in
            try txn.withCursor(events) { cursor in
                var n = 0
                var bytes = 0
                var entry = try cursor.first()
                while let (_, value) = entry {
                    n += 1
                    bytes &+= value.count &+ Int(value[value.count - 1])
                    entry = try cursor.next()
                }
                return (n, bytes)
            }
        }
    }
}

@available(*, unavailable)
extension EventLog: Sendable {}

/// Read access to the log inside one transaction (a snapshot, or the writer's own view).
public struct LogReader {
    let log: EventLog
    public let txn: Transaction
    /// Inside `EventLog.append`: the batch's events already in `events`, not yet in `streams`.
    let unindexed: StreamAppends?

    init(log: EventLog, txn: Transaction, unindexed: StreamAppends? = nil) {
        self.log = log
        self.txn = txn
        self.unindexed = unindexed
    }

    /// The auxiliary database named `name` (opened at start-up).
    public func auxiliary(_ name: String) -> Database? { log.auxiliary[name] }

    public func lastRecord() throws -> RecordView? {
        return try txn.withCursor(log.events) { cursor -> RecordView? in
            guard let (key, value) = try cursor.last() else { return nil }
            return try log.view(value, sequence: Keys.decodeUInt64(key) ?? 0)
        }
    }

    /// The chain hash stored with record `sequence` (read without opening it: no key needed).
    public func storedHash(_ sequence: UInt64) throws -> [UInt8]? {
        guard let value = try txn.get(log.events, Keys.sequence(sequence)) else { return nil }
        guard value.count > EventRecord.hashSize else { throw StoreError.corrupt(sequence: sequence, detail: "a record without its hash") }
        return Array(value.suffix(EventRecord.hashSize))
    }

    /// The last sequence in the log (0 when empty), read from its key alone.
    public func lastSequence() throws -> UInt64 {
        try txn.withCursor(log.events) { cursor in try cursor.last().flatMap { Keys.decodeUInt64($0.key) } ?? 0 }
    }

    public func record(_ sequence: UInt64) throws -> RecordView? {
        guard let value = try txn.get(log.events, Keys.sequence(sequence)) else { return nil }
        return try log.view(value, sequence: sequence)
    }

    public func sequence(forEventId id: [UInt8]) throws -> UInt64? {
        try sequence(forIdKey: log.idKey(id))
    }

    /// As `sequence(forEventId:)`, given the id's key in `ids` (`EventLog.idKey`).
    func sequence(forIdKey key: [UInt8]) throws -> UInt64? {
        guard let value = try txn.get(log.ids, key) else { return nil }
        return Keys.decodeUInt64(value)
    }

    /// The stream's current version (0 for a stream with no events): its number of sequences.
    public func streamVersion(_ stream: String) throws -> UInt64 {
        let stored = try txn.withCursor(log.streams) { cursor -> UInt64 in
            guard try cursor.find(log.streamKey(stream)) != nil else { return 0 }
            return UInt64(try cursor.valueCount())
        }
        return stored + UInt64(unindexed?.sequences(of: stream).count ?? 0)
    }

    /// Every stream id with its version, in byte order. In an encrypted store the keys are
    /// pseudonyms: each stream's id is read from its first event.
    public func streams() throws -> [(stream: String, version: UInt64)] {
        var out: [(stream: String, version: UInt64)] = try txn.withCursor(log.streams) { cursor in
            var out: [(String, UInt64)] = []
            var entry = try cursor.first()
            while let (key, value) = entry {
                if log.cipher != nil {
                    guard let first = Keys.decodeUInt64(value), let record = try record(first) else {
                        throw StoreError.corrupt(sequence: 0, detail: "streams index: a stream whose first event cannot be read")
                    }
                    out.append((record.stream, UInt64(try cursor.valueCount())))
                } else {
                    out.append((String(decoding: key, as: UTF8.self), UInt64(try cursor.valueCount())))
                }
                entry = try cursor.nextKey()
            }
            if log.cipher != nil { out.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }
            return out
        }
        let extra = unindexed?.counts ?? [:]
        if !extra.isEmpty {
            var merged = Dictionary(out, uniquingKeysWith: { a, _ in a })
            for (stream, count) in extra { merged[stream, default: 0] += UInt64(count) }
            out = merged.map { ($0.key, $0.value) }.sorted { $0.stream.utf8.lexicographicallyPrecedes($1.stream.utf8) }
        }
        return out
    }

    /// The sequences of a stream's events, in version order (the k-th is version k).
    public func streamSequences(_ stream: String) throws -> [UInt64] {
        var out = try storedSequences(stream)
        if let unindexed { out += unindexed.sequences(of: stream) }
        return out
    }

    /// The stream's values in the store, a page at a time (`MDB_GET_MULTIPLE`).
    private func storedSequences(_ stream: String) throws -> [UInt64] {
        try txn.withCursor(log.streams) { cursor in
            guard let (_, first) = try cursor.find(log.streamKey(stream)) else { return [] }
            let count = try cursor.valueCount()
            var out: [UInt64] = []
            out.reserveCapacity(count)
            if count == 1 {
                // LMDB keeps a single value in the node itself: no page of values to fetch.
                guard let seq = Keys.decodeUInt64(first) else {
                    throw StoreError.corrupt(sequence: 0, detail: "streams index of \(stream): a value of \(first.count) bytes")
                }
                return [seq]
            }
            var page = try cursor.valuesPage(next: false)
            while let values = page {
                guard values.count % 8 == 0 else {
                    throw StoreError.corrupt(sequence: 0, detail: "streams index of \(stream): a page of \(values.count) bytes")
                }
                var offset = 0
                while offset < values.count {
                    out.append(UInt64(bigEndian: values.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                    offset += 8
                }
                page = try cursor.valuesPage(next: true)
            }
            guard out.count == count else {
                throw StoreError.corrupt(sequence: 0, detail: "streams index of \(stream): \(out.count) sequences read, \(count) counted")
            }
            return out
        }
    }

    /// Calls `body` with each record of a stream in version order.
    public func forEachInStream(_ stream: String, _ body: (RecordView) throws -> Void) throws {
        for seq in try streamSequences(stream) {
            guard let view = try record(seq) else {
                throw StoreError.corrupt(sequence: seq, detail: "indexed in stream \(stream) but missing")
            }
            try body(view)
        }
    }

    /// Calls `body` with each record of a stream whose type code is one of `typeCodes`, in
    /// version order, decoding only those (the others' codes are peeked from their first bytes).
    public func forEachInStream(_ stream: String, typeCodes: [UInt16], _ body: (RecordView) throws -> Void) throws {
        for seq in try streamSequences(stream) {
            guard let bytes = try txn.get(log.events, Keys.sequence(seq)) else {
                throw StoreError.corrupt(sequence: seq, detail: "indexed in stream \(stream) but missing")
            }
            guard let code = log.typeCode(of: bytes) else {
                throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
            }
            guard typeCodes.contains(code) else { continue }
            // A sealed record's type was peeked unauthenticated: opened (and checked) now.
            let view = try log.view(bytes, sequence: seq)
            guard typeCodes.contains(view.typeCode) else { continue }
            try body(view)
        }
    }
}

@available(*, unavailable)
extension LogReader: Sendable {}
