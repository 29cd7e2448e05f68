import KClinic

/// The three reports of web.md ("Reports: the same pages as files"): pure functions from their
/// page data to one self-contained HTML document (style and SVG inline, no script).
public enum Reports {
    // MARK: Patient

    /// The patient's page: header, course chart, phase explanation, due items, audit findings,
    /// alerts, and the event list with each correction beside what it corrects.
    public static func patient(_ p: PatientPage) -> String {
        H.page(title: "Patient \(p.patient) on \(p.evaluationDay)", patientBody(p), reserving: 65_536 + 800 * p.events.count)
    }

    /// The patient page's content; `alertAction` adds a last column to the alerts table (the
    /// web page's acknowledge form).
    static func patientBody(_ p: PatientPage, alertAction: ((ProtocolAlert) -> Body)? = nil) -> [Body] {
        let v = p.phase
        let day = p.evaluationDay
        let interval =
            v.interval.map { i in
                "\(i.days) days (\(i.treatmentsAtInterval) of " + (i.requiredBeforeExtension.map(String.init) ?? "open-ended") + ")"
            } ?? "none"
        let due: String
        if let d = v.nextInfusionDue {
            due = d.description + (d == day ? " (today)" : d < day ? "" : " (in \(day.days(to: d)) days)")
        } else {
            due = "nothing due"
        }
        var facts: [(String, Body)] = [
            ("Patient", H.t(p.patient)),
            ("Protocol", H.t(v.treatmentProtocol.rawValue)),
            ("Rule set", H.t(p.rulesVersion)),
            ("Status", H.t(v.status.rawValue)),
            ("Phase", H.t(v.phase.rawValue + (v.weekOfTreatment.map { ", week \($0)" } ?? ""))),
            ("Response", H.t(v.responseStatus?.rawValue ?? "-")),
            (
                "MADRS base / nadir / latest",
                H.t([v.baselineMadrs, v.nadirMadrs, v.latestMadrs].map { $0.map(String.init) ?? "-" }.joined(separator: " / "))
            ),
            ("Interval", H.t(interval)),
            ("Next infusion due", H.t(due)),
            (
                "Overdue",
                v.infusionOverdueDays > 0 ? H.badge("overdue", "\(v.infusionOverdueDays) days overdue") : H.t("not overdue")
            ),
        ]
        if v.status == .hold { facts.append(("Hold", H.badge("critical", "pregnant: nothing is due"))) }

        let chart = CourseChart.svg(
            CourseChart.Input(
                history: p.history, responseReduction: p.responseReduction, remissionMax: p.remissionMax,
                nextInfusionDue: v.nextInfusionDue,
                monitoringDue: p.nearestMonitoring))

        var body: [Body] = [
            H.el(
                "header", [],
                [
                    H.el("h1", [], text: "Patient \(p.patient)"),
                    H.el(
                        "p", [("class", "sub")],
                        text: "Course and schedule on \(day) · rule set \(p.rulesVersion) (sha256 \(String(p.rulesHash.prefix(12)))…)"),
                    factList(facts),
                ]),
            H.el(
                "section", [("aria-labelledby", "h-chart")],
                [
                    H.el("h2", [("id", "h-chart")], text: "Course chart"),
                    H.el("figure", [("class", "chart")], [H.trusted(chart)]),
                    H.el(
                        "p", [("class", "sub")],
                        text:
                            "Scores on the left axis (MADRS 0–60), the interval in force on the right axis (days). Hover a point for its value, an infusion for its dose and route."
                    ),
                ]),
        ]

        // Phase explanation.
        let steps = v.explain ?? []
        body.append(
            H.el(
                "section", [("aria-labelledby", "h-phase")],
                [
                    H.el("h2", [("id", "h-phase")], text: "Why this phase, interval and due date"),
                    steps.isEmpty
                        ? H.el("p", [("class", "empty")], text: "Nothing to explain yet.")
                        : H.table(
                            "explain", headers: ["Rule", "Date", "Event", "Why"],
                            rows: steps.map { s in
                                H.row([
                                    H.el("span", [("class", "rule")], text: s.rule),
                                    H.el("span", [("class", "nowrap")], text: s.date?.description ?? "-"),
                                    H.t(s.sequence.map { "#\($0)" } ?? "-"), H.t(s.detail),
                                ])
                            }),
                ]))

        // Due items: most urgent first.
        let order: [DueStatus: Int] = [.overdue: 0, .missing: 1, .due: 2, .ok: 3]
        let items = p.due.sorted {
            ((order[$0.status] ?? 9), $0.dueBy ?? day, $0.item) < ((order[$1.status] ?? 9), $1.dueBy ?? day, $1.item)
        }
        body.append(
            H.el(
                "section", [("aria-labelledby", "h-due")],
                [
                    H.el("h2", [("id", "h-due")], text: "Monitoring and documentation due (R10)"),
                    items.isEmpty
                        ? H.el("p", [("class", "empty")], text: "Nothing is listed on \(day).")
                        : H.table(
                            "due", headers: ["Status", "Item", "Last done", "Due from", "Due by"],
                            rows: items.map { d in
                                H.row(
                                    [
                                        H.badge(d.status.rawValue, d.status.rawValue), H.t(d.item), H.t(d.lastDone?.description ?? "never"),
                                        H.t(d.dueFrom?.description ?? "-"), H.t(d.dueBy?.description ?? "-"),
                                    ], [("data-status", d.status.rawValue)])
                            }),
                ]))

        body.append(auditSection(p.audit, day: day, showPatient: false))
        body.append(
            alertSection(
                p.alerts.map { (p.patient, $0) }, day: day, showPatient: false, title: "Alerts (R7)",
                action: alertAction.map { f in { _, a in f(a) } }))

        body.append(
            H.el(
                "section", [("aria-labelledby", "h-events")],
                [
                    H.el("h2", [("id", "h-events")], text: "Events as recorded (\(p.events.count))"),
                    H.el(
                        "p", [("class", "sub")],
                        text: "In log order. Each amendment or void is shown under the event it corrects, with its reason and both values."),
                    eventTable(p.events, showPatient: false),
                ]))
        body.append(H.el("footer", [], text: "kstore report patient · \(p.patient) · evaluated on \(day) · rule set \(p.rulesVersion)"))
        return body
    }

