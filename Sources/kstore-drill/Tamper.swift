import Foundation
import Glibc
import KApp
import KBinary
import KClinic
@_spi(Drill) import KStore

/// `kstore-drill tamper --store S --mode byte|delete|swap|rewrite --at SEQ [--with SEQ2]`:
/// damages a store the way someone with write access to its files could, through `LogTamper`
/// (KStore's drill-only raw access), for tools/tamper-drill.sh.
///
/// - `byte`: one payload byte of record SEQ changed (to a value that still decodes as an event:
///   a plausible forgery), its stored hash left as it was.
/// - `delete`: record SEQ removed.
/// - `swap`: records SEQ and SEQ2 (default SEQ+1) exchanged.
/// - `rewrite`: as `byte`, then the hash of SEQ and of every later record recomputed, so the
///   chain is internally consistent; stored projections, if any, are rebuilt from the forged log
///   (a thorough forger leaves nothing for a plain `audit verify` to see).
///
/// - `flip`: one byte of record SEQ's stored bytes flipped as they lie in the file, without the
///   key (in an encrypted store: a byte of the sealed ciphertext, so the record no longer opens;
///   in a plain one: a payload byte), its stored hash left as it was.
///
/// In an encrypted store (opened with the key in `$KSTORE_KEY_FILE`) `byte` and `rewrite` open
/// the record with the key, change its payload and seal it again (a forger who holds the key):
/// the record opens, and for `byte` the chain breaks at SEQ.
///
/// Prints one line describing the damage; exit 0, or 64 for bad usage, 70 on failure.
func runTamper(_ args: [String]) -> Int32 {
    func option(_ name: String) -> String? {
        guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }
    func complain(_ message: String, _ code: Int32) -> Int32 {
        FileHandle.standardError.write(Data(("kstore-drill tamper: " + message + "\n").utf8))
        return code
    }
    let usage = "usage: kstore-drill tamper --store S --mode byte|delete|swap|rewrite|flip --at SEQ [--with SEQ2]"
    guard let path = option("store"), let mode = option("mode"), let at = option("at").flatMap(UInt64.init), at >= 1 else {
        return complain(usage, 64)
    }
    do {
        // flip works on the file's bytes as an intruder without the key would.
        if mode == "flip" { unsetenv("KSTORE_KEY_FILE") }
        let store = try ClinicStore.open(at: path, keyless: mode == "flip")
        let tamper = LogTamper(drillsOnly: store.log)
        switch mode {
        case "flip":
            guard var raw = try tamper.rawRecord(at) else { return complain("there is no record \(at)", 70) }
            let offset = raw.count - EventRecord.hashSize - StoreCipher.tagSize - 1
            guard offset > 0 else { return complain("record \(at) is too short", 70) }
            raw[offset] ^= 0x01
            try tamper.overwriteRaw(at, raw)
            let what = store.log.isEncrypted ? "a byte of its sealed ciphertext" : "a byte of its payload"
            print("flip: record \(at): \(what) flipped without the key (offset \(offset) of \(raw.count)); its stored hash left as it was")
        case "byte", "rewrite":
            guard let raw = try tamper.rawRecord(at) else { return complain("there is no record \(at)", 70) }
            // In an encrypted store: the record opened with the key, as a plain record's bytes.
            let cipher = store.log.cipher
            let plain: [UInt8]
            if let cipher {
                let record = try raw.withUnsafeBytes { b in try RecordView(b, cipher: cipher).materialize() }
                plain = plainBytes(record)
            } else {
                plain = raw
            }
            guard let forged = forgedPayload(plain) else {
                return complain("no single-byte change of record \(at)'s payload still decodes", 70)
            }
            if mode == "byte" && cipher == nil {
                var bytes = raw
                bytes[forged.offsetInRecord] = forged.newByte
                try tamper.overwriteRaw(at, bytes)
                print("byte: record \(at) \(forged.type): data \(forged.before) → \(forged.after); its stored hash left as it was")
            } else if mode == "byte" {
                // Sealed again with the key (a fresh nonce), then its old hash put back and every
                // later record restored as it was: the record opens, the chain breaks at SEQ.
                let count = try store.log.count()
                var later: [(UInt64, [UInt8])] = []
                if at < count {
                    for seq in (at + 1)...count { if let r = try tamper.rawRecord(seq) { later.append((seq, r)) } }
                }
                try tamper.rewrite(from: at) { record in record.payload = forged.payload }
                guard var resealed = try tamper.rawRecord(at) else { return complain("record \(at) vanished", 70) }
                resealed.replaceSubrange((resealed.count - EventRecord.hashSize)..., with: raw.suffix(EventRecord.hashSize))
                try tamper.overwriteRaw(at, resealed)
                for (seq, r) in later { try tamper.overwriteRaw(seq, r) }
                print(
                    "byte: record \(at) \(forged.type): data \(forged.before) → \(forged.after), sealed again with the key; its stored hash left as it was"
                )
            } else {
                let n = try tamper.rewrite(from: at) { record in record.payload = forged.payload }
                var note = ""
                if try ProjectionEngine(store: store).storedCheckpoint() != nil {
                    try ProjectionEngine(store: store).rebuildStored()
                    note = "; stored projections rebuilt from the forged log"
                }
                print(
                    "rewrite: record \(at) \(forged.type): data \(forged.before) → \(forged.after); hashes of \(at)–\(at + n - 1) recomputed (\(n) records)\(note)"
                )
            }
        case "delete":
            guard try tamper.deleteRaw(at) else { return complain("there is no record \(at)", 70) }
            print("delete: record \(at) removed")
        case "swap":
            let other = option("with").flatMap(UInt64.init) ?? at + 1
            guard other != at else { return complain("--with must differ from --at", 64) }
            guard try tamper.swapRaw(at, other) else { return complain("records \(at) and \(other) must both exist", 70) }
            print("swap: records \(at) and \(other) exchanged")
        default:
            return complain(usage, 64)
        }
        return 0
    } catch {
        return complain("\(error)", 70)
    }
}

