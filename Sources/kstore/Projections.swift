import ArgumentParser
import Foundation
import KApp
import KClinic

/// `--on` and `--as-of`, shared by every query.
struct WhenOptions: ParsableArguments {
    @Option(help: "Evaluation date YYYY-MM-DD (default: today, local time).") var on: Day?
    @Option(name: .customLong("as-of"), help: "Knowledge time (RFC 3339): only events recorded at or before it count.")
    var asOf: Timestamp?

    var day: Day { on ?? today() }

    var asOfMicros: Int64? { asOf.map { $0.epochMillis * 1000 } }
}

/// Today's date in local time: the default evaluation date.
func today() -> Day { SystemClock.today() }

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Projections computed from the log: protocol phase and schedule.",
        subcommands: [Phase.self, Due.self, Audit.self, Alerts.self, Inventory.self, Dispensing.self]
    )

    struct Due: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Monitoring and documentation items (R10): last done, due from, due by, status.")
        @OptionGroup var options: StoreOptions
        @Option(help: "One patient.") var patient: String?
        @OptionGroup var when: WhenOptions
        @Option(help: "Only these statuses, comma-separated: ok, due, overdue, missing.") var status: DueStatuses?
        @Option(name: .customLong("fail-on"), help: "Exit 1 when any listed item has this status (overdue).") var failOn: DueStatus?
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let all = try ProjectionEngine(store: store).due(patient: patient, on: when.day, asOf: when.asOfMicros)
            try recordAccess(store, patients: try patientsInScope(store, patient))
            let items = all.filter { status?.statuses.contains($0.status) ?? true }
            if json {
                Output.json(.array(items.map(Views.due)))
            } else {
                var t = Table(["PATIENT", "ITEM", "LAST DONE", "DUE FROM", "DUE BY", "STATUS"])
                for d in items {
                    t.add([
                        d.patient, d.item, d.lastDone?.description ?? "never", d.dueFrom?.description ?? "-",
                        d.dueBy?.description ?? "-", d.status.rawValue,
                    ])
                }
                Output.writeBytes(Array(t.render().utf8), to: 1)
                let counts = Dictionary(grouping: items, by: \.status).mapValues(\.count)
                Output.line(
                    "\(items.count) item(s) on \(when.day): "
                        + DueStatus.allCases.compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }.joined(separator: ", "))
            }
            if let failOn, items.contains(where: { $0.status == failOn }) {
                throw ExitCode(1)
            }
        }
    }

    struct Audit: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Documentation findings (R11): baseline, visits, quarters and years with something missing.")
        @OptionGroup var options: StoreOptions
        @Option(help: "One patient.") var patient: String?
        @OptionGroup var when: WhenOptions
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let findings = try ProjectionEngine(store: store).audit(patient: patient, on: when.day, asOf: when.asOfMicros)
            try recordAccess(store, patients: try patientsInScope(store, patient))
            if json {
                Output.json(.array(findings.map(Views.audit)))
                return
            }
            var t = Table(["PATIENT", "SCOPE", "DATE OR PERIOD", "MISSING"])
            for f in findings {
                let when: String
                if let d = f.date {
                    when = d.description
                } else {
                    when = "\(f.periodStart?.description ?? "?") … \(f.periodEnd?.description ?? "?")"
                }
                t.add([f.patient, f.scope.rawValue, when, f.missing.joined(separator: ", ")])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            let patients = Set(findings.map(\.patient)).count
            Output.line(
                findings.isEmpty
                    ? "no documentation findings on \(when.day)" : "\(findings.count) finding(s) for \(patients) patient(s) on \(when.day)")
        }
    }

    struct Alerts: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Safety and protocol alerts (R7): active ones by default, --all with acknowledged.")
        @OptionGroup var options: StoreOptions
        @Option(help: "One patient.") var patient: String?
        @Flag(help: "Include acknowledged alerts.") var all = false
        @OptionGroup var when: WhenOptions
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let day = when.day
            let alerts = try ProjectionEngine(store: store).alerts(patient: patient, on: day, asOf: when.asOfMicros, all: all)
            try recordAccess(store, patients: try patientsInScope(store, patient))
            if json {
                Output.json(.array(alerts.map { Views.alert($0.1, patient: $0.0, on: day) }))
                return
            }
            var t = Table(["PATIENT", "RAISED", "SEVERITY", "KIND", "STATE", "DETAIL"])
            for (p, a) in alerts {
                t.add([
                    p, a.raisedOn.description, a.severity.rawValue, a.kind.rawValue, a.isActive(on: day) ? "active" : "acknowledged",
                    a.detail,
                ])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            Output.line(
                "\(alerts.count) alert(s) on \(day)" + (all ? "" : " (active; --all adds acknowledged ones)")
                    + "; acknowledge with an AlertAcknowledged event naming the id (`kstore query alerts --json` lists ids)")
        }
    }

    struct Phase: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Protocol phase, status, interval and next infusion due, per patient.")
        @OptionGroup var options: StoreOptions
        @Option(help: "One patient (prints one object with --json).") var patient: String?
        @OptionGroup var when: WhenOptions
        @Flag(help: "List the events and rule ids behind the interval and the next due date.") var explain = false
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let engine = ProjectionEngine(store: store)
            let views = try engine.phase(patient: patient, on: when.day, asOf: when.asOfMicros, explain: explain)
            if let patient, views.isEmpty {
                throw AppError.badInput([
                    .option(
                        "--patient", "no events of patient \(patient) on or before \(when.day)", expected: "a patient id from `kstore log`")
                ])
            }
            try recordAccess(store, patients: views.map(\.patient))
            if json {
                if patient != nil, let v = views.first {
                    Output.json(Views.phase(v))
                } else {
                    Output.json(.array(views.map(Views.phase)))
                }
                return
            }
            var t = Table([
                "PATIENT", "PROTOCOL", "PHASE", "STATUS", "WEEK", "RESPONSE", "BASE", "NADIR", "LATEST", "INTERVAL", "NEXT DUE", "OVERDUE",
            ])
            for v in views {
                let interval =
                    v.interval.map { i in
                        "\(i.days)d \(i.treatmentsAtInterval)/" + (i.requiredBeforeExtension.map(String.init) ?? "open")
                    } ?? "-"
                t.add([
                    v.patient, v.treatmentProtocol.rawValue, v.phase.rawValue, v.status.rawValue,
                    v.weekOfTreatment.map(String.init) ?? "-", v.responseStatus?.rawValue ?? "-",
                    v.baselineMadrs.map(String.init) ?? "-", v.nadirMadrs.map(String.init) ?? "-",
                    v.latestMadrs.map(String.init) ?? "-", interval, v.nextInfusionDue?.description ?? "-",
                    v.infusionOverdueDays > 0 ? "\(v.infusionOverdueDays) days" : "-",
                ])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            if explain {
                for v in views {
                    Output.line("\n\(v.patient): why interval and next due")
                    for s in v.explain ?? [] {
                        let seq = s.sequence.map { "#\($0)" } ?? "-"
                        Output.line("  \(s.rule)  \(s.date?.description ?? "")  \(seq)  \(s.detail)")
                    }
                }
            }
            if views.isEmpty { Output.error("no patient has events on or before \(when.day)") }
        }
    }
}

