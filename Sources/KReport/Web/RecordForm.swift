import KClinic

/// One charting form of `/patients/{id}/record`: the event type it records, its title and its
/// data fields (`occurredAt` is added to every form by the page). `catalogue` holds the forms of
/// the types a clinic charts at a visit; `offered(to:table:)` those the role may record.
public struct RecordForm: Sendable, Equatable {
    public var type: EventType
    public var title: String
    public var fields: [FormField]
    /// A clinician's decision about the schedule (shown in its own group).
    public var clinicianDecision: Bool

    public init(type: EventType, title: String, fields: [FormField], clinicianDecision: Bool = false) {
        self.type = type
        self.title = title
        self.fields = fields
        self.clinicianDecision = clinicianDecision
    }

    /// The forms of the catalogue whose type `role` may record under `table`.
    public static func offered(to role: Role, table: PermissionTable) -> [RecordForm] {
        catalogue.filter { table.may(role, record: $0.type) }
    }

    /// The catalogue's form for `type`.
    public static func form(for type: EventType) -> RecordForm? {
        catalogue.first { $0.type == type }
    }

    /// The name of the when-field every form carries.
    public static let occurredAtField = "occurredAt"
}
