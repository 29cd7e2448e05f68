import Crypto
import Glibc
import KBinary
import Synchronization

/// One broken invariant found by `verify`.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A sequence number is absent (an event was removed).
        case missing
        /// The record under a key carries another sequence (records swapped or moved).
        case sequenceMismatch = "sequence-mismatch"
        /// The stored hash is not SHA-256(previous hash ‖ record): the record or its predecessor changed.
        case hashMismatch = "hash-mismatch"
        /// The bytes are not a record.
        case undecodable
        /// A stream's versions are not 1, 2, 3, … in log order.
        case streamVersion = "stream-version"
        /// An index (streams, ids) disagrees with the events.
        case index
        /// The caller's own check (payload decoding, projections) failed.
        case content
        /// The log does not extend a checkpoint.
        case checkpoint
        /// A sealed record does not open under the store's key: altered, or moved from elsewhere.
        case tampered
    }

    public var sequence: UInt64
    public var kind: Kind
    public var detail: String

    public init(sequence: UInt64, kind: Kind, detail: String) {
        self.sequence = sequence
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "sequence \(sequence): \(kind.rawValue): \(detail)" }
}

/// What `verify` found.
public struct VerifyReport: Sendable {
    public var events: UInt64
    /// Hex SHA-256 of the last record (the head of the chain).
    public var headHash: String
    public var problems: [VerifyProblem]
    public var ok: Bool { problems.isEmpty }
}

extension EventLog {
    /// Recomputes the whole hash chain and checks every index against the events, as of one
    /// snapshot: its last key bounds the walk. `inspect` sees every decodable record (for the
    /// caller's own checks, e.g. that its payload decodes) and returns a problem or nil; it is
    /// called from several threads at once.
    ///
    /// Each record stores its predecessor's hash, so the chain is checked in `threads` chunks of
    /// the key range at once (default: one per core, at most 8; `KSTORE_VERIFY_THREADS`), each
    /// in its own read transaction and bounded by the last key of the first one (the log only
    /// grows, so later snapshots hold the same records up to it); the counts and the streams
    /// index are checked in that first transaction. The report is the one a single walk makes:
    /// problems in walk order (a chunk's first event of a stream is checked against the
    /// previous chunks' last version when the chunks are merged), cut at `maxProblems`, then
    /// sorted by sequence.
    public func verify(maxProblems: Int = 1000, threads: Int? = nil, inspect: @escaping @Sendable (RecordView) -> String? = { _ in nil })
        throws -> VerifyReport
    {
        try env.read { txn in
            let lastKey: [UInt8]? = try txn.withCursor(events) { cursor in try cursor.last().map { Array($0.key) } }
            let workers = Self.verifyThreads(threads)
            // Chunk boundaries: sequence keys splitting 1…last into `workers` ranges.
            var bounds: [[UInt8]] = [[]]
            if let lastKey, let last = lastKey.withUnsafeBytes(Keys.decodeUInt64), workers > 1, last >= Self.parallelVerifyThreshold {
                for k in 1..<UInt64(workers) { bounds.append(Keys.sequence(1 + last / UInt64(workers) * k)) }
            }
            let chunks: [VerifyChunk]
            if bounds.count == 1 {
                chunks = [try verifyChunk(txn, from: [], upTo: nil, through: lastKey, maxProblems: maxProblems, inspect: inspect)]
            } else {
                let results = VerifyChunkResults(count: bounds.count)
                let shared = UncheckedLog(self)
                let through = lastKey
                let starts = bounds
                Self.onThreads(bounds.count) { k in
                    let log = shared.log
                    do {
                        let chunk = try log.env.read { t in
                            try log.verifyChunk(
                                t, from: starts[k], upTo: k + 1 < starts.count ? starts[k + 1] : nil, through: through,
                                maxProblems: maxProblems, inspect: inspect)
                        }
                        results.store(k, .success(chunk))
                    } catch {
                        results.store(k, .failure(error))
                    }
                }
                chunks = try (0..<bounds.count).map { k in
                    guard let result = results.take(k) else { throw LMDBError(code: .panic, operation: "verify chunk \(k)") }
                    return try result.get()
                }
            }
            var problems: [VerifyProblem] = []
            func report(_ problem: VerifyProblem) {
                if problems.count < maxProblems { problems.append(problem) }
            }
            func report(_ seq: UInt64, _ kind: VerifyProblem.Kind, _ detail: String) {
                report(VerifyProblem(sequence: seq, kind: kind, detail: detail))
            }
            // Merged in walk order; a chunk's first event of each stream against the chunks before.
            var streamVersions: [String: (version: UInt64, sequence: UInt64, events: UInt64)] = [:]
            var count: UInt64 = 0
            var expected: UInt64 = 1
            var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
            for chunk in chunks {
                for item in chunk.items {
                    switch item {
                    case .problem(let p):
                        report(p)
                    case .firstOfStream(let stream, let version, let seq):
                        let last = streamVersions[stream]?.version ?? 0
                        if version != last + 1 { report(seq, .streamVersion, "stream \(stream) goes from version \(last) to \(version)") }
                    }
                }
                for (stream, s) in chunk.streams {
                    streamVersions[stream] = (s.version, s.sequence, (streamVersions[stream]?.events ?? 0) + s.events)
                }
                count += chunk.count
                expected = chunk.expected
                prevHash = chunk.prevHash
            }
            // Nothing indexed that the events do not hold.
            let streamEntries = try txn.count(streams)  // every value of every stream
            let idEntries = try txn.count(ids)
            if streamEntries != Int(count) {
                report(expected, .index, "streams index holds \(streamEntries) entries for \(count) events")
            }
            if idEntries != Int(count) {
                report(expected, .index, "ids index holds \(idEntries) entries for \(count) events")
            }
            // Per stream: as many sequences indexed as it has events, and no stream without events.
            try txn.withCursor(streams) { cursor in
                var entry = try cursor.first()
                while let (key, _) = entry {
                    let stream = streamLabel(key)
                    let indexed = UInt64(try cursor.valueCount())
                    if let head = streamVersions[stream] {
                        if indexed != head.events {
                            report(
                                head.sequence, .index,
                                "streams index holds \(indexed) sequences for \(stream), which has \(head.events) events (last at \(head.sequence))"
                            )
                        }
                    } else {
                        report(expected, .index, "streams index holds \(indexed) sequences for \(stream), which has no events")
                    }
                    entry = try cursor.nextKey()
                }
            }
            problems.sort { ($0.sequence, $0.kind.rawValue) < ($1.sequence, $1.kind.rawValue) }
            return VerifyReport(events: count, headHash: hex(prevHash), problems: problems)
        }
    }

