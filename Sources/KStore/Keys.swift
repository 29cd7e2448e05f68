/// Key encodings of the log's named databases.
enum Keys {
    /// Big-endian, so LMDB's byte order is numeric order and `MDB_APPEND` applies.
    @inline(__always)
    static func sequence(_ seq: UInt64) -> [UInt8] {
        withUnsafeBytes(of: seq.bigEndian) { Array($0) }
    }

    @inline(__always)
    static func decodeUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// Key of `streams` (format 2): the stream id's bytes; its values are the sequences (BE64).
    @inline(__always)
    static func stream(_ stream: String) -> [UInt8] { Array(stream.utf8) }

    // MARK: Format 1 (read only when upgrading a store written before format 2)

    /// Format 1 `streams` key: `stream ‖ 0x00 ‖ version(BE64)`.
    static func format1Stream(_ stream: String, version: UInt64) -> [UInt8] {
        var key = Array(stream.utf8)
        key.append(0)
        key.append(contentsOf: sequence(version))
        return key
    }

    /// Format 1 `heads` value: version(BE64) ‖ last sequence(BE64).
    static func format1DecodeHead(_ bytes: UnsafeRawBufferPointer) -> (version: UInt64, sequence: UInt64)? {
        guard bytes.count == 16,
            let v = decodeUInt64(UnsafeRawBufferPointer(rebasing: bytes[0..<8])),
            let s = decodeUInt64(UnsafeRawBufferPointer(rebasing: bytes[8..<16]))
        else { return nil }
        return (v, s)
    }
}
