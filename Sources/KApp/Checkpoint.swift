import Crypto
import Foundation
import Glibc
import KClinic
import KStore

// Signed checkpoints: tamper evidence a reviewer keeps outside the store.
//
// A checkpoint (`kstore audit checkpoint --key PREFIX`, one JSON line on standard output):
//
//     {"accessHead":hex64,"accessLength":m,"createdAt":RFC3339,"format":"kstore-checkpoint-2",
//      "headHash":hex64,"marks":[hex32…],"publicKey":hex64,"sequence":n,"signature":hex128,
//      "storeId":hex32,"stride":k}
//
// - `sequence` n: the log's length when it was taken; `headHash`: the full SHA-256 chain hash of
//   record n (64 zeros for an empty log).
// - `stride` k and `marks`: the first 16 bytes of the chain hash of every k-th record
//   (k, 2k, … ≤ n; exactly n / k of them). By default k is the smallest power of two that keeps
//   the list to at most 1,024 marks (k = 1 for a log of up to 1,024 events, 1,024 for a million).
//   The marks only locate a rewrite; the head hash alone (full length) decides whether the log
//   still extends the checkpoint.
// - `accessLength` m and `accessHead`: the access log's length (reads recorded) and the chain
//   hash of its record m (64 zeros for none): every reader can write the store, so without them a
//   reader could cut or rewrite the record of their own reads unseen. Format 1 (before these
//   fields) is still read and checked for the event log only.
// - `signature`: Ed25519 over the **signed bytes**: the compact JSON of the object holding every
//   other field (all but `signature`), keys in UTF-8 byte order, no whitespace, as
//   `JSONWriter.write` (KClinic) writes it. The verifier rebuilds those bytes from the parsed
//   fields, so only the values matter, not the file's spacing or key order; unknown keys are
//   refused (they would not be signed).

/// A signed statement of a store's log: its id, length, head hash and sparse hash marks.
public struct Checkpoint: Sendable, Equatable {
    public static let format = "kstore-checkpoint-2"
    /// The format before the access log's length and head were signed (still verified).
    public static let formatWithoutAccessLog = "kstore-checkpoint-1"
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
    /// The access log's length and the hash of its last record when taken (nil: format 1).
    public var accessLength: UInt64?
    public var accessHead: String?

    /// The smallest power of two that keeps `sequence / stride` ≤ `maxMarks`.
    public static func defaultStride(for sequence: UInt64) -> UInt64 {
        var stride: UInt64 = 1
        while sequence / stride > maxMarks { stride *= 2 }
        return stride
    }

    /// Every field but the signature: what is signed.
    var statement: JSONValue {
        var members: [(String, JSONValue)] = []
        if let accessLength, let accessHead {
            members.append(("accessHead", .string(accessHead)))
            members.append(("accessLength", .int(Int64(accessLength))))
        }
        return .object(
            members + [
                ("createdAt", .string(createdAt)),
                ("format", .string(accessLength == nil ? Checkpoint.formatWithoutAccessLog : Checkpoint.format)),
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
        let access = try AccessLog.head(store)
        var cp = Checkpoint(
            storeId: hex(store.log.storeId), sequence: sequence, headHash: head, createdAt: store.now.rfc3339,
            stride: k, marks: marks, publicKey: hex(key.publicKey.rawRepresentation), signature: "",
            accessLength: access.length, accessHead: hex(access.hash))
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
        var known: Set<String> = ["createdAt", "format", "headHash", "marks", "publicKey", "sequence", "signature", "storeId", "stride"]
        if case .string(Checkpoint.format)? = value["format"] { known.formUnion(["accessHead", "accessLength"]) }
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
        guard format == Checkpoint.format || format == Checkpoint.formatWithoutAccessLog else {
            throw bad("format", "\"\(format)\"", "\"\(Checkpoint.format)\" (or the older \"\(Checkpoint.formatWithoutAccessLog)\")")
        }
        var accessLength: UInt64?
        var accessHead: String?
        if format == Checkpoint.format {
            accessLength = try integer("accessLength", min: 0)
            accessHead = try hexField("accessHead", bytes: 32)
        }
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
            marks: marks, publicKey: publicKey, signature: signature, accessLength: accessLength, accessHead: accessHead)
    }

    /// Checks that the checkpoint names `key` and that its signature over `signedBytes` verifies.
    public func checkSignature(_ key: Curve25519.Signing.PublicKey, source: String, keySource: String) throws(AppError) {
        let given = hex(key.rawRepresentation)
        guard publicKey == given else {
            throw .badInput([
                LineError(
                    file: source, field: "publicKey",
                    problem: "signed by key \(publicKey.prefix(16))…, not by \(keySource)'s \(given.prefix(16))…",
                    expected: "expected the key the checkpoint was made with")
            ])
        }
        guard let sig = hexBytes(signature), key.isValidSignature(sig, for: signedBytes) else {
            throw .badInput([
                LineError(
                    file: source, field: "signature",
                    problem: "does not verify with \(keySource): the checkpoint was altered after signing",
                    expected: "expected the file exactly as `kstore audit checkpoint` printed it")
            ])
        }
    }
}