    /// Logs of at least this many events are verified in parallel.
    public static let parallelVerifyThreshold: UInt64 = 1 << 14

    /// `threads`, else `KSTORE_VERIFY_THREADS`, else one per online core (at most 8).
    static func verifyThreads(_ threads: Int?) -> Int {
        if let threads { return max(1, min(threads, 64)) }
        if let text = getenv("KSTORE_VERIFY_THREADS").map({ String(cString: $0) }), let n = Int(text), n >= 1 { return min(n, 64) }
        return max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8))
    }

    /// Walks the events with keys in `from` ..< `upTo` (to the end without `upTo`, and never
    /// past `through`), exactly as one walk of the whole log would from `from` on: the chain's
    /// previous hash and the expected sequence are taken from the records before `from`.
    func verifyChunk(
        _ txn: Transaction, from: [UInt8], upTo: [UInt8]?, through: [UInt8]?, maxProblems: Int, inspect: (RecordView) -> String?
    ) throws -> VerifyChunk {
        var chunk = VerifyChunk()
        guard let through else { return chunk }
        var realProblems = 0
        func report(_ seq: UInt64, _ kind: VerifyProblem.Kind, _ detail: String) {
            if realProblems < maxProblems {
                realProblems += 1
                chunk.items.append(.problem(VerifyProblem(sequence: seq, kind: kind, detail: detail)))
            }
        }
        var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
        var expected: UInt64 = 1
        var local: [String: (version: UInt64, sequence: UInt64, events: UInt64)] = [:]
        let overflow = OverflowCheck(env)
        try txn.withCursor(streams) { streamCursor in
            try txn.withCursor(events) { cursor in
                var entry: Cursor.Entry?
                if from.isEmpty {
                    entry = try cursor.first()
                } else {
                    // What a walk from the start would carry into `from`: the last sequence key
                    // before it (+1), and the hash of the last such record with a hash's bytes.
                    var back = try cursor.seek(atLeast: from)
                    back = back == nil ? try cursor.last() : try cursor.previous()
                    var haveExpected = false
                    while let (key, value) = back {
                        if let seq = Keys.decodeUInt64(key) {
                            if !haveExpected {
                                expected = seq + 1
                                haveExpected = true
                            }
                            if value.count >= EventRecord.hashSize {
                                prevHash = Array(value.suffix(EventRecord.hashSize))
                                break
                            }
                        }
                        back = try cursor.previous()
                    }
                    entry = try cursor.seek(atLeast: from)
                }
                while let (key, value) = entry {
                    if let upTo, !Self.keyLess(key, upTo) { break }
                    if Self.keyLess(through, key) { break }
                    defer { chunk.count += 1 }
                    // A damaged overflow header is LMDB's to trust: an error here, not a crash later.
                    try overflow.check(value, in: events)
                    guard let seq = Keys.decodeUInt64(key) else {
                        report(expected, .undecodable, "a key of \(key.count) bytes is not a sequence")
                        entry = try cursor.next()
                        continue
                    }
                    if seq != expected {
                        let range = seq - 1 > expected ? "\(expected)–\(seq - 1)" : "\(expected)"
                        report(expected, .missing, "sequence \(range) is absent: the log has a gap before \(seq)")
                    }
                    expected = seq + 1
                    let header: RecordHeader
                    do throws(BinaryError) {
                        header = try RecordHeader(value)
                        if isEncrypted != header.isSealed {
                            throw BinaryError.invalidValue(
                                isEncrypted
                                    ? "a plain record in an encrypted store (everything there is sealed)"
                                    : "a sealed record in a plain store")
                        }
                    } catch {
                        report(seq, .undecodable, error.description)
                        prevHash = value.count >= EventRecord.hashSize ? Array(value.suffix(EventRecord.hashSize)) : prevHash
                        entry = try cursor.next()
                        continue
                    }
                    if header.sequence != seq {
                        report(seq, .sequenceMismatch, "the record stored under \(seq) says it is sequence \(header.sequence)")
                    }
                    var hasher = SHA256()
                    hasher.update(data: prevHash)
                    hasher.update(bufferPointer: header.body)
                    let computed = Array(hasher.finalize())
                    if !computed.elementsEqual(header.hash) {
                        report(
                            seq, .hashMismatch,
                            "stored hash \(hex(header.hash).prefix(16))… ≠ computed \(hex(computed).prefix(16))…: this record, or the one before it, was altered"
                        )
                    }
                    prevHash = header.hash.copiedBytes
                    // Stream versions contiguous (a stream's first event in this chunk is
                    // checked at the merge), and the indexes point back at this record.
                    let stream = streamLabel(header.streamKey)
                    if let previous = local[stream] {
                        if header.streamVersion != previous.version + 1 {
                            report(
                                seq, .streamVersion, "stream \(stream) goes from version \(previous.version) to \(header.streamVersion)")
                        }
                        local[stream] = (header.streamVersion, seq, previous.events + 1)
                    } else {
                        if realProblems < maxProblems {
                            chunk.items.append(.firstOfStream(stream: stream, version: header.streamVersion, sequence: seq))
                        }
                        local[stream] = (header.streamVersion, seq, 1)
                    }
                    // The event is among its stream's sequences (with the count check, the
                    // stream's sequences are exactly its events', so the k-th is version k).
                    let inStream = try Keys.sequence(seq).withUnsafeBytes { v in try streamCursor.find(header.streamKey, value: v) != nil }
                    if !inStream {
                        report(seq, .index, "streams index for \(stream) lacks sequence \(seq) (v\(header.streamVersion))")
                    }
                    let idHit = try txn.get(ids, header.idKey.copiedBytes).flatMap(Keys.decodeUInt64)
                    if idHit != seq {
                        let name = header.isSealed ? "event pseudonym \(hex(header.idKey).prefix(12))…" : formatUUID(header.idKey)
                        report(seq, .index, "ids index for \(name) points at \(idHit.map(String.init) ?? "nothing")")
                    }
                    // With the key (or in a plain store): the record opens and the caller's checks.
                    if !isEncrypted || cipher != nil {
                        do throws(BinaryError) {
                            let view = try RecordView(value, cipher: cipher)
                            if let problem = inspect(view) { report(seq, .content, problem) }
                        } catch {
                            report(seq, header.isSealed ? .tampered : .undecodable, error.description)
                        }
                    }
                    entry = try cursor.next()
                }
            }
        }
        chunk.expected = expected
        chunk.prevHash = prevHash
        chunk.streams = local
        return chunk
    }

    /// How verify names a stream: its id in a plain store, its pseudonym in an encrypted one
    /// (so neither its output nor its verdict file names a patient).
    func streamLabel(_ key: UnsafeRawBufferPointer) -> String {
        guard isEncrypted else { return String(decoding: key, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: 1 + 2 * key.count) { out in
            let digits: StaticString = "0123456789abcdef"
            out[0] = UInt8(ascii: "#")
            digits.withUTF8Buffer { d in
                for (i, b) in key.enumerated() {
                    out[1 + 2 * i] = d[Int(b >> 4)]
                    out[2 + 2 * i] = d[Int(b & 0xF)]
                }
            }
            return 1 + 2 * key.count
        }
    }

    /// LMDB's default key order: bytes compared as unsigned, then the shorter first.
    static func keyLess(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    static func keyLess(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    /// The hash of the record at `sequence` (hex), for checkpoints.
    public func hash(at sequence: UInt64) throws -> String? {
        try read { reader in try reader.storedHash(sequence).map { hex($0) } }
    }
}

/// Lower-case hex.
public func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var s = ""
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0xF)])
    }
    return s
}

