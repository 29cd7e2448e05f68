/// Compact JSON text of a `JSONValue`, with object keys sorted (by UTF-8 bytes, so the output is
/// stable whatever order the keys were built in). Integers print as integers, finite doubles in
/// Swift's shortest round-trip form (always valid JSON: `0.1`, `1.0`, `1e+20`, `5e-324`),
/// non-finite doubles (which JSON cannot express) as `null`. Strings are escaped as RFC 8259
/// requires: `"` `\` and the C0 controls; everything else is written as UTF-8.
public enum JSONWriter {
    /// Appends the compact, key-sorted text of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let b):
            out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .int(let v):
            appendInt(v, to: &out)
        case .double(let d):
            appendDouble(d, to: &out)
        case .string(let s):
            appendString(s, to: &out)
        case .array(let elements):
            out.append(0x5B)
            var first = true
            for e in elements {
                if !first { out.append(0x2C) }
                first = false
                write(e, into: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            var first = true
            for (k, v) in sortedMembers(members) {
                if !first { out.append(0x2C) }
                first = false
                appendString(k, to: &out)
                out.append(0x3A)
                write(v, into: &out)
            }
            out.append(0x7D)
        }
    }

    /// `write` followed by a newline: one NDJSON line.
    public static func writeLine(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, into: &out)
        out.append(0x0A)
    }

    /// The compact, key-sorted text as a String.
    public static func string(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Members in UTF-8 byte order of their keys (stable for equal keys).
    static func sortedMembers(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        if members.count < 2 { return members }
        // Already sorted (the common case for values we built ourselves): no work.
        var sorted = true
        for k in 1..<members.count where !precedesOrEqual(members[k - 1].0, members[k].0) {
            sorted = false
            break
        }
        if sorted { return members }
        return members.enumerated().sorted { a, b in
            if a.element.0 == b.element.0 { return a.offset < b.offset }
            return a.element.0.utf8.lexicographicallyPrecedes(b.element.0.utf8)
        }.map(\.element)
    }

    @inline(__always)
    static func precedesOrEqual(_ a: String, _ b: String) -> Bool {
        !b.utf8.lexicographicallyPrecedes(a.utf8)
    }

    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 {
            out.append(0x30)
            return
        }
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch for up to 20 digits
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while magnitude > 0 {
                buf[23 - n] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                n += 1
            }
            if v < 0 { out.append(0x2D) }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(contentsOf: d.description.utf8)
    }

    /// `s` as a JSON string literal, quotes included.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var run = 0
            for k in 0..<utf8.count {
                let c = utf8[k]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<k]))
                appendEscapedASCII(c, to: &out)
                run = k + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
        }
        out.append(0x22)
    }

    static func appendEscapedASCII(_ c: UInt8, to out: inout [UInt8]) {
        out.append(0x5C)
        switch c {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x08: out.append(0x62)
        case 0x0C: out.append(0x66)
        case 0x0A: out.append(0x6E)
        case 0x0D: out.append(0x72)
        case 0x09: out.append(0x74)
        default: appendUnicodeEscape(UInt32(c), to: &out)
        }
    }

    /// `u` and four hex digits (the backslash already written).
    static func appendUnicodeEscape(_ v: UInt32, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        let digits = hex.utf8Start
        out.append(0x75)
        out.append(digits[Int((v >> 12) & 0xF)])
        out.append(digits[Int((v >> 8) & 0xF)])
        out.append(digits[Int((v >> 4) & 0xF)])
        out.append(digits[Int(v & 0xF)])
    }

    /// One scalar escaped for a message: as JSON, and also every other control or line-breaking
    /// character (C1 controls, U+2028, U+2029) as `\uXXXX`, so a message is always one line.
    static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        let v = scalar.value
        if v < 0x80 {
            if v >= 0x20 && v != 0x22 && v != 0x5C && v != 0x7F {
                out.append(UInt8(v))
            } else if v == 0x7F {
                out.append(0x5C)
                appendUnicodeEscape(v, to: &out)
            } else {
                appendEscapedASCII(UInt8(v), to: &out)
            }
        } else if (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 {
            out.append(0x5C)
            appendUnicodeEscape(v, to: &out)
        } else {
            UTF8.encode(scalar) { out.append($0) }
        }
    }
}

extension JSONValue {
    /// Compact JSON text, keys sorted (see `JSONWriter`).
    public var jsonText: String { JSONWriter.string(self) }
}
