func isLowerHex(_ s: String, bytes: Int) -> Bool {
    s.utf8.count == bytes * 2
        && s.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
        }
}
