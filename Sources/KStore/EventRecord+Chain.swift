import Crypto

extension EventRecord {
    /// The hash a record stores: SHA-256(previous record's hash ‖ this record's body).
    static func chainHash(previous: [UInt8], body: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: body)
        return Array(hasher.finalize())
    }
}
