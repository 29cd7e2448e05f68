import Crypto
import Foundation
import KBinary
import KStore

/// Who read which patients' data, with which command, when (HIPAA 164.312(b), ISO 27789: an
/// audit record for each read of health data).
///
/// Kept in the `access` database beside the event log, with a hash chain of its own, so reading
/// never touches the clinical log and replays never read it. Each record:
/// `u8 format · varuint sequence · varint atMicros · string osUser · string command ·
/// varuint patientCount · u8 listed · (string patient)* · 32 B SHA-256(previous hash ‖ the rest)`.
/// A read of more than `listLimit` patients records their number, not every id.
public enum AccessLog {
    public static let listLimit = 100

    public struct Entry: Sendable, Equatable {
        public var sequence: UInt64
        public var atMicros: Int64
        public var osUser: String
        public var command: String
        public var patientCount: Int
        /// The patients read (empty when more than `listLimit` were: see `patientCount`).
        public var patients: [String]
    }

    /// Records a read, durably, before the data is shown. `patients` are the ids shown.
    public static func record(_ store: ClinicStore, command: String, patients: [String]) throws {
        guard let db = store.log.auxiliary["access"] else { return }
        let unique = Array(Set(patients)).sorted()
        try store.log.writeAuxiliary { writer in
            var prev = [UInt8](repeating: 0, count: 32)
            var next: UInt64 = 1
            if let last = try lastRecord(writer.txn, db) {
                next = last.length + 1
                prev = last.hash
            }
            var w = BinaryWriter(capacity: 128)
            w.writeByte(1)
            w.writeVarUInt(next)
            w.writeVarInt(store.clockMicros())
            w.writeString(store.osUser)
            w.writeString(command)
            w.writeVarUInt(UInt64(unique.count))
            let listed = unique.count <= listLimit
            w.writeBool(listed)
            if listed { for p in unique { w.writeString(p) } }
            // In an encrypted store the entry is sealed and the chain covers the sealed bytes, so
            // the chain (and a checkpoint's hold on it) is checked without the key.
            let key = withUnsafeBytes(of: next.bigEndian) { Array($0) }
            let stored = writer.auxSeal(db, key: key, w.bytes)
            var h = SHA256()
            h.update(data: prev)
            h.update(data: stored)
            let value = stored + Array(h.finalize())
            try writer.txn.put(db, key, value, flags: .append)
        }
    }

