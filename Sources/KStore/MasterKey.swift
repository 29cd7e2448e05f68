import Crypto
import Glibc

/// A master key: 256 random bits kept in a file of its own, outside every store, owner-only.
/// It never encrypts records: it wraps (AES-256-GCM) each store's data key, so rotating it
/// rewraps 60 bytes whatever the store's size.
///
/// File: one line, `kstore-master-key-1 <key id, 16 hex> <key, 64 hex>`. The key id is the
/// first 8 bytes of SHA-256("kstore master key id" ‖ key): the store records it (never the key)
/// so a wrong key file is named as such before anything is tried.
public struct MasterKey: Sendable {
    public let id: String
    private let raw: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: raw) }
    static let header = "kstore-master-key-1"

    init(key: SymmetricKey) {
        raw = key.withUnsafeBytes { Array($0) }
        var h = SHA256()
        h.update(data: Array("kstore master key id".utf8))
        h.update(data: raw)
        id = hex(Array(h.finalize()).prefix(8))
    }

    public static func generate() -> MasterKey { MasterKey(key: SymmetricKey(size: .bits256)) }

    /// Writes a new key to `path`: created exclusively (never overwriting), mode 0600.
    public static func create(at path: String) throws(KeyError) -> MasterKey {
        let key = generate()
        let text = Array("\(header) \(key.id) \(hex(key.raw))\n".utf8)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .exists(path: path) }
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let written = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == text.count, fchmod(fd, 0o600) == 0, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .cannotWrite(path: path, reason: reason)
        }
        return key
    }

    /// Reads the key in `path`. Refused: a file group or others may read or write, one owned by
    /// another user, not a regular file, or lying inside `store` (its directory).
    public static func load(path: String, store: String? = nil) throws(KeyError) -> MasterKey {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { throw .fileMissing(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        guard st.st_uid == geteuid() else { throw .notOwner(path: path) }
        guard st.st_mode & 0o077 == 0 else { throw .tooOpen(path: path, mode: UInt32(st.st_mode)) }
        if let store, let dir = realPath(store), let file = realPath(path), file.hasPrefix(dir + "/") {
            throw .insideStore(path: path, store: store)
        }
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw .malformed(path: path, detail: "it is empty") }
        let text = String(decoding: bytes[0..<n], as: UTF8.self).trimmingTrailingNewlines()
        let parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == header else { throw .malformed(path: path, detail: "no `\(header)` line") }
        guard let raw = hexBytes(parts[2]), raw.count == 32 else { throw .malformed(path: path, detail: "the key is not 64 hex digits") }
        let key = MasterKey(key: SymmetricKey(data: raw))
        guard key.id == parts[1] else { throw .malformed(path: path, detail: "its key id does not match its key") }
        return key
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

/// The data key as a store keeps it in `meta` under `cipher`:
/// `u8 version(=1) · 8 B master key id · 12 B nonce · 32 B data key sealed · 16 B tag`,
/// sealed by the master key with AES-256-GCM over associated data
/// "kstore data key v1" ‖ store id ‖ master key id (so it opens only in its own store).
struct WrappedDataKey {
    static let metaKey = Array("cipher".utf8)
    static let version: UInt8 = 1

    let masterKeyId: String
    let sealed: [UInt8]

    static func ad(storeId: [UInt8], masterKeyId: [UInt8]) -> [UInt8] {
        Array("kstore data key v1".utf8) + storeId + masterKeyId
    }

    static func wrap(_ dataKey: SymmetricKey, with master: MasterKey, storeId: [UInt8]) throws -> [UInt8] {
        guard let id = hexBytes(master.id) else { throw KeyError.malformedStoreKey("master key id") }
        let box = try AES.GCM.seal(
            dataKey.withUnsafeBytes { Array($0) }, using: master.key, authenticating: ad(storeId: storeId, masterKeyId: id))
        guard let combined = box.combined else { throw KeyError.malformedStoreKey("AES-GCM gave no combined box") }
        return [version] + id + Array(combined)
    }

    /// The master key id a stored record names (hex), or nil when it is not one.
    static func masterKeyId(_ stored: [UInt8]) -> String? {
        guard stored.count == 1 + 8 + 12 + 32 + 16, stored[0] == version else { return nil }
        return hex(stored[1..<9])
    }

    static func unwrap(_ stored: [UInt8], with master: MasterKey, storeId: [UInt8], keyPath: String) throws(KeyError) -> SymmetricKey {
        guard let storeKeyId = masterKeyId(stored) else { throw .malformedStoreKey("its record is \(stored.count) bytes") }
        guard storeKeyId == master.id else { throw .wrongKey(path: keyPath, storeKeyId: storeKeyId, fileKeyId: master.id) }
        do {
            let box = try AES.GCM.SealedBox(combined: stored[9...])
            let raw = try AES.GCM.open(box, using: master.key, authenticating: ad(storeId: storeId, masterKeyId: Array(stored[1..<9])))
            guard raw.count == 32 else { throw KeyError.unwrapFailed(path: keyPath) }
            return SymmetricKey(data: raw)
        } catch {
            throw .unwrapFailed(path: keyPath)
        }
    }
}

/// Lower-case or upper-case hex to bytes (nil when not hex).
public func hexBytes(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
        guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