/// A record's bytes in the plain layout (format 1, EventRecord's documentation), hash included:
/// how a sealed record's content is searched for a forgery that still decodes.
private func plainBytes(_ r: EventRecord) -> [UInt8] {
    var w = BinaryWriter(capacity: 96 + r.payload.count)
    w.writeByte(EventRecord.formatVersion)
    w.writeVarUInt(r.sequence)
    for b in r.eventId { w.writeByte(b) }
    w.writeVarUInt(UInt64(r.typeCode))
    w.writeByte(r.schemaVersion)
    w.writeString(r.stream)
    w.writeVarUInt(r.streamVersion)
    w.writeVarInt(r.occurredAtMillis)
    w.writeVarInt(Int64(r.offsetMinutes))
    w.writeVarInt(r.recordedAtMicros)
    w.writeString(r.actorId)
    w.writeByte(r.actorRole)
    w.writeString(r.osUser)
    w.writeBlob(r.payload)
    return w.bytes + r.hash
}

/// The first single-bit change of the record's payload (from its last byte back) that still
/// decodes as an event of its type with different data.
private func forgedPayload(_ raw: [UInt8]) -> (
    offsetInRecord: Int, newByte: UInt8, payload: [UInt8], type: String, before: String, after: String
)? {
    func decode(_ bytes: [UInt8]) -> (payload: [UInt8], type: String, data: String)? {
        bytes.withUnsafeBytes { buf in
            guard let view = try? RecordView(buf), let r = try? EventMapping.recorded(view) else { return nil }
            return (view.payload.copiedBytes, r.type.rawValue, JSONWriter.string(r.event.dataJSON))
        }
    }
    guard let original = decode(raw) else { return nil }
    // The payload blob is the last field before the 32-byte hash.
    let payloadEnd = raw.count - EventRecord.hashSize
    let payloadStart = payloadEnd - original.payload.count
    for offset in stride(from: payloadEnd - 1, through: payloadStart, by: -1) {
        for bit in 0..<8 {
            var candidate = raw
            candidate[offset] ^= UInt8(1) << UInt8(bit)
            if let forged = decode(candidate), forged.data != original.data {
                return (offset, candidate[offset], forged.payload, original.type, original.data, forged.data)
            }
        }
    }
    return nil
}