struct Replay: PreparedStoreCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild every projection from the log; with --rules, show what a rule set would change.",
        discussion: """
            Without --rules: rebuilds every projection under the rules in force and stores them.
            With --rules FILE: computes every schedule under FILE beside the rules in force and lists \
            the changes patient by patient, changing nothing; add --apply to adopt FILE (recorded in \
            the log) and store the new projections atomically.
            """
    )
    @OptionGroup var options: StoreOptions
    @Option(help: "A rule set file (JSON; any subset of the parameters, `version` required).") var rules: String?
    @Flag(help: "Adopt the rule set and store the new projections.") var apply = false
    @Option(help: "Compare schedules as of this date (default: today).") var on: Day?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if apply && rules == nil { throw ValidationError("--apply needs --rules FILE (the rule set to adopt)") }
    }

    /// The rule set of `--rules`, read before the store is opened.
    func prepare() throws -> RuleSet? {
        guard let rules else { return nil }
        guard let data = FileManager.default.contents(atPath: rules) else {
            throw AppError.badInput([LineError(file: rules, problem: "cannot read the rule file", expected: "check the path")])
        }
        do {
            return try RuleSet.load(json: [UInt8](data))
        } catch {
            throw AppError.badInput([LineError(file: rules, problem: "\(error)")])
        }
    }

    func run(_ store: ClinicStore, _ newRules: RuleSet?) throws {
        let engine = ProjectionEngine(store: store)
        engine.progress = { done, total in
            Output.write("\rreplaying: \(done / 1000)k of \(total / 1000)k events…", to: 2)
        }
        let day = on ?? today()
        let report = try engine.replay(newRules: newRules, apply: apply, on: day)
        if report.eventsReplayed >= 250_000 { Output.write("\n", to: 2) }
        // The changes show patients' schedules: an audited read of those patients.
        let shown = Array(Set(report.changes.map(\.patient)))
        if !shown.isEmpty { try recordAccess(store, patients: shown) }
        if json {
            Output.json(report.json)
            return
        }
        let rate = report.seconds > 0 ? Double(report.eventsReplayed) / report.seconds : 0
        Output.line(
            String(
                format: "replayed %llu events in %.3f s (%.0f events/s); rules %@ → %@",
                report.eventsReplayed, report.seconds, rate, report.rulesBefore, report.rulesAfter))
        if report.changes.isEmpty {
            Output.line("no schedule changes on \(day)")
        } else {
            var t = Table(["PATIENT", "FIELD", "BEFORE", "AFTER"])
            for c in report.changes {
                t.add([c.patient.isEmpty ? "(clinic)" : c.patient, c.field, Views.cell(c.before), Views.cell(c.after)])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            Output.line("\(Set(report.changes.map(\.patient)).count) patients, \(report.changes.count) changed fields on \(day)")
        }
        if newRules != nil {
            Output.line(report.applied ? "adopted \(report.rulesAfter); projections stored" : "nothing changed (add --apply to adopt)")
        }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The rule set in force.",
        subcommands: [Show.self]
    )

    struct Show: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the rule set in force: version, content hash, where it was adopted, every parameter.")
        @OptionGroup var options: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let engine = ProjectionEngine(store: store)
            let r = try engine.rulesInForce()
            let stored = try engine.storedCheckpoint()
            let doc: JSONValue = .object([
                ("version", .string(r.rules.version)), ("contentHash", .string(r.hash)),
                ("adoptedAtSequence", r.adoptedAt.map { .int(Int64($0)) } ?? .null),
                (
                    "projections",
                    stored.map { s in
                        .object([("checkpoint", .int(Int64(s.checkpoint))), ("rulesHash", .string(s.rulesHash))])
                    } ?? .null
                ),
                ("rules", RuleSetJSON.json(r.rules)),
            ])
            if json {
                Output.json(doc)
            } else {
                Output.line("rule set \(r.rules.version) (sha256 \(r.hash))")
                Output.line(r.adoptedAt.map { "adopted at sequence \($0)" } ?? "built-in defaults (never adopted in this store)")
                if let stored {
                    let same = stored.rulesHash == r.hash
                    Output.line(
                        "stored projections: through sequence \(stored.checkpoint), "
                            + (same ? "under these rules" : "under other rules (the next query rebuilds them)"))
                } else {
                    Output.line("stored projections: none yet (the first query builds them)")
                }
                Output.line(JSONWriter.string(RuleSetJSON.json(r.rules)))
            }
        }
    }
}
