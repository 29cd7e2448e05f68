import KBinary
import Testing

/// BinaryWriter and BinaryReader: the primitives of every stored record, payload and state. The
/// bytes are on disk (and under the hash chain), so exact encodings are pinned; the reader meets
/// damaged bytes, so every malformed input must be refused with a `BinaryError`, never a trap.
@Suite struct BinaryCodingTests {
    // MARK: exact bytes

    @Test func unsignedVarintsAreLEB128AtEveryLengthBoundary() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]),
            (1, [0x01]),
            (127, [0x7F]),
            (128, [0x80, 0x01]),
            (300, [0xAC, 0x02]),
            (16_383, [0xFF, 0x7F]),
            (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]),
            (2_097_152, [0x80, 0x80, 0x80, 0x01]),
            (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            (UInt64(UInt32.max) + 1, [0x80, 0x80, 0x80, 0x80, 0x10]),
            (1 << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, bytes) in cases {
            var w = BinaryWriter()
            w.writeVarUInt(value)
            #expect(w.bytes == bytes, "\(value)")
            #expect(reading(bytes) { r throws(BinaryError) in try r.readVarUInt() } == .success(value), "\(value)")
            #expect(readsToEnd(bytes) { r throws(BinaryError) in _ = try r.readVarUInt() })
        }
    }

    @Test func signedVarintsAreZigZag() {
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]),
            (-1, [0x01]),
            (1, [0x02]),
            (-2, [0x03]),
            (2, [0x04]),
            (-64, [0x7F]),
            (63, [0x7E]),
            (64, [0x80, 0x01]),
            (-65, [0x81, 0x01]),
            (-300, [0xD7, 0x04]),
            (Int64(Int32.max), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
            (Int64(Int32.min), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, bytes) in cases {
            var w = BinaryWriter()
            w.writeVarInt(value)
            #expect(w.bytes == bytes, "\(value)")
            #expect(reading(bytes) { r throws(BinaryError) in try r.readVarInt() } == .success(value), "\(value)")
        }
    }

    @Test func fixedWidthBytesBooleansStringsBlobsAndOptionals() {
        var w = BinaryWriter()
        w.writeByte(0xAB)
        w.writeBool(true)
        w.writeBool(false)
        w.writeUInt64BE(0x0102_0304_0506_0708)
        w.writeDouble(1.0)
        w.writeDouble(-0.0)
        w.writeString("")
        w.writeString("ab")
        w.writeString("é")
        w.writeOptionalString(nil)
        w.writeOptionalString("x")
        w.writeBlob([9, 8, 7])
        w.writeBlob([UInt8]())
        w.writeRaw([0xDE, 0xAD])
        #expect(
            w.bytes == [
                0xAB,
                0x01,
                0x00,
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,  // 1.0, little-endian bit pattern
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // -0.0
                0x00,
                0x02, 0x61, 0x62,
                0x02, 0xC3, 0xA9,
                0x00,
                0x01, 0x01, 0x78,
                0x03, 0x09, 0x08, 0x07,
                0x00,
                0xDE, 0xAD,
            ])
    }

    @Test func aLongStringsLengthIsAMultiByteVarint() {
        var w = BinaryWriter()
        w.writeString(String(repeating: "z", count: 200))
        #expect(Array(w.bytes.prefix(2)) == [0xC8, 0x01])
        #expect(w.bytes.count == 202)
        #expect(reading(w.bytes) { r throws(BinaryError) in try r.readString() } == .success(String(repeating: "z", count: 200)))
    }

    // MARK: round trips

    @Test func stringsRoundTripIncludingMultiByteUTF8() {
        let strings = [
            "", "a", "P-0001", "$actors", "é", "naïve café", "ß∂ƒ©", "日本語のテキスト", "🧪💉", "e\u{301}",
            "\u{0}", "\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}",
            String(repeating: "ü", count: 1000),
        ]
        for s in strings {
            var w = BinaryWriter()
            w.writeString(s)
            #expect(Array(w.bytes.dropFirst(w.bytes.count - s.utf8.count)) == Array(s.utf8))
            #expect(reading(w.bytes) { r throws(BinaryError) in try r.readString() } == .success(s), "\(s.debugDescription)")
            #expect(readsToEnd(w.bytes) { r throws(BinaryError) in _ = try r.readString() })
        }
    }

    @Test func doublesRoundTripBitForBit() {
        let values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e-300, -1e300, .pi, .infinity, -.infinity, .nan,
            .leastNonzeroMagnitude, .greatestFiniteMagnitude, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF),
        ]
        for v in values {
            var w = BinaryWriter()
            w.writeDouble(v)
            #expect(w.bytes.count == 8)
            #expect(reading(w.bytes) { r throws(BinaryError) in try r.readDouble().bitPattern } == .success(v.bitPattern))
        }
    }

    @Test func aMixedSequenceRoundTripsAndEndsExactlyAtTheEnd() {
        var w = BinaryWriter()
        for i in 0..<50 {
            w.writeVarUInt(UInt64(i) * 0x0123_4567_89AB)
            w.writeVarInt(i % 2 == 0 ? Int64(-i) * 1_000_003 : Int64(i))
            w.writeString("s\(i)·ü")
            w.writeOptionalString(i % 3 == 0 ? nil : "n\(i)")
            w.writeBool(i % 5 == 0)
            w.writeBlob([UInt8](repeating: UInt8(i), count: i))
            w.writeUInt64BE(UInt64(i) << 40 | 0xFF)
            w.writeDouble(Double(i) / 7)
            w.writeRaw([UInt8(i), UInt8(255 - i)])
            w.writeByte(UInt8(i))
        }
        let bytes = w.bytes
        let result = reading(bytes) { r throws(BinaryError) -> Bool in
            for i in 0..<50 {
                guard try r.readVarUInt() == UInt64(i) * 0x0123_4567_89AB,
                    try r.readVarInt() == (i % 2 == 0 ? Int64(-i) * 1_000_003 : Int64(i)),
                    try r.readString() == "s\(i)·ü",
                    try r.readOptionalString() == (i % 3 == 0 ? nil : "n\(i)"),
                    try r.readBool() == (i % 5 == 0),
                    try r.readBlob().copiedBytes == [UInt8](repeating: UInt8(i), count: i),
                    try r.readUInt64BE() == UInt64(i) << 40 | 0xFF,
                    try r.readDouble() == Double(i) / 7,
                    try r.readRaw(2).copiedBytes == [UInt8(i), UInt8(255 - i)],
                    try r.readByte() == UInt8(i)
                else { return false }
            }
            return r.isAtEnd && r.remaining == 0
        }
        #expect(result == .success(true))
    }

    @Test func randomVarintsRoundTrip() {
        var rng = SplitMix64(seed: 0x6B73_746F_7265)
        for _ in 0..<20_000 {
            // Every bit width equally often, so each encoded length is exercised.
            let width = Int(rng.next() % 65)
            let u = width == 0 ? 0 : rng.next() >> UInt64(64 - width)
            let s = Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)
            var w = BinaryWriter()
            w.writeVarUInt(u)
            w.writeVarInt(s)
            let result = reading(w.bytes) { r throws(BinaryError) -> Bool in
                let readU = try r.readVarUInt()
                let readS = try r.readVarInt()
                return readU == u && readS == s && r.isAtEnd
            }
            #expect(result == .success(true), "\(u) \(s)")
        }
    }

    @Test func aReaderStartsAtItsOffsetAndBorrowsItsBytes() {
        let bytes: [UInt8] = [0xFF, 0xFF, 0x03, 0x61, 0x62, 0x63]
        let result: [UInt8] = bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw, offset: 2)
            #expect(r.remaining == 4)
            guard let blob = try? r.readBlob() else { return [] }
            #expect(blob.baseAddress == raw.baseAddress.map { $0 + 3 })
            #expect(r.offset == 6)
            #expect(r.isAtEnd)
            return blob.copiedBytes
        }
        #expect(result == [0x61, 0x62, 0x63])
    }

    // MARK: malformed input: refused, never a trap

    @Test func anEmptyBufferIsTruncatedForEveryRead() {
        let empty: [UInt8] = []
        #expect(reading(empty) { r throws(BinaryError) in try r.readByte() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readBool() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readVarInt() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readLength() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readUInt64BE() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readDouble().bitPattern } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readString() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readOptionalString() } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readBlob().count } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readRaw(1).count } == .failure(.truncated(at: 0)))
        #expect(reading(empty) { r throws(BinaryError) in try r.readRaw(0).count } == .success(0))
    }

    @Test func aTruncatedVarintIsRefusedWhereTheBytesEnd() {
        for bytes: [UInt8] in [[0x80], [0xFF, 0xFF], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]] {
            #expect(reading(bytes) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.truncated(at: bytes.count)))
            #expect(reading(bytes) { r throws(BinaryError) in try r.readVarInt() } == .failure(.truncated(at: bytes.count)))
        }
        // Every proper prefix of UInt64.max's ten bytes.
        let full: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        for n in 0..<full.count {
            #expect(reading(Array(full.prefix(n))) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.truncated(at: n)))
        }
    }

    @Test func aVarintPastSixtyFourBitsIsRefused() {
        // The tenth byte may only carry bit 63: 2 and above overflow, as does a continuation.
        let nine = [UInt8](repeating: 0xFF, count: 9)
        for last: UInt8 in [0x02, 0x03, 0x7F, 0x80, 0x81, 0xFF] {
            #expect(reading(nine + [last]) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.overlongVarint(at: 9)), "\(last)")
            #expect(
                reading(nine + [last, 0x00]) { r throws(BinaryError) in try r.readVarInt() } == .failure(.overlongVarint(at: 9)), "\(last)")
        }
        // Eleven bytes or more: refused at the tenth, wherever the input ends.
        let long = [UInt8](repeating: 0x80, count: 10) + [0x01]
        #expect(reading(long) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.overlongVarint(at: 9)))
        let endless = [UInt8](repeating: 0xFF, count: 64)
        #expect(reading(endless) { r throws(BinaryError) in try r.readVarUInt() } == .failure(.overlongVarint(at: 9)))
        // The largest values still read.
        #expect(reading(nine + [0x01]) { r throws(BinaryError) in try r.readVarUInt() } == .success(.max))
        #expect(reading(nine + [0x00]) { r throws(BinaryError) in try r.readVarUInt() } == .success(.max >> 1))
    }

    @Test func aLengthBeyondTheBufferIsRefusedAtTheLength() {
        // Three bytes announced, two present; and lengths no buffer holds.
        let prefixes: [[UInt8]] = [
            [0x03, 0x61, 0x62],
            [0x01],
            [0x80, 0x01] + [UInt8](repeating: 0x61, count: 127),
            [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x61],
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        ]
        for bytes in prefixes {
            #expect(reading(bytes) { r throws(BinaryError) in try r.readString() } == .failure(.truncated(at: 0)))
            #expect(reading(bytes) { r throws(BinaryError) in try r.readBlob().count } == .failure(.truncated(at: 0)))
            #expect(reading(bytes) { r throws(BinaryError) in try r.readLength() } == .failure(.truncated(at: 0)))
            #expect(reading([0x01] + bytes) { r throws(BinaryError) in try r.readOptionalString() } == .failure(.truncated(at: 1)))
        }
        // After other fields, the error names the length's own offset.
        #expect(
            reading([0x07, 0x01, 0x61, 0x05, 0x61]) { r throws(BinaryError) -> String in
                _ = try r.readByte()
                _ = try r.readString()
                return try r.readString()
            } == .failure(.truncated(at: 3)))
        // A length of exactly the remaining bytes is fine.
        #expect(reading([0x02, 0x61, 0x62]) { r throws(BinaryError) in try r.readLength() } == .success(2))
    }

    @Test func fixedWidthReadsBeyondTheBufferAreRefused() {
        let seven = [UInt8](repeating: 1, count: 7)
        #expect(reading(seven) { r throws(BinaryError) in try r.readUInt64BE() } == .failure(.truncated(at: 0)))
        #expect(reading(seven) { r throws(BinaryError) in try r.readDouble().bitPattern } == .failure(.truncated(at: 0)))
        #expect(reading(seven) { r throws(BinaryError) in try r.readRaw(8).count } == .failure(.truncated(at: 0)))
        #expect(reading(seven) { r throws(BinaryError) in try r.readRaw(-1).count } == .failure(.truncated(at: 0)))
        #expect(reading(seven) { r throws(BinaryError) in try r.readRaw(.max).count } == .failure(.truncated(at: 0)))
        #expect(
            reading(seven) { r throws(BinaryError) -> Int in
                _ = try r.readRaw(3)
                return try r.readRaw(5).count
            } == .failure(.truncated(at: 3)))
        #expect(
            reading(seven) { r throws(BinaryError) -> UInt64 in
                _ = try r.readByte()
                return try r.readUInt64BE()
            } == .failure(.truncated(at: 1)))
    }

    @Test func aBoolIsOnlyZeroOrOne() {
        #expect(reading([0x00]) { r throws(BinaryError) in try r.readBool() } == .success(false))
        #expect(reading([0x01]) { r throws(BinaryError) in try r.readBool() } == .success(true))
        for b: UInt8 in [0x02, 0x7F, 0x80, 0xFF] {
            #expect(reading([b]) { r throws(BinaryError) in try r.readBool() } == .failure(.invalidValue("bool byte \(b)")))
            #expect(
                reading([b, 0x00]) { r throws(BinaryError) in try r.readOptionalString() } == .failure(.invalidValue("bool byte \(b)")))
        }
    }

    @Test func invalidUTF8IsRefusedAtTheStringsFirstByte() {
        let invalid: [[UInt8]] = [
            [0x80],  // a lone continuation byte
            [0xC3, 0x28],  // a lead byte without its continuation
            [0xC3],  // cut in the middle of a character
            [0xE2, 0x82],
            [0xC0, 0xAF],  // overlong encoding of "/"
            [0xE0, 0x80, 0xAF],  // overlong, three bytes
            [0xED, 0xA0, 0x80],  // a UTF-16 surrogate
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xF8, 0x88, 0x80, 0x80, 0x80],  // five-byte form
            [0xFE], [0xFF],
            [0x61, 0x62, 0xFF, 0x63],  // ASCII, then a bad byte
        ]
        for utf8 in invalid {
            #expect(
                reading([UInt8(utf8.count)] + utf8) { r throws(BinaryError) in try r.readString() } == .failure(.invalidUTF8(at: 1)),
                "\(utf8)")
            #expect(
                reading([0x00, 0x01, UInt8(utf8.count)] + utf8) { r throws(BinaryError) -> String? in
                    _ = try r.readByte()
                    return try r.readOptionalString()
                } == .failure(.invalidUTF8(at: 3)), "\(utf8)")
            // A blob is bytes: the same bytes read as one.
            #expect(reading([UInt8(utf8.count)] + utf8) { r throws(BinaryError) in try r.readBlob().copiedBytes } == .success(utf8))
        }
    }

    @Test func everyProperPrefixOfAnEncodingIsRefused() {
        var w = BinaryWriter()
        w.writeVarUInt(1 << 40)
        w.writeVarInt(-123_456_789)
        w.writeString("naïve")
        w.writeOptionalString("x")
        w.writeBlob([1, 2, 3])
        w.writeUInt64BE(42)
        w.writeDouble(2.5)
        let full = w.bytes
        func decode(_ r: inout BinaryReader) throws(BinaryError) {
            _ = try r.readVarUInt()
            _ = try r.readVarInt()
            _ = try r.readString()
            _ = try r.readOptionalString()
            _ = try r.readBlob()
            _ = try r.readUInt64BE()
            _ = try r.readDouble()
        }
        #expect(readsToEnd(full, decode))
        for n in 0..<full.count {
            let result = reading(Array(full.prefix(n))) { r throws(BinaryError) in try decode(&r) }
            guard case .failure(.truncated) = result else {
                Issue.record("prefix of \(n) bytes: \(result)")
                continue
            }
        }
    }

    /// Arbitrary bytes through every read: each one returns or throws a `BinaryError`; none traps.
    @Test func arbitraryBytesNeverTrapTheReader() {
        var rng = SplitMix64(seed: 20_261_127)
        for _ in 0..<3_000 {
            let count = Int(rng.next() % 48)
            let bytes = (0..<count).map { _ in
                // Mostly bytes that matter to the format: continuations, small lengths, 0/1.
                switch rng.next() % 4 {
                case 0: UInt8(truncatingIfNeeded: rng.next())
                case 1: 0x80 | UInt8(truncatingIfNeeded: rng.next())
                case 2: UInt8(rng.next() % 4)
                default: UInt8(rng.next() % 16)
                }
            }
            let ops = (0..<12).map { _ in Int(rng.next() % 12) }
            let result = reading(bytes) { r throws(BinaryError) -> Int in
                for op in ops {
                    switch op {
                    case 0: _ = try r.readByte()
                    case 1: _ = try r.readBool()
                    case 2: _ = try r.readVarUInt()
                    case 3: _ = try r.readVarInt()
                    case 4: _ = try r.readLength()
                    case 5: _ = try r.readUInt64BE()
                    case 6: _ = try r.readDouble()
                    case 7: _ = try r.readString()
                    case 8: _ = try r.readOptionalString()
                    case 9: _ = try r.readBlob()
                    case 10: _ = try r.readRaw(Int(bytes.first ?? 0) % 9)
                    default: _ = try r.readRaw(-Int(bytes.last ?? 1))
                    }
                    #expect(r.offset >= 0 && r.offset <= bytes.count)
                }
                return r.offset
            }
            if case .success(let offset) = result { #expect(offset <= bytes.count) }
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(BinaryError.truncated(at: 7).description == "record truncated at byte 7")
        #expect(BinaryError.overlongVarint(at: 9).description == "malformed varint at byte 9")
        #expect(BinaryError.invalidUTF8(at: 3).description == "invalid UTF-8 at byte 3")
        #expect(BinaryError.invalidValue("bool byte 2").description == "invalid value: bool byte 2")
    }
}

// MARK: support

/// Runs `body` on a reader over `bytes`; its value or its error.
private func reading<T>(_ bytes: [UInt8], _ body: (inout BinaryReader) throws(BinaryError) -> T) -> Result<T, BinaryError> {
    bytes.withUnsafeBytes { raw in
        var r = BinaryReader(raw)
        do throws(BinaryError) {
            return .success(try body(&r))
        } catch {
            return .failure(error)
        }
    }
}

/// Whether `body` reads `bytes` without an error and leaves the reader exactly at their end.
private func readsToEnd(_ bytes: [UInt8], _ body: (inout BinaryReader) throws(BinaryError) -> Void) -> Bool {
    reading(bytes) { r throws(BinaryError) -> Bool in
        try body(&r)
        return r.isAtEnd && r.remaining == 0 && r.offset == bytes.count
    } == .success(true)
}

/// A small deterministic generator (SplitMix64), so every run checks the same inputs.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
