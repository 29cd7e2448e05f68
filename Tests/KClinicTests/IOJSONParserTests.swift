import Testing

@testable import KClinic

private func parseBytes(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
    do throws(JSONParseError) { return .success(try JSONParser.parse(bytes)) } catch { return .failure(error) }
}

private func parse(_ text: String) -> Result<JSONValue, JSONParseError> { parseBytes(Array(text.utf8)) }

private func nested(_ depth: Int) -> String {
    String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
}

struct IOJSONParserTests {
    static let accepted: [(String, JSONValue)] = [
        ("{}", .object([])),
        ("[]", .array([])),
        (
            "  {\"a\" : [1, 2.5, -3e2, true, false, null, \"x\"]}\r\n",
            .object([("a", .array([.int(1), .double(2.5), .double(-300), .bool(true), .bool(false), .null, .string("x")]))])
        ),
        ("{\"b\":1,\"a\":2}", .object([("b", .int(1)), ("a", .int(2))])),
        ("\"\"", .string("")),
        ("\"\\u00e9\\n\\t\\\"\\\\\\/\\b\\f\\r\"", .string("é\n\t\"\\/\u{8}\u{c}\r")),
        ("\"\\ud83d\\ude00\"", .string("😀")),
        ("\"é 😀 日本\"", .string("é 😀 日本")),
        ("\"\\u0000\"", .string("\u{0}")),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("1.0", .double(1.0)),
        ("1e2", .double(100)),
        ("1E+2", .double(100)),
        ("12.5e-1", .double(1.25)),
        ("0.1", .double(0.1)),
        ("-0.0", .double(-0.0)),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9223372036854775808", .double(9223372036854775808.0)),
        ("123456789012345678901234567890", .double(123456789012345678901234567890.0)),
        ("1.7976931348623157e308", .double(1.7976931348623157e308)),
        ("4.9e-324", .double(.leastNonzeroMagnitude)),
        ("1e-400", .double(0)),
        ("0.30000000000000004", .double(0.30000000000000004)),
        ("3.141592653589793238462643383279", .double(3.141592653589793)),
        ("[[[]]]", .array([.array([.array([])])])),
        (
            nested(64),
            {
                var v = JSONValue.array([])
                for _ in 1..<64 { v = .array([v]) }
                return v
            }()
        ),
    ]

    @Test("accepts valid JSON", arguments: 0..<accepted.count)
    func accepts(_ k: Int) throws {
        let (text, expected) = Self.accepted[k]
        let v = try parse(text).get()
        #expect(v == expected, "\(text)")
        // .int / .double distinction is kept (JSONValue's == compares numerically)
        switch (v, expected) {
        case (.int, .int), (.double, .double), (.array, .array), (.object, .object), (.string, .string), (.bool, .bool), (.null, .null):
            break
        default: Issue.record("kind differs for \(text): \(v) vs \(expected)")
        }
    }

    @Test func keepsKeyOrder() throws {
        guard case .object(let m) = try parse("{\"z\":1,\"a\":2,\"m\":3}").get() else {
            Issue.record("not an object")
            return
        }
        #expect(m.map(\.0) == ["z", "a", "m"])
    }

