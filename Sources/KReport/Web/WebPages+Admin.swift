import KClinic

extension WebPages {
    // MARK: Admin

    /// `/admin`: actors (add, retire, set a password) and the rule set (upload).
    public static func admin(_ chrome: WebChrome, _ page: AdminPage) -> String {
        var content: [Body] = [H.el("h1", [], text: "Administration"), notice(page.notice), problem(page.error)]
        content.append(
            section(
                "h-actors", "Actors (\(page.actors.count))",
                [
                    H.table(
                        "actors", headers: ["Actor", "Name", "Role", "OS user", "State", "Password", "Actions"],
                        rows: page.actors.map { a in
                            H.row(
                                [
                                    H.code(a.id), H.t(a.name ?? "-"), H.t(a.role.rawValue), H.t(a.osUser),
                                    a.active ? H.badge("ok", "active") : H.badge("void", "retired"),
                                    H.t(a.hasPassword ? "set" : "none"), actorActions(chrome, a),
                                ], [("data-actor", a.id)])
                        })
                ]))
        content.append(section("h-add", "Add an actor", [addActorForm(chrome)]))
        content.append(
            section(
                "h-rules", "Rule set in force",
                [
                    Reports.factList([("Version", H.t(page.rulesVersion)), ("SHA-256", H.code(page.rulesHash))]),
                    H.el(
                        "form", [("method", "post"), ("action", "/admin/rules"), ("enctype", "multipart/form-data"), ("class", "box")],
                        [
                            chrome.csrfField,
                            field(
                                id: "rules-file", label: "Rule file",
                                input: input("file", name: "rules", id: "rules-file", value: "", extra: [("required", "")]),
                                hint: "Uploading changes nothing yet: the next page shows what it would change, patient by patient."),
                            H.el("button", [("type", "submit")], text: "Upload and compare"),
                        ]),
                ]))
        return document(title: "Administration", chrome: chrome, content)
    }

    static func actorActions(_ chrome: WebChrome, _ a: AdminPage.ActorRow) -> Body {
        let base = "/admin/actors/" + segment(a.id)
        let idPart = segment(a.id)
        var parts: [Body] = []
        // Retiring is final and ends the actor's sessions: behind a disclosure (two deliberate
        // taps, no script), and never offered for the admin signed in (who would lock out).
        if a.active && a.id != chrome.actorId {
            parts.append(
                H.el(
                    "details", [("class", "no-print")],
                    [
                        H.el("summary", [], text: "Retire…"),
                        H.el(
                            "form", [("method", "post"), ("action", base + "/retire")],
                            [
                                chrome.csrfField,
                                H.el(
                                    "p", [("class", "hint")],
                                    text:
                                        "\(a.name ?? a.id) can no longer sign in or be recorded as acting; their sessions end. This cannot be undone."
                                ),
                                H.el("button", [("type", "submit"), ("class", "danger")], text: "Retire \(a.id)"),
                            ]),
                    ]))
        }
        parts.append(
            H.el(
                "details", [("class", "no-print")],
                [
                    H.el("summary", [], text: a.hasPassword ? "Change password" : "Set password"),
                    H.el(
                        "form", [("method", "post"), ("action", base + "/password")],
                        [
                            chrome.csrfField,
                            field(
                                id: "pw-\(idPart)", label: "New password",
                                input: input(
                                    "password", name: "password", id: "pw-\(idPart)", value: "",
                                    extra: [("autocomplete", "new-password"), ("minlength", "12"), ("required", "")]),
                                hint: "at least 12 characters"),
                            field(
                                id: "pw2-\(idPart)", label: "Repeat it",
                                input: input(
                                    "password", name: "confirm", id: "pw2-\(idPart)", value: "",
                                    extra: [("autocomplete", "new-password"), ("minlength", "12"), ("required", "")])),
                            H.el("button", [("type", "submit")], text: "Set the password"),
                        ]),
                ]))
        return H.el("div", [("class", "actions")], parts)
    }

