/// Why bytes could not be read back.
public enum BinaryError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(at: Int)
    case overlongVarint(at: Int)
    case invalidUTF8(at: Int)
    case invalidValue(String)

    public var description: String {
        switch self {
        case .truncated(let at): "record truncated at byte \(at)"
        case .overlongVarint(let at): "malformed varint at byte \(at)"
        case .invalidUTF8(let at): "invalid UTF-8 at byte \(at)"
        case .invalidValue(let what): "invalid value: \(what)"
        }
    }
}

/// Reads what `BinaryWriter` wrote, straight from borrowed memory (an LMDB page, an array).
///
/// The reader does not own its bytes: it must not outlive the buffer it was made from
/// (for LMDB, the read transaction).
public struct BinaryReader {
    public let base: UnsafeRawBufferPointer
    public var offset: Int

    @inlinable
    public init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    @inlinable
    public var remaining: Int { base.count - offset }

    @inlinable
    public var isAtEnd: Bool { offset >= base.count }

    @inlinable
    public mutating func readByte() throws(BinaryError) -> UInt8 {
        guard offset < base.count else { throw .truncated(at: offset) }
        let b = base[offset]
        offset += 1
        return b
    }

    @inlinable
    public mutating func readBool() throws(BinaryError) -> Bool {
        let b = try readByte()
        guard b <= 1 else { throw .invalidValue("bool byte \(b)") }
        return b == 1
    }

    @inlinable
    public mutating func readVarUInt() throws(BinaryError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < base.count else { throw .truncated(at: offset) }
            let b = base[offset]
            offset += 1
            if shift == 63 && b > 1 { throw .overlongVarint(at: offset - 1) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .overlongVarint(at: offset - 1) }
        }
    }

    @inlinable
    public mutating func readVarInt() throws(BinaryError) -> Int64 {
        let u = try readVarUInt()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A varint that must fit an `Int` length within the remaining bytes.
    @inlinable
    public mutating func readLength() throws(BinaryError) -> Int {
        let start = offset
        let n = try readVarUInt()
        guard n <= UInt64(remaining) else { throw .truncated(at: start) }
        return Int(n)
    }

    @inlinable
    public mutating func readUInt64BE() throws(BinaryError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(at: offset) }
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(base[offset + i]) }
        offset += 8
        return v
    }

    @inlinable
    public mutating func readDouble() throws(BinaryError) -> Double {
        guard remaining >= 8 else { throw .truncated(at: offset) }
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = (v << 8) | UInt64(base[offset + i]) }
        offset += 8
        return Double(bitPattern: v)
    }

    @inlinable
    public mutating func readString() throws(BinaryError) -> String {
        let n = try readLength()
        let start = offset
        let slice = UnsafeRawBufferPointer(rebasing: base[start..<(start + n)])
        offset += n
        // ASCII (ids, names, most text) needs no validation beyond the high bit; the generic
        // `String(validating:)` path costs a runtime metadata lookup per call on a replay's
        // hot path, so it is kept for the rest.
        var ascii = true
        for b in slice where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(at: start) }
        return s
    }

    @inlinable
    public mutating func readOptionalString() throws(BinaryError) -> String? {
        try readBool() ? try readString() : nil
    }

    /// Length-prefixed bytes, borrowed (valid as long as the underlying buffer).
    @inlinable
    public mutating func readBlob() throws(BinaryError) -> UnsafeRawBufferPointer {
        let n = try readLength()
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)])
        offset += n
        return slice
    }

    /// `count` raw bytes, borrowed.
    @inlinable
    public mutating func readRaw(_ count: Int) throws(BinaryError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw .truncated(at: offset) }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
        offset += count
        return slice
    }
}

extension UnsafeRawBufferPointer {
    /// Borrowed bytes copied out into an array.
    @inlinable
    public var copiedBytes: [UInt8] { [UInt8](self) }
}
