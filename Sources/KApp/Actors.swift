import Foundation
import KClinic
import KStore

/// One registered actor, as the `$actors` stream says now.
public struct ActorRecord: Sendable, Equatable {
    public var id: String
    public var role: Role
    public var osUser: String
    public var active: Bool
    public var registeredAt: UInt64
    /// The printed name signatures show (nil when registered without one).
    public var name: String? = nil
}

/// Why `ActorRegistry.check` refuses an event for who is recording it (exit 77). `description`
/// is the sentence a command prints.
public enum ActorRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// No actor of that id is registered (the hint names the role the event claims).
    case unregistered(Actor)
    /// The actor was retired.
    case retired(actorId: String)
    /// The actor is registered with another role than the event claims.
    case wrongRole(actorId: String, registered: Role, claimed: Role)
    /// A correction by someone other than a clinician or the actor who recorded the original.
    case mayNotCorrect(Actor, originalActorId: String)
    /// A correction by the original's recorder of an event a clinician has already corrected
    /// (events.md, revision 4: then only a clinician may correct it again).
    case clinicianCorrected(Actor, eventId: UUID)
    /// The permission table of the rule set in force does not allow the role this type.
    case roleMayNotRecord(Role, EventType)
    /// The OS user running the command is neither the actor's registered OS user nor a
    /// registered interface account.
    case wrongOSUser(osUser: String, actorId: String, registeredOSUser: String)
    /// A review signed by an OS user other than the reviewer's own (an interface account
    /// included: interfaces may not sign).
    case notTheSigner(osUser: String, actorId: String, registeredOSUser: String)
    /// A line sent through the web interface names another actor than the one signed in.
    case notTheSignedInActor(actorId: String, signedIn: String)
    /// session.md: a witness must be a registered, active clinician or nurse other than the
    /// recorder (and the amender).
    case badWitness(witness: String, reason: String)

    public var description: String {
        switch self {
        case .unregistered(let actor):
            "actor \(actor.id) is not registered in this store; an admin registers actors with `kstore actor add --id \(actor.id) --role \(actor.role.rawValue) --os-user NAME`"
        case .retired(let id):
            "actor \(id) was retired and may no longer record"
        case .wrongRole(let id, let registered, let claimed):
            "actor \(id) is registered as \(registered.rawValue), not \(claimed.rawValue)"
        case .mayNotCorrect(let actor, let original):
            "\(actor.id) (\(actor.role.rawValue)) may not correct an event recorded by \(original); a clinician or \(original) may"
        case .clinicianCorrected(let actor, let id):
            "\(actor.id) (\(actor.role.rawValue)) may not correct event \(id.uuidString.lowercased()) again: a clinician has corrected it, so only a clinician may"
        case .roleMayNotRecord(let role, let type):
            "\(role.article) \(role.rawValue) may not record \(type.rawValue)"
        case .notTheSigner(let osUser, let id, let registered):
            "OS user \(osUser) may not sign a review as \(id): a review is signed by the reviewer's own OS user (\(registered)), never by another account or an interface; run `kstore audit review` as \(registered)"
        case .badWitness(let id, let reason):
            "witness \(id) \(reason): a witness is a registered, active clinician or nurse other than the one recording"
        case .notTheSignedInActor(let id, let signedIn):
            "actor.id is \(id), but \(signedIn) is signed in: a line is recorded only as the actor who sends it"
        case .wrongOSUser(let osUser, let id, let registered):
            "OS user \(osUser) may not record as \(id) (registered for OS user \(registered)); run as \(registered), or from a registered interface account"
        }
    }
}

/// An `ActorRefusal` met by an append's validation hook at the batch's `index`-th event.
struct PermissionDenied: Error {
    var index: Int
    var refusal: ActorRefusal
}

/// The registered actors (the `$actors` stream folded) and the permission checks on a write.
public struct ActorRegistry: Sendable {
    public private(set) var actors: [String: ActorRecord] = [:]
    /// Who may record what: the `permissions` of the rule set in force (see `load`).
    public var table = PermissionTable.default

    /// Reads the `$actors` stream inside `reader`'s transaction, with the permission table of the
    /// rule set in force in that same transaction.
    public static func load(_ reader: LogReader) throws -> ActorRegistry {
        try load(reader, table: RulesInForce.load(reader).rules.permissions)
    }

    /// Reads the `$actors` stream inside `reader`'s transaction; `table` is the permission table
    /// of the rule set in force there (a caller that already loaded the rules passes theirs).
    public static func load(_ reader: LogReader, table: PermissionTable) throws -> ActorRegistry {
        var registry = ActorRegistry()
        registry.table = table
        try reader.forEachInStream(SystemStream.actors) { view in
            let r = try EventMapping.recorded(view)
            switch r.event {
            case .actorRegistered(let a):
                registry.actors[a.id] = ActorRecord(
                    id: a.id, role: a.role, osUser: a.osUser, active: true, registeredAt: r.sequence, name: a.name)
            case .actorRetired(let a):
                registry.actors[a.id]?.active = false
            default:
                break
            }
        }
        return registry
    }

