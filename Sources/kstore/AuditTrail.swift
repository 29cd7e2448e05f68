import ArgumentParser
import KApp
import KClinic

/// `kstore audit trail`: every event as recorded, each correction beside the event it corrects
/// (the original value still shown), late entries flagged, a summary per actor.
struct AuditTrailCommand: StoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "trail",
        abstract: "Every event as recorded, with who recorded it and when; corrections beside the events they correct.",
        discussion: """
            Each event is listed with its actor and role, the OS user that ran the command, when it \
            occurred and when the store recorded it. Amendments and voids are shown under the event \
            they correct, with their reason and the values before and after, whatever the filters; \
            they are also listed as events of their own, naming the event they correct. An event \
            recorded more than the rule set's lateEntryHours (default 24) after it occurred is flagged \
            LATE. --from/--to select by the date recorded (UTC), or with --by occurred by the clinical \
            date of occurredAt. A summary per actor follows.
            """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var trailFilter: TrailFilterOptions
    @Flag(help: "Print {\"entries\": […], \"actors\": […]} as JSON.") var json = false

    func run(_ store: ClinicStore) throws {
        let filter = trailFilter.filter
        if json {
            let trail = try AuditTrailReader(store, filter: filter)
            try recordAccess(store, patients: trail.patients)
            try trail.writeJSONLine { Output.writeBytes($0, to: 1) }
            return
        }
        // The table's columns are as wide as their widest cell: measured in the reader's first
        // pass, then every row printed as it is read again.
        var widths = AuditTrailText.headers.map(\.count)
        let trail = try AuditTrailReader(store, filter: filter) { e in
            for (i, c) in AuditTrailText.cells(e).enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        try recordAccess(store, patients: trail.patients)
        var out = AuditTrailText.Writer { Output.writeBytes($0, to: 1) }
        try AuditTrailText.render(trail, widths: widths, into: &out)
        out.flush()
        if trail.count == 0 { Output.error("no events match") }
    }
}

/// The readable form: one line per event, its corrections indented under it, then the actors.
enum AuditTrailText {
    static let headers = ["SEQ", "RECORDED", "OCCURRED", "PATIENT", "TYPE", "ACTOR (ROLE)", "OS USER", "LATE", "DATA"]

    /// Text handed on in chunks of about 1 MiB.
    struct Writer {
        let sink: ([UInt8]) -> Void
        private var buffer: [UInt8] = []

        init(_ sink: @escaping ([UInt8]) -> Void) {
            self.sink = sink
            buffer.reserveCapacity(1 << 20 + 4096)
        }

        mutating func write(_ s: String) {
            buffer.append(contentsOf: s.utf8)
            if buffer.count >= 1 << 20 { flush() }
        }

        mutating func flush() {
            if !buffer.isEmpty { sink(buffer) }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// One entry's row.
    static func cells(_ e: AuditTrail.Entry) -> [String] {
        let r = e.record
        return [
            String(r.sequence), EventMapping.formatMicros(r.recordedAtMicros), r.occurredAt.rfc3339, r.patient, r.type.rawValue,
            "\(r.actor.id) (\(r.actor.role.rawValue))", r.osUser,
            e.late ? "LATE \(AuditTrail.describeDelay(micros: e.delayMicros))" : "-",
            JSONWriter.string(r.event.dataJSON),
        ]
    }

    /// The whole table, its rows as `trail` reads them; `widths` the widest cell of each column
    /// (headers included).
    static func render(_ trail: AuditTrailReader, widths: [Int], into out: inout Writer) throws {
        func fmt(_ cells: [String]) -> String {
            var line = ""
            for (i, c) in cells.enumerated() {
                line += i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
            }
            return line + "\n"
        }
        let indent = String(repeating: " ", count: widths[0] + 2)
        out.write("Audit trail: \(trail.count) event(s)")
        out.write("; LATE = recorded more than \(trail.lateEntryHours) h after it occurred (rule set \(trail.rulesVersion))\n\n")
        out.write(fmt(headers))
        out.write(fmt(widths.map { String(repeating: "-", count: $0) }))
        try trail.forEachEntry { e in
            out.write(fmt(cells(e)))
            for l in lines(for: e) { out.write(indent + l + "\n") }
        }
        out.write("\n")
        var actors = Table(["ACTOR", "ROLE", "EVENTS", "CORRECTIONS MADE", "CORRECTED BY OTHERS", "LATE ENTRIES"])
        for a in trail.actors {
            actors.add([
                a.id, a.roles.map(\.rawValue).joined(separator: ","), String(a.events), String(a.corrections),
                String(a.correctedByOthers), String(a.lateEntries),
            ])
        }
        out.write(actors.render())
    }

    /// The lines under one entry: what it corrects, each correction of it, what now stands.
    static func lines(for e: AuditTrail.Entry) -> [String] {
        var out: [String] = []
        if let ref = e.corrects {
            if let t = ref.record {
                out.append(
                    "↳ corrects seq \(t.sequence) (\(t.type.rawValue) by \(t.actor.id), occurred \(t.occurredAt.rfc3339)), as recorded: "
                        + JSONWriter.string(t.event.dataJSON))
            } else {
                out.append("↳ corrects event \(ref.eventId.uuidString.lowercased()) (not in the store)")
            }
        }
        for c in e.corrections {
            let who = "\(c.record.actor.id) (\(c.record.actor.role.rawValue), OS user \(c.record.osUser))"
            let when = EventMapping.formatMicros(c.record.recordedAtMicros)
            let target =
                c.targetEventId == e.record.eventId
                ? "" : "correction at seq \(c.targetSequence.map(String.init) ?? c.targetEventId.uuidString.lowercased()) "
            var line: String
            switch c.kind {
            case .amended:
                let changes = c.changes.map { ch in
                    "\(ch.field): \(ch.before.map(JSONWriter.string) ?? "(absent)") → \(JSONWriter.string(ch.after))"
                }.joined(separator: ", ")
                line = "↳ amended by \(who) at \(when), seq \(c.record.sequence): \(c.reason) — \(changes)"
            case .voided:
                line = "↳ \(target)voided by \(who) at \(when), seq \(c.record.sequence): \(c.reason)"
            }
            if let by = c.voidedBy { line += " [undone by the void at seq \(by)]" }
            out.append(line)
        }
        if !e.corrections.isEmpty {
            if let by = e.voidedBy {
                out.append("= void (seq \(by)); as recorded above, no longer in force")
            } else if let data = e.effectiveData, data != e.record.event.dataJSON {
                out.append("= in force now: \(JSONWriter.string(data))")
            } else {
                out.append("= in force now: as recorded")
            }
        }
        return out
    }
}

/// The trail's filters, shared by `audit trail` and `report trail`.
struct TrailFilterOptions: ParsableArguments {
    @Option(help: "Only this patient's events.") var patient: String?
    @Option(help: "Only events recorded by this actor id.") var actor: String?
    @Option(help: "Only events of this type, e.g. ScoreRecorded.") var type: EventType?
    @Option(help: "From this date, YYYY-MM-DD (inclusive).") var from: Day?
    @Option(help: "Through this date, YYYY-MM-DD (inclusive).") var to: Day?
    @Option(help: "Which date --from/--to select by: recorded (recordedAt, UTC; the default) or occurred (occurredAt's clinical date).")
    var by: AuditTrail.DateBasis = .recorded

    func validate() throws {
        if let from, let to, to < from {
            throw ValidationError("--to \(to) is before --from \(from)")
        }
    }

    var filter: AuditTrail.Filter { AuditTrail.Filter(patient: patient, actor: actor, type: type, from: from, to: to, dates: by) }
}