/// One chunk of a verify walk: its problems in walk order (with a marker where a stream first
/// appears, checked at the merge), and what it hands on.
struct VerifyChunk: Sendable {
    enum Item: Sendable {
        case problem(VerifyProblem)
        case firstOfStream(stream: String, version: UInt64, sequence: UInt64)
    }
    var items: [Item] = []
    var count: UInt64 = 0
    /// The sequence expected next, and the chain's hash, after the chunk.
    var expected: UInt64 = 1
    var prevHash: [UInt8] = []
    /// Per stream: its last version and sequence in the chunk, and its events in the chunk.
    var streams: [String: (version: UInt64, sequence: UInt64, events: UInt64)] = [:]
}

/// The chunks' results, each slot written once by its own worker.
final class VerifyChunkResults: Sendable {
    private let slots: Mutex<[Result<VerifyChunk, any Error>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func store(_ k: Int, _ result: Result<VerifyChunk, any Error>) {
        slots.withLock { $0[k] = result }
    }

    func take(_ k: Int) -> Result<VerifyChunk, any Error>? {
        slots.withLock { $0[k] }
    }
}

/// The log handed to verify's workers: each only begins its own read transaction on it
/// (`MDB_NOTLS`: read transactions are not tied to a thread) and reads.
struct UncheckedLog: @unchecked Sendable {
    let log: EventLog
    init(_ log: EventLog) { self.log = log }
}

extension EventLog {
    /// Runs `body(0)` … `body(count - 1)` at once: `body(0)` on the calling thread, each other
    /// on a thread of its own (not a shared pool, which may run them one after another when
    /// busy), and returns when all have.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        final class Work: @unchecked Sendable {
            let body: @Sendable (Int) -> Void
            let index: Int
            init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) {
                self.body = body
                self.index = index
            }
        }
        var threads: [pthread_t] = []
        var inline: [Int] = [0]
        for k in 1..<max(count, 1) {
            let work = Unmanaged.passRetained(Work(body, k)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(
                &thread, nil,
                { raw in
                    guard let raw else { return nil }
                    let work = Unmanaged<Work>.fromOpaque(raw).takeRetainedValue()
                    work.body(work.index)
                    return nil
                }, work)
            if rc == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Work>.fromOpaque(work).release()
                inline.append(k)
            }
        }
        for k in inline { body(k) }
        for thread in threads { pthread_join(thread, nil) }
    }
}
