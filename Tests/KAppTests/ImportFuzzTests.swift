import Foundation
import KApp
import KClinic
import KStore
import Testing

/// SplitMix64: a small seeded generator so every run mutates the same way.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutates fixture lines in the ways bad input arrives: truncation, flipped bytes, wrong
/// types, out-of-range numbers, unknown fields and enums, broken UTF-8, huge strings.
func mutate(_ line: [UInt8], _ rng: inout SeededRNG) -> [UInt8] {
    var b = line
    let text = String(decoding: line, as: UTF8.self)
    func replacing(_ a: String, _ c: String) -> [UInt8] {
        guard let r = text.range(of: a) else { return b }
        return Array(text.replacingCharacters(in: r, with: c).utf8)
    }
    switch Int.random(in: 0..<16, using: &rng) {
    case 0: return Array(b.prefix(Int.random(in: 0..<max(1, b.count), using: &rng)))
    case 1:
        let i = Int.random(in: 0..<b.count, using: &rng)
        b[i] = UInt8.random(in: 0...255, using: &rng)
        return b
    case 2:
        let i = Int.random(in: 0..<b.count, using: &rng)
        b.insert(contentsOf: [0xC3, 0x28, 0xFF], at: i)
        return b
    case 3: return replacing(#""value": "#, #""value": "x", "old": "#)
    case 4: return replacing(#""value": "#, #""value": 1e9, "v": "#)
    case 5: return replacing(#""data": {"#, #""data": {"surprise": true, "#)
    case 6: return replacing(#""role": "nurse""#, #""role": "janitor""#)
    case 7: return replacing(#""series": "acute""#, #""series": "sometimes""#)
    case 8: return replacing(#""patient": ""#, #""patient": "\#(String(repeating: "x", count: 100_000))"#)
    case 9: return replacing(#""occurredAt": "2026-01-"#, #""occurredAt": "2026-02-3"#)
    case 10: return replacing(#""occurredAt": "2026-"#, #""occurredAt": "2031-"#)
    case 11: return replacing(#"-05:00""#, #"""#)
    case 12: return replacing(#""systolic": "#, #""systolic": -"#)
    case 13: return replacing(#""type": ""#, #""type": "X"#)
    case 14: return replacing(#"{"#, String(repeating: "[", count: 200) + "{")
    default:
        // several mutations at once
        var m = b
        for _ in 0..<3 {
            let i = Int.random(in: 0..<m.count, using: &rng)
            m[i] = UInt8.random(in: 0x20...0x7E, using: &rng)
        }
        return m
    }
}

@Suite struct ImportFuzzTests {
    @Test func tenThousandMutatedLinesAreEachRefusedInOneLineOrAcceptedAndTheStoreVerifies() throws {
        var lines: [[UInt8]] = []
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            lines += try exampleBytes(name).split(separator: 0x0A).map(Array.init)
        }
        try withStore { (store: ClinicStore) throws in
            let importer = Importer(store: store)
            // The originals first, so corrections in mutated lines can find targets.
            for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] { _ = try importer.importNDJSON(try exampleBytes(name), source: name) }
            var rng = SeededRNG(state: 20_261_127)
            var accepted = 0
            var refused = 0
            for n in 0..<10_000 {
                let original = lines[Int.random(in: 0..<lines.count, using: &rng)]
                let mutated = mutate(original, &rng).filter { $0 != 0x0A }
                do throws(AppError) {
                    let s = try importer.importNDJSON(mutated, source: "fuzz")
                    // A line truncated to nothing (or to blanks) is skipped like any blank line.
                    let blank = mutated.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                    #expect(s.imported + s.duplicates == (blank ? 0 : 1), "mutation \(n)")
                    accepted += 1
                } catch {
                    refused += 1
                    let text = error.description
                    #expect(!text.contains("\n"), "mutation \(n): more than one line: \(text.prefix(300))")
                    #expect(text.hasPrefix("fuzz:1: "), "mutation \(n): \(text.prefix(300))")
                    #expect([65, 3].contains(error.exitCode), "mutation \(n): exit \(error.exitCode)")
                    #expect(text.utf8.count < 2_000, "mutation \(n): a \(text.utf8.count)-byte message")
                }
            }
            #expect(accepted + refused == 10_000)
            #expect(refused > 3_000)
            #expect(try LogAudit.verify(store).ok)
        }
    }
}
