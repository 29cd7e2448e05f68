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
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(bytes[i]) }
        return v
    }

    /// `stream ‖ 0x00 ‖ version(BE64)`: a stream's entries are contiguous and in version order.
    /// Stream ids never contain NUL (patient ids are `[A-Za-z0-9._-]`, system streams `$name`).
    static func stream(_ stream: String, version: UInt64) -> [UInt8] {
        var key = Array(stream.utf8)
        key.append(0)
        key.append(contentsOf: sequence(version))
        return key
    }

    /// Value of `heads`: version(BE64) ‖ last sequence(BE64).
    static func head(version: UInt64, sequence seq: UInt64) -> [UInt8] {
        sequence(version) + sequence(seq)
    }

    static func decodeHead(_ bytes: UnsafeRawBufferPointer) -> (version: UInt64, sequence: UInt64)? {
        guard bytes.count == 16,
            let v = decodeUInt64(UnsafeRawBufferPointer(rebasing: bytes[0..<8])),
            let s = decodeUInt64(UnsafeRawBufferPointer(rebasing: bytes[8..<16]))
        else { return nil }
        return (v, s)
    }
}
