import KClinic

extension RecordForm {
    /// The forms of `/stock` (session.md's stock events; they name no patient, their stream is
    /// the lot). A witnessed form is posted with the witness's password (`witnessPasswordField`).
    public static let stockCatalogue: [RecordForm] = [
        RecordForm(
            type: .stockReceived, title: "Stock received",
            fields: [
                FormField(name: "drug", label: "Drug", kind: .select(Drug.allCases.map(\.rawValue))),
                lotField,
                FormField(
                    name: "quantityMg", label: "Quantity (mg)", kind: .number(min: 0.01, max: 100_000, step: nil), hint: "up to 100,000"),
                FormField(name: "supplier", label: "Supplier", kind: .text, hint: "1–120 characters"),
                FormField(name: "invoice", label: "Invoice", kind: .text, required: false, hint: "at most 64 characters"),
                FormField(
                    name: "concentrationMgPerMl", label: "Concentration (mg/mL)", kind: .number(min: 0.01, max: 500, step: nil),
                    required: false, hint: "e.g. 50 for 50 mg/mL"),
            ]),
        RecordForm(
            type: .stockWasted, title: "Waste (drawn but not given)",
            fields: [
                lotField,
                FormField(name: "quantityMg", label: "Quantity wasted (mg)", kind: .number(min: 0.01, max: 100_000, step: nil)),
                FormField(name: "reason", label: "Reason", kind: .text, hint: "e.g. the rest of the vial"),
                witnessField,
            ]),
        RecordForm(
            type: .inventoryCounted, title: "Inventory count",
            fields: [
                lotField,
                FormField(name: "onHandMg", label: "Counted on hand (mg)", kind: .number(min: 0, max: 1_000_000, step: nil)),
                FormField(
                    name: "kind", label: "Kind of count", kind: .select(CountKind.allCases.map(\.rawValue)),
                    hint: "biennial: the DEA inventory every two years"),
            ]),
        RecordForm(
            type: .stockAdjusted, title: "Adjustment (loss, theft, breakage)",
            fields: [
                lotField,
                FormField(
                    name: "quantityMg", label: "Quantity (mg)", kind: .number(min: -100_000, max: 100_000, step: nil),
                    hint: "negative for a loss, theft or breakage, e.g. -10"),
                FormField(name: "reason", label: "Reason", kind: .select(AdjustmentReason.allCases.map(\.rawValue))),
                witnessField,
                FormField(name: "reference", label: "Reference", kind: .text, required: false, hint: "e.g. the DEA Form 106 number"),
            ]),
        RecordForm(
            type: .stockDisposed, title: "Disposal",
            fields: [
                lotField,
                FormField(name: "quantityMg", label: "Quantity disposed (mg)", kind: .number(min: 0.01, max: 100_000, step: nil)),
                FormField(name: "method", label: "Method", kind: .select(DisposalMethod.allCases.map(\.rawValue))),
                witnessField,
                FormField(name: "reference", label: "Reference", kind: .text, required: false, hint: "optional, e.g. DEA Form 41"),
            ]),
    ]

    static let lotField = FormField(
        name: "lot", label: "Lot number", kind: .text, hint: "as printed on the vial: letters, digits, . _ / -, at most 40")
    static let witnessField = FormField(
        name: "witness", label: "Witness (actor id)", kind: .text, hint: "a clinician or nurse other than you, present now")

    /// The form field of a witnessed stock form holding the witness's password (checked, never
    /// recorded).
    public static let witnessPasswordField = "witnessPassword"

    /// The stock forms `role` may record under `table`.
    public static func stockOffered(to role: Role, table: PermissionTable) -> [RecordForm] {
        stockCatalogue.filter { table.may(role, record: $0.type) }
    }

    /// The stock catalogue's form for `type`.
    public static func stockForm(for type: EventType) -> RecordForm? {
        stockCatalogue.first { $0.type == type }
    }

    /// Whether the form names a witness (and so asks for the witness's password).
    public var witnessed: Bool { fields.contains { $0.name == "witness" } }
}

/// `/stock`: `query inventory`'s content on `evaluationDay` (lots, lot alerts, the biennial
/// inventory) and the stock forms offered; after a post, as `RecordPage`, the form posted, its
/// values, its refusals and a banner.
public struct StockPage: Sendable {
    public var evaluationDay: Day
    public var lots: [LotSummary]
    public var alerts: [LotAlert]
    public var biennial: BiennialInventory
    public var forms: [RecordForm]
    public var submitted: String?
    public var values: [String: String]
    public var errors: [String: String]
    public var banner: String?

    public init(
        evaluationDay: Day, lots: [LotSummary], alerts: [LotAlert], biennial: BiennialInventory, forms: [RecordForm],
        submitted: String? = nil, values: [String: String] = [:], errors: [String: String] = [:], banner: String? = nil
    ) {
        self.evaluationDay = evaluationDay
        self.lots = lots
        self.alerts = alerts
        self.biennial = biennial
        self.forms = forms
        self.submitted = submitted
        self.values = values
        self.errors = errors
        self.banner = banner
    }
}

