import KClinic

/// The JSON documents of cli.md, built as `JSONValue` (written with sorted keys).
public enum Views {
    static func opt(_ v: Int?) -> JSONValue { v.map { .int(Int64($0)) } ?? .null }
    static func opt(_ d: Day?) -> JSONValue { d.map { .string($0.description) } ?? .null }

    /// `query phase` for one patient.
    public static func phase(_ v: PhaseView) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("patient", .string(v.patient)),
            ("protocol", .string(v.treatmentProtocol.rawValue)),
            ("phase", .string(v.phase.rawValue)),
            ("status", .string(v.status.rawValue)),
            ("weekOfTreatment", opt(v.weekOfTreatment)),
            ("responseStatus", v.responseStatus.map { .string($0.rawValue) } ?? .null),
            ("baselineMadrs", opt(v.baselineMadrs)),
            ("nadirMadrs", opt(v.nadirMadrs)),
            ("latestMadrs", opt(v.latestMadrs)),
            (
                "interval",
                v.interval.map { i in
                    .object([
                        ("days", .int(Int64(i.days))), ("treatmentsAtInterval", .int(Int64(i.treatmentsAtInterval))),
                        ("requiredBeforeExtension", opt(i.requiredBeforeExtension)),
                    ])
                } ?? .null
            ),
            ("nextInfusionDue", opt(v.nextInfusionDue)),
            ("infusionOverdueDays", .int(Int64(v.infusionOverdueDays))),
        ]
        if let explain = v.explain {
            fields.append(
                (
                    "explain",
                    .array(
                        explain.map { s in
                            .object([
                                ("sequence", s.sequence.map { .int(Int64($0)) } ?? .null),
                                ("eventId", s.eventId.map { .string($0.uuidString.lowercased()) } ?? .null),
                                ("date", opt(s.date)), ("rule", .string(s.rule)), ("detail", .string(s.detail)),
                            ])
                        })
                ))
        }
        return .object(fields)
    }

    /// `query due` for one item.
    public static func due(_ d: DueItem) -> JSONValue {
        var fields: [(String, JSONValue)] = [("patient", .string(d.patient)), ("item", .string(d.item))]
        // R14: a rems-form row names its session.
        if let s = d.session { fields.append(("session", .string(s.uuidString.lowercased()))) }
        fields += [
            ("lastDone", opt(d.lastDone)), ("dueFrom", opt(d.dueFrom)), ("dueBy", opt(d.dueBy)), ("status", .string(d.status.rawValue)),
        ]
        return .object(fields)
    }

    /// `query audit` for one finding (`date` for baseline and visit, the period for windows).
    public static func audit(_ f: AuditFinding) -> JSONValue {
        var fields: [(String, JSONValue)] = [("patient", .string(f.patient)), ("scope", .string(f.scope.rawValue))]
        if let d = f.date { fields.append(("date", .string(d.description))) }
        if let a = f.periodStart { fields.append(("periodStart", .string(a.description))) }
        if let b = f.periodEnd { fields.append(("periodEnd", .string(b.description))) }
        if let i = f.infusion { fields.append(("infusion", .string(i.uuidString.lowercased()))) }
        fields.append(("missing", .array(f.missing.map { .string($0) })))
        return .object(fields)
    }

    /// The comparable fields of a patient's monitoring items for replay diffs:
    /// `due.<item>.dueBy` and `due.<item>.status`.
    public static func dueFields(_ items: [DueItem]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for d in items {
            let name = d.session.map { "\(d.item)[\($0.uuidString.lowercased())]" } ?? d.item
            out["due.\(name).dueBy"] = opt(d.dueBy)
            out["due.\(name).status"] = .string(d.status.rawValue)
        }
        return out
    }

    /// `query alerts` for one alert.
    public static func alert(_ a: ProtocolAlert, patient: String, on day: Day) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(a.id)), ("patient", .string(patient)), ("kind", .string(a.kind.rawValue)),
            ("severity", .string(a.severity.rawValue)), ("raisedOn", .string(a.raisedOn.description)),
            ("sourceEvent", .string(a.source.eventId.uuidString.lowercased())),
            ("acknowledged", .bool(!a.isActive(on: day))),
            (
                "acknowledgedBy",
                a.acknowledged.flatMap { ack in ack.day <= day ? .string(ack.eventId.uuidString.lowercased()) : nil } ?? .null
            ),
            ("detail", .string(a.detail)),
        ]
        // R8 (revision 4): the class chooses the clinical action, so it is data, not only prose.
        if case .relapse(let cls, let days, _, _, let since) = a.facts {
            members.append(
                (
                    "relapse",
                    .object([("class", .string(cls.rawValue)), ("days", .int(Int64(days))), ("discontinuedOn", .string(since.description))])
                ))
        }
        return .object(members)
    }

    /// The comparable fields of a phase view, flattened (`interval.days`, …), for replay diffs.
    public static func phaseFields(_ v: PhaseView?) -> [(String, JSONValue)] {
        let names = [
            "protocol", "phase", "status", "weekOfTreatment", "responseStatus", "baselineMadrs", "nadirMadrs",
            "latestMadrs", "interval.days", "interval.treatmentsAtInterval", "interval.requiredBeforeExtension",
            "nextInfusionDue", "infusionOverdueDays",
        ]
        guard let v else { return names.map { ($0, .null) } }
        let obj = phase(v)
        return names.map { name in
            let parts = name.split(separator: ".").map(String.init)
            var value: JSONValue = obj
            for p in parts { value = value[p] ?? .null }
            return (name, value)
        }
    }

    /// A value as a table cell.
    public static func cell(_ v: JSONValue) -> String {
        switch v {
        case .null: "-"
        case .string(let s): s
        default: JSONWriter.string(v)
        }
    }
}
