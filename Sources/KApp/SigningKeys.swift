import Crypto
import Foundation
import Glibc
import KStore

// Key files (written by `kstore audit keygen --out PREFIX`, one line each, lower-case hex of the
// raw 32-byte Ed25519 keys of swift-crypto's `Curve25519.Signing`):
//
//     PREFIX       ed25519-private:<64 hex digits>     mode 0600, created exclusively
//     PREFIX.pub   ed25519-public:<64 hex digits>      mode 0644, created exclusively
//
// The label keeps one from being used for the other (both are 32 bytes).

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
