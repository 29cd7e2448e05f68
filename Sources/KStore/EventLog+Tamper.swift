import Crypto
import KBinary

/// **For tamper drills and their tests only** (`kstore-drill tamper`, tools/tamper-drill.sh,
/// Tests/KAppTests/TamperTests.swift): raw access to the `events` database that bypasses every
/// rule of the append-only log, so the drills can do to a store what an attacker with write
/// access to `data.mdb` could, and show that `kstore audit verify` notices.
///
/// Nothing in `kstore` itself uses it, and it is not part of the library's public surface: it is
/// SPI, visible only to a file that says `@_spi(Drill) import KStore`. Each call is one write
/// transaction; none of them touches the indexes (`streams`, `ids`), so what they leave behind
/// is exactly the damage asked for and no more.
@_spi(Drill)
public struct LogTamper {
    let log: EventLog

    /// Drills only: see the type's documentation.
    public init(drillsOnly log: EventLog) { self.log = log }

    /// The stored bytes of record `sequence` (nil when there is none).
    public func rawRecord(_ sequence: UInt64) throws -> [UInt8]? {
        try log.env.read { txn in try txn.get(log.events, Keys.sequence(sequence))?.copiedBytes }
    }

    /// Stores `bytes` under `sequence` as they are (no hashing, no checks).
    public func overwriteRaw(_ sequence: UInt64, _ bytes: [UInt8]) throws {
        try log.env.write { txn in try txn.put(log.events, Keys.sequence(sequence), bytes) }
    }

    /// Removes the record under `sequence`; false when there was none.
    @discardableResult
    public func deleteRaw(_ sequence: UInt64) throws -> Bool {
        try log.env.write { txn in try txn.delete(log.events, Keys.sequence(sequence)) }
    }

    /// Exchanges the records stored under `a` and `b` (bytes unchanged, so each still names its
    /// own sequence). False when either is absent.
    @discardableResult
    public func swapRaw(_ a: UInt64, _ b: UInt64) throws -> Bool {
        try log.env.write { txn in
            guard let x = try txn.get(log.events, Keys.sequence(a))?.copiedBytes,
                let y = try txn.get(log.events, Keys.sequence(b))?.copiedBytes
            else { return false }
            try txn.put(log.events, Keys.sequence(a), y)
            try txn.put(log.events, Keys.sequence(b), x)
            return true
        }
    }

    /// The forger's rewrite: record `from` is decoded, changed by `change`, re-encoded and
    /// re-hashed from its predecessor's stored hash, and every later record is re-hashed in turn,
    /// so the chain is internally consistent again (only a checkpoint taken earlier shows it).
    /// `change` must keep the record's sequence, stream, version and eventId if the indexes are
    /// to stay consistent too. Returns how many records were rewritten.
    @discardableResult
    public func rewrite(from: UInt64, change: (inout EventRecord) throws -> Void) throws -> UInt64 {
        try log.env.write { txn in
            var prevHash = [UInt8](repeating: 0, count: EventRecord.hashSize)
            if from > 1 {
                guard let prev = try txn.get(log.events, Keys.sequence(from - 1)) else {
                    throw StoreError.corrupt(sequence: from - 1, detail: "no record before the rewrite")
                }
                prevHash = Array(prev.suffix(EventRecord.hashSize))
            }
            var rewritten: [(UInt64, [UInt8])] = []
            try txn.withCursor(log.events) { cursor in
                var entry = try cursor.seek(atLeast: Keys.sequence(from))
                while let (key, value) = entry {
                    guard let seq = Keys.decodeUInt64(key) else { throw StoreError.corrupt(sequence: from, detail: "bad key") }
                    var record: EventRecord
                    do throws(BinaryError) { record = try RecordView(value, cipher: log.cipher).materialize() } catch {
                        throw StoreError.corrupt(sequence: seq, detail: error.description)
                    }
                    if seq == from { try change(&record) }
                    var body = record.encodedBody(cipher: log.cipher)
                    var hasher = SHA256()
                    hasher.update(data: prevHash)
                    hasher.update(data: body)
                    prevHash = Array(hasher.finalize())
                    body.append(contentsOf: prevHash)
                    rewritten.append((seq, body))
                    entry = try cursor.next()
                }
            }
            for (seq, bytes) in rewritten { try txn.put(log.events, Keys.sequence(seq), bytes) }
            return UInt64(rewritten.count)
        }
    }
}

@available(*, unavailable)
extension LogTamper: Sendable {}
