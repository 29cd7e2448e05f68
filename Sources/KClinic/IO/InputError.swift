import struct Foundation.UUID

/// Why an import line (or a `--data` argument, or an amendment) is refused.
///
/// Renders as `field: problem (expected)`; the command prefixes `FILE:LINE: `. `field` is a JSON
/// path (`data.dose.value`, `actor.role`) or `line` when the line is not a JSON object. Every part
/// is one line: input shown in a message is quoted with JSON escapes and cut short.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var expected: String

    public init(field: String, problem: String, expected: String) {
        self.field = field
        self.problem = problem
        self.expected = expected
    }

    public var description: String { "\(field): \(problem) (\(expected))" }

    /// The same error with `prefix` before the field (`"data."` + `"dose.value"`).
    public func prefixed(_ prefix: String) -> InputError {
        InputError(field: prefix + field, problem: problem, expected: expected)
    }
}

// MARK: - Limits of events.md

public enum InputLimits {
    /// Free-text fields (notes, reasons, names): at most this many characters (Unicode scalars).
    public static let maxTextLength = 2000
    /// Patient and actor ids.
    public static let maxIdLength = 64
    /// Entries of `LabResulted.values`.
    public static let maxLabValues = 64
    /// How far in the future `occurredAt` may be, in milliseconds.
    public static let maxFutureMillis: Int64 = 86_400_000
    /// The earliest clinical date an `occurredAt` may have: ketamine maintenance for depression
    /// postdates it, so an earlier date is a typing error (year 0001, 1900), not a record.
    public static let earliestDay = Day(ordinal: 10_957)  // 2000-01-01
    /// The largest UTC offset of an `occurredAt`, in minutes (no time zone is beyond ±14:00).
    public static let maxOffsetMinutes = 14 * 60

    /// `occurredAt` is plausible: not before `earliestDay` (its clinical date), its offset within
    /// ±14:00, not more than 24 hours after `now`.
    public static func checkOccurredAt(_ t: Timestamp, now: Timestamp) throws(InputError) {
        guard abs(Int(t.offsetMinutes)) <= maxOffsetMinutes else {
            throw InputError(
                field: "occurredAt", problem: "\(t.rfc3339) has a UTC offset beyond any time zone's",
                expected: "an offset from -14:00 to +14:00")
        }
        guard t.clinicalDay >= earliestDay else {
            throw InputError(
                field: "occurredAt", problem: "\(t.rfc3339) is before \(earliestDay): not a plausible date for this record",
                expected: "a date from \(earliestDay) on")
        }
        guard t.epochMillis <= now.epochMillis + maxFutureMillis else {
            throw InputError(
                field: "occurredAt", problem: "\(t.rfc3339) is more than 24 hours in the future",
                expected: "a time no later than 24 hours after now (\(now.rfc3339))")
        }
    }

    /// The smallest plausible `dose.value` per unit (below it the value is a unit or typing
    /// error: 5e-324 mg/kg is no dose).
    public static func minDose(_ unit: DoseUnit) -> Double {
        switch unit {
        case .mgPerKg: 0.01
        case .mg: 1
        }
    }

    /// The largest `dose.value` per unit.
    public static func maxDose(_ unit: DoseUnit) -> Double {
        switch unit {
        case .mgPerKg: 5
        case .mg: 1000
        }
    }
}

// MARK: - Reading typed values out of JSON (internal)

