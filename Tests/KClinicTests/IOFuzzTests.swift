import KBinary
import Testing

@testable import KClinic

/// A step into a JSON value: the n-th member of an object or the n-th element of an array.
private typealias JSONPath = [Int]

private func paths(_ v: JSONValue, _ prefix: JSONPath = [], into out: inout [JSONPath]) {
    out.append(prefix)
    switch v {
    case .object(let m): for (k, x) in m.enumerated() { paths(x.1, prefix + [k], into: &out) }
    case .array(let a): for (k, x) in a.enumerated() { paths(x, prefix + [k], into: &out) }
    default: break
    }
}

private func get(_ v: JSONValue, _ path: JSONPath) -> JSONValue {
    guard let first = path.first else { return v }
    switch v {
    case .object(let m): return get(m[first].1, Array(path.dropFirst()))
    case .array(let a): return get(a[first], Array(path.dropFirst()))
    default: return v
    }
}

private func set(_ v: inout JSONValue, _ path: JSONPath, _ new: JSONValue) {
    guard let first = path.first else {
        v = new
        return
    }
    switch v {
    case .object(var m):
        set(&m[first].1, Array(path.dropFirst()), new)
        v = .object(m)
    case .array(var a):
        set(&a[first], Array(path.dropFirst()), new)
        v = .array(a)
    default: break
    }
}

/// Deterministic mutations of import lines.
private struct Mutator {
    var rng: SplitMix64

    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }

    static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0xE2, 0x82], [0xFE, 0xFF],
    ]
    static let extremeNumbers: [String] = [
        "-1", "0", "-0", "0.0", "3.5", "1e400", "-1e400", "1e308", "4.9e-324", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999", "1E2", "0.1e1", "261", "181", "1899", "61", "2147483648", "1e-7",
    ]
    static let strings: [String] = [
        "", " ", "IV", "iv", "mg/kg", "MG", "MADRS", "madrs", "initial", "clinician", "interface", "Interface", "nurse ",
        "PatientEnrolled", "AuditReviewed", "ActorRegistered", "2026-01-05T09:30:00", "2026-02-29T09:30:00Z", "2099-01-01T00:00:00Z",
        "00000000-0000-0000-0000-00000000000G", "\u{0}", "a\nb", "é", "😀", "\u{202E}rtl", "P 1",
    ]

    mutating func randomValue(depth: Int = 0) -> JSONValue {
        switch int(0...(depth > 2 ? 4 : 6)) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2: return .int(Int64(int(-1000...1000)))
        case 3: return .double(Double(int(-100_000...100_000)) / 7)
        case 4: return .string(pick(Self.strings))
        case 5: return .array((0..<int(0...3)).map { _ in randomValue(depth: depth + 1) })
        default: return .object((0..<int(0...3)).map { k in ("k\(k)", randomValue(depth: depth + 1)) })
        }
    }

    mutating func mutateValue(_ line: [UInt8]) -> [UInt8] {
        guard var v = try? JSONParser.parse(line) else { return mutateBytes(line) }
        var all: [JSONPath] = []
        paths(v, into: &all)
        let path = pick(all)
        let here = get(v, path)
        switch int(0...7) {
        case 0:  // wrong type
            var new = randomValue()
            var tries = 0
            while jsonKindName(new) == jsonKindName(here), tries < 5 {
                new = randomValue()
                tries += 1
            }
            set(&v, path, new)
        case 1:  // unknown field
            let objects = all.filter { if case .object = get(v, $0) { return true } else { return false } }
            let target = objects.isEmpty ? [] : pick(objects)
            if case .object(var m) = get(v, target) {
                m.insert((pick(["foo", "Type", "data ", "eventID", "heartrate", "\u{0}", "note"]), randomValue()), at: int(0...m.count))
                set(&v, target, .object(m))
            }
        case 2:  // unknown or mangled enum / string
            if case .string(let s) = here, !s.isEmpty, chance(0.5) {
                var u = Array(s.utf8)
                u[int(0...(u.count - 1))] = UInt8(int(0x20...0x7E))
                set(&v, path, .string(String(decoding: u, as: UTF8.self)))
            } else {
                set(&v, path, .string(pick(Self.strings)))
            }
        case 3:  // huge string
            let filler = pick(["x", "é", "\u{0}", " ", "\\", "\""])
            set(&v, path, .string(String(repeating: filler, count: 100_000 / filler.utf8.count)))
        case 4:  // deep nesting (sometimes beyond the parser's limit)
            var new = here
            for _ in 0..<int(1...80) { new = chance(0.5) ? .array([new]) : .object([("d", new)]) }
            set(&v, path, new)
        case 5:  // remove a member
            if path.count > 0 {
                let parent = Array(path.dropLast())
                if case .object(var m) = get(v, parent) {
                    m.remove(at: path[path.count - 1])
                    set(&v, parent, .object(m))
                }
            }
        case 6:  // another event type (its data then mostly wrong)
            if case .object(var m) = v, let k = m.firstIndex(where: { $0.0 == "type" }) {
                m[k].1 = .string(pick(EventType.allCases).rawValue)
                v = .object(m)
            }
        default:  // out-of-range or odd number, spliced as text
            var text = JSONWriter.string(v)
            let number = pick(Self.extremeNumbers)
            let placeholder = "\u{1}PLACEHOLDER\u{1}"
            set(&v, path, .string(placeholder))
            text = JSONWriter.string(v)
            return Array(text.replacingOccurrences(of: "\"\\u0001PLACEHOLDER\\u0001\"", with: number).utf8)
        }
        return Array(JSONWriter.string(v).utf8)
    }

    mutating func mutateBytes(_ line: [UInt8]) -> [UInt8] {
        var b = line
        switch int(0...4) {
        case 0:  // truncation
            return Array(b.prefix(int(0...max(0, b.count - 1))))
        case 1:  // byte flips
            for _ in 0..<int(1...4) where !b.isEmpty {
                b[int(0...(b.count - 1))] ^= UInt8(int(1...255))
            }
            return b
        case 2:  // invalid UTF-8, often right inside a string
            let quotes = b.indices.filter { b[$0] == 0x22 }
            let at = (chance(0.7) && !quotes.isEmpty) ? pick(quotes) + 1 : int(0...b.count)
            b.insert(contentsOf: pick(Self.invalidUTF8), at: min(at, b.count))
            return b
        case 3:  // structural characters
            b.insert(pick(Array("{}[],:\"\\ 0-e.".utf8)), at: int(0...b.count))
            return b
        default:  // a duplicated key
            if let brace = b.firstIndex(of: 0x7B) {
                b.insert(contentsOf: Array("\"type\": \"ConsentRecorded\", ".utf8), at: brace + 1)
            }
            return b
        }
    }

    mutating func mutate(_ line: [UInt8]) -> [UInt8] {
        var out = line
        for _ in 0..<(chance(0.2) ? int(2...3) : 1) {
            out = chance(0.55) ? mutateValue(out) : mutateBytes(out)
        }
        return out
    }
}