    static func chainHash(_ prev: [UInt8], _ stored: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: prev)
        h.update(data: stored)
        return Array(h.finalize())
    }

    /// The whole access log in order, with the sequences where its chain is broken.
    public static func entries(_ store: ClinicStore) throws -> (entries: [Entry], broken: [UInt64]) {
        let walked = try walk(store, opening: true)
        return (walked.entries, walked.broken)
    }

    /// The access log's length and where its chain is broken, checked without opening a sealed
    /// entry (an encrypted store's chain covers the sealed bytes): what verify checks keyless.
    public static func chain(_ store: ClinicStore) throws -> (length: UInt64, broken: [UInt64]) {
        let walked = try walk(store, opening: store.log.cipher != nil || !store.log.isEncrypted)
        return (walked.length, walked.broken)
    }

    private static func walk(_ store: ClinicStore, opening: Bool) throws -> (entries: [Entry], broken: [UInt64], length: UInt64) {
        guard let db = store.log.auxiliary["access"] else { return ([], [], 0) }
        return try store.log.read { reader in
            var length: UInt64 = 0
            var out: [Entry] = []
            var broken: [UInt64] = []
            var prev = [UInt8](repeating: 0, count: 32)
            try reader.txn.withCursor(db) { cursor in
                var entry = try cursor.first()
                var expected: UInt64 = 1
                while let (key, value) = entry {
                    defer { expected += 1 }
                    length += 1
                    guard value.count > 32 else {
                        broken.append(expected)
                        entry = try cursor.next()
                        continue
                    }
                    let body = UnsafeRawBufferPointer(rebasing: value[0..<(value.count - 32)])
                    var h = SHA256()
                    h.update(data: prev)
                    h.update(bufferPointer: body)
                    let stored = Array(value.suffix(32))
                    if !opening {
                        if !Array(h.finalize()).elementsEqual(stored) { broken.append(expected) }
                        prev = stored
                        entry = try cursor.next()
                        continue
                    }
                    do {
                        guard let opened = reader.auxOpen(db, key: key.copiedBytes, body.copiedBytes) else {
                            throw BinaryError.invalidValue("a sealed read record that does not open")
                        }
                        let (seq, at, user, command, count, patients) = try opened.withUnsafeBytes { raw in
                            var r = BinaryReader(raw)
                            _ = try r.readByte()
                            let seq = try r.readVarUInt()
                            let at = try r.readVarInt()
                            let user = try r.readString()
                            let command = try r.readString()
                            let count = Int(try r.readVarUInt())
                            let listed = try r.readBool()
                            var patients: [String] = []
                            if listed { for _ in 0..<min(count, listLimit) { patients.append(try r.readString()) } }
                            return (seq, at, user, command, count, patients)
                        }
                        if seq != expected || !Array(h.finalize()).elementsEqual(stored) { broken.append(expected) }
                        out.append(
                            Entry(sequence: seq, atMicros: at, osUser: user, command: command, patientCount: count, patients: patients))
                    } catch {
                        broken.append(expected)
                    }
                    prev = stored
                    entry = try cursor.next()
                }
            }
            return (out, broken, length)
        }
    }

    /// The log's length and the chain hash of its last record (32 zero bytes when empty): what a
    /// signed checkpoint pins.
    public static func head(_ store: ClinicStore) throws -> (length: UInt64, hash: [UInt8]) {
        let none = [UInt8](repeating: 0, count: 32)
        guard let db = store.log.auxiliary["access"] else { return (0, none) }
        return try store.log.read { reader in try lastRecord(reader.txn, db) ?? (0, none) }
    }

    /// The last record's sequence and chain hash (nil: the log is empty).
    private static func lastRecord(_ txn: Transaction, _ db: Database) throws -> (length: UInt64, hash: [UInt8])? {
        try txn.withCursor(db) { cursor in
            guard let (key, value) = try cursor.last(), key.count == 8, value.count > 32 else { return nil }
            var k: UInt64 = 0
            for b in key { k = (k << 8) | UInt64(b) }
            return (k, Array(value.suffix(32)))
        }
    }

    /// Whether the access log still extends what `checkpoint` signed of it: at least its length,
    /// its chain intact through it, and the same hash at that length. nil when it does (or the
    /// checkpoint predates access-log fields); else the sentence that says how it was cut or
    /// rewritten.
    public static func compare(_ store: ClinicStore, with checkpoint: Checkpoint) throws -> String? {
        guard let length = checkpoint.accessLength, let expected = checkpoint.accessHead, length > 0 else { return nil }
        let taken = "the checkpoint of \(checkpoint.createdAt)"
        let (count, broken) = try chain(store)
        if count < length {
            return "the access log was cut: \(taken) signed \(length) recorded reads, the store now holds \(count)"
        }
        if let first = broken.first, first <= length {
            return "the access log was rewritten: its chain is broken at read \(first), within the \(length) reads \(taken) signed"
        }
        guard let db = store.log.auxiliary["access"] else { return nil }
        let stored: [UInt8]? = try store.log.read { reader in
            try reader.txn.get(db, withUnsafeBytes(of: length.bigEndian) { Array($0) }).map { Array($0.copiedBytes.suffix(32)) }
        }
        guard let stored, hex(stored) == expected else {
            return "the access log was rewritten: read \(length) is not the one \(taken) signed (its hash differs)"
        }
        return nil
    }
}
