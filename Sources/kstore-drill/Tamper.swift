import Foundation
import KApp
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
    let usage = "usage: kstore-drill tamper --store S --mode byte|delete|swap|rewrite --at SEQ [--with SEQ2]"
    guard let path = option("store"), let mode = option("mode"), let at = option("at").flatMap(UInt64.init), at >= 1 else {
        return complain(usage, 64)
    }
    do {
        let store = try ClinicStore.open(at: path)
        let tamper = LogTamper(drillsOnly: store.log)
        switch mode {
        case "byte", "rewrite":
            guard let raw = try tamper.rawRecord(at) else { return complain("there is no record \(at)", 70) }
            guard let forged = forgedPayload(raw) else {
                return complain("no single-byte change of record \(at)'s payload still decodes", 70)
            }
            if mode == "byte" {
                var bytes = raw
                bytes[forged.offsetInRecord] = forged.newByte
                try tamper.overwriteRaw(at, bytes)
                print("byte: record \(at) \(forged.type): data \(forged.before) → \(forged.after); its stored hash left as it was")
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