    // MARK: Today

    /// The clinic's day: counts, then infusions due and overdue, monitoring, alerts by severity,
    /// documentation gaps; the most urgent first in each.
    public static func today(_ t: TodayPage) -> String {
        let rows = t.infusions.count + t.monitoring.count + t.alerts.count + t.gaps.count
        return H.page(title: "Today \(t.evaluationDay)", todayBody(t), reserving: 65_536 + 400 * rows)
    }

    /// The today page's content, each patient id written by `patientCell` (the web page links it).
    static func todayBody(_ t: TodayPage, patientCell: (String) -> Body = H.t) -> [Body] {
        let day = t.evaluationDay
        let infusions = t.infusions.sorted {
            ($1.infusionOverdueDays, $0.patient) < ($0.infusionOverdueDays, $1.patient)
        }
        let overdueInfusions = infusions.filter { $0.infusionOverdueDays > 0 }.count
        let statusOrder: [DueStatus: Int] = [.overdue: 0, .missing: 1, .due: 2, .ok: 3]
        let monitoring = t.monitoring.sorted {
            (statusOrder[$0.status] ?? 9, $0.dueBy ?? day, $0.patient, $0.item) < (
                statusOrder[$1.status] ?? 9, $1.dueBy ?? day, $1.patient, $1.item
            )
        }
        let sevOrder: [AlertSeverity: Int] = [.critical: 0, .warning: 1, .info: 2]
        let alerts = t.alerts.sorted {
            (sevOrder[$0.alert.severity] ?? 9, $0.alert.raisedOn, $0.patient) < (
                sevOrder[$1.alert.severity] ?? 9, $1.alert.raisedOn, $1.patient
            )
        }
        func count(_ n: Int, _ label: String, _ kind: String) -> Body {
            H.el("li", [("class", "count-\(kind)"), ("data-count", String(n))], [H.el("b", [], text: String(n)), H.t(label)])
        }
        let critical = alerts.filter { $0.alert.severity == .critical }.count
        var body: [Body] = [
            H.el(
                "header", [],
                [
                    H.el("h1", [], text: "Today at the clinic: \(day)"),
                    H.el("p", [("class", "sub")], text: "\(t.patients) patients · rule set \(t.rulesVersion)"),
                    H.el(
                        "ul", [("class", "counts")],
                        [
                            count(overdueInfusions, "infusions overdue", "overdue"),
                            count(infusions.count - overdueInfusions, "infusions due today", "due"),
                            count(monitoring.filter { $0.status == .overdue }.count, "monitoring overdue", "overdue"),
                            count(monitoring.filter { $0.status == .missing }.count, "monitoring missing", "missing"),
                            count(monitoring.filter { $0.status == .due }.count, "monitoring due", "due"),
                            count(critical, "critical alerts", "critical"),
                            count(alerts.count - critical, "other active alerts", "warning"),
                            count(t.gaps.count, "documentation gaps", "info"),
                        ]),
                ])
        ]
        body.append(
            H.el(
                "section", [("aria-labelledby", "h-inf")],
                [
                    H.el("h2", [("id", "h-inf")], text: "Infusions due and overdue (\(infusions.count))"),
                    infusions.isEmpty
                        ? H.el("p", [("class", "empty")], text: "No infusion is due on or before \(day).")
                        : H.table(
                            "infusions", headers: ["Status", "Patient", "Due", "Status of care", "Phase", "Interval"],
                            rows: infusions.map { v in
                                let over = v.infusionOverdueDays
                                return H.row(
                                    [
                                        over > 0 ? H.badge("overdue", "\(over) d overdue") : H.badge("due", "due today"),
                                        patientCell(v.patient),
                                        H.t(v.nextInfusionDue?.description ?? "-"), H.t(v.status.rawValue), H.t(v.phase.rawValue),
                                        H.t(v.interval.map { "\($0.days) d" } ?? "-"),
                                    ], [("data-patient", v.patient)])
                            }),
                ]))
        body.append(
            H.el(
                "section", [("aria-labelledby", "h-mon")],
                [
                    H.el("h2", [("id", "h-mon")], text: "Monitoring due, overdue and missing (\(monitoring.count))"),
                    monitoring.isEmpty
                        ? H.el("p", [("class", "empty")], text: "Nothing is due.")
                        : H.table(
                            "due", headers: ["Status", "Patient", "Item", "Last done", "Due by"],
                            rows: monitoring.map { d in
                                H.row(
                                    [
                                        H.badge(d.status.rawValue, d.status.rawValue), patientCell(d.patient), H.t(d.item),
                                        H.t(d.lastDone?.description ?? "never"),
                                        H.t(d.dueBy?.description ?? "-"),
                                    ], [("data-patient", d.patient), ("data-status", d.status.rawValue)])
                            }),
                ]))
        body.append(
            alertSection(
                alerts.map { ($0.patient, $0.alert) }, day: day, showPatient: true, title: "Active alerts by severity",
                patientCell: patientCell))
        body.append(auditSection(t.gaps, day: day, showPatient: true, patientCell: patientCell))
        body.append(H.el("footer", [], text: "kstore report today · \(day) · rule set \(t.rulesVersion)"))
        return body
    }