struct IOFuzzTests {
    @Test(.enabled(if: ioW1Available, "spec/examples/w1.ndjson not found"))
    func mutatedLinesParseOrFailCleanly() throws {
        let lines = try #require(ioExampleLines("w1.ndjson")).map { Array($0.utf8) }
        var mutator = Mutator(rng: SplitMix64(seed: 0x5EED_2026))
        var accepted = 0
        var refusedByField: [String: Int] = [:]
        let total = 12_000
        for n in 0..<total {
            let original = lines[n % lines.count]
            let mutated = mutator.mutate(original)
            // The streaming envelope path agrees with parse-then-validate, error text included.
            let viaTree: Result<IncomingEvent, InputError>
            do throws(JSONParseError) {
                let json = try JSONParser.parse(mutated)
                do throws(InputError) { viaTree = .success(try IncomingEvent.validate(json, now: ioExamplesNow)) } catch {
                    viaTree = .failure(error)
                }
            } catch {
                viaTree = .failure(
                    InputError(
                        field: "line", problem: "not valid JSON: \(error.message) at byte \(error.offset)",
                        expected: "one JSON object per line"))
            }
            let viaBytes: Result<IncomingEvent, InputError>
            do throws(InputError) { viaBytes = .success(try IncomingEvent.parse(line: mutated, now: ioExamplesNow)) } catch {
                viaBytes = .failure(error)
            }
            #expect(viaTree == viaBytes, "mutation \(n): \(String(decoding: mutated.prefix(300), as: UTF8.self))")
            do throws(InputError) {
                let e = try IncomingEvent.parse(line: mutated, now: ioExamplesNow)
                accepted += 1
                // What is accepted is sound: the payload and the data round-trip.
                let bytes = PayloadCodec.encode(e.event)
                let back = try? PayloadCodec.decode(type: e.type, schemaVersion: PayloadCodec.currentSchemaVersion(e.type), bytes: bytes)
                #expect(back == e.event, "mutation \(n)")
                #expect((try? ClinicalEvent.from(type: e.type, data: e.event.dataJSON, now: ioExamplesNow)) == e.event, "mutation \(n)")
                #expect(e.type.isImportable && e.actor.role != .interface)
            } catch {
                refusedByField[error.field.split(separator: ".").first.map(String.init) ?? "", default: 0] += 1
                let d = error.description
                #expect(!d.contains("\n") && !d.contains("\r"), "mutation \(n): \(d)")
                #expect(!error.field.isEmpty && !error.problem.isEmpty && !error.expected.isEmpty, "mutation \(n): \(d)")
                #expect(d.utf8.count < 2000, "mutation \(n): message of \(d.utf8.count) bytes")
            }
        }
        let refused = refusedByField.values.reduce(0, +)
        let known = Set(IncomingEvent.fields + ["line"])
        var summary: [String: Int] = [:]
        for (k, v) in refusedByField { summary[known.contains(k) ? k : "(unknown field)", default: 0] += v }
        print("fuzz: \(total) mutations, \(accepted) accepted, refused by field: \(summary.sorted { $0.key < $1.key })")
        #expect(accepted + refused == total)
        #expect(accepted > 100)
        #expect(refused > total / 2)
        // Every part of a line gets refused somewhere.
        for field in ["line", "type", "patient", "occurredAt", "actor", "data", "eventId"] {
            #expect(refusedByField[field, default: 0] > 0, "no refusal in \(field): \(refusedByField)")
        }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SplitMix64(seed: 1)
        let alphabet = Array("{}[]\":,0123456789-+.eEtrufalsn \\u\n\t".utf8) + [0xC3, 0xA9, 0xFF, 0x00]
        for _ in 0..<20_000 {
            let n = Int.random(in: 0...40, using: &rng)
            let bytes = (0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            do throws(InputError) {
                _ = try IncomingEvent.parse(line: bytes, now: ioNow)
            } catch {
                #expect(!error.description.contains("\n"))
            }
        }
    }
}
