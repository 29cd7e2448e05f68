import CCryptoBoringSSL
import Crypto
import Glibc

/// The keys of an encrypted store, derived from its data key, and the two operations every
/// stored byte of it goes through: AEAD (AES-256-GCM) and keyed pseudonyms (HMAC-SHA-256).
///
/// Key hierarchy (ARCHITECTURE.md, "Encryption at rest"): a master key in a file outside the
/// store wraps a random 256-bit data key kept in `meta` (`WrappedDataKey`); from the data key
/// HKDF-SHA-256 (salt: the store id) derives a record key, an auxiliary key and a pseudonym key.
///
/// The AEAD is swift-crypto's AES-256-GCM, through the BoringSSL swift-crypto carries, with one
/// context per key made once (`AES.GCM.open` sets the key schedule up and copies through `Data`
/// on every call: 1.04 µs a 160-byte record here, against 0.19 µs with the context kept). Every
/// seal takes a fresh random 96-bit nonce (`RAND_bytes`), so a record rewritten after an aborted
/// transaction never reuses one. BoringSSL's AEAD contexts may be used from several threads at
/// once (aead.h), which the server's readers and the parallel replay do.
public final class StoreCipher: @unchecked Sendable {
    public static let nonceSize = 12
    public static let tagSize = 16
    /// Bytes a seal adds to its plaintext.
    public static let overhead = nonceSize + tagSize
    /// Bytes of a pseudonym.
    public static let pseudonymSize = 16

    private let records: UnsafeMutablePointer<EVP_AEAD_CTX>
    private let auxiliary: UnsafeMutablePointer<EVP_AEAD_CTX>
    /// The record key's AES block cipher, for `peekTypeCode`.
    private let recordBlock: UnsafeMutablePointer<AES_KEY>
    private let nameKey: [UInt8]
    /// HMAC-SHA-256 keyed with the pseudonym key once; each pseudonym starts from a copy.
    private let keyedHMAC: UnsafeMutablePointer<HMAC_CTX>

    /// What a pseudonym names: domains keep a stream's, an event id's and an auxiliary key's
    /// pseudonyms apart even for equal bytes.
    public enum Domain: UInt8, Sendable {
        case stream = 1
        case eventId = 2
        case auxiliary = 3
    }