    static func addActorForm(_ chrome: WebChrome) -> Body {
        func text(_ id: String, _ name: String, _ label: String, required: Bool, hint: String? = nil) -> Body {
            field(
                id: id, label: label,
                input: input(
                    "text", name: name, id: id, value: "", extra: (required ? [("required", "")] : []) + [("autocapitalize", "none")]),
                hint: hint)
        }
        return H.el(
            "form", [("method", "post"), ("action", "/admin/actors"), ("class", "box")],
            [
                chrome.csrfField,
                text("add-id", "id", "Actor id", required: true, hint: "e.g. dr.lee; never reused"),
                text("add-name", "name", "Printed name", required: false, hint: "shown with every signature"),
                field(
                    id: "add-role", label: "Role",
                    input: select(
                        name: "role", id: "add-role", options: ["clinician", "nurse", "compliance", "admin", "interface"], selected: nil,
                        placeholder: "— choose —", extra: [("required", "")])),
                text("add-os", "osUser", "OS user", required: true, hint: "the operating-system account this actor acts as"),
                H.el("button", [("type", "submit")], text: "Add the actor"),
            ])
    }

    /// `/admin/rules` after an upload: the two rule sets, the replay's changes patient by
    /// patient, and the signed adoption form.
    public static func ruleDiff(_ chrome: WebChrome, _ page: RuleDiffPage) -> String {
        var content: [Body] = [
            H.el("h1", [], text: "Adopt rule set \(page.uploadedVersion)?"),
            Reports.factList([
                ("Uploaded version", H.t(page.uploadedVersion)), ("Uploaded SHA-256", H.code(page.uploadedHash)),
                ("In force now", H.t(page.currentVersion)), ("Its SHA-256", H.code(page.currentHash)),
            ]),
        ]
        var byPatient: [(String, [RuleDiffPage.Change])] = []
        for c in page.changes {
            if let i = byPatient.firstIndex(where: { $0.0 == c.patient }) {
                byPatient[i].1.append(c)
            } else {
                byPatient.append((c.patient, [c]))
            }
        }
        var changes: [Body] = []
        if byPatient.isEmpty {
            changes.append(
                H.el("p", [("class", "ok-line")], text: "Replaying the log under the uploaded rule set changes nothing for any patient."))
        } else {
            changes.append(H.el("p", [], text: "\(byPatient.count) patient\(byPatient.count == 1 ? "" : "s") would change."))
            for (patient, list) in byPatient {
                changes.append(
                    H.el(
                        "div", [("class", "patient-diff"), ("data-patient", patient)],
                        [
                            H.el("h3", [], [H.t("Patient "), H.code(patient)]),
                            H.table(
                                "diff", headers: ["Field", "Now", "Under \(page.uploadedVersion)"],
                                rows: list.map { c in H.row([H.code(c.field), H.t(c.before), H.t(c.after)]) }),
                        ]))
            }
        }
        content.append(section("h-diff", "What changes", changes))
        let signer = chrome.name ?? chrome.actorId
        content.append(
            section(
                "h-adopt", "Adopt it (signed)",
                [
                    H.el(
                        "form", [("method", "post"), ("action", "/admin/rules/adopt"), ("class", "box")],
                        [
                            chrome.csrfField, hidden("contentHash", page.uploadedHash), hidden("meaning", "approved"),
                            problem(page.error),
                            field(
                                id: "adopt-password", label: "Your password",
                                input: input(
                                    "password", name: "password", id: "adopt-password", value: "",
                                    extra: [("autocomplete", "current-password"), ("required", "")])),
                            H.el(
                                "p", [("class", "sign")],
                                text:
                                    "Entering your password signs the adoption of rule set \(page.uploadedVersion) electronically as \(signer) (\(chrome.actorId)), with the meaning “approved”: your printed name, the date and time and the meaning are recorded with it (21 CFR 11.50)."
                            ),
                            H.el("button", [("type", "submit")], text: "Sign and adopt"),
                        ]),
                    H.el("p", [], [H.el("a", [("href", "/admin")], text: "Cancel: keep \(page.currentVersion)")]),
                ]))
        return document(title: "Adopt rule set \(page.uploadedVersion)", chrome: chrome, content)
    }
}
