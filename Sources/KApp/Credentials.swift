import Crypto
import Foundation
import HummingbirdBcrypt
import KClinic
import KStore

/// The web interface's credentials: each actor's password (bcrypt, cost 12) and bearer token
/// (SHA-256 of a random 256-bit secret). They live in the `credentials` database beside the
/// log, never in it: a credential is replaceable, the log is not. Each change is an
/// `ActorCredentialChanged` event in `$actors` (who changed whose, when; never the secret),
/// committed in the same transaction as the credential itself.
///
/// Keys: `pw:ACTOR` → the bcrypt hash (UTF-8); `tk:HEX` (SHA-256 of the token) → the actor id;
/// `ta:ACTOR` → that hex, so a new token or a revocation removes the old one.
public enum Credentials {
    /// Web passwords are at least this long (web.md).
    public static let minimumPasswordLength = 12
    /// bcrypt's cost (web.md: at least 12).
    public static let bcryptCost: UInt8 = 12
    /// bcrypt reads at most 72 bytes; a longer password is refused rather than silently cut.
    public static let maximumPasswordBytes = 72

    /// Who asks to change a credential: an OS user at the command line (admin for anyone, an
    /// actor's own OS user for itself) or a signed-in web actor (admin for anyone, itself).
    public enum Changer: Sendable {
        case osUser
        case webActor(Actor)
    }

