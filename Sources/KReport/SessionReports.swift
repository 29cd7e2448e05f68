import KClinic

/// `kstore report rems`: the REMS patient monitoring form's content of one esketamine session.
public struct RemsPage: Sendable {
    public var form: RemsForm
    public var storeId: String
    public var rulesVersion: String
    /// The day the page was made (the form's lateness is judged on it).
    public var today: Day
    public init(form: RemsForm, storeId: String, rulesVersion: String, today: Day) {
        self.form = form
        self.storeId = storeId
        self.rulesVersion = rulesVersion
        self.today = today
    }
}

/// `kstore report dispensing`: the controlled-substance record of a period, for an inspector.
public struct DispensingPage: Sendable {
    public struct Row: Sendable, Equatable {
        public var entry: LedgerEntry
        /// The lot's drug (an infusion's own without a lot).
        public var drug: Drug?
        public init(entry: LedgerEntry, drug: Drug?) {
            self.entry = entry
            self.drug = drug
        }
    }
    public var from: Day
    public var to: Day
    public var lot: String?
    public var storeId: String
    public var headHash: String
    public var events: UInt64
    public var rows: [Row]
    public var lots: [LotPeriod]
    /// Lot alerts raised in the period, acknowledgements as of `to`.
    public var alerts: [LotAlert]
    public var biennial: BiennialInventory
    public init(
        from: Day, to: Day, lot: String?, storeId: String, headHash: String, events: UInt64, rows: [Row], lots: [LotPeriod],
        alerts: [LotAlert], biennial: BiennialInventory
    ) {
        self.from = from
        self.to = to
        self.lot = lot
        self.storeId = storeId
        self.headHash = headHash
        self.events = events
        self.rows = rows
        self.lots = lots
        self.alerts = alerts
        self.biennial = biennial
    }
}

extension Reports {
    // MARK: REMS form

