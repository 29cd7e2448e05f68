import Crypto
import Foundation
import Glibc
import KClinic
import KStore

// Signed checkpoints: tamper evidence a reviewer keeps outside the store.
//
// Key files (written by `kstore audit keygen --out PREFIX`, one line each, lower-case hex of the
// raw 32-byte Ed25519 keys of swift-crypto's `Curve25519.Signing`):
//
//     PREFIX       ed25519-private:<64 hex digits>     mode 0600, created exclusively
//     PREFIX.pub   ed25519-public:<64 hex digits>      mode 0644, created exclusively
//
// The label keeps one from being used for the other (both are 32 bytes).
//
// A checkpoint (`kstore audit checkpoint --key PREFIX`, one JSON line on standard output):
//
//     {"createdAt":RFC3339,"format":"kstore-checkpoint-1","headHash":hex64,"marks":[hex32…],
//      "publicKey":hex64,"sequence":n,"signature":hex128,"storeId":hex32,"stride":k}
//
// - `sequence` n: the log's length when it was taken; `headHash`: the full SHA-256 chain hash of
//   record n (64 zeros for an empty log).
// - `stride` k and `marks`: the first 16 bytes of the chain hash of every k-th record
//   (k, 2k, … ≤ n; exactly n / k of them). By default k is the smallest power of two that keeps
//   the list to at most 1,024 marks (k = 1 for a log of up to 1,024 events, 1,024 for a million).
//   The marks only locate a rewrite; the head hash alone (full length) decides whether the log
//   still extends the checkpoint.
// - `signature`: Ed25519 over the **signed bytes**: the compact JSON of the object holding every
//   other field (all but `signature`), keys in UTF-8 byte order, no whitespace, as
//   `JSONWriter.write` (KClinic) writes it. The verifier rebuilds those bytes from the parsed
//   fields, so only the values matter, not the file's spacing or key order; unknown keys are
//   refused (they would not be signed).

/// Ed25519 key files.
public enum SigningKeys {
    static let privateLabel = "ed25519-private:"
    static let publicLabel = "ed25519-public:"

    /// Writes a fresh key pair to `prefix` (owner-only) and `prefix.pub`. Refuses to overwrite
    /// either file. Returns the two paths and the public key (hex).
    public static func generate(prefix: String) throws(AppError) -> (privatePath: String, publicPath: String, publicKey: String) {
        let publicPath = prefix + ".pub"
        for path in [prefix, publicPath] where access(path, F_OK) == 0 {
            throw .usage("\(path) already exists; keygen never overwrites a key (choose another --out)")
        }
        let key = Curve25519.Signing.PrivateKey()
        let publicHex = hex(key.publicKey.rawRepresentation)
        try writeExclusively(prefix, privateLabel + hex(key.rawRepresentation) + "\n", mode: 0o600)
        do {
            try writeExclusively(publicPath, publicLabel + publicHex + "\n", mode: 0o644)
        } catch {
            unlink(prefix)
            throw error
        }
        return (prefix, publicPath, publicHex)
    }

    /// The private key in `path` (a file `keygen` wrote). A bad or unreadable file is exit 65.
    public static func loadPrivate(_ path: String) throws(AppError) -> Curve25519.Signing.PrivateKey {
        let raw = try keyBytes(path, label: privateLabel, what: "private")
        do { return try Curve25519.Signing.PrivateKey(rawRepresentation: raw) } catch {
            throw .badInput([LineError(file: path, problem: "not a usable Ed25519 private key", expected: "\(error)")])
        }
    }

    /// The public key in `path` (a `.pub` file `keygen` wrote). A bad or unreadable file is exit 65.
    public static func loadPublic(_ path: String) throws(AppError) -> Curve25519.Signing.PublicKey {
        let raw = try keyBytes(path, label: publicLabel, what: "public")
        do { return try Curve25519.Signing.PublicKey(rawRepresentation: raw) } catch {
            throw .badInput([LineError(file: path, problem: "not a usable Ed25519 public key", expected: "\(error)")])
        }
    }

    static func keyBytes(_ path: String, label: String, what: String) throws(AppError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput([LineError(file: path, problem: "cannot read the \(what) key file")])
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = "one line `\(label)` and 64 hex digits, as `kstore audit keygen` writes"
        guard text.hasPrefix(label) else {
            let other = label == privateLabel ? publicLabel : privateLabel
            let hint = text.hasPrefix(other) ? " (this is the \(what == "private" ? "public" : "private") key)" : ""
            throw .badInput([LineError(file: path, problem: "not a kstore Ed25519 \(what) key\(hint)", expected: "expected \(expected)")])
        }
        guard let bytes = hexBytes(String(text.dropFirst(label.count))), bytes.count == 32 else {
            throw .badInput([LineError(file: path, problem: "the key is not 64 hex digits", expected: "expected \(expected)")])
        }
        return bytes
    }

