import KClinic

extension WebPages {
    // MARK: Today, patients, patient

    /// `/`: the today report with the navigation, a date picker, every patient linked.
    public static func today(_ chrome: WebChrome, _ page: TodayPage) -> String {
        let day = page.evaluationDay
        var content = Reports.todayBody(page, patientCell: { patientLink($0, on: day) })
        content.insert(datePicker(action: "/", day: day), at: min(1, content.count))
        let rows = page.infusions.count + page.monitoring.count + page.alerts.count + page.gaps.count
        return document(title: "Today \(day)", chrome: chrome, content, reserving: 65_536 + 450 * rows)
    }

    /// `/patients`: the search form and every patient found, with status, phase, interval, due.
    public static func patients(_ chrome: WebChrome, _ page: PatientsPage) -> String {
        let day = page.evaluationDay
        let search = H.el(
            "form", [("method", "get"), ("action", "/patients"), ("class", "picker"), ("role", "search")],
            [
                H.el(
                    "div", [("class", "field")],
                    [
                        H.el("label", [("for", "q")], text: "Patient id"),
                        H.el(
                            "input",
                            [("type", "search"), ("id", "q"), ("name", "q"), ("value", page.query ?? ""), ("autocapitalize", "none")]),
                    ]),
                H.el(
                    "div", [("class", "field")],
                    [
                        H.el("label", [("for", "on")], text: "On the date"),
                        H.el("input", [("type", "date"), ("id", "on"), ("name", "on"), ("value", day.description)]),
                    ]),
                H.el("button", [("type", "submit")], text: "Search"),
            ])
        let rows = page.rows.sorted { $0.patient < $1.patient }
        let table: Body
        if rows.isEmpty {
            table = H.el(
                "p", [("class", "empty")], text: page.query.map { "No patient id contains \u{201C}\($0)\u{201D}." } ?? "No patients yet.")
        } else {
            table = H.table(
                "patients", headers: ["Patient", "Status", "Phase", "Interval", "Next infusion due", "Overdue"],
                rows: rows.map { v in
                    H.row(
                        [
                            patientLink(v.patient, on: day), H.t(v.status.rawValue),
                            H.t(v.phase.rawValue + (v.weekOfTreatment.map { ", week \($0)" } ?? "")),
                            H.t(v.interval.map { "\($0.days) days" } ?? "-"),
                            H.el("span", [("class", "nowrap")], text: v.nextInfusionDue?.description ?? "nothing due"),
                            v.infusionOverdueDays > 0 ? H.badge("overdue", "\(v.infusionOverdueDays) days") : H.t("-"),
                        ], [("data-patient", v.patient)])
                })
        }
        let heading = page.query.map { "Patients matching \u{201C}\($0)\u{201D}" } ?? "Patients"
        return document(
            title: "Patients on \(day)", chrome: chrome,
            [
                H.el("h1", [], text: heading),
                H.el("p", [("class", "sub")], text: "\(rows.count) patient\(rows.count == 1 ? "" : "s") on \(day)"),
                search, table,
            ], reserving: 16_384 + 300 * rows.count)
    }

    /// `/patients/{id}`: the patient report with the navigation, a date picker, "Chart a visit"
    /// (`canRecord`) and an acknowledge form beside each active alert (`canAcknowledge`).
    public static func patient(_ chrome: WebChrome, _ page: PatientPage, canAcknowledge: Bool, canRecord: Bool, notice: String?)
        -> String
    {
        let path = patientPath(page.patient)
        let action: ((ProtocolAlert) -> Body)? =
            canAcknowledge
            ? { a in
                let id = "note-" + a.id
                return H.el(
                    "form",
                    [("method", "post"), ("action", path + "/alerts/" + segment(a.id) + "/acknowledge"), ("class", "ack")],
                    [
                        chrome.csrfField,
                        field(
                            id: id, label: "Note (optional)",
                            input: input("text", name: "note", id: id, value: "", extra: [("maxlength", "2000")])),
                        H.el("button", [("type", "submit")], text: "Acknowledge"),
                    ])
            } : nil
        var content = Reports.patientBody(page, alertAction: action)
        var tools: [Body] = [datePicker(action: path, day: page.evaluationDay)]
        if canRecord {
            tools.append(
                H.el(
                    "p", [("class", "no-print")],
                    [H.el("a", [("href", path + "/record"), ("class", "action-link")], text: "Chart a visit")]))
        }
        content.insert(contentsOf: [Self.notice(notice)] + tools, at: min(1, content.count))
        return document(
            title: "Patient \(page.patient) on \(page.evaluationDay)", chrome: chrome, content, reserving: 65_536 + 800 * page.events.count)
    }
}