    /// The active actors an OS user may act as.
    public func actors(forOSUser user: String) -> [ActorRecord] {
        actors.values.filter { $0.active && $0.osUser == user }.sorted { $0.registeredAt < $1.registeredAt }
    }

    /// Whether `user` runs a registered, active interface account.
    public func isInterface(_ user: String) -> Bool {
        actors(forOSUser: user).contains { $0.role == .interface }
    }

    /// The active admin actor `user` acts as, if any.
    public func admin(forOSUser user: String) -> ActorRecord? {
        actors(forOSUser: user).first { $0.role == .admin }
    }

    /// Refuses an event whose actor is unknown or retired, holds another role, may not record
    /// this type, or is not the OS user running the command (nor is that OS user an interface);
    /// nil when it is permitted. `originalActor` is the actor of a correction's target;
    /// `clinicianCorrected` the target when a clinician has already corrected it.
    public func check(
        actor: Actor, type: EventType, osUser: String, originalActor: String?, clinicianCorrected: UUID? = nil,
        signedWithPassword: Bool = false, lotAcknowledgement: Bool = false
    ) -> ActorRefusal? {
        guard let record = actors[actor.id] else { return .unregistered(actor) }
        guard record.active else { return .retired(actorId: actor.id) }
        guard record.role == actor.role else {
            return .wrongRole(actorId: actor.id, registered: record.role, claimed: actor.role)
        }
        if type.isCorrection {
            if let originalActor, !table.mayCorrect(actor: actor, originalActorId: originalActor) {
                return .mayNotCorrect(actor, originalActorId: originalActor)
            }
            if let target = clinicianCorrected, let originalActor,
                !table.mayCorrect(actor: actor, originalActorId: originalActor, correctedByClinician: true)
            {
                return .clinicianCorrected(actor, eventId: target)
            }
        } else if lotAcknowledgement {
            // session.md: a lot alert is acknowledged by a clinician or an admin.
            if !PermissionTable.mayAcknowledgeLotAlert(actor.role) { return .roleMayNotRecord(actor.role, type) }
        } else if !table.may(actor.role, record: type) {
            return .roleMayNotRecord(actor.role, type)
        }
        // A review is the reviewer's signature (events.md: interfaces run import, append, amend
        // and void only): only the compliance actor's own OS user may sign it.
        // A review signed on the web carries the reviewer's password-made signature instead.
        if type == .auditReviewed, record.osUser != osUser, !signedWithPassword {
            return .notTheSigner(osUser: osUser, actorId: actor.id, registeredOSUser: record.osUser)
        }
        guard record.osUser == osUser || isInterface(osUser) else {
            return .wrongOSUser(osUser: osUser, actorId: actor.id, registeredOSUser: record.osUser)
        }
        return nil
    }
}

extension ActorRegistry {
    /// session.md: nil when `id` may witness an event recorded by `recorder` (amended by `amender`).
    public func checkWitness(_ id: String, recorder: String, amender: String? = nil) -> ActorRefusal? {
        guard let w = actors[id] else { return .badWitness(witness: id, reason: "is not a registered actor") }
        guard w.active else { return .badWitness(witness: id, reason: "was retired") }
        guard w.role == .clinician || w.role == .nurse else {
            return .badWitness(witness: id, reason: "is \(w.role.article) \(w.role.rawValue)")
        }
        if id == recorder { return .badWitness(witness: id, reason: "is the one who recorded it") }
        if let amender, id == amender { return .badWitness(witness: id, reason: "is the one amending it") }
        return nil
    }
}

/// Registering and retiring actors (admin only), and the first admin at `init`.
public enum Actors {
    /// Called once by `kstore init`: the OS user who created the store is its first admin.
    public static func bootstrap(_ store: ClinicStore) throws {
        let me = store.osUser
        let event = EventMapping.newEvent(
            eventId: UUID(), patient: SystemStream.actors, occurredAt: store.now, actor: Actor(id: me, role: .admin),
            osUser: me, event: .actorRegistered(ActorRegistered(id: me, role: .admin, osUser: me)))
        try store.log.append([event], clockMicros: store.clockMicros) { reader, _, _ in
            guard try reader.streamVersion(SystemStream.actors) == 0 else {
                throw AppError.usage("the store already has actors")
            }
        }
    }