    static let refused: [([UInt8], String)] = [
        (Array("".utf8), "empty"),
        (Array("   ".utf8), "end of input"),
        (Array("{".utf8), "unterminated object"),
        (Array("{\"a\":1,}".utf8), "expected a string key"),
        (Array("[1,]".utf8), "expected a value"),
        (Array("[1 2]".utf8), "expected ',' or ']'"),
        (Array("{\"a\" 1}".utf8), "expected ':'"),
        (Array("{\"a\":1}x".utf8), "after the JSON value"),
        (Array("{\"a\":1} {\"b\":2}".utf8), "after the JSON value"),
        (Array("{\"a\":1,\"a\":2}".utf8), "duplicate key"),
        (Array("{\"a\":{\"x\":1,\"x\":1}}".utf8), "duplicate key"),
        ([0x22, 0x01, 0x22], "control character"),
        ([0x22, 0x09, 0x22], "control character"),
        ([0x22, 0x0A, 0x22], "control character"),
        (Array("\"\\ud800\"".utf8), "lone surrogate"),
        (Array("\"\\udc00\"".utf8), "lone surrogate"),
        (Array("\"\\ud800\\u0041\"".utf8), "lone surrogate"),
        (Array("\"\\ud800x\"".utf8), "lone surrogate"),
        (Array("\"\\x\"".utf8), "invalid escape"),
        (Array("\"\\u12\"".utf8), "\\u escape"),
        (Array("\"\\u12G4\"".utf8), "\\u escape"),
        (Array("\"abc".utf8), "unterminated string"),
        ([0x22, 0xC3, 0x22], "invalid UTF-8"),  // truncated 2-byte sequence
        ([0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8"),  // overlong '/'
        ([0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8"),  // overlong 3-byte
        ([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8"),  // encoded surrogate U+D800
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8"),  // above U+10FFFF
        ([0x22, 0x80, 0x22], "invalid UTF-8"),  // lone continuation
        ([0x22, 0xFF, 0x22], "invalid UTF-8"),
        ([0x22, 0x61, 0x5C, 0x6E, 0xFE, 0x22], "invalid UTF-8"),  // after an escape
        ([0xEF, 0xBB, 0xBF, 0x7B, 0x7D], "unexpected byte 0xEF"),  // BOM
        ([0x7B, 0x7D, 0x00], "after the JSON value"),
        (Array(nested(65).utf8), "nesting deeper than 64"),
        (Array(("[" + String(repeating: "{\"a\":[", count: 40)).utf8), "nesting deeper than 64"),
        (Array("1e400".utf8), "out of range"),
        (Array("-1e400".utf8), "out of range"),
        (Array(("1" + String(repeating: "0", count: 400)).utf8), "out of range"),
        (Array("01".utf8), "leading zero"),
        (Array("-01".utf8), "leading zero"),
        (Array("1.".utf8), "digit after '.'"),
        (Array(".5".utf8), "expected a value"),
        (Array("+1".utf8), "expected a value"),
        (Array("-".utf8), "expected a digit"),
        (Array("1e".utf8), "exponent"),
        (Array("1e+".utf8), "exponent"),
        (Array("NaN".utf8), "expected a value"),
        (Array("Infinity".utf8), "expected a value"),
        (Array("tru".utf8), "invalid literal"),
        (Array("nul".utf8), "invalid literal"),
        (Array("trUe".utf8), "invalid literal"),
        (Array("'a'".utf8), "expected a value"),
        (Array("{a:1}".utf8), "expected a string key"),
        (Array("[1,2".utf8), "unterminated array"),
        (Array("{\"a\":1".utf8), "unterminated object"),
    ]

    @Test("refuses invalid JSON", arguments: 0..<refused.count)
    func refuses(_ k: Int) {
        let (bytes, fragment) = Self.refused[k]
        switch parseBytes(bytes) {
        case .success(let v):
            Issue.record("accepted \(bytes): \(v)")
        case .failure(let e):
            #expect(e.message.contains(fragment), "\(bytes): \(e)")
            #expect(e.offset >= 0 && e.offset <= bytes.count)
            #expect(!e.description.contains("\n"))
        }
    }

    @Test func errorOffsets() {
        #expect((try? parse("{\"a\":1}x").get()) == nil)
        if case .failure(let e) = parse("{\"a\":1}x") { #expect(e.offset == 7) }
        if case .failure(let e) = parse("{\"a\":1,\"a\":2}") { #expect(e.offset == 7) }
        if case .failure(let e) = parseBytes([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]) { #expect(e.offset == 3) }
        if case .failure(let e) = parse(nested(65)) { #expect(e.offset == 64) }
    }

    @Test func duplicateKeysInLargeObjects() {
        var text = "{"
        for k in 0..<40 { text += "\"k\(k)\":\(k)," }
        #expect((try? parse(text + "\"k39\":0}").get()) == nil)
        #expect((try? parse(text + "\"k40\":0}").get()) != nil)
    }

    @Test func otherInputForms() throws {
        let text = "prefix {\"a\": [1, \"b\"]} suffix"
        let sub = text.dropFirst(7).dropLast(7)
        #expect(try JSONParser.parse(bytes: sub.utf8) == .object([("a", .array([.int(1), .string("b")]))]))
        #expect(try JSONParser.parse("{\"a\": 1}") == .object([("a", .int(1))]))
        #expect(try JSONParser.parse(bytes: [UInt8]("[true]".utf8)[...]) == .array([.bool(true)]))
    }
}

struct IOJSONWriterTests {
    @Test func writesCompactSortedEscaped() {
        let v = JSONValue.object([
            ("zeta", .int(-42)),
            ("alpha", .array([.double(0.1), .double(1.0), .double(1e20), .double(-0.0), .null, .bool(true)])),
            ("Beta", .string("a\"b\\c\n\t\u{1}\u{7f}é😀/")),
            ("mid", .object([("y", .int(Int64.min)), ("x", .int(Int64.max))])),
        ])
        #expect(
            JSONWriter.string(v)
                == "{\"Beta\":\"a\\\"b\\\\c\\n\\t\\u0001\u{7f}é😀/\",\"alpha\":[0.1,1.0,1e+20,-0.0,null,true],"
                + "\"mid\":{\"x\":9223372036854775807,\"y\":-9223372036854775808},\"zeta\":-42}")
    }

    @Test func nonFiniteDoublesBecomeNull() {
        #expect(JSONWriter.string(.array([.double(.infinity), .double(.nan)])) == "[null,null]")
    }

    @Test func writeLineAppends() {
        var out: [UInt8] = Array("x".utf8)
        JSONWriter.writeLine(.object([("b", .int(1)), ("a", .int(2))]), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x{\"a\":2,\"b\":1}\n")
    }

    static let roundTrip: [JSONValue] = [
        .null, .bool(false), .int(0), .int(-1), .int(Int64.max), .int(Int64.min),
        .double(0.1), .double(-2.5e-8), .double(1.7976931348623157e308), .double(.leastNonzeroMagnitude), .double(123456789.125),
        .double(1e16), .double(1e21), .string(""), .string("\u{0}\u{1f}\"\\é\u{2028}😀"),
        .array([.array([]), .object([])]),
        .object([("b", .object([("d", .int(1)), ("c", .array([.string("x"), .double(2.5)]))])), ("a", .null)]),
    ]

    @Test("writer output parses back to the same value", arguments: 0..<roundTrip.count)
    func roundTrips(_ k: Int) throws {
        let v = Self.roundTrip[k]
        let text = JSONWriter.string(v)
        let back = try JSONParser.parse(text)
        #expect(back == v, "\(text)")
        if case .double(let d) = v, case .double(let e) = back { #expect(d.bitPattern == e.bitPattern) }
        if case .int = v, case .double = back { Issue.record("int came back as a double: \(text)") }
        // Writing again gives identical bytes (stable output).
        #expect(JSONWriter.string(back) == text)
    }

    @Test func parsedLinesRoundTrip() throws {
        let line =
            "{\"eventId\": \"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\", \"type\": \"InfusionAdministered\", \"data\": {\"dose\": {\"value\": 0.5, \"unit\": \"mg/kg\"}}}"
        let v = try JSONParser.parse(line)
        let text = JSONWriter.string(v)
        #expect(
            text
                == "{\"data\":{\"dose\":{\"unit\":\"mg/kg\",\"value\":0.5}},\"eventId\":\"0b5e3c1e-8f0a-4d39-9a55-2f7f2b9a6c11\",\"type\":\"InfusionAdministered\"}"
        )
        #expect(try JSONParser.parse(text) == v)
    }
}
