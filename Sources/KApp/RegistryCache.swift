import Foundation
import KClinic
import KStore

/// The rules in force and the actor registry of the current write transaction: the registry's
/// permission table is the `permissions` of those rules, so a write is judged by the rule set of
/// the very snapshot it is written into. Loaded once per transaction, and reused by a later
/// transaction whose `$actors` and `$rules` streams still have the versions they were loaded at
/// (both are append-only, so the same versions hold the same events).
final class RegistryCache {
    private var rules: RulesInForce?
    private var registry: ActorRegistry?
    /// Held (not just its address) so a later transaction can never be mistaken for it.
    private var transaction: Transaction?
    /// Versions of `$actors` and `$rules` that `rules` and `registry` were loaded at.
    private var stamp: [UInt64] = []
    /// `ActorRegistry.check`'s answers in this transaction for events that correct nothing
    /// (a pure function of the registry and these fields; an import asks it once a line).
    private var verdicts: [VerdictKey: ActorRefusal?] = [:]

    private struct VerdictKey: Hashable {
        var actor: String
        var role: Role
        var type: EventType
        var osUser: String
    }

    func registry(_ reader: LogReader) throws -> ActorRegistry {
        try load(reader).registry
    }

    /// `ActorRegistry.check` against this transaction's registry (nil: permitted).
    func check(
        _ reader: LogReader, actor: Actor, type: EventType, osUser: String, originalActor: String?, clinicianCorrected: UUID? = nil,
        lotAcknowledgement: Bool = false
    ) throws -> ActorRefusal? {
        let registry = try load(reader).registry
        guard originalActor == nil, !lotAcknowledgement else {
            if lotAcknowledgement {
                return registry.check(actor: actor, type: type, osUser: osUser, originalActor: nil, lotAcknowledgement: true)
            }
            return registry.check(
                actor: actor, type: type, osUser: osUser, originalActor: originalActor, clinicianCorrected: clinicianCorrected)
        }
        let key = VerdictKey(actor: actor.id, role: actor.role, type: type, osUser: osUser)
        if let verdict = verdicts[key] { return verdict }
        let verdict = registry.check(actor: actor, type: type, osUser: osUser, originalActor: nil)
        verdicts[key] = verdict
        return verdict
    }

    private func load(_ reader: LogReader) throws -> (rules: RulesInForce, registry: ActorRegistry) {
        if let rules, let registry, transaction === reader.txn { return (rules, registry) }
        let now = [try reader.streamVersion(SystemStream.actors), try reader.streamVersion(SystemStream.rules)]
        if let rules, let registry, stamp == now {
            transaction = reader.txn
            return (rules, registry)
        }
        let loadedRules = try RulesInForce.load(reader)
        let loaded = try ActorRegistry.load(reader, table: loadedRules.rules.permissions)
        rules = loadedRules
        registry = loaded
        stamp = now
        transaction = reader.txn
        verdicts = [:]
        return (loadedRules, loaded)
    }
}
