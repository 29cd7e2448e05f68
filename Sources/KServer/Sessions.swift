import Crypto
import Foundation
import KApp
import KClinic

/// Random URL-safe text of `bytes` random bytes (session ids, CSRF tokens).
func randomToken(bytes: Int = 32) -> String { Credentials.randomSecret(bytes: bytes) }

/// Compares two secrets in time that depends only on their lengths.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}

/// Who a request is from.
struct Principal: Sendable {
    var actor: Actor
    var name: String?
    /// The session (cookie) that authenticated it, or nil for a bearer token.
    var session: Session?

    /// The name a signature prints: the registered name, else the actor id.
    var printedName: String { name ?? actor.id }
}

/// A signed-in browser: the cookie's value names it; it ends after `idleLimit` without a
/// request (HIPAA 164.312(a)(2)(iii)), at sign-out, or when its actor is retired.
struct Session: Sendable {
    var id: String
    var actorId: String
    var csrf: String
    var lastSeen: Double
}

/// Sessions and sign-in failures, in memory: a restart signs everyone out (as a clinic expects
/// of an automatic logoff), and no session secret is ever written anywhere.
final class SessionStore: @unchecked Sendable {
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var failures: [String: [Double]] = [:]
    private var lockedUntil: [String: Double] = [:]
    let idleLimit: Double
    /// Failures within `failureWindow` seconds that lock an actor out for `lockout` seconds.
    let maxFailures = 5
    let failureWindow: Double = 15 * 60
    let lockout: Double = 15 * 60
    let clock: @Sendable () -> Double

    init(idleLimit: Double, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.idleLimit = idleLimit
        self.clock = clock
    }

    func create(actorId: String) -> Session {
        let s = Session(id: randomToken(), actorId: actorId, csrf: randomToken(), lastSeen: clock())
        lock.lock()
        defer { lock.unlock() }
        // Drop expired sessions now and then (bounded memory).
        if sessions.count > 1024 {
            let now = clock()
            sessions = sessions.filter { now - $0.value.lastSeen <= idleLimit }
        }
        sessions[s.id] = s
        return s
    }

    enum Lookup {
        case valid(Session)
        case expired
        case unknown
    }

    /// The session with `id`, touched; `expired` (and removed) after `idleLimit` idle.
    func touch(_ id: String) -> Lookup {
        lock.lock()
        defer { lock.unlock() }
        guard var s = sessions[id] else { return .unknown }
        let now = clock()
        if now - s.lastSeen > idleLimit {
            sessions[id] = nil
            return .expired
        }
        s.lastSeen = now
        sessions[id] = s
        return .valid(s)
    }

    func end(_ id: String) {
        lock.lock()
        sessions[id] = nil
        lock.unlock()
    }

    /// Ends every session of `actorId` (retired).
    func endAll(actorId: String) {
        lock.lock()
        sessions = sessions.filter { $0.value.actorId != actorId }
        lock.unlock()
    }

    /// Seconds `actorId` is still locked out for (nil: not locked).
    func lockedOut(_ actorId: String) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        guard let until = lockedUntil[actorId] else { return nil }
        let now = clock()
        if now >= until {
            lockedUntil[actorId] = nil
            return nil
        }
        return until - now
    }

    /// Counts a failed sign-in (or signature) of `actorId`; locks it out at the fifth within
    /// the window. Counted for unknown ids too, so the answer never tells which ids exist.
    func fail(_ actorId: String) {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        var list = (failures[actorId] ?? []).filter { now - $0 < failureWindow }
        list.append(now)
        if list.count >= maxFailures {
            lockedUntil[actorId] = now + lockout
            list.removeAll()
        }
        failures[actorId] = list
        if failures.count > 10_000 { failures = failures.filter { !$0.value.isEmpty && now - ($0.value.last ?? 0) < failureWindow } }
    }

    func succeeded(_ actorId: String) {
        lock.lock()
        failures[actorId] = nil
        lock.unlock()
    }
}
