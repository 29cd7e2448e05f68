/// Why bytes are not one JSON value: the byte offset where the problem was found and a short
/// message (one line, input quoted with escapes).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser, hand-written over bytes.
///
/// Refuses: trailing characters after the value, duplicate keys in one object, invalid UTF-8
/// anywhere (overlong forms, encoded surrogates, code points above U+10FFFF), unescaped control
/// characters in strings, lone surrogates in `\u` escapes, nesting deeper than `maxDepth`,
/// leading zeros, and numbers that overflow a Double to infinity. Whitespace (space, tab, CR, LF)
/// is allowed between tokens. Integers written without fraction or exponent that fit an `Int64`
/// become `.int`; every other number (including integers beyond Int64) becomes `.double`.
public enum JSONParser {
    /// Containers (objects and arrays) nested deeper than this are refused.
    public static let maxDepth = 64

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(offset: 0, message: "empty input")
        }
        var parser = _JSONByteParser(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        return try parser.parseDocument()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            do throws(JSONParseError) { return .success(try parse(UnsafeRawBufferPointer(buffer))) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Any byte collection (`Substring.UTF8View`, `ArraySlice<UInt8>`, `Data`…); contiguous ones
    /// are read in place.
    public static func parse<C: Collection>(bytes: C) throws(JSONParseError) -> JSONValue where C.Element == UInt8 {
        let contiguous: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(JSONParseError) { return .success(try parse(UnsafeRawBufferPointer(buffer))) } catch {
                return .failure(error)
            }
        }
        if let contiguous { return try contiguous.get() }
        return try parse(Array(bytes))
    }
}

// MARK: - The parser

private let cQuote: UInt8 = 0x22
private let cBackslash: UInt8 = 0x5C
private let cComma: UInt8 = 0x2C
private let cColon: UInt8 = 0x3A
private let cOpenBrace: UInt8 = 0x7B
private let cCloseBrace: UInt8 = 0x7D
private let cOpenBracket: UInt8 = 0x5B
private let cCloseBracket: UInt8 = 0x5D
private let cMinus: UInt8 = 0x2D
private let cPlus: UInt8 = 0x2B
private let cDot: UInt8 = 0x2E
private let c0: UInt8 = 0x30
private let c9: UInt8 = 0x39

/// Exact powers of ten representable as Doubles (Clinger's fast path).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