    /// The form's content in the order the REMS patient monitoring form asks for it, each value
    /// with its time; a value the session lacks says so (a gap to fix before transcribing).
    public static func rems(_ p: RemsPage) -> String {
        let f = p.form
        let none = { (what: String) -> Body in H.badge("missing", what) }
        func reading(_ r: RemsForm.Reading?) -> Body {
            guard let r else { return none("not recorded") }
            return H.el(
                "span", [],
                [
                    H.t(r.text), H.el("br"),
                    H.el("span", [("class", "who")], text: when(r.at) + (r.fromVitals ? " · vitals" : " · observation")),
                ])
        }
        let dose: String = {
            let v = CourseChart.number(f.dose.value)
            return f.dose.unit == .mg
                ? "\(v) mg (\(Int(f.dose.value / 28)) × 28 mg device\(f.dose.value > 28 ? "s" : ""))" : "\(v) \(f.dose.unit.rawValue)"
        }()
        let s = f.session
        let formState: Body
        if let sub = f.submitted {
            let ref = sub.reference.map { ", reference \($0)" } ?? ""
            formState =
                sub.day <= f.formDueBy
                ? H.el("span", [], [H.badge("ok", "submitted"), H.t(" \(sub.day)\(ref)")])
                : H.el("span", [], [H.badge("late", "late"), H.t(" submitted \(sub.day)\(ref); due by \(f.formDueBy)")])
        } else {
            formState =
                p.today <= f.formDueBy
                ? H.el("span", [], [H.badge("due", "not submitted"), H.t(" due by \(f.formDueBy)")])
                : H.el("span", [], [H.badge("overdue", "overdue"), H.t(" due by \(f.formDueBy)")])
        }
        let missing = f.missing
        var body: [Body] = [
            H.el(
                "header", [],
                [
                    H.el("h1", [], text: "REMS patient monitoring form: esketamine session of \(f.day)"),
                    H.el(
                        "p", [("class", "sub")],
                        text:
                            "Patient \(f.patient) · infusion \(f.infusion.uuidString.lowercased()) (#\(f.sequence)) · to transcribe into the REMS portal"
                    ),
                    missing.isEmpty
                        ? H.el(
                            "p", [("class", "ok-line"), ("data-complete", "true")],
                            [H.badge("ok", "complete"), H.t(" Every item of the form is in the record.")])
                        : H.el(
                            "p", [("class", "bad-line"), ("data-complete", "false")],
                            [
                                H.badge("missing", "incomplete"),
                                H.t(" The record lacks: \(missing.joined(separator: ", ")). Chart it before transcribing."),
                            ]),
                    factList([("Form", formState), ("Rule set", H.t(p.rulesVersion))]),
                ])
        ]
        body.append(
            WebPages.section(
                "h-dose", "Treatment",
                [
                    factList([
                        ("Drug", H.t(f.drug.rawValue)), ("Dose", H.t(dose)),
                        ("Amount given", f.amount.map { H.t("\($0.text) mg") } ?? none("unknown")),
                        ("Lot", f.lot.map(H.t) ?? none("not recorded")),
                        ("Dosing started", H.t(when(f.start))), ("Dosing ended", H.t(when(f.end))),
                        ("Recorded by", H.t(f.recordedBy)),
                    ])
                ]))
        body.append(
            WebPages.section(
                "h-bp", "Blood pressure",
                [
                    factList([
                        ("Before dosing (≤ \(s.preDoseBpMinutes) min before)", reading(f.preDose)),
                        ("After dosing (\(s.postDoseBpFromMinutes)–\(s.postDoseBpToMinutes) min after)", reading(f.postDose)),
                        (
                            "Last before discharge",
                            f.lastBeforeDischarge.map { r in
                                f.lastBeforeDischargeInWindow
                                    ? reading(r)
                                    : H.el(
                                        "span", [],
                                        [
                                            reading(r), H.el("br"),
                                            H.badge("warning", "more than \(s.dischargeBpMinutes) min before discharge"),
                                        ])
                            } ?? none(f.discharge == nil ? "no discharge yet" : "not recorded")
                        ),
                    ])
                ]))
        body.append(
            WebPages.section(
                "h-obs", "Sedation, dissociation, respiration (\(f.observations) observation\(f.observations == 1 ? "" : "s"))",
                [
                    factList([
                        ("Lowest SpO2", f.lowestSpo2.map { H.t("\(CourseChart.number($0)) %") } ?? none("not recorded")),
                        ("Lowest MOAA/S", f.lowestMoaas.map { H.t(String($0)) } ?? none("not recorded")),
                        ("Highest CADSS", f.highestCadss.map { H.t(String($0)) } ?? none("not recorded")),
                        ("Respiratory depression", f.respiratoryDepression ? H.badge("critical", "yes") : H.t("none recorded")),
                    ])
                ]))
        let discharge: [(String, Body)]
        if let d = f.discharge {
            let minutes = f.observationMinutes ?? 0
            discharge = [
                ("Discharged", H.t(when(d.at))),
                (
                    "Observation time",
                    d.transferred || minutes >= f.minimumMinutes
                        ? H.t("\(minutes) min")
                        : H.el("span", [], [H.t("\(minutes) min "), H.badge("warning", "below \(f.minimumMinutes) min")])
                ),
                ("Discharge criteria met", d.criteriaMet ? H.t("yes") : H.badge("warning", "no")),
                ("Escort", d.escort ? H.t("yes") : H.badge("warning", "no")),
                ("Transferred", d.transferred ? H.badge("critical", "to emergency or hospital care") : H.t("no")),
                ("Note", H.t(d.note ?? "-")),
            ]
        } else {
            discharge = [("Discharged", none("no discharge recorded"))]
        }
        body.append(WebPages.section("h-discharge", "Discharge", [factList(discharge)]))
        body.append(
            WebPages.section(
                "h-ae", "Severe side effects on \(f.day)",
                [
                    f.severeSideEffects.isEmpty
                        ? H.el(
                            "p", [("class", "empty")],
                            text: "None reported" + (f.otherSideEffects > 0 ? " (\(f.otherSideEffects) mild or moderate)." : "."))
                        : H.table(
                            "ae", headers: ["Reported at", "Category", "Note"],
                            rows: f.severeSideEffects.map { e in
                                H.row([
                                    H.el("span", [("class", "nowrap")], text: e.at.rfc3339), H.t(e.category.rawValue), H.t(e.note ?? ""),
                                ])
                            })
                ]))
        body.append(
            H.el(
                "footer", [],
                text:
                    "kstore report rems · store \(p.storeId) · made \(p.today) · the form is due within \(s.remsFormDays) days of the session (R14)"
            ))
        return H.page(title: "REMS form: \(f.patient), \(f.day)", body)
    }