    static func writeExclusively(_ path: String, _ text: String, mode: mode_t) throws(AppError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .usage("cannot create \(path): \(reason)")
        }
        defer { close(fd) }
        // The mode asked for, whatever the umask (which can only have removed bits).
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { buf in Glibc.write(fd, buf.baseAddress, buf.count) }
        guard fchmod(fd, mode) == 0, written == bytes.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .usage("cannot write \(path): \(reason)")
        }
    }
}

/// A signed statement of a store's log: its id, length, head hash and sparse hash marks.
public struct Checkpoint: Sendable, Equatable {
    public static let format = "kstore-checkpoint-1"
    /// The default stride keeps the marks to at most this many.
    public static let maxMarks: UInt64 = 1024
    /// Bytes of each mark (a prefix of the chain hash).
    public static let markBytes = 16

    public var storeId: String
    public var sequence: UInt64
    public var headHash: String
    public var createdAt: String
    public var stride: UInt64
    public var marks: [String]
    public var publicKey: String
    public var signature: String

    /// The smallest power of two that keeps `sequence / stride` ≤ `maxMarks`.
    public static func defaultStride(for sequence: UInt64) -> UInt64 {
        var stride: UInt64 = 1
        while sequence / stride > maxMarks { stride *= 2 }
        return stride
    }

    /// Every field but the signature: what is signed.
    var statement: JSONValue {
        .object([
            ("createdAt", .string(createdAt)),
            ("format", .string(Checkpoint.format)),
            ("headHash", .string(headHash)),
            ("marks", .array(marks.map { .string($0) })),
            ("publicKey", .string(publicKey)),
            ("sequence", .int(Int64(sequence))),
            ("storeId", .string(storeId)),
            ("stride", .int(Int64(stride))),
        ])
    }

    /// The bytes the signature covers: the statement's compact, key-sorted JSON.
    public var signedBytes: [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(statement, into: &out)
        return out
    }

    /// The whole document (statement and signature).
    public var json: JSONValue {
        guard case .object(var members) = statement else { return statement }
        members.append(("signature", .string(signature)))
        return .object(members)
    }

    /// The sequences the marks pin, in order, with the mark of each.
    var markedSequences: [(sequence: UInt64, mark: String)] {
        marks.enumerated().map { (UInt64($0.offset + 1) * stride, $0.element) }
    }

    // MARK: Taking one

    /// Signs a statement of the log through `sequence` (at most its length) with `key`.
    public static func take(
        _ store: ClinicStore, through sequence: UInt64, key: Curve25519.Signing.PrivateKey, stride: UInt64? = nil
    ) throws -> Checkpoint {
        let k = max(stride ?? defaultStride(for: sequence), 1)
        let (head, marks) = try store.log.read { reader -> (String, [String]) in
            func hashAt(_ seq: UInt64) throws -> [UInt8] {
                guard let view = try reader.record(seq) else {
                    throw StoreError.corrupt(sequence: seq, detail: "no record \(seq) to checkpoint")
                }
                return view.hash.copiedBytes
            }
            let head = sequence == 0 ? [UInt8](repeating: 0, count: EventRecord.hashSize) : try hashAt(sequence)
            var marks: [String] = []
            marks.reserveCapacity(Int(sequence / k))
            var seq = k
            while seq <= sequence {
                marks.append(hex(try hashAt(seq).prefix(markBytes)))
                seq += k
            }
            return (hex(head), marks)
        }
        var cp = Checkpoint(
            storeId: hex(store.log.storeId), sequence: sequence, headHash: head, createdAt: store.now.rfc3339,
            stride: k, marks: marks, publicKey: hex(key.publicKey.rawRepresentation), signature: "")
        cp.signature = hex(try key.signature(for: cp.signedBytes))
        return cp
    }

    // MARK: Reading one