    // MARK: Trail

    /// The audit trail as a printable document: verify's result and the head hash at the top,
    /// every event as recorded, corrections beside the originals, late entries flagged.
    public static func trail(_ t: TrailPage) -> String {
        let filters = t.filters.isEmpty ? "all events" : t.filters.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        var body: [Body] = [
            H.el(
                "header", [],
                [
                    H.el("h1", [], text: "Audit trail"),
                    H.el("p", [("class", "sub")], text: "Store \(t.storeId) · \(filters) · rule set \(t.rulesVersion)"),
                    t.verifyOK
                        ? H.el(
                            "p", [("class", "ok-line"), ("data-verify", "ok")],
                            [
                                H.badge("ok", "verified"),
                                H.t(" The hash chain and every index check out over all \(t.verifiedEvents) events."),
                            ])
                        : H.el(
                            "p", [("class", "bad-line"), ("data-verify", "failed")],
                            [
                                H.badge("overdue", "verify failed"),
                                H.t(" \(t.problems.count) problem(s) over \(t.verifiedEvents) events:"),
                            ]),
                    t.problems.isEmpty ? .empty : H.el("ul", [], t.problems.map { H.el("li", [], text: $0) }),
                    factList([
                        ("Head hash (SHA-256)", H.code(t.headHash)), ("Events in the log", H.t(String(t.verifiedEvents))),
                        ("Events listed", H.t(String(t.entries.count))),
                        ("Late entries", H.t("\(t.entries.filter(\.late).count) (recorded > \(t.lateEntryHours) h after occurring)")),
                    ]),
                ])
        ]
        body.append(trailEventsSection(t))
        body.append(trailActorsSection(t))
        body.append(
            H.el(
                "footer", [],
                text: "kstore report trail · \(filters) · head \(t.headHash) · a copy in human readable form (21 CFR 11.10(b))"))
        return H.page(title: "Audit trail", body, reserving: 65_536 + 800 * t.entries.count)
    }

