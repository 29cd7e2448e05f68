import KApp
import NIOCore

/// Rows of `COPY kstore.events FROM STDIN (FORMAT text)`: tab-separated fields, `\`, tab,
/// newline and carriage return escaped, bytea as `\\x` and hex.
enum CopyRows {
    static let columns = [
        "site", "sequence", "event_id", "stream", "stream_version", "type", "occurred_at", "clinical_date", "recorded_at",
        "actor_id", "actor_role", "os_user", "data", "hash", "record",
    ]

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func text(_ s: String, into b: inout ByteBuffer) {
        var s = s
        s.withUTF8 { u in
            var start = 0
            for (i, c) in u.enumerated() where c == 0x5C || c == 0x09 || c == 0x0A || c == 0x0D {
                if i > start { b.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(u)[start..<i])) }
                b.writeInteger(UInt8(0x5C))
                switch c {
                case 0x09: b.writeInteger(UInt8(ascii: "t"))
                case 0x0A: b.writeInteger(UInt8(ascii: "n"))
                case 0x0D: b.writeInteger(UInt8(ascii: "r"))
                default: b.writeInteger(UInt8(0x5C))
                }
                start = i + 1
            }
            if start < u.count { b.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(u)[start...])) }
        }
    }

    static func bytea(_ bytes: [UInt8], into b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x5C))
        b.writeInteger(UInt8(0x5C))
        b.writeInteger(UInt8(ascii: "x"))
        b.reserveCapacity(minimumWritableBytes: bytes.count * 2)
        b.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = hexDigits[Int(byte >> 4)]
                out[i + 1] = hexDigits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    static func row(site: String, _ r: ShipRecord, into b: inout ByteBuffer) {
        let tab = UInt8(0x09)
        text(site, into: &b)
        b.writeInteger(tab)
        b.writeString(String(r.sequence))
        b.writeInteger(tab)
        b.writeString(r.eventId.uuidString)
        b.writeInteger(tab)
        text(r.stream, into: &b)
        b.writeInteger(tab)
        b.writeString(String(r.streamVersion))
        b.writeInteger(tab)
        text(r.type, into: &b)
        b.writeInteger(tab)
        b.writeString(r.occurredAt)
        b.writeInteger(tab)
        b.writeString(r.clinicalDate)
        b.writeInteger(tab)
        b.writeString(r.recordedAt)
        b.writeInteger(tab)
        text(r.actorId, into: &b)
        b.writeInteger(tab)
        text(r.actorRole, into: &b)
        b.writeInteger(tab)
        text(r.osUser, into: &b)
        b.writeInteger(tab)
        text(r.dataJSON, into: &b)
        b.writeInteger(tab)
        bytea(r.hash, into: &b)
        b.writeInteger(tab)
        bytea(r.record, into: &b)
        b.writeInteger(UInt8(0x0A))
    }
}
