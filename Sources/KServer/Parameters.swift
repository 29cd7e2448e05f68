import Foundation
import KApp
import KClinic

/// Query parameters as the CLI's options: the same types, a bad value a 400 naming it.
enum Parameters {
    static func day(_ s: String?, _ name: String = "on") throws -> Day? {
        guard let s else { return nil }
        guard let d = Day(iso: s) else { throw WebError.badRequest("\(name): \(s) is not a date (YYYY-MM-DD)") }
        return d
    }

    static func timestamp(_ s: String?, _ name: String) throws -> Timestamp? {
        guard let s else { return nil }
        guard let t = try? Timestamp(rfc3339: s) else {
            throw WebError.badRequest("\(name): \(s) is not an RFC 3339 timestamp with an offset (e.g. 2026-01-05T09:30:00-05:00)")
        }
        return t
    }

    static func patient(_ s: String?) throws -> String? {
        guard let s else { return nil }
        guard isPatientId(s) else { throw WebError.badRequest("patient: \(s.prefix(80)) is not a patient id ([A-Za-z0-9._-], 1–64)") }
        return s
    }

    /// A lot number (session.md: `^[A-Za-z0-9._/-]{1,40}$`).
    static func lot(_ s: String?) throws -> String? {
        guard let s else { return nil }
        let ok =
            (1...40).contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2F
                    || c == 0x2D
            }
        guard ok else { throw WebError.badRequest("lot: \(s.prefix(80)) is not a lot number ([A-Za-z0-9._/-], 1–40)") }
        return s
    }

    static func isPatientId(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
            }
    }

    static func actorId(_ s: String?, _ name: String = "actor") throws -> String? {
        guard let s else { return nil }
        guard s.utf8.count <= 64, s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw WebError.badRequest("\(name): not an actor id (1–64 characters, no spaces)")
        }
        return s
    }

    static func eventType(_ s: String?) throws -> EventType? {
        guard let s else { return nil }
        guard let t = EventType(rawValue: s) else { throw WebError.badRequest("type: \(s.prefix(80)) is not an event type") }
        return t
    }

    static func flag(_ s: String?, _ name: String) throws -> Bool {
        switch s {
        case nil, "0", "false": return false
        case "1", "true": return true
        default: throw WebError.badRequest("\(name): use 1 or 0")
        }
    }

    static func uint(_ s: String?, _ name: String, min: UInt64 = 0) throws -> UInt64? {
        guard let s else { return nil }
        guard let v = UInt64(s), v >= min else { throw WebError.badRequest("\(name): \(s.prefix(40)) is not a whole number ≥ \(min)") }
        return v
    }

    static func statuses(_ s: String?) throws -> Set<DueStatus>? {
        guard let s else { return nil }
        var out: Set<DueStatus> = []
        for name in s.split(separator: ",") {
            guard let st = DueStatus(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw WebError.badRequest("status: \(name.prefix(40)) is not one of ok, due, overdue, missing")
            }
            out.insert(st)
        }
        return out
    }

    /// Today in local time: the default evaluation date, as the CLI's.
    static func today() -> Day { SystemClock.today() }
}

/// An `application/x-www-form-urlencoded` body (or query) as name → value (the last wins).
enum FormBody {
    static func parse(_ bytes: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = parts.first else { continue }
            let key = decode(Array(k))
            let value = parts.count > 1 ? decode(Array(parts[1])) : ""
            if !key.isEmpty { out[key] = value }
        }
        return out
    }

    static func decode(_ raw: [UInt8]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < raw.count {
            let c = raw[i]
            if c == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if c == UInt8(ascii: "%"), i + 2 < raw.count, let h = hex(raw[i + 1]), let l = hex(raw[i + 2]) {
                bytes.append(h << 4 | l)
                i += 2
            } else {
                bytes.append(c)
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