    /// The trail's event table under its heading.
    static func trailEventsSection(_ t: TrailPage, title: String = "Events as recorded") -> Body {
        H.el(
            "section", [("aria-labelledby", "h-trail")],
            [
                H.el("h2", [("id", "h-trail")], text: title),
                eventTable(t.entries, showPatient: true),
            ])
    }

    /// The trail's actors table under its heading.
    static func trailActorsSection(_ t: TrailPage) -> Body {
        H.el(
            "section", [("aria-labelledby", "h-actors")],
            [
                H.el("h2", [("id", "h-actors")], text: "Actors"),
                H.table(
                    "actors", headers: ["Actor", "Roles", "Events", "Corrections made", "Corrected by others", "Late entries"],
                    rows: t.actors.map { a in
                        H.row([
                            H.t(a.id), H.t(a.roles), H.t(String(a.events)), H.t(String(a.corrections)),
                            H.t(String(a.correctedByOthers)),
                            H.t(String(a.lateEntries)),
                        ])
                    }),
            ])
    }

    // MARK: Parts

    static func factList(_ facts: [(String, Body)]) -> Body {
        H.el("dl", [("class", "facts")], facts.map { f in H.el("div", [], [H.el("dt", [], text: f.0), H.el("dd", [], [f.1])]) })
    }

    static func auditSection(_ findings: [AuditFinding], day: Day, showPatient: Bool, patientCell: (String) -> Body = H.t) -> Body {
        let rank: [AuditScope: Int] = [.baseline: 0, .visit: 1, .quarter: 2, .year: 3]
        let sorted = findings.sorted {
            ($0.date ?? $0.periodStart ?? day, rank[$0.scope] ?? 9, $0.patient) < (
                $1.date ?? $1.periodStart ?? day, rank[$1.scope] ?? 9, $1.patient
            )
        }
        var headers = ["Scope", "Date or period", "Missing"]
        if showPatient { headers.insert("Patient", at: 0) }
        return H.el(
            "section", [("aria-labelledby", "h-audit")],
            [
                H.el("h2", [("id", "h-audit")], text: "Documentation gaps (R11): \(findings.count)"),
                findings.isEmpty
                    ? H.el("p", [("class", "empty")], text: "No documentation findings on \(day).")
                    : H.table(
                        "audit", headers: headers,
                        rows: sorted.map { f in
                            let when = f.date?.description ?? "\(f.periodStart?.description ?? "?") – \(f.periodEnd?.description ?? "?")"
                            var cells: [Body] = [
                                H.t(f.scope.rawValue), H.el("span", [("class", "nowrap")], text: when),
                                H.t(f.missing.joined(separator: ", ")),
                            ]
                            if showPatient { cells.insert(patientCell(f.patient), at: 0) }
                            return H.row(cells, [("data-patient", f.patient)])
                        }),
            ])
    }

    static func alertSection(
        _ alerts: [(String, ProtocolAlert)], day: Day, showPatient: Bool, title: String, patientCell: (String) -> Body = H.t,
        action: ((String, ProtocolAlert) -> Body)? = nil
    ) -> Body {
        var headers = ["Severity", "Raised", "Kind", "State", "Detail"]
        if showPatient { headers.insert("Patient", at: 0) }
        if action != nil { headers.append("Action") }
        return H.el(
            "section", [("aria-labelledby", "h-alerts")],
            [
                H.el("h2", [("id", "h-alerts")], text: "\(title): \(alerts.filter { $0.1.isActive(on: day) }.count) active"),
                alerts.isEmpty
                    ? H.el("p", [("class", "empty")], text: "No alerts.")
                    : H.table(
                        "alerts", headers: headers,
                        rows: alerts.map { (patient, a) in
                            let active = a.isActive(on: day)
                            var cells: [Body] = [
                                H.badge(a.severity.rawValue, a.severity.rawValue),
                                H.el("span", [("class", "nowrap")], text: a.raisedOn.description),
                                H.t(a.kind.rawValue), H.t(active ? "active" : "acknowledged"),
                                H.el("span", [], [H.t(a.detail), H.el("br"), H.el("code", [], text: a.id)]),
                            ]
                            if showPatient { cells.insert(patientCell(patient), at: 0) }
                            if let action { cells.append(active ? action(patient, a) : .empty) }
                            return H.row(cells, [("data-alert", a.id), ("data-active", active ? "true" : "false")])
                        }),
            ])
    }

