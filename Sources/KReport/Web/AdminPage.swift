import KClinic

/// `/admin`: the registered actors and the rule set in force, with the forms that change them.
public struct AdminPage: Sendable {
    public struct ActorRow: Sendable, Equatable {
        public var id: String
        public var name: String?
        public var role: Role
        public var osUser: String
        public var active: Bool
        public var hasPassword: Bool
        public init(id: String, name: String?, role: Role, osUser: String, active: Bool, hasPassword: Bool) {
            self.id = id
            self.name = name
            self.role = role
            self.osUser = osUser
            self.active = active
            self.hasPassword = hasPassword
        }
    }

    public var actors: [ActorRow]
    public var rulesVersion: String
    public var rulesHash: String
    /// What the last post did.
    public var notice: String?
    /// Why the last post was refused.
    public var error: String?

    public init(actors: [ActorRow], rulesVersion: String, rulesHash: String, notice: String? = nil, error: String? = nil) {
        self.actors = actors
        self.rulesVersion = rulesVersion
        self.rulesHash = rulesHash
        self.notice = notice
        self.error = error
    }
}
