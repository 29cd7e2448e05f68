/// Appends compact binary values to a byte buffer.
///
/// Layout primitives: LEB128 varints for lengths and unsigned integers, zig-zag varints for
/// signed ones, length-prefixed UTF-8 for strings, IEEE-754 bit patterns (little-endian) for
/// doubles. Used by the store for envelopes and by the domain for payloads.
public struct BinaryWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 128) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    @inlinable
    public mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    @inlinable
    public mutating func writeVarUInt(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable
    public mutating func writeVarInt(_ value: Int64) {
        // zig-zag: small magnitudes of either sign stay short
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    public mutating func writeUInt64BE(_ value: UInt64) {
        var v = value.bigEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func writeDouble(_ value: Double) {
        var v = value.bitPattern.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func writeString(_ value: String) {
        var s = value
        s.withUTF8 { utf8 in
            writeVarUInt(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    @inlinable
    public mutating func writeOptionalString(_ value: String?) {
        if let value {
            writeByte(1)
            writeString(value)
        } else {
            writeByte(0)
        }
    }

    /// Length-prefixed raw bytes.
    @inlinable
    public mutating func writeBlob(_ value: some Collection<UInt8>) {
        writeVarUInt(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Raw bytes without a length (fixed-size fields such as a UUID or a hash).
    @inlinable
    public mutating func writeRaw(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }
}
