import KClinic

/// One field of one patient that a replay changes.
public struct FieldChange: Sendable, Equatable {
    public var patient: String
    public var field: String
    public var before: JSONValue
    public var after: JSONValue
}

/// What `kstore replay` did or would do.
public struct ReplayReport: Sendable {
    public var rulesBefore: String
    public var rulesAfter: String
    public var eventsReplayed: UInt64
    public var seconds: Double
    public var changes: [FieldChange]
    public var applied: Bool

    public var json: JSONValue {
        .object([
            ("rulesBefore", .string(rulesBefore)), ("rulesAfter", .string(rulesAfter)),
            ("eventsReplayed", .int(Int64(eventsReplayed))), ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ("applied", .bool(applied)),
            (
                "changes",
                .array(
                    changes.map { c in
                        .object([
                            ("patient", c.patient.isEmpty ? .null : .string(c.patient)), ("field", .string(c.field)), ("before", c.before),
                            ("after", c.after),
                        ])
                    })
            ),
        ])
    }
}