struct _JSONByteParser {
    let p: UnsafePointer<UInt8>
    let end: Int
    var i = 0
    var depth = 0
    /// Decoded bytes of a string with escapes (reused).
    var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.p = base
        self.end = count
    }

    @inline(__always)
    func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? i, message: message)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < end {
            let c = p[i]
            // space, \t, \n, \r
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 } else { return }
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard i == end else { throw fail("unexpected \(describeByte(at: i)) after the JSON value") }
        return value
    }

    func describeByte(at offset: Int) -> String {
        guard offset < end else { return "end of input" }
        let c = p[offset]
        if c >= 0x21 && c < 0x7F {
            return "character '\(Character(Unicode.Scalar(c)))'"
        }
        let hex = String(c, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard i < end else { throw fail("unexpected end of input, expected a value") }
        switch p[i] {
        case cOpenBrace: return try parseObject()
        case cOpenBracket: return try parseArray()
        case cQuote: return .string(try parseString())
        case 0x74:  // t
            try expectLiteral("true")
            return .bool(true)
        case 0x66:  // f
            try expectLiteral("false")
            return .bool(false)
        case 0x6E:  // n
            try expectLiteral("null")
            return .null
        case cMinus, c0...c9:
            return try parseNumber()
        default:
            throw fail("unexpected \(describeByte(at: i)), expected a value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let start = i
        guard end - i >= n else { throw fail("invalid literal, expected \(word)", at: start) }
        let w = word.utf8Start
        for k in 0..<n where p[i + k] != w[k] {
            throw fail("invalid literal, expected \(word)", at: start)
        }
        i += n
    }

    // MARK: containers

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        let open = i
        depth += 1
        guard depth <= JSONParser.maxDepth else {
            throw fail("nesting deeper than \(JSONParser.maxDepth)", at: open)
        }
        i += 1
        skipWhitespace()
        if i < end && p[i] == cCloseBrace {
            i += 1
            depth -= 1
            return .object([])
        }
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(8)
        var seen: Set<String>? = nil
        while true {
            skipWhitespace()
            guard i < end else { throw fail("unterminated object (opened at byte \(open))") }
            guard p[i] == cQuote else { throw fail("unexpected \(describeByte(at: i)), expected a string key") }
            let keyStart = i
            let key = try parseString()
            // Duplicate keys: linear for the usual small object, a set beyond 16 members.
            if seen != nil {
                if seen?.insert(key).inserted == false {
                    throw fail("duplicate key \(quotedForMessage(key))", at: keyStart)
                }
            } else {
                for m in members where m.0 == key {
                    throw fail("duplicate key \(quotedForMessage(key))", at: keyStart)
                }
                if members.count >= 16 {
                    var s = Set<String>(minimumCapacity: 64)
                    for m in members { s.insert(m.0) }
                    s.insert(key)
                    seen = s
                }
            }
            skipWhitespace()
            guard i < end, p[i] == cColon else {
                throw fail("unexpected \(describeByte(at: i)), expected ':' after a key")
            }
            i += 1
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard i < end else { throw fail("unterminated object (opened at byte \(open))") }
            let c = p[i]
            i += 1
            if c == cComma { continue }
            if c == cCloseBrace { break }
            throw fail("unexpected \(describeByte(at: i - 1)), expected ',' or '}'", at: i - 1)
        }
        depth -= 1
        return .object(members)
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        let open = i
        depth += 1
        guard depth <= JSONParser.maxDepth else {
            throw fail("nesting deeper than \(JSONParser.maxDepth)", at: open)
        }
        i += 1
        skipWhitespace()
        if i < end && p[i] == cCloseBracket {
            i += 1
            depth -= 1
            return .array([])
        }
        var elements: [JSONValue] = []
        elements.reserveCapacity(4)
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard i < end else { throw fail("unterminated array (opened at byte \(open))") }
            let c = p[i]
            i += 1
            if c == cComma { continue }
            if c == cCloseBracket { break }
            throw fail("unexpected \(describeByte(at: i - 1)), expected ',' or ']'", at: i - 1)
        }
        depth -= 1
        return .array(elements)
    }

    // MARK: strings

    @inline(__always)
    func makeString(_ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + from, count: to - from), as: UTF8.self)
    }

    /// At the opening quote; leaves `i` after the closing quote.
    @inline(__always)
    mutating func parseString() throws(JSONParseError) -> String {
        let s = try scanString()
        return s.escaped ? String(decoding: scratch, as: UTF8.self) : makeString(s.start, s.end)
    }

    /// At the opening quote: checks the string and leaves `i` after the closing quote. Without
    /// escapes the content is `p[start..<end]` (valid UTF-8); with escapes the decoded content is
    /// in `scratch`.
    @inline(__always)
    mutating func scanString() throws(JSONParseError) -> (start: Int, end: Int, escaped: Bool) {
        let open = i
        i += 1
        let start = i
        // Fast path: printable ASCII without escapes.
        while i < end {
            let c = p[i]
            if c == cQuote {
                i += 1
                return (start, i - 1, false)
            }
            if c == cBackslash || c < 0x20 || c >= 0x80 { break }
            i += 1
        }
        return try scanStringSlow(open: open, start: start)
    }

    mutating func scanStringSlow(open: Int, start: Int) throws(JSONParseError) -> (start: Int, end: Int, escaped: Bool) {
        var escaped = false
        var segment = start
        while true {
            guard i < end else { throw fail("unterminated string (opened at byte \(open))") }
            let c = p[i]
            if c == cQuote {
                if escaped {
                    scratch.append(contentsOf: UnsafeBufferPointer(start: p + segment, count: i - segment))
                }
                i += 1
                return (start, i - 1, escaped)
            }
            if c == cBackslash {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(start: p + segment, count: i - segment))
                try parseEscape()
                segment = i
            } else if c < 0x20 {
                throw fail("unescaped control character in string")
            } else if c < 0x80 {
                i += 1
            } else {
                i += try validateUTF8Sequence(at: i)
            }
        }
    }

    /// At a backslash; appends the decoded character to `scratch`.
    mutating func parseEscape() throws(JSONParseError) {
        let at = i
        guard i + 1 < end else { throw fail("unterminated escape", at: at) }
        let e = p[i + 1]
        i += 2
        switch e {
        case cQuote: scratch.append(cQuote)
        case cBackslash: scratch.append(cBackslash)
        case 0x2F: scratch.append(0x2F)  // /
        case 0x62: scratch.append(0x08)  // b
        case 0x66: scratch.append(0x0C)  // f
        case 0x6E: scratch.append(0x0A)  // n
        case 0x72: scratch.append(0x0D)  // r
        case 0x74: scratch.append(0x09)  // t
        case 0x75:  // u
            let unit = try readHex4(escapeAt: at)
            var scalar: UInt32
            if unit >= 0xD800 && unit <= 0xDBFF {
                // A high surrogate must be followed by an escaped low surrogate.
                guard i + 1 < end, p[i] == cBackslash, p[i + 1] == 0x75 else {
                    throw fail("lone surrogate \\u\(hex4(unit)) in string", at: at)
                }
                let lowAt = i
                i += 2
                let low = try readHex4(escapeAt: lowAt)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail("lone surrogate \\u\(hex4(unit)) in string", at: at)
                }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw fail("lone surrogate \\u\(hex4(unit)) in string", at: at)
            } else {
                scalar = unit
            }
            appendUTF8(scalar)
        default:
            throw fail("invalid escape \(describeByte(at: at + 1)) in string", at: at)
        }
    }

    func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    mutating func readHex4(escapeAt: Int) throws(JSONParseError) -> UInt32 {
        guard end - i >= 4 else { throw fail("truncated \\u escape", at: escapeAt) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = p[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape (expected 4 hex digits)", at: escapeAt)
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }

    mutating func appendUTF8(_ s: UInt32) {
        if s < 0x80 {
            scratch.append(UInt8(s))
        } else if s < 0x800 {
            scratch.append(UInt8(0xC0 | (s >> 6)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        } else if s < 0x10000 {
            scratch.append(UInt8(0xE0 | (s >> 12)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        } else {
            scratch.append(UInt8(0xF0 | (s >> 18)))
            scratch.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (s & 0x3F)))
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `at` (Unicode Table 3-7).
    func validateUTF8Sequence(at: Int) throws(JSONParseError) -> Int {
        let b0 = p[at]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            at + k < end && p[at + k] >= lo && p[at + k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF:
            if cont(1) { return 2 }
        case 0xE0:
            if cont(1, 0xA0), cont(2) { return 3 }
        case 0xE1...0xEC, 0xEE...0xEF:
            if cont(1), cont(2) { return 3 }
        case 0xED:
            if cont(1, 0x80, 0x9F), cont(2) { return 3 }
        case 0xF0:
            if cont(1, 0x90), cont(2), cont(3) { return 4 }
        case 0xF1...0xF3:
            if cont(1), cont(2), cont(3) { return 4 }
        case 0xF4:
            if cont(1, 0x80, 0x8F), cont(2), cont(3) { return 4 }
        default:
            break
        }
        throw fail("invalid UTF-8 in string", at: at)
    }

    // MARK: numbers

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = i
        var negative = false
        if p[i] == cMinus {
            negative = true
            i += 1
        }
        guard i < end, p[i] >= c0, p[i] <= c9 else { throw fail("invalid number: expected a digit", at: i) }
        var mantissa: UInt64 = 0
        var significantOverflow = false
        var intOverflow = false
        if p[i] == c0 {
            i += 1
            if i < end, p[i] >= c0, p[i] <= c9 { throw fail("invalid number: leading zero", at: start) }
        } else {
            while i < end {
                let c = p[i]
                guard c >= c0, c <= c9 else { break }
                let d = UInt64(c - c0)
                let (m1, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(d)
                if o1 || o2 {
                    intOverflow = true
                    significantOverflow = true
                } else {
                    mantissa = m2
                }
                i += 1
            }
        }
        var isInteger = true
        var fractionDigits = 0
        if i < end && p[i] == cDot {
            isInteger = false
            i += 1
            guard i < end, p[i] >= c0, p[i] <= c9 else {
                throw fail("invalid number: expected a digit after '.'", at: i)
            }
            while i < end {
                let c = p[i]
                guard c >= c0, c <= c9 else { break }
                if !significantOverflow {
                    let (m1, o1) = mantissa.multipliedReportingOverflow(by: 10)
                    let (m2, o2) = m1.addingReportingOverflow(UInt64(c - c0))
                    if o1 || o2 { significantOverflow = true } else { mantissa = m2 }
                }
                fractionDigits += 1
                i += 1
            }
        }
        var exponent = 0
        if i < end && (p[i] == 0x65 || p[i] == 0x45) {
            isInteger = false
            i += 1
            var expNegative = false
            if i < end && (p[i] == cPlus || p[i] == cMinus) {
                expNegative = p[i] == cMinus
                i += 1
            }
            guard i < end, p[i] >= c0, p[i] <= c9 else {
                throw fail("invalid number: expected a digit in the exponent", at: i)
            }
            while i < end {
                let c = p[i]
                guard c >= c0, c <= c9 else { break }
                if exponent < 100_000 { exponent = exponent * 10 + Int(c - c0) }
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        if isInteger && !intOverflow {
            if negative {
                if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
                if mantissa == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }
        // Clinger's fast path: exact mantissa and power of ten, one correctly rounded operation.
        let e10 = exponent - fractionDigits
        if !significantOverflow && mantissa <= (1 << 53) && e10 >= -22 && e10 <= 22 {
            var d = Double(mantissa)
            if e10 < 0 { d /= exactPowersOfTen[-e10] } else { d *= exactPowersOfTen[e10] }
            return .double(negative ? -d : d)
        }
        // Slow path: the standard library's correctly rounded conversion.
        let text = makeString(start, i)
        guard let d = Double(text) else { throw fail("invalid number", at: start) }
        guard d.isFinite else { throw fail("number out of range", at: start) }
        return .double(d)
    }
}

/// A string quoted as JSON (escapes, so always one line) and cut to `limit` characters, for
/// messages that show input.
func quotedForMessage(_ s: String, limit: Int = 40) -> String {
    var out: [UInt8] = [cQuote]
    var count = 0
    for scalar in s.unicodeScalars {
        if count == limit {
            out.append(contentsOf: "…".utf8)
            break
        }
        count += 1
        JSONWriter.appendEscaped(scalar, to: &out)
    }
    out.append(cQuote)
    return String(decoding: out, as: UTF8.self)
}