    /// The cipher of a store whose data key is `dataKey` (32 bytes) and id `storeId`.
    public init(dataKey: SymmetricKey, storeId: [UInt8]) throws(KeyError) {
        func derive(_ label: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: dataKey, salt: storeId, info: Array("kstore \(label) v1".utf8), outputByteCount: 32)
        }
        guard dataKey.bitCount == 256 else { throw .malformedStoreKey("the data key is \(dataKey.bitCount) bits, not 256") }
        records = .allocate(capacity: 1)
        auxiliary = .allocate(capacity: 1)
        var ok = true
        for (ctx, label) in [(records, "records"), (auxiliary, "auxiliary")] {
            ctx.initialize(to: EVP_AEAD_CTX())
            let rc = derive(label).withUnsafeBytes { k in
                CCryptoBoringSSL_EVP_AEAD_CTX_init(
                    ctx, CCryptoBoringSSL_EVP_aead_aes_256_gcm(), k.baseAddress?.assumingMemoryBound(to: UInt8.self), k.count,
                    StoreCipher.tagSize, nil)
            }
            if rc != 1 { ok = false }
        }
        let name = derive("pseudonyms").withUnsafeBytes { Array($0) }
        nameKey = name
        let hmac = UnsafeMutablePointer<HMAC_CTX>.allocate(capacity: 1)
        hmac.initialize(to: HMAC_CTX())
        CCryptoBoringSSL_HMAC_CTX_init(hmac)
        let hmacRC = name.withUnsafeBufferPointer { k in
            CCryptoBoringSSL_HMAC_Init_ex(hmac, k.baseAddress, k.count, CCryptoBoringSSL_EVP_sha256(), nil)
        }
        keyedHMAC = hmac
        if hmacRC != 1 { ok = false }
        let block = UnsafeMutablePointer<AES_KEY>.allocate(capacity: 1)
        block.initialize(to: AES_KEY())
        let blockRC = derive("records").withUnsafeBytes { k in
            CCryptoBoringSSL_AES_set_encrypt_key(k.baseAddress?.assumingMemoryBound(to: UInt8.self), 256, block)
        }
        recordBlock = block
        if blockRC != 0 { ok = false }
        // All stored properties are set: a throw here still runs `deinit`, which frees them.
        guard ok else {
            throw .malformedStoreKey("BoringSSL refused the AES-256-GCM key")
        }
    }

    deinit { release() }

    /// Frees the key material (the AES schedule overwritten first).
    private func release() {
        recordBlock.pointee = AES_KEY()
        CCryptoBoringSSL_EVP_AEAD_CTX_cleanup(records)
        CCryptoBoringSSL_EVP_AEAD_CTX_cleanup(auxiliary)
        records.deallocate()
        auxiliary.deallocate()
        recordBlock.deallocate()
        CCryptoBoringSSL_HMAC_CTX_cleanup(keyedHMAC)
        keyedHMAC.deallocate()
    }

    /// The type code a sealed record says it has, read from its first ciphertext block without
    /// the tag check: GCM encrypts the first block with AES(key, nonce ‖ 00000002), so one block
    /// operation (~30 ns) reads it where opening the record costs ~190 ns. Only a filter for
    /// passes that pick a few types (corrections, stock events): every record they pick, and
    /// every record a fold reads, is then opened and authenticated, so a forged type byte does
    /// not slip through, it fails to open. Nil when the blob is too short.
    public func peekTypeCode(_ sealed: UnsafeRawBufferPointer) -> UInt16? {
        recordContext.peekTypeCode(sealed)
    }

    /// Appends `nonce ‖ ciphertext ‖ tag` of `plain` to `out`, with `ad` authenticated.
    /// `auxiliary` picks the auxiliary key (projections, access log, credentials) over the record key.
    public func seal(
        _ plain: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, auxiliary: Bool = false, into out: inout [UInt8]
    ) {
        let start = out.count
        let total = StoreCipher.nonceSize + plain.count + StoreCipher.tagSize
        out.append(contentsOf: repeatElement(0, count: total))
        let ctx = auxiliary ? self.auxiliary : records
        out.withUnsafeMutableBytes { o in
            guard let base = o.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            let nonce = base + start
            // RAND_bytes aborts the process rather than return weak bytes; it cannot fail here.
            _ = CCryptoBoringSSL_RAND_bytes(nonce, StoreCipher.nonceSize)
            var written = 0
            _ = CCryptoBoringSSL_EVP_AEAD_CTX_seal(
                ctx, nonce + StoreCipher.nonceSize, &written, total - StoreCipher.nonceSize, nonce, StoreCipher.nonceSize,
                plain.baseAddress?.assumingMemoryBound(to: UInt8.self), plain.count,
                ad.baseAddress?.assumingMemoryBound(to: UInt8.self), ad.count)
        }
    }

    public func seal(_ plain: [UInt8], ad: [UInt8], auxiliary: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(plain.count + StoreCipher.overhead)
        plain.withUnsafeBytes { p in ad.withUnsafeBytes { a in seal(p, ad: a, auxiliary: auxiliary, into: &out) } }
        return out
    }

    /// The plaintext of `sealed` (as `seal` wrote it) into `out` (resized to fit); false when it
    /// does not open: altered, moved (other associated data) or sealed under another key.
    public func open(_ sealed: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, auxiliary: Bool = false, into out: inout [UInt8])
        -> Bool
    {
        guard sealed.count >= StoreCipher.overhead, let s = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return false
        }
        let plainCount = sealed.count - StoreCipher.overhead
        out = [UInt8](repeating: 0, count: plainCount)
        let ctx = auxiliary ? self.auxiliary : records
        var written = 0
        let rc = out.withUnsafeMutableBytes { o in
            CCryptoBoringSSL_EVP_AEAD_CTX_open(
                ctx, o.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, plainCount, s, StoreCipher.nonceSize,
                s + StoreCipher.nonceSize, sealed.count - StoreCipher.nonceSize,
                ad.baseAddress?.assumingMemoryBound(to: UInt8.self), ad.count)
        }
        return rc == 1 && written == plainCount
    }

    /// As `open`, into `out` (at least `count` = sealed size − overhead bytes): how a record is
    /// opened without an array per field.
    /// The record key's contexts as plain pointers: what a record is opened and its type peeked
    /// with. A struct, not the class, so the parallel replay's workers opening records at once
    /// do not retain and release one shared object a record (measured: that contention held a
    /// two-worker encrypted replay to 1.13× its one-worker rate).
    public struct RecordContext: @unchecked Sendable {
        let aead: UnsafeMutablePointer<EVP_AEAD_CTX>
        let block: UnsafeMutablePointer<AES_KEY>

        /// As `open`, into `out` (at least `count` = sealed size − overhead bytes).
        func openInPlace(_ sealed: UnsafeRawBufferPointer, ad: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, count: Int)
            -> Bool
        {
            guard sealed.count >= StoreCipher.overhead, count == sealed.count - StoreCipher.overhead, out.count >= count,
                let s = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self)
            else { return false }
            var written = 0
            let rc = CCryptoBoringSSL_EVP_AEAD_CTX_open(
                aead, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, count, s, StoreCipher.nonceSize,
                s + StoreCipher.nonceSize, sealed.count - StoreCipher.nonceSize, ad.baseAddress?.assumingMemoryBound(to: UInt8.self),
                ad.count)
            return rc == 1 && written == count
        }

        /// See `StoreCipher.peekTypeCode`.
        public func peekTypeCode(_ sealed: UnsafeRawBufferPointer) -> UInt16? {
            guard sealed.count >= StoreCipher.overhead + 1, let s = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return nil
            }
            var counter = (UInt64(0), UInt64(0))
            var stream = (UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &counter) { c in
                c.copyMemory(from: UnsafeRawBufferPointer(start: s, count: StoreCipher.nonceSize))
                c[15] = 2
            }
            withUnsafeBytes(of: &counter) { c in
                withUnsafeMutableBytes(of: &stream) { o in
                    CCryptoBoringSSL_AES_encrypt(
                        c.baseAddress?.assumingMemoryBound(to: UInt8.self), o.baseAddress?.assumingMemoryBound(to: UInt8.self), block)
                }
            }
            return withUnsafeBytes(of: &stream) { k -> UInt16? in
                let available = min(3, sealed.count - StoreCipher.overhead)
                var value: UInt64 = 0
                var shift: UInt64 = 0
                for i in 0..<available {
                    let b = s[StoreCipher.nonceSize + i] ^ k[i]
                    value |= UInt64(b & 0x7F) << shift
                    if b & 0x80 == 0 { return value <= UInt64(UInt16.max) ? UInt16(value) : nil }
                    shift += 7
                }
                return nil
            }
        }
    }

    /// The record key's contexts (valid while this cipher lives).
    public var recordContext: RecordContext { RecordContext(aead: records, block: recordBlock) }

    public func open(_ sealed: [UInt8], ad: [UInt8], auxiliary: Bool = false) -> [UInt8]? {
        var out: [UInt8] = []
        let ok = sealed.withUnsafeBytes { s in ad.withUnsafeBytes { a in open(s, ad: a, auxiliary: auxiliary, into: &out) } }
        return ok ? out : nil
    }

    /// The keyed pseudonym of `bytes`: the first 16 bytes of HMAC-SHA-256 under the pseudonym key
    /// of `domain ‖ bytes`. Equal inputs give equal pseudonyms (so the B-trees still find them);
    /// without the data key nobody can compute one, so a file of pseudonyms names nobody.
    public func pseudonym(_ bytes: UnsafeRawBufferPointer, _ domain: Domain) -> [UInt8] {
        // A copy of the keyed context (the key's pads hashed once, at init), fed the domain
        // and the bytes: no key set-up and no arrays but the result.
        var ctx = HMAC_CTX()
        CCryptoBoringSSL_HMAC_CTX_init(&ctx)
        defer { CCryptoBoringSSL_HMAC_CTX_cleanup(&ctx) }
        var md = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var length: UInt32 = 0
        var tag = domain.rawValue
        _ = CCryptoBoringSSL_HMAC_CTX_copy_ex(&ctx, keyedHMAC)
        _ = CCryptoBoringSSL_HMAC_Update(&ctx, &tag, 1)
        _ = CCryptoBoringSSL_HMAC_Update(&ctx, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        return withUnsafeMutableBytes(of: &md) { m in
            _ = CCryptoBoringSSL_HMAC_Final(&ctx, m.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
            return Array(m.prefix(StoreCipher.pseudonymSize))
        }
    }

    public func pseudonym(_ bytes: [UInt8], _ domain: Domain) -> [UInt8] {
        bytes.withUnsafeBytes { pseudonym($0, domain) }
    }

    public func pseudonym(_ text: String, _ domain: Domain) -> [UInt8] {
        var text = text
        return text.withUTF8 { pseudonym(UnsafeRawBufferPointer($0), domain) }
    }
}

/// Why a key could not be made, read or used.
public enum KeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An encrypted store opened without a master key.
    case needed(path: String)
    case fileMissing(path: String)
    case unreadable(path: String, reason: String)
    /// The key file's group or others may read or write it.
    case tooOpen(path: String, mode: UInt32)
    /// The key file is not owned by the OS user running kstore.
    case notOwner(path: String)
    /// The key file lies inside the store's directory (a copy of the store would carry it).
    case insideStore(path: String, store: String)
    case malformed(path: String, detail: String)
    /// The key file holds another master key than the one that wraps this store's data key.
    case wrongKey(path: String, storeKeyId: String, fileKeyId: String)
    /// The master key's id matches but the wrapped data key does not open under it.
    case unwrapFailed(path: String)
    case malformedStoreKey(String)
    case exists(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .needed(let path):
            "the store at \(path) is encrypted and no master key was given: pass --key-file FILE or set KSTORE_KEY_FILE; nothing was read or written"
        case .fileMissing(let path):
            "no master key file at \(path); make one with `kstore key generate --out FILE`"
        case .unreadable(let path, let reason):
            "cannot read the master key file \(path): \(reason)"
        case .tooOpen(let path, let mode):
            "the master key file \(path) may be read by other users (mode \(String(mode & 0o777, radix: 8))); make it owner-only "
                + "with `chmod 600 \(path)`; nothing was read or written"
        case .notOwner(let path):
            "the master key file \(path) belongs to another OS user; a master key must be owned by the user running kstore"
        case .insideStore(let path, let store):
            "the master key file \(path) is inside the store's directory \(store); keep it outside (a copy of the store would carry its key)"
        case .malformed(let path, let detail):
            "\(path) is not a kstore master key file (\(detail)); make one with `kstore key generate --out FILE`"
        case .wrongKey(let path, let storeKeyId, let fileKeyId):
            "the master key in \(path) (key id \(fileKeyId)) is not the one this store is wrapped by (key id \(storeKeyId)); "
                + "nothing was read or written"
        case .unwrapFailed(let path):
            "the master key in \(path) does not open this store's data key (a wrong key, or the store's key record was altered); "
                + "nothing was read or written"
        case .malformedStoreKey(let detail):
            "the store's key record is damaged (\(detail)); restore the store from its latest verified backup"
        case .exists(let path):
            "\(path) already exists; a key file is never overwritten (nothing was changed)"
        case .cannotWrite(let path, let reason):
            "cannot write the key file \(path): \(reason)"
        }
    }
}