/// "a string", "an object"… for "is a string" problems.
func jsonKindName(_ v: JSONValue) -> String {
    switch v {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
}

/// A short, one-line rendering of a value for a message.
func shortJSON(_ v: JSONValue) -> String {
    switch v {
    case .string(let s): return quotedForMessage(s)
    case .array: return "an array"
    case .object: return "an object"
    default:
        let text = JSONWriter.string(v)
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}

/// `parent.key`, the key quoted when it is not a plain name.
func childPath(_ parent: String, _ key: String) -> String {
    let plain =
        !key.isEmpty && key.utf8.count <= 64
        && key.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    let k = plain ? key : quotedForMessage(key)
    return parent.isEmpty ? k : parent + "." + k
}

func unknownField(_ parent: String, _ key: String, known: [String]) -> InputError {
    InputError(field: childPath(parent, key), problem: "unknown field", expected: "one of " + known.joined(separator: ", "))
}

func missingField(_ field: String, _ expected: String) -> InputError {
    InputError(field: field, problem: "missing", expected: expected)
}

func wrongKind(_ field: String, _ v: JSONValue, _ expected: String) -> InputError {
    InputError(field: field, problem: "is \(jsonKindName(v))", expected: expected)
}

func enumExpected<E: CaseIterable & RawRepresentable>(_: E.Type) -> String where E.RawValue == String {
    "one of " + E.allCases.map(\.rawValue).joined(separator: ", ")
}

func readEnum<E: _FastNamed>(_ v: JSONValue, _: E.Type, _ field: @autoclosure () -> String) throws(InputError) -> E {
    guard case .string(let s) = v else { throw wrongKind(field(), v, enumExpected(E.self)) }
    guard let e = E._names.lookup(s) else {
        throw InputError(field: field(), problem: "unknown value \(quotedForMessage(s))", expected: enumExpected(E.self))
    }
    return e
}

func readBool(_ v: JSONValue, _ field: @autoclosure () -> String) throws(InputError) -> Bool {
    guard case .bool(let b) = v else { throw wrongKind(field(), v, "true or false") }
    return b
}

func intExpected(_ range: ClosedRange<Int>) -> String {
    "an integer from \(range.lowerBound) to \(range.upperBound)"
}

/// A JSON integer (written without fraction or exponent) in `range`.
func readInt(_ v: JSONValue, _ range: ClosedRange<Int>, _ field: @autoclosure () -> String) throws(InputError) -> Int {
    switch v {
    case .int(let i):
        guard let x = Int(exactly: i), range.contains(x) else {
            throw InputError(field: field(), problem: "\(i) is out of range", expected: intExpected(range))
        }
        return x
    case .double(let d):
        let problem = abs(d) >= 9.2e18 ? "\(shortJSON(v)) is out of range" : "\(shortJSON(v)) is not an integer"
        throw InputError(field: field(), problem: problem, expected: intExpected(range))
    default:
        throw wrongKind(field(), v, intExpected(range))
    }
}

let uint64Expected = "a non-negative integer (at most 2^63 - 1)"

/// A non-negative JSON integer.
func readUInt64(_ v: JSONValue, _ field: @autoclosure () -> String) throws(InputError) -> UInt64 {
    let expected = uint64Expected
    switch v {
    case .int(let i):
        guard i >= 0 else { throw InputError(field: field(), problem: "\(i) is negative", expected: expected) }
        return UInt64(i)
    case .double(let d):
        // Integers beyond Int64 arrive as doubles (imprecise): out of range like any other.
        let problem =
            d < 0
            ? "\(shortJSON(v)) is negative"
            : d >= 9.2e18 ? "\(shortJSON(v)) is out of range" : "\(shortJSON(v)) is not an integer"
        throw InputError(field: field(), problem: problem, expected: expected)
    default:
        throw wrongKind(field(), v, expected)
    }
}

/// Any JSON number (always finite: the parser refuses overflow).
func readNumber(_ v: JSONValue, _ field: @autoclosure () -> String, _ expected: @autoclosure () -> String) throws(InputError) -> Double {
    switch v {
    case .int(let i): return Double(i)
    case .double(let d):
        guard d.isFinite else { throw InputError(field: field(), problem: "is not finite", expected: expected()) }
        return d
    default: throw wrongKind(field(), v, expected())
    }
}

func textExpected(required: Bool, max: Int = InputLimits.maxTextLength) -> String {
    (required ? "a non-blank string" : "a string")
        + " of at most \(max) characters, without control characters other than tab and line breaks"
}

/// Free text: at most `max` characters, no control character but tab, LF and CR (a NUL, an
/// escape sequence or a bell has no place in a clinical note and would reach the terminals that
/// print the audit trail), and (when `required`) not blank.
func readText(
    _ v: JSONValue, required: Bool, _ field: @autoclosure () -> String, max: Int = InputLimits.maxTextLength
) throws(InputError) -> String {
    guard case .string(let s) = v else { throw wrongKind(field(), v, textExpected(required: required, max: max)) }
    var control: UInt32?
    var sawNonBlankASCII = false
    var sawNonASCII = false
    for c in s.utf8 {
        if c >= 0x80 {
            sawNonASCII = true
        } else if c > 0x20 {
            if c == 0x7F, control == nil { control = 0x7F }
            sawNonBlankASCII = true
        } else if c != 0x09 && c != 0x0A && c != 0x0D && c != 0x20, control == nil {
            control = UInt32(c)
        }
    }
    if control == nil && sawNonASCII, let c1 = s.unicodeScalars.first(where: { (0x80...0x9F).contains($0.value) }) {
        control = c1.value
    }
    if let control {
        let name =
            control == 0 ? "a NUL character" : "the control character U+\(String(control, radix: 16, uppercase: true).leftPadded(to: 4))"
        throw InputError(field: field(), problem: "contains \(name)", expected: textExpected(required: required, max: max))
    }
    if s.utf8.count > max {
        let n = s.unicodeScalars.count
        if n > max {
            throw InputError(field: field(), problem: "is \(n) characters long", expected: textExpected(required: required, max: max))
        }
    }
    if required && !sawNonBlankASCII {
        let blank = !sawNonASCII || s.unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0.value <= 0x20 }
        if blank {
            throw InputError(field: field(), problem: s.isEmpty ? "is empty" : "is blank", expected: textExpected(required: true, max: max))
        }
    }
    return s
}

let actorIdExpected = "a non-empty string of at most 64 characters, without control characters"

/// An actor id: non-empty, at most 64 characters, no control characters (C0, DEL, C1).
func readActorId(_ v: JSONValue, _ field: @autoclosure () -> String) throws(InputError) -> String {
    guard case .string(let s) = v else { throw wrongKind(field(), v, actorIdExpected) }
    guard !s.isEmpty else { throw InputError(field: field(), problem: "is empty", expected: actorIdExpected) }
    var count = 0
    for scalar in s.unicodeScalars {
        count += 1
        let x = scalar.value
        if x < 0x20 || (x >= 0x7F && x <= 0x9F) {
            throw InputError(field: field(), problem: "contains a control character", expected: actorIdExpected)
        }
    }
    guard count <= InputLimits.maxIdLength else {
        throw InputError(field: field(), problem: "is \(count) characters long", expected: actorIdExpected)
    }
    return s
}

let uuidExpected = "a UUID such as 0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11"

func readUUID(_ v: JSONValue, _ field: @autoclosure () -> String) throws(InputError) -> UUID {
    guard case .string(let s) = v else { throw wrongKind(field(), v, uuidExpected) }
    guard let u = UUID(anyCaseString: s) else {
        throw InputError(field: field(), problem: "\(quotedForMessage(s)) is not a UUID", expected: uuidExpected)
    }
    return u
}

// MARK: - UUID text

extension UUID {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in any case (hand-written: exact format, no
    /// braces, no allocation).
    public init?(anyCaseString text: String) {
        var text = text
        guard let parsed = text.withUTF8({ UUID(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// The same from UTF-8 bytes.
    public init?(utf8 u: UnsafeRawBufferPointer) {
        guard u.count == 36, u[8] == 0x2D, u[13] == 0x2D, u[18] == 0x2D, u[23] == 0x2D else { return nil }
        var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var k = 0
            var j = 0
            while j < 36 {
                if j == 8 || j == 13 || j == 18 || j == 23 { j += 1 }
                let hi = hexValue(u[j])
                let lo = hexValue(u[j + 1])
                guard hi | lo < 16 else { return false }
                out[k] = hi << 4 | lo
                k += 1
                j += 2
            }
            return true
        }
        guard ok else { return nil }
        self.init(uuid: bytes)
    }

    /// The canonical text form: lower case, hyphenated.
    public var lowercaseString: String {
        let hex: StaticString = "0123456789abcdef"
        let u = uuid
        return withUnsafeBytes(of: u) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var j = 0
                for k in 0..<16 {
                    if k == 4 || k == 6 || k == 8 || k == 10 {
                        out[j] = 0x2D
                        j += 1
                    }
                    out[j] = hex.utf8Start[Int(raw[k] >> 4)]
                    out[j + 1] = hex.utf8Start[Int(raw[k] & 0xF)]
                    j += 2
                }
                return 36
            }
        }
    }
}

/// 0–15 for a hex digit, 0xFF otherwise.
@inline(__always)
private func hexValue(_ c: UInt8) -> UInt8 {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x41...0x46: c - 0x41 + 10
    case 0x61...0x66: c - 0x61 + 10
    default: 0xFF
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

extension InputLimits {
    /// The same checks as a text field of an import line (`readText`), for text that arrives
    /// another way (an option of a command): at most `max` characters, no control characters but
    /// tab and line breaks, not blank when `required`.
    public static func checkText(_ s: String, field: String, required: Bool = false, max: Int = InputLimits.maxTextLength)
        throws(InputError)
    {
        _ = try readText(.string(s), required: required, field, max: max)
    }
}