    /// Reads the checkpoint in `path` and checks its signature with the public key in
    /// `publicKeyPath` (and that it names that key). Any failure is exit 65: an unreadable,
    /// malformed or unauthentic checkpoint says nothing about the log.
    public static func load(path: String, publicKeyPath: String) throws(AppError) -> Checkpoint {
        let key = try SigningKeys.loadPublic(publicKeyPath)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput([LineError(file: path, problem: "cannot read the checkpoint file")])
        }
        let cp = try parse([UInt8](data), source: path)
        try cp.checkSignature(key, source: path, keySource: publicKeyPath)
        return cp
    }

    /// The checkpoint's fields, checked for shape (not yet for the signature).
    public static func parse(_ bytes: [UInt8], source: String) throws(AppError) -> Checkpoint {
        func bad(_ field: String, _ what: String, _ expected: String) -> AppError {
            .badInput([LineError(file: source, field: field, problem: what, expected: "expected \(expected)")])
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw bad("checkpoint", "not JSON: \(error)", "the one-line JSON `kstore audit checkpoint` prints")
        }
        guard case .object(let members) = value else {
            throw bad("checkpoint", "not a JSON object", "the one-line JSON `kstore audit checkpoint` prints")
        }
        let known: Set<String> = ["createdAt", "format", "headHash", "marks", "publicKey", "sequence", "signature", "storeId", "stride"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw bad(unknown.0, "unknown field", "only \(known.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws(AppError) -> String {
            guard let v = value[key] else { throw bad(key, "missing", "a string") }
            guard case .string(let s) = v else { throw bad(key, "not a string", "a string") }
            return s
        }
        func hexField(_ key: String, bytes count: Int) throws(AppError) -> String {
            let s = try string(key)
            guard isLowerHex(s, bytes: count) else { throw bad(key, "\"\(s.prefix(80))\"", "\(count * 2) lower-case hex digits") }
            return s
        }
        func integer(_ key: String, min: Int64) throws(AppError) -> UInt64 {
            guard let v = value[key] else { throw bad(key, "missing", "an integer") }
            guard case .int(let n) = v, n >= min else { throw bad(key, "\(JSONWriter.string(v))", "an integer ≥ \(min)") }
            return UInt64(n)
        }
        let format = try string("format")
        guard format == Checkpoint.format else { throw bad("format", "\"\(format)\"", "\"\(Checkpoint.format)\"") }
        let storeId = try hexField("storeId", bytes: 16)
        let sequence = try integer("sequence", min: 0)
        let headHash = try hexField("headHash", bytes: EventRecord.hashSize)
        let createdAt = try string("createdAt")
        do { _ = try Timestamp(rfc3339: createdAt) } catch { throw bad("createdAt", "\"\(createdAt)\": \(error)", "an RFC 3339 timestamp") }
        let stride = try integer("stride", min: 1)
        guard let marksValue = value["marks"] else { throw bad("marks", "missing", "an array of hex strings") }
        guard case .array(let items) = marksValue else { throw bad("marks", "not an array", "an array of hex strings") }
        var marks: [String] = []
        marks.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, isLowerHex(s, bytes: markBytes) else {
                throw bad("marks[\(i)]", "\(JSONWriter.string(item).prefix(80))", "\(markBytes * 2) lower-case hex digits")
            }
            marks.append(s)
        }
        guard UInt64(marks.count) == sequence / stride else {
            throw bad("marks", "\(marks.count) marks", "sequence / stride = \(sequence / stride)")
        }
        let publicKey = try hexField("publicKey", bytes: 32)
        let signature = try hexField("signature", bytes: 64)
        return Checkpoint(
            storeId: storeId, sequence: sequence, headHash: headHash, createdAt: createdAt, stride: stride,
            marks: marks, publicKey: publicKey, signature: signature)
    }

    /// Checks that the checkpoint names `key` and that its signature over `signedBytes` verifies.
    public func checkSignature(_ key: Curve25519.Signing.PublicKey, source: String, keySource: String) throws(AppError) {
        let given = hex(key.rawRepresentation)
        guard publicKey == given else {
            throw .badInput([
                LineError(
                    file: source, field: "publicKey", problem: "signed by key \(publicKey.prefix(16))…, not by \(keySource)'s \(given.prefix(16))…",
                    expected: "expected the key the checkpoint was made with")
            ])
        }
        guard let sig = hexBytes(signature), key.isValidSignature(sig, for: signedBytes) else {
            throw .badInput([
                LineError(
                    file: source, field: "signature", problem: "does not verify with \(keySource): the checkpoint was altered after signing",
                    expected: "expected the file exactly as `kstore audit checkpoint` printed it")
            ])
        }
    }
}

/// Lower-case or upper-case hex to bytes (nil when not hex).
func hexBytes(_ s: String) -> [UInt8]? {
    let utf8 = Array(s.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var i = 0
    while i < utf8.count {
        guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

func isLowerHex(_ s: String, bytes: Int) -> Bool {
    s.utf8.count == bytes * 2
        && s.utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
}
