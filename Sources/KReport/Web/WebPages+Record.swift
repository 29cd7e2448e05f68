import KClinic

extension WebPages {
    // MARK: Charting

    /// `/patients/{id}/record`: one form per type offered, the form just posted open with its
    /// values refilled and each refusal beside its field.
    public static func record(_ chrome: WebChrome, _ page: RecordPage) -> String {
        let path = patientPath(page.patient)
        var content: [Body] = [
            H.el("h1", [], text: "Chart a visit: patient \(page.patient)"),
            H.el(
                "p", [("class", "sub")],
                [
                    H.t("Times are the clinic's local time; leave “When” empty for now. "),
                    H.el("a", [("href", path + "?on=" + page.evaluationDay.description)], text: "Back to the patient's page"),
                ]),
        ]
        if let banner = page.banner { content.append(H.el("p", [("class", "ok-line"), ("role", "status")], text: banner)) }
        if page.forms.isEmpty {
            content.append(H.el("p", [("class", "empty")], text: "Your role may not record any of these events."))
        }
        let visit = page.forms.filter { !$0.clinicianDecision }
        let decisions = page.forms.filter(\.clinicianDecision)
        if !visit.isEmpty {
            content.append(section("h-visit", "At the visit", visit.map { recordForm($0, page: page, chrome: chrome, path: path) }))
        }
        if !decisions.isEmpty {
            content.append(
                section("h-decisions", "Clinician decisions", decisions.map { recordForm($0, page: page, chrome: chrome, path: path) }))
        }
        return document(title: "Chart a visit: \(page.patient)", chrome: chrome, content)
    }

    static func recordForm(_ form: RecordForm, page: RecordPage, chrome: WebChrome, path: String) -> Body {
        let posted = page.submitted == form.type.rawValue
        let values = posted ? page.values : [:]
        let errors = posted ? page.errors : [:]
        let prefix = "f-" + form.type.rawValue + "-"
        func id(_ name: String) -> String { prefix + name.replacingOccurrences(of: ".", with: "-") }

        var known: Set<String> = [RecordForm.occurredAtField]
        for f in form.fields { known.insert(f.name) }
        // Refusals that name no field of this form are shown at its top.
        let general = errors.filter { !known.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)

        var children: [Body] = [chrome.csrfField, hidden("type", form.type.rawValue)]
        // Each rendering of a form carries its own event id: sent twice (a double click, a
        // resubmitted page), the second is a duplicate and records nothing.
        if let eventId = values["eventId.\(form.type.rawValue)"] { children.append(hidden("eventId", eventId)) }
        if !general.isEmpty {
            children.append(
                H.el(
                    "div", [("class", "form-error"), ("role", "alert"), ("id", prefix + "error")],
                    general.map { H.el("p", [], text: $0) }))
        }
        let atId = id(RecordForm.occurredAtField)
        children.append(
            field(
                id: atId, label: "When",
                input: input("datetime-local", name: RecordForm.occurredAtField, id: atId, value: values[RecordForm.occurredAtField] ?? ""),
                hint: "empty: now", error: errors[RecordForm.occurredAtField]))
        for f in form.fields {
            children.append(formField(f, id: id(f.name), value: values[f.name], error: errors[f.name], infusions: page.infusions))
        }
        if form.fields.isEmpty && form.type == .taperStarted {
            children.append(H.el("p", [("class", "hint")], text: "The taper follows the rule set's default steps."))
        }
        children.append(H.el("button", [("type", "submit")], text: buttonLabel(form)))
        var detailsAttributes = [("class", "rec"), ("id", "form-" + form.type.rawValue), ("data-type", form.type.rawValue)]
        if posted { detailsAttributes.append(("open", "")) }
        return H.el(
            "details", detailsAttributes,
            [
                H.el("summary", [], text: form.title),
                H.el(
                    "form",
                    [("method", "post"), ("action", path + "/record"), ("aria-label", form.title)]
                        + (general.isEmpty ? [] : [("aria-describedby", prefix + "error")]),
                    children),
            ])
    }

    /// "Record the score", "Record vital signs"; a clinician's decision is its own verb
    /// ("Adjust the interval").
    static func buttonLabel(_ form: RecordForm) -> String {
        if form.clinicianDecision { return form.title }
        var title = form.title
        if let paren = title.range(of: " (") { title = String(title[..<paren.lowerBound]) }
        guard let first = title.first else { return "Record" }
        return "Record " + first.lowercased() + title.dropFirst()
    }

    static func formField(
        _ f: FormField, id: String, value: String?, error: String?, infusions: [RecordPage.SessionInfusion] = []
    ) -> Body {
        var required: [(String, String)] = f.required ? [("required", "")] : []
        let label = f.label + (f.required || f.kind == .checkbox ? "" : " (optional)")
        switch f.kind {
        case .number(let min, let max, let step):
            required += [("inputmode", "decimal"), ("min", number(min)), ("max", number(max)), ("step", step.map(number) ?? "any")]
            return field(
                id: id, label: label, input: input("number", name: f.name, id: id, value: value ?? "", extra: required), hint: f.hint,
                error: error)
        case .integer(let min, let max):
            required += [("inputmode", "numeric"), ("min", String(min)), ("max", String(max)), ("step", "1")]
            return field(
                id: id, label: label, input: input("number", name: f.name, id: id, value: value ?? "", extra: required), hint: f.hint,
                error: error)
        case .select(let options):
            return field(
                id: id, label: label,
                input: select(name: f.name, id: id, options: options, selected: value, placeholder: "— choose —", extra: required),
                hint: f.hint, error: error)
        case .yesNo:
            return field(
                id: id, label: label,
                input: select(name: f.name, id: id, options: ["yes", "no"], selected: value, placeholder: "— not assessed —"),
                hint: f.hint, error: error)
        case .infusion(let esketamineOnly):
            let offered = infusions.filter { esketamineOnly ? $0.drug == .esketamine : $0.withinTwelveHours }
            var opts: [Body] = [H.el("option", [("value", "")], text: offered.isEmpty ? "— none recorded —" : "— choose —")]
            for i in offered {
                var attributes = [("value", i.eventId)]
                if i.eventId == value { attributes.append(("selected", "")) }
                opts.append(H.el("option", attributes, text: i.label))
            }
            let none =
                esketamineOnly
                ? "No esketamine session of this patient in the last 7 days: record the infusion first."
                : "No infusion of this patient in the last 12 hours: record the infusion first."
            return field(
                id: id, label: label, input: H.el("select", [("name", f.name), ("id", id)] + required, opts),
                hint: offered.isEmpty ? none : f.hint, error: error)
        case .checkbox:
            var attributes = [("type", "checkbox"), ("name", f.name), ("id", id)]
            if let v = value, v == "on" || v == "true" { attributes.append(("checked", "")) }
            return field(id: id, label: label, input: H.el("input", attributes), hint: f.hint, error: error, check: true)
        case .text:
            required.append(("maxlength", "2000"))
            return field(
                id: id, label: label, input: input("text", name: f.name, id: id, value: value ?? "", extra: required), hint: f.hint,
                error: error)
        case .textarea:
            return field(
                id: id, label: label,
                input: H.el(
                    "textarea", [("name", f.name), ("id", id), ("rows", "3"), ("maxlength", "2000")] + required, text: value ?? ""),
                hint: f.hint, error: error)
        }
    }

    /// A bound as an HTML attribute: integral values without a fraction.
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }
}
