import Crypto
import KBinary

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
    /// Recomputes the whole hash chain and checks every index against the events, in one
    /// consistent snapshot. `inspect` sees every decodable record (for the caller's own checks,
    /// e.g. that its payload decodes) and returns a problem or nil.
    public func verify(maxProblems: Int = 1000, inspect: (RecordView) -> String? = { _ in nil }) throws -> VerifyReport {
        try env.read { txn in
            var problems: [VerifyProblem] = []
            func report(_ seq: UInt64, _ kind: VerifyProblem.Kind, _ detail: String) {
                if problems.count < maxProblems { problems.append(VerifyProblem(sequence: seq, kind: kind, detail: detail)) }
            }
            var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
            var expected: UInt64 = 1
            var count: UInt64 = 0
            var streamVersions: [String: (version: UInt64, sequence: UInt64, events: UInt64)] = [:]
            try txn.withCursor(streams) { streamCursor in
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        defer { count += 1 }
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
                        let view: RecordView
                        do throws(BinaryError) {
                            view = try RecordView(value)
                        } catch {
                            report(seq, .undecodable, error.description)
                            prevHash = value.count >= EventRecord.hashSize ? Array(value.suffix(EventRecord.hashSize)) : prevHash
                            entry = try cursor.next()
                            continue
                        }
                        if view.sequence != seq {
                            report(seq, .sequenceMismatch, "the record stored under \(seq) says it is sequence \(view.sequence)")
                        }
                        var hasher = SHA256()
                        hasher.update(data: prevHash)
                        hasher.update(bufferPointer: view.body)
                        let computed = Array(hasher.finalize())
                        if !computed.elementsEqual(view.hash) {
                            report(
                                seq, .hashMismatch,
                                "stored hash \(hex(view.hash).prefix(16))… ≠ computed \(hex(computed).prefix(16))…: this record, or the one before it, was altered"
                            )
                        }
                        prevHash = view.hash.copiedBytes
                        // Stream versions contiguous, and the indexes point back at this record.
                        let last = streamVersions[view.stream]?.version ?? 0
                        if view.streamVersion != last + 1 {
                            report(seq, .streamVersion, "stream \(view.stream) goes from version \(last) to \(view.streamVersion)")
                        }
                        streamVersions[view.stream] = (view.streamVersion, seq, (streamVersions[view.stream]?.events ?? 0) + 1)
                        // The event is among its stream's sequences (with the count check below, the
                        // stream's sequences are exactly its events', so the k-th is version k).
                        let inStream = try Keys.stream(view.stream).withUnsafeBytes { k in
                            try Keys.sequence(seq).withUnsafeBytes { v in try streamCursor.find(k, value: v) != nil }
                        }
                        if !inStream {
                            report(seq, .index, "streams index for \(view.stream) lacks sequence \(seq) (v\(view.streamVersion))")
                        }
                        let idHit = try txn.get(ids, view.eventId.copiedBytes).flatMap(Keys.decodeUInt64)
                        if idHit != seq {
                            report(
                                seq, .index, "ids index for \(formatUUID(view.eventId)) points at \(idHit.map(String.init) ?? "nothing")")
                        }
                        if let problem = inspect(view) { report(seq, .content, problem) }
                        entry = try cursor.next()
                    }
                }
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
                    let stream = String(decoding: key, as: UTF8.self)
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

    /// The hash of the record at `sequence` (hex), for checkpoints.
    public func hash(at sequence: UInt64) throws -> String? {
        try read { reader in try reader.record(sequence).map { hex($0.hash) } }
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