    /// Whether `password` may be a web password; nil when it may, else the sentence why not.
    public static func weakness(_ password: String) -> String? {
        if password.count < minimumPasswordLength {
            return "a password has at least \(minimumPasswordLength) characters (this one has \(password.count))"
        }
        if password.utf8.count > maximumPasswordBytes {
            return "a password has at most \(maximumPasswordBytes) bytes (bcrypt reads no further)"
        }
        if password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "a password may not contain control characters"
        }
        return nil
    }

    /// Sets `actorId`'s web password. Refused (exit 77) unless the changer is an admin or the
    /// actor itself; refused (65) for an unknown or retired actor or a weak password.
    @discardableResult
    public static func setPassword(_ store: ClinicStore, actorId: String, password: String, by changer: Changer = .osUser) throws -> UInt64
    {
        if let weak = weakness(password) { throw AppError.badInput([.option("password", weak)]) }
        // bcrypt is slow on purpose (~0.25 s at cost 12): hashed before the write transaction.
        let hash = Bcrypt.hash(password, cost: bcryptCost)
        return try change(store, actorId: actorId, change: .passwordSet, by: changer) { txn, db in
            try txn.auxPut(db, Array("pw:\(actorId)".utf8), Array(hash.utf8))
        }
    }

    /// Issues a new bearer token for `actorId` (the old one stops working) and returns it: it is
    /// shown once and only its hash is kept.
    public static func issueToken(_ store: ClinicStore, actorId: String, by changer: Changer = .osUser) throws -> (
        token: String, sequence: UInt64
    ) {
        let token = "kst_" + randomSecret()
        let digest = tokenDigest(token)
        let seq = try change(store, actorId: actorId, change: .tokenIssued, by: changer) { txn, db in
            try removeToken(actorId, txn, db)
            try txn.auxPut(db, Array("tk:\(digest)".utf8), Array(actorId.utf8))
            try txn.auxPut(db, Array("ta:\(actorId)".utf8), Array(digest.utf8))
        }
        return (token, seq)
    }

    /// Revokes `actorId`'s bearer token.
    @discardableResult
    public static func revokeToken(_ store: ClinicStore, actorId: String, by changer: Changer = .osUser) throws -> UInt64 {
        try change(store, actorId: actorId, change: .tokenRevoked, by: changer) { txn, db in
            guard try removeToken(actorId, txn, db) else {
                throw AppError.badInput([.option("--id", "actor \(actorId) has no token to revoke")])
            }
        }
    }

    /// The actor whose password this is, when it is: the same work (one bcrypt) whether the
    /// actor is unknown, has no password or gave a wrong one, so the answer's time tells nothing.
    public static func checkPassword(_ store: ClinicStore, actorId: String, password: String) throws -> Bool {
        let stored: String? = try store.log.read { reader in
            guard let db = store.log.auxiliary["credentials"],
                let v = try reader.auxGet(db, Array("pw:\(actorId)".utf8))
            else { return nil }
            return String(decoding: v, as: UTF8.self)
        }
        guard password.utf8.count <= maximumPasswordBytes else {
            _ = Bcrypt.verify(password, hash: dummyHash)
            return false
        }
        guard let stored else {
            _ = Bcrypt.verify(password, hash: dummyHash)
            return false
        }
        return Bcrypt.verify(password, hash: stored)
    }

    /// Computes the stand-in hash now (a server calls it at start), so that the first sign-in of
    /// an unknown actor does not take a bcrypt longer than a known one's.
    public static func prepare() { _ = dummyHash }

    /// A hash of no password anyone has, verified against when there is nothing to verify.
    static let dummyHash = Bcrypt.hash("kstore: no such actor or no password", cost: bcryptCost)

    /// The actor a bearer token belongs to, if it is a current token.
    public static func actor(forToken token: String) -> @Sendable (ClinicStore) throws -> String? {
        let digest = tokenDigest(token)
        return { store in
            try store.log.read { reader in
                guard let db = store.log.auxiliary["credentials"], let v = try reader.auxGet(db, Array("tk:\(digest)".utf8)) else {
                    return nil
                }
                return String(decoding: v, as: UTF8.self)
            }
        }
    }

    /// The actors that have a web password.
    public static func actorsWithPassword(_ store: ClinicStore) throws -> Set<String> {
        try store.log.read { reader in
            guard let db = store.log.auxiliary["credentials"] else { return [] }
            var out = Set<String>()
            try reader.auxForEach(db) { key, _ in
                let k = String(decoding: key, as: UTF8.self)
                if k.hasPrefix("pw:") { out.insert(String(k.dropFirst(3))) }
                return true
            }
            return out
        }
    }

    /// `bytes` random bytes as URL-safe base64 without padding (tokens, session ids, CSRF tokens).
    public static func randomSecret(bytes: Int = 32) -> String {
        var rng = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func tokenDigest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @discardableResult
    static func removeToken(_ actorId: String, _ txn: LogReader, _ db: Database) throws -> Bool {
        let key = Array("ta:\(actorId)".utf8)
        guard let old = try txn.auxGet(db, key) else { return false }
        let digest = String(decoding: old, as: UTF8.self)
        _ = try txn.auxDelete(db, Array("tk:\(digest)".utf8))
        _ = try txn.auxDelete(db, key)
        return true
    }

    /// Appends `ActorCredentialChanged` and, in the same transaction, `write`s the credential.
    static func change(
        _ store: ClinicStore, actorId: String, change: CredentialChange, by changer: Changer,
        write: @escaping (LogReader, Database) throws -> Void
    ) throws -> UInt64 {
        guard let db = store.log.auxiliary["credentials"] else {
            throw AppError.internal("the store has no credentials database (open it for writing once)")
        }
        // Who the event says made the change: the admin or the actor itself.
        let registry = try store.log.read { try ActorRegistry.load($0) }
        let by: Actor
        switch changer {
        case .osUser:
            if let admin = registry.admin(forOSUser: store.osUser) {
                by = Actor(id: admin.id, role: .admin)
            } else if let me = registry.actors[actorId], me.active, me.osUser == store.osUser {
                by = Actor(id: me.id, role: me.role)
            } else {
                throw AppError.notPermitted(.notAdmin(osUser: store.osUser, task: "set another actor's credentials"))
            }
        case .webActor(let actor):
            guard actor.role == .admin || actor.id == actorId else {
                throw AppError.notPermitted(
                    .web("\(actor.id) (\(actor.role.rawValue)) may not set \(actorId)'s credentials; an admin may, or \(actorId) itself"))
            }
            by = actor
        }
        let event = EventMapping.newEvent(
            eventId: UUID(), patient: SystemStream.actors, occurredAt: store.now, actor: by, osUser: store.osUser,
            event: .actorCredentialChanged(ActorCredentialChanged(id: actorId, change: change)))
        let outcomes = try store.log.append(
            [event], clockMicros: store.clockMicros,
            validate: { reader, _, _ in
                let now = try ActorRegistry.load(reader)
                guard let target = now.actors[actorId] else {
                    throw AppError.badInput([.option("--id", "no actor \(actorId) is registered", expected: "see `kstore actor list`")])
                }
                guard target.active else { throw AppError.badInput([.option("--id", "actor \(actorId) is retired")]) }
                guard now.actors[by.id]?.active == true else {
                    throw AppError.notPermitted(.web("actor \(by.id) is retired and may no longer change credentials"))
                }
            },
            thenInSameTransaction: { reader, _ in try write(reader, db) })
        guard case .appended(let seq, _)? = outcomes.first else { throw AppError.internal("the credential change was not appended") }
        return seq
    }
}
