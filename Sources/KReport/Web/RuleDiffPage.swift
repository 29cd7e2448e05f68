/// `/admin/rules` after an upload: what replaying the log under the uploaded rule set would
/// change, patient by patient, and the signed form that adopts it.
public struct RuleDiffPage: Sendable {
    public struct Change: Sendable, Equatable {
        public var patient: String
        public var field: String
        public var before: String
        public var after: String
        public init(patient: String, field: String, before: String, after: String) {
            self.patient = patient
            self.field = field
            self.before = before
            self.after = after
        }
    }

    public var uploadedVersion: String
    public var uploadedHash: String
    public var currentVersion: String
    public var currentHash: String
    public var changes: [Change]
    /// Why the adoption was refused (a wrong password).
    public var error: String?

    public init(
        uploadedVersion: String, uploadedHash: String, currentVersion: String, currentHash: String, changes: [Change],
        error: String? = nil
    ) {
        self.uploadedVersion = uploadedVersion
        self.uploadedHash = uploadedHash
        self.currentVersion = currentVersion
        self.currentHash = currentHash
        self.changes = changes
        self.error = error
    }
}