    // MARK: Dispensing

    /// The controlled-substance record of a period: per lot its opening and closing balance
    /// with what entered and left, the counts, the lot alerts, then every row in instant order,
    /// and a place for the signatures of the registrant and the inspector.
    public static func dispensing(_ p: DispensingPage) -> String {
        let scope = p.lot.map { "lot \($0)" } ?? "all lots"
        var body: [Body] = [
            H.el(
                "header", [],
                [
                    H.el("h1", [], text: "Controlled-substance record, \(p.from) to \(p.to)"),
                    H.el(
                        "p", [("class", "sub")],
                        text:
                            "\(scope) · every receipt, administration, waste, disposal, adjustment and count (21 CFR 1304.21–1304.22) · quantities in exact mg"
                    ),
                    factList([
                        ("Rows", H.t(String(p.rows.count))), ("Lots", H.t(String(p.lots.count))),
                        (
                            "Infusions naming no lot",
                            p.rows.contains { $0.entry.lot == nil }
                                ? H.badge("missing", String(p.rows.filter { $0.entry.lot == nil }.count)) : H.t("0")
                        ),
                        ("Active lot alerts", H.t(String(p.alerts.filter { $0.acknowledged == nil }.count))),
                        (
                            "Biennial inventory",
                            p.biennial.status.map { st in
                                H.el(
                                    "span", [],
                                    [
                                        H.badge(st == .ok ? "ok" : st.rawValue, st.rawValue), H.el("br"),
                                        H.el(
                                            "span", [("class", "who")],
                                            text:
                                                "last \(p.biennial.lastDone?.description ?? "never"), due by \(p.biennial.dueBy?.description ?? "-")"
                                        ),
                                    ])
                            } ?? H.t("nothing received")
                        ),
                        ("Store", H.code(p.storeId)), ("Log head (SHA-256)", H.code(p.headHash)),
                    ]),
                ])
        ]
        body.append(
            WebPages.section(
                "h-lots", "Balances by lot",
                [
                    p.lots.isEmpty
                        ? H.el("p", [("class", "empty")], text: "No lot has entries on or before \(p.to).")
                        : H.table(
                            "lots num",
                            headers: [
                                "Lot", "Drug", "Opening", "In", "Given", "Wasted", "Disposed", "Adjusted", "Closing", "Given ×", "Counts",
                            ],
                            rows: p.lots.map { l in
                                let counts: Body =
                                    l.counts.isEmpty
                                    ? H.t("none")
                                    : H.el(
                                        "span", [],
                                        l.counts.map { c in
                                            H.el(
                                                "div", [],
                                                [
                                                    H.t("\(c.on): \(c.onHand.text) mg "),
                                                    c.discrepancy == .zero
                                                        ? H.badge("ok", "matches")
                                                        : H.badge(
                                                            "critical", "\(c.discrepancy.isNegative ? "" : "+")\(c.discrepancy.text) mg"),
                                                ])
                                        })
                                return H.row(
                                    [
                                        H.t(l.lot), H.t(l.drug?.rawValue ?? "-"), H.t(l.opening.text), H.t(l.received.text),
                                        H.t(l.given.text),
                                        H.t(l.wasted.text), H.t(l.disposed.text), H.t(l.adjusted.text),
                                        l.closing.isNegative ? H.badge("critical", l.closing.text) : H.el("b", [], text: l.closing.text),
                                        H.t(
                                            String(l.administrations)
                                                + (l.unknownAmounts > 0 ? " (\(l.unknownAmounts) amount unknown)" : "")), counts,
                                    ], [("data-lot", l.lot)])
                            }),
                    H.el(
                        "p", [("class", "who")],
                        text:
                            "Opening: the balance at the end of \(p.from.adding(days: -1)); closing: at the end of \(p.to); in: received (mg). Opening + received − given − wasted − disposed + adjusted = closing. A count does not change the balance; a discrepancy stays until a wrong entry is corrected or a StockAdjusted explains it."
                    ),
                ]))
        if !p.alerts.isEmpty {
            body.append(
                WebPages.section(
                    "h-lot-alerts", "Lot alerts raised in the period",
                    [
                        H.table(
                            "alerts", headers: ["Raised", "Kind", "Lot", "State", "Detail"],
                            rows: p.alerts.map { a in
                                H.row(
                                    [
                                        H.el("span", [("class", "nowrap")], text: a.raisedOn.description),
                                        H.badge("critical", a.kind.rawValue), H.t(a.lot),
                                        H.t(a.acknowledged.map { "acknowledged \($0.day)" } ?? "active"),
                                        H.el("span", [], [H.t(a.detail), H.el("br"), H.code(a.id)]),
                                    ], [("data-alert", a.id)])
                            })
                    ]))
        }
        body.append(
            WebPages.section(
                "h-rows", "Every entry, in time order",
                [
                    p.rows.isEmpty
                        ? H.el("p", [("class", "empty")], text: "No entries dated \(p.from) to \(p.to).")
                        : H.table(
                            "dispensing", headers: ["At", "Lot", "Drug", "Kind", "mg", "Patient", "Recorded by", "Witness", "Event"],
                            rows: p.rows.map { r in
                                let e = r.entry
                                return H.row(
                                    [
                                        H.el("span", [("class", "nowrap")], text: e.at.rfc3339),
                                        e.lot.map(H.t) ?? H.badge("missing", "no lot"),
                                        H.t(r.drug?.rawValue ?? "-"),
                                        H.el(
                                            "span", [],
                                            [
                                                H.t(e.kind.rawValue + (e.countKind.map { " (\($0.rawValue))" } ?? "")),
                                                e.detail.map { H.el("span", [("class", "who")], [H.el("br"), H.t($0)]) } ?? .empty,
                                            ]),
                                        e.quantity.map { H.t($0.text) } ?? H.badge("missing", "unknown"), H.t(e.patient ?? ""),
                                        H.t(e.actor),
                                        H.t(e.witness ?? ""), H.code(e.eventId.uuidString.lowercased()),
                                    ], [("data-kind", e.kind.rawValue)])
                            })
                ]))
        body.append(
            WebPages.section(
                "h-sign", "Signatures",
                [
                    H.table(
                        "sign", headers: ["Role", "Name", "Signature", "Date"],
                        rows: ["Registrant (practitioner)", "Witness", "Inspector"].map { H.row([H.t($0), H.t(""), H.t(""), H.t("")]) })
                ]))
        body.append(
            H.el(
                "footer", [],
                text:
                    "kstore report dispensing · \(scope) · \(p.from) to \(p.to) · store \(p.storeId) · \(p.events) events, head \(p.headHash)"
            ))
        return H.page(
            title: "Controlled-substance record \(p.from) to \(p.to)",
            css:
                ".num td{font-variant-numeric:tabular-nums}.sign td{height:2.2em}@media (max-width:800px){.lots,.dispensing{font-size:.76rem}.lots th,.lots td,.dispensing th,.dispensing td{padding:2px 3px}.dispensing code{font-size:.85em}}",
            body, reserving: 65_536 + 400 * p.rows.count)
    }

    /// An instant as a nurse reads it: "2026-09-02 09:00 −04:00" (seconds when not zero).
    static func when(_ t: Timestamp) -> String {
        let c = Array(t.rfc3339)
        guard c.count >= 20 else { return t.rfc3339 }
        let sec = String(c[17..<19])
        var zone = c.last == "Z" ? "UTC" : String(c[(c.count - 6)...])
        if zone.first == "-" { zone = "−" + zone.dropFirst() }
        return String(c[0..<10]) + " " + String(c[11..<16]) + (sec == "00" ? "" : ":" + sec) + " " + zone
    }
}