    /// Registers `id` (admin only: the OS user running this must be a registered admin).
    @discardableResult
    public static func add(
        _ store: ClinicStore, id: String, role: Role, osUser: String, name: String? = nil, by webAdmin: Actor? = nil
    ) throws -> UInt64 {
        guard validActorId(id) else {
            throw AppError.badInput([
                .option("--id", "\(id) is not a valid actor id", expected: "1–64 characters, no spaces or control characters")
            ])
        }
        guard validActorId(osUser) else {
            throw AppError.badInput([.option("--os-user", "\(osUser) is not a valid OS user name")])
        }
        if let name {
            do throws(InputError) { try InputLimits.checkText(name, field: "--name", max: 200) } catch {
                throw AppError.badInput([LineError(file: nil, line: nil, error)])
            }
        }
        return try adminAppend(store, .actorRegistered(ActorRegistered(id: id, role: role, osUser: osUser, name: name)), by: webAdmin) {
            registry in
            if let existing = registry.actors[id] {
                throw AppError.badInput([
                    .option(
                        "--id",
                        "actor \(id) is already registered (\(existing.role.rawValue), \(existing.active ? "active" : "retired")); actor ids are never reused"
                    )
                ])
            }
        }
    }

    /// Retires `id` (admin only). Its past events stay as they are.
    @discardableResult
    public static func retire(_ store: ClinicStore, id: String, by webAdmin: Actor? = nil) throws -> UInt64 {
        try adminAppend(store, .actorRetired(ActorRetired(id: id)), by: webAdmin) { registry in
            guard let existing = registry.actors[id] else {
                throw AppError.badInput([.option("--id", "no actor \(id) is registered", expected: "see `kstore actor list`")])
            }
            guard existing.active else { throw AppError.badInput([.option("--id", "actor \(id) is already retired")]) }
            if existing.role == .admin, registry.actors.values.filter({ $0.active && $0.role == .admin }).count == 1 {
                throw AppError.badInput([.option("--id", "\(id) is the last active admin; register another admin first")])
            }
        }
    }

    /// Appends an event to `$actors` as the admin the OS user acts as, or (`webAdmin`) as the
    /// admin signed in to the web interface, whose server runs as a registered interface.
    static func adminAppend(
        _ store: ClinicStore, _ event: ClinicalEvent, by webAdmin: Actor? = nil, check: (ActorRegistry) throws -> Void
    ) throws -> UInt64 {
        var result: UInt64 = 0
        let outcomes = try store.log.append(
            [
                EventMapping.newEvent(
                    eventId: UUID(), patient: SystemStream.actors, occurredAt: store.now,
                    actor: webAdmin ?? Actor(id: store.osUser, role: .admin), osUser: store.osUser, event: event)
            ], clockMicros: store.clockMicros
        ) { reader, _, _ in
            let registry = try ActorRegistry.load(reader)
            if let webAdmin {
                guard let record = registry.actors[webAdmin.id], record.active, record.role == .admin, registry.isInterface(store.osUser)
                else {
                    throw AppError.notPermitted(.web("only a signed-in, active admin manages actors"))
                }
            } else if registry.admin(forOSUser: store.osUser) == nil {
                throw AppError.notPermitted(.notAdmin(osUser: store.osUser, task: nil))
            }
            try check(registry)
        }
        if case .appended(let seq, _)? = outcomes.first { result = seq }
        return result
    }

    /// The admin actor the running OS user acts as, or a refusal (exit 77).
    public static func requireAdmin(_ store: ClinicStore, for what: String) throws -> Actor {
        let registry = try store.log.read { try ActorRegistry.load($0) }
        guard let admin = registry.admin(forOSUser: store.osUser) else {
            throw AppError.notPermitted(.notAdmin(osUser: store.osUser, task: what))
        }
        return Actor(id: admin.id, role: .admin)
    }

    public static func list(_ store: ClinicStore) throws -> [ActorRecord] {
        try store.log.read { try ActorRegistry.load($0) }.actors.values.sorted { $0.registeredAt < $1.registeredAt }
    }

    /// Registers the running OS user as the `import-job` interface and every actor of a
    /// `fixtures/actors.tsv`-style list (id, role, OS user per line; `#` comments).
    public static func registerFixtureActors(_ store: ClinicStore, tsv: String) throws {
        try add(store, id: "import-job", role: .interface, osUser: store.osUser)
        for line in tsv.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t").map(String.init)
            guard f.count == 3, let role = Role(rawValue: f[1]) else { continue }
            try add(store, id: f[0], role: role, osUser: f[2])
        }
    }

    static func validActorId(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
    }
}

extension Role {
    /// "a" or "an", as the role's name is spoken ("an admin", "a nurse").
    public var article: String {
        switch self {
        case .admin, .interface: "an"
        case .clinician, .nurse, .compliance: "a"
        }
    }
}

extension Actors {
    /// The registry, when `$actors` has changed since `version` (nil: unchanged): a server
    /// checks on every request that its actor is still active without re-reading the stream.
    public static func registry(_ store: ClinicStore, ifChangedSince version: UInt64?) throws -> (version: UInt64, registry: ActorRegistry)?
    {
        try store.log.read { reader in
            let v = try reader.streamVersion(SystemStream.actors)
            if v == version { return nil }
            return (v, try ActorRegistry.load(reader, table: .default))
        }
    }
}