    /// A signed event's signature in words (21 CFR 11.50: the printed name, the instant, the
    /// meaning), above its data; nothing for an unsigned event.
    static func signatureLine(_ data: String) -> Body {
        guard data.contains("\"signature\""), let doc = try? JSONParser.parse(Array(data.utf8)), let sig = doc["signature"] else {
            return .empty
        }
        func text(_ key: String) -> String? {
            if case .string(let s)? = sig[key] { return s }
            return nil
        }
        guard let meaning = text("meaning"), let at = text("signedAt") else { return .empty }
        let who = [text("name"), text("actor").map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        return H.el(
            "div", [("class", "sig"), ("data-meaning", meaning)],
            [H.el("b", [], text: "Signed by \(who)"), H.t(" · meaning: \(meaning) · \(at)")])
    }

    static func eventTable(_ rows: [EventRow], showPatient: Bool) -> Body {
        var headers = ["Seq", "Occurred / recorded", "Type", "Recorded by", "Data as recorded and corrections"]
        if showPatient { headers.insert("Patient", at: 1) }
        return H.table(
            "events", headers: headers,
            rows: rows.map { r in
                var flags: [Body] = []
                if r.late { flags.append(H.badge("late", "late \(r.lateBy ?? "")")) }
                if let v = r.voidedBy { flags.append(H.badge("void", "voided by #\(v)")) }
                var detail: [Body] = [signatureLine(r.data), H.json(r.data)]
                if let c = r.corrects {
                    var what = "corrects "
                    what += c.sequence.map { "#\($0)" } ?? c.eventId
                    if let type = c.type { what += " (\(type))" }
                    detail.append(
                        H.el(
                            "div", [("class", "corr")],
                            [
                                H.el("b", [], text: what), H.t(r.reason.map { " — reason: \($0)" } ?? ""),
                                c.data.map { H.json($0, label: "as recorded: ") } ?? .empty,
                            ]))
                }
                for c in r.corrections {
                    var head = c.voids ? "voided" : "amended"
                    if let of = c.ofCorrection { head = "voided the correction #\(of)" }
                    head += " by \(c.actor) (\(c.role), OS user \(c.osUser)) at \(c.recordedAt), #\(c.sequence)"
                    var parts: [Body] = [H.el("b", [], text: head), H.t(" — reason: \(c.reason)")]
                    if !c.changes.isEmpty {
                        parts.append(
                            H.el(
                                "ul", [],
                                c.changes.map { ch in
                                    H.el(
                                        "li", [],
                                        [
                                            H.code(ch.field), H.t(": was "), H.code(ch.before ?? "(absent)"), H.t(" → now "),
                                            H.code(ch.after),
                                        ])
                                }))
                    }
                    if let u = c.undoneBy { parts.append(H.el("div", [], text: "undone by the void #\(u)")) }
                    detail.append(H.el("div", [("class", c.undoneBy == nil ? "corr" : "corr undone")], parts))
                }
                if let f = r.inForce { detail.append(H.json(f, label: "in force now: ")) }
                var cells: [Body] = [
                    H.t("#\(r.sequence)"),
                    H.el(
                        "span", [],
                        [
                            H.el("span", [("class", "nowrap")], text: r.occurredAt), H.el("br"),
                            H.el("span", [("class", "nowrap")], text: r.recordedAt),
                        ]),
                    H.el("span", [], [H.t(r.type), H.el("br")] + flags),
                    H.el(
                        "span", [],
                        [H.t("\(r.actor) (\(r.role))"), H.el("br"), H.el("span", [("class", "who")], text: "OS user \(r.osUser)")]),
                    H.el("div", [], detail),
                ]
                if showPatient { cells.insert(H.t(r.patient.isEmpty ? "(system)" : r.patient), at: 1) }
                return H.row(cells, [("data-seq", String(r.sequence)), ("class", r.voidedBy == nil ? "" : "voided")])
            })
    }
}