/// A keystream under a random key that lives only in this process (AES-256 in counter mode,
/// the counter being the byte offset / 16): what an import from a pipe writes to its unlinked
/// spool file, so the lines it reads never reach the disk in plaintext, even in blocks the
/// file system frees later. Confidentiality only: the spool never leaves the process.
public final class EphemeralStreamCipher {
    private var key = AES_KEY()

    public init() {
        var raw = [UInt8](repeating: 0, count: 32)
        raw.withUnsafeMutableBufferPointer { b in _ = CCryptoBoringSSL_RAND_bytes(b.baseAddress, 32) }
        _ = raw.withUnsafeBufferPointer { b in CCryptoBoringSSL_AES_set_encrypt_key(b.baseAddress, 256, &key) }
    }

    /// XORs `buffer`, which sits at byte `offset` of the stream, with the keystream there
    /// (the same call encrypts and decrypts).
    public func apply(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count > 0 else { return }
        var block = [UInt8](repeating: 0, count: 16)
        var stream = [UInt8](repeating: 0, count: 16)
        var position = offset
        var i = 0
        while i < buffer.count {
            let counter = UInt64(position / 16)
            let within = position % 16
            for j in 0..<8 { block[8 + j] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(j))) }
            block.withUnsafeBufferPointer { b in
                stream.withUnsafeMutableBufferPointer { s in CCryptoBoringSSL_AES_encrypt(b.baseAddress, s.baseAddress, &key) }
            }
            let n = min(16 - within, buffer.count - i)
            for j in 0..<n { base[i + j] ^= stream[within + j] }
            i += n
            position += n
        }
    }
}

@available(*, unavailable)
extension EphemeralStreamCipher: Sendable {}
