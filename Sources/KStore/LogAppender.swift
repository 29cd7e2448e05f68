/// Appends events one at a time inside one write transaction of `EventLog.appending`: the one
/// loop behind every append (duplicates, `expectedVersion`, the caller's checks, then sequence,
/// stream version, recordedAt and the hash chain). A caller streaming a file through it holds
/// only the event in hand; the transaction (LMDB's dirty pages, spilled to the file past its
/// limit) holds the rest until the commit, so nothing is visible unless every event is.
public final class LogAppender {
    let log: EventLog
    let txn: Transaction
    let appends = StreamAppends()
    /// What the caller's checks read: the transaction's own view, this transaction's events
    /// included (those not in `streams` yet through `appends`).
    public let reader: LogReader
    private var prevHash: [UInt8]
    private var nextSequence: UInt64
    private let recordedAt: Int64
    private var versions: [String: UInt64] = [:]
    /// Stream pseudonyms computed in this transaction (an encrypted store's).
    private var streamKeys: [String: [UInt8]] = [:]
    /// Events offered so far (the `index` a `LogError` carries).
    public private(set) var offered = 0
    /// Events appended so far.
    private var appended = 0

    /// `streams` values held at most before they are put (bounds this transaction's memory;
    /// each flush still fills the tree stream by stream in key order).
    static let flushEvery = 1 << 20
    /// Appends between two looks at the resident mapped pages (`Environment.residentBudget`).
    static let releaseEvery = 1024

    init(log: EventLog, txn: Transaction, clockMicros: () -> Int64) throws {
        self.log = log
        self.txn = txn
        reader = LogReader(log: log, txn: txn, unindexed: appends)
        prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
        nextSequence = 1
        var lastRecorded: Int64 = .min
        if let last = try reader.lastRecord() {
            prevHash = last.hash.copiedBytes
            nextSequence = last.sequence + 1
            lastRecorded = last.recordedAtMicros
        }
        recordedAt = max(clockMicros(), lastRecorded)
    }

    /// Appends `event` unless its eventId is stored with the same content (`duplicate`); with
    /// other content, or a stale `expectedVersion`, throws `LogError`. `validate` runs for an
    /// event about to be appended (after those checks), seeing everything written before it in
    /// this transaction; throwing refuses it (and so, uncaught, the whole transaction).
    public func append(_ event: NewEvent, validate: (LogReader) throws -> Void = { _ in }) throws -> AppendOutcome {
        let index = offered
        offered += 1
        guard event.eventId.count == 16 else { throw LogError.rejected(index: index, reason: "eventId must be 16 bytes") }
        let idKey = log.idKey(event.eventId)
        if let existing = try reader.sequence(forIdKey: idKey) {
            guard let record = try reader.record(existing), record.hasSameContent(as: event) else {
                throw LogError.eventIdReused(index: index, eventId: event.eventId, existingSequence: existing)
            }
            return .duplicate(sequence: existing)
        }
        let current = try versions[event.stream] ?? reader.streamVersion(event.stream)
        if let expected = event.expectedVersion, expected != current {
            throw LogError.conflict(index: index, stream: event.stream, expected: expected, actual: current)
        }
        try validate(reader)
        let version = current + 1
        var record = EventRecord(
            sequence: nextSequence, eventId: event.eventId, typeCode: event.typeCode,
            schemaVersion: event.schemaVersion, stream: event.stream, streamVersion: version,
            occurredAtMillis: event.occurredAtMillis, offsetMinutes: event.offsetMinutes,
            recordedAtMicros: recordedAt, actorId: event.actorId, actorRole: event.actorRole,
            osUser: event.osUser, payload: event.payload, hash: [])
        let streamKey: [UInt8]?
        if log.cipher != nil {
            if let known = streamKeys[event.stream] {
                streamKey = known
            } else {
                let key = log.streamKey(event.stream)
                streamKeys[event.stream] = key
                streamKey = key
            }
        } else {
            streamKey = nil
        }
        var bytes = record.encodedBody(cipher: log.cipher, idKey: idKey, streamKey: streamKey)
        record.hash = EventRecord.chainHash(previous: prevHash, body: bytes)
        bytes.append(contentsOf: record.hash)
        let seqKey = Keys.sequence(nextSequence)
        try txn.put(log.events, seqKey, bytes, flags: .append)
        try txn.put(log.ids, idKey, seqKey, flags: .noOverwrite)
        appends.add(event.stream, nextSequence)
        if appends.held >= LogAppender.flushEvery { try appends.flush(into: txn, log.streams, key: log.streamKey) }
        appended += 1
        if appended % LogAppender.releaseEvery == 0 {
            // Past LMDB's dirty-page limit the transaction's pages are spilled to the file and
            // read back through the map (each `ids` lookup faults in a leaf and its neighbours):
            // keep those mappings bounded too.
            log.env.releaseResidentPagesIfOverBudget()
        }
        prevHash = record.hash
        versions[event.stream] = version
        let sequence = nextSequence
        nextSequence += 1
        return .appended(sequence: sequence, streamVersion: version)
    }

    /// Puts the held `streams` values (before the commit, or the caller's own writes).
    func finish() throws {
        try appends.flush(into: txn, log.streams, key: log.streamKey)
    }
}

@available(*, unavailable)
extension LogAppender: Sendable {}