extension WebPages {
    /// `/stock`: the controlled-substance log (R15) as `kstore query inventory` shows it, and
    /// the stock forms the role may record.
    public static func stock(_ chrome: WebChrome, _ page: StockPage) -> String {
        let day = page.evaluationDay
        var content: [Body] = [
            H.el("h1", [], text: "Controlled-substance stock on \(day)"),
            datePicker(action: "/stock", day: day),
        ]
        if let banner = page.banner { content.append(H.el("p", [("class", "ok-line"), ("role", "status")], text: banner)) }
        let lots: Body =
            page.lots.isEmpty
            ? H.el("p", [("class", "empty")], text: "No stock recorded yet.")
            : H.table(
                "lots",
                headers: [
                    "Lot", "Drug", "Received (mg)", "Given (mg)", "Wasted (mg)", "Disposed (mg)", "Adjusted (mg)", "Balance (mg)",
                    "Last count",
                ],
                rows: page.lots.map { s in
                    let count: Body =
                        s.lastCount.map { c in
                            let d = (c.discrepancy.isNegative ? "" : "+") + c.discrepancy.text
                            return H.t("\(c.on): \(c.onHand.text) mg (discrepancy \(d) mg)")
                        } ?? H.t("never")
                    let balance: Body = s.balance.isNegative ? H.badge("overdue", s.balance.text) : H.t(s.balance.text)
                    let given = s.given.text + (s.unknownAmounts > 0 ? " (+\(s.unknownAmounts) unknown)" : "")
                    return H.row(
                        [
                            H.t(s.lot), H.t(s.drug?.rawValue ?? "-"), H.t(s.received.text), H.t(given), H.t(s.wasted.text),
                            H.t(s.disposed.text), H.t(s.adjusted.text), balance, count,
                        ], [("data-lot", s.lot)])
                })
        content.append(section("h-lots", "Lots", [lots]))
        let b = page.biennial
        let biennial: Body
        if let status = b.status, let from = b.dueFrom, let by = b.dueBy {
            biennial = H.el(
                "p", [("id", "biennial"), ("data-status", status.rawValue)],
                [
                    H.t("Biennial inventory: last done \(b.lastDone?.description ?? "never"), due from \(from), due by \(by): "),
                    H.badge(status.rawValue, status.rawValue),
                ])
        } else {
            biennial = H.el("p", [("id", "biennial")], text: "Biennial inventory: nothing ever received.")
        }
        content.append(biennial)
        let alerts: Body =
            page.alerts.isEmpty
            ? H.el("p", [("class", "empty")], text: "No lot alerts.")
            : H.table(
                "lot-alerts", headers: ["State", "Severity", "Alert", "Lot", "Raised on", "Detail"],
                rows: page.alerts.map { a in
                    H.row(
                        [
                            a.acknowledged == nil ? H.badge("overdue", "active") : H.t("acknowledged"), H.t(a.kind.severity.rawValue),
                            H.t(a.kind.rawValue), H.t(a.lot), H.t(a.raisedOn.description), H.t(a.detail),
                        ], [("data-alert", a.id)])
                })
        content.append(section("h-lot-alerts", "Lot alerts", [alerts]))
        if page.forms.isEmpty {
            content.append(H.el("p", [("class", "empty")], text: "Your role may not record stock events."))
        } else {
            content.append(section("h-stock-forms", "Record", page.forms.map { stockForm($0, page: page, chrome: chrome) }))
        }
        return document(title: "Stock on \(day)", chrome: chrome, content)
    }

    static func stockForm(_ form: RecordForm, page: StockPage, chrome: WebChrome) -> Body {
        let posted = page.submitted == form.type.rawValue
        let values = posted ? page.values : [:]
        let errors = posted ? page.errors : [:]
        let prefix = "f-" + form.type.rawValue + "-"
        var known: Set<String> = [RecordForm.occurredAtField, RecordForm.witnessPasswordField]
        for f in form.fields { known.insert(f.name) }
        let general = errors.filter { !known.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
        var children: [Body] = [chrome.csrfField, hidden("type", form.type.rawValue)]
        // As on the record page: each rendering carries its own event id, so a double submit is
        // a duplicate.
        if let eventId = page.values["eventId.\(form.type.rawValue)"] { children.append(hidden("eventId", eventId)) }
        if !general.isEmpty {
            children.append(
                H.el(
                    "div", [("class", "form-error"), ("role", "alert"), ("id", prefix + "error")],
                    general.map { H.el("p", [], text: $0) }))
        }
        let atId = prefix + RecordForm.occurredAtField
        children.append(
            field(
                id: atId, label: "When",
                input: input("datetime-local", name: RecordForm.occurredAtField, id: atId, value: values[RecordForm.occurredAtField] ?? ""),
                hint: "empty: now", error: errors[RecordForm.occurredAtField]))
        for f in form.fields {
            children.append(formField(f, id: prefix + f.name, value: values[f.name], error: errors[f.name]))
            if f.name == "witness" {
                // Never refilled.
                let pid = prefix + RecordForm.witnessPasswordField
                children.append(
                    field(
                        id: pid, label: "Witness's password",
                        input: input(
                            "password", name: RecordForm.witnessPasswordField, id: pid, value: "",
                            extra: [("required", ""), ("autocomplete", "off")]),
                        hint: "the witness types it here: nothing is recorded when it is wrong",
                        error: errors[RecordForm.witnessPasswordField]))
            }
        }
        children.append(H.el("button", [("type", "submit")], text: "Record " + form.title.lowercased()))
        var attributes = [("class", "rec"), ("id", "form-" + form.type.rawValue), ("data-type", form.type.rawValue)]
        if posted { attributes.append(("open", "")) }
        return H.el(
            "details", attributes,
            [
                H.el("summary", [], text: form.title),
                H.el(
                    "form",
                    [("method", "post"), ("action", "/stock"), ("aria-label", form.title)]
                        + (general.isEmpty ? [] : [("aria-describedby", prefix + "error")]),
                    children),
            ])
    }
}
