import KBinary

/// The auxiliary databases (projections, the access log, web credentials, the projections'
/// meta) through one door that seals them in an encrypted store and is a plain get/put in a
/// plain one.
///
/// In an encrypted store
/// - a `.named` key (a patient id, `pw:<actor>`) is stored as its pseudonym (HMAC under the data
///   key's pseudonym key, with the database's name), and the value as AES-256-GCM of
///   `blob key ‖ value` (so a walk gives the key back), under the auxiliary key;
/// - an `.ordered` key (a sequence number, a fixed name) is kept, so LMDB's order and
///   `MDB_APPEND` still apply, and only the value is sealed;
/// both with the database's name and the stored key as associated data: a value moved under
/// another key or into another database does not open.
public enum AuxiliaryKeys: Sendable {
    /// Keys that name or describe someone: stored as pseudonyms, order lost.
    case named
    /// Keys that are positions or fixed words: kept as they are.
    case ordered
}

extension LogReader {
    /// Whether this store seals its auxiliary databases (is encrypted and open with its key).
    public var seals: Bool { log.cipher != nil }

    /// An encrypted store opened without its key reads no auxiliary database.
    private func requireKey() throws {
        if log.isEncrypted && log.cipher == nil { throw KeyError.needed(path: log.path) }
    }

    private func storedKey(_ db: Database, _ key: [UInt8], _ keys: AuxiliaryKeys) -> [UInt8] {
        guard let cipher = log.cipher, keys == .named else { return key }
        return cipher.pseudonym(Array(db.name.utf8) + [0] + key, .auxiliary)
    }

    private func associated(_ db: Database, _ stored: [UInt8]) -> [UInt8] { Array("kstore aux ".utf8) + Array(db.name.utf8) + [0] + stored }

    /// The stored form of one value (sealed in an encrypted store).
    private func sealedValue(_ db: Database, storedKey: [UInt8], key: [UInt8], value: [UInt8], _ keys: AuxiliaryKeys) -> [UInt8] {
        guard let cipher = log.cipher else { return value }
        var plain = BinaryWriter(capacity: value.count + key.count + 4)
        if keys == .named { plain.writeBlob(key) }
        plain.writeRaw(value)
        return cipher.seal(plain.bytes, ad: associated(db, storedKey), auxiliary: true)
    }

    /// The key and value a stored entry holds, opened; nil when it does not open (altered or moved).
    private func openedEntry(_ db: Database, storedKey: [UInt8], stored: UnsafeRawBufferPointer, _ keys: AuxiliaryKeys) throws
        -> (key: [UInt8], value: [UInt8])?
    {
        guard let cipher = log.cipher else { return (storedKey, stored.copiedBytes) }
        guard let plain = cipher.open(stored.copiedBytes, ad: associated(db, storedKey), auxiliary: true) else { return nil }
        guard keys == .named else { return (storedKey, plain) }
        return try plain.withUnsafeBytes { p in
            var r = BinaryReader(p)
            let key = try r.readBlob().copiedBytes
            return (key, Array(p[r.offset...]))
        }
    }

    /// The value under `key`, owned; nil when absent. A sealed value that does not open is
    /// `StoreError.corrupt` (sequence 0) naming the database: tampering, not a missing entry.
    public func auxGet(_ db: Database, _ key: [UInt8], keys: AuxiliaryKeys = .named) throws -> [UInt8]? {
        try requireKey()
        let stored = storedKey(db, key, keys)
        guard let bytes = try txn.get(db, stored) else { return nil }
        guard let entry = try openedEntry(db, storedKey: stored, stored: bytes, keys), entry.key == key else {
            throw StoreError.corrupt(sequence: 0, detail: "an entry of \(db.name) does not open under the store's key (altered or moved)")
        }
        return entry.value
    }

    public func auxPut(_ db: Database, _ key: [UInt8], _ value: [UInt8], keys: AuxiliaryKeys = .named, flags: Transaction.PutFlags = [])
        throws
    {
        try requireKey()
        let stored = storedKey(db, key, keys)
        try txn.put(db, stored, sealedValue(db, storedKey: stored, key: key, value: value, keys), flags: flags)
    }

    @discardableResult
    public func auxDelete(_ db: Database, _ key: [UInt8], keys: AuxiliaryKeys = .named) throws -> Bool {
        try requireKey()
        return try txn.delete(db, storedKey(db, key, keys))
    }

    /// Calls `body` with every entry (key and value opened), in the stored keys' order (a
    /// pseudonym's, for `.named` keys of an encrypted store); `body` returns false to stop.
    /// An entry that does not open is given to `unopened` (its stored key), or is an error.
    public func auxForEach(
        _ db: Database, keys: AuxiliaryKeys = .named, unopened: (([UInt8]) throws -> Void)? = nil,
        _ body: ([UInt8], [UInt8]) throws -> Bool
    ) throws {
        try requireKey()
        try txn.withCursor(db) { cursor in
            var entry = try cursor.first()
            while let (k, v) = entry {
                let stored = k.copiedBytes
                if let opened = try openedEntry(db, storedKey: stored, stored: v, keys) {
                    if try !body(opened.key, opened.value) { return }
                } else if let unopened {
                    try unopened(stored)
                } else {
                    throw StoreError.corrupt(
                        sequence: 0, detail: "an entry of \(db.name) does not open under the store's key (altered or moved)")
                }
                entry = try cursor.next()
            }
        }
    }

    /// Seals `plain` for an `.ordered` key without writing it (the access log chains over what
    /// it stores); the identity in a plain store.
    public func auxSeal(_ db: Database, key: [UInt8], _ plain: [UInt8]) -> [UInt8] {
        sealedValue(db, storedKey: key, key: key, value: plain, .ordered)
    }

    /// Opens what `auxSeal` made; nil when it does not open. The identity in a plain store.
    public func auxOpen(_ db: Database, key: [UInt8], _ stored: [UInt8]) -> [UInt8]? {
        guard let cipher = log.cipher else { return stored }
        return cipher.open(stored, ad: associated(db, key), auxiliary: true)
    }
}
