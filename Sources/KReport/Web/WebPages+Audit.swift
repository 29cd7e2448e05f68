import KClinic

extension WebPages {
    // MARK: Audit

    /// `/audit`: verify, unreviewed ranges, the signed review form, the trail with its filters,
    /// the access log, the FHIR export.
    public static func audit(_ chrome: WebChrome, _ page: AuditPage) -> String {
        var content: [Body] = [H.el("h1", [], text: "Audit"), notice(page.notice)]

        // Verify.
        content.append(
            page.verifyOK
                ? H.el(
                    "p", [("class", "ok-line"), ("data-verify", "ok")],
                    [H.badge("ok", "verified"), H.t(" The hash chain and every index check out over all \(page.verifiedEvents) events.")])
                : H.el(
                    "p", [("class", "bad-line"), ("data-verify", "failed")],
                    [H.badge("overdue", "verify failed"), H.t(" \(page.problems.count) problem(s) over \(page.verifiedEvents) events.")]))
        content.append(Reports.factList([("Head hash (SHA-256)", H.code(page.headHash)), ("Head sequence", H.t("#\(page.head)"))]))
        if !page.problems.isEmpty {
            content.append(
                H.table(
                    "problems", headers: ["Sequence", "Problem", "Detail"],
                    rows: page.problems.map { p in H.row([H.t(p.sequence.map { "#\($0)" } ?? "-"), H.t(p.kind), H.t(p.detail)]) }))
        }

        // Unreviewed.
        let reviewed = page.reviewedThrough.map { "Reviewed through #\($0) of #\(page.head)." } ?? "Nothing has been reviewed yet."
        var unreviewed: [Body] = [H.el("p", [], text: reviewed)]
        for w in page.alteredSinceReview {
            unreviewed.append(H.el("p", [("class", "bad-line"), ("role", "alert")], [H.badge("critical", "altered"), H.t(" " + w)]))
        }
        unreviewed.append(
            page.unreviewed.isEmpty
                ? H.el("p", [("class", "empty")], text: "Nothing is waiting for review.")
                : H.table(
                    "unreviewed", headers: ["From", "Through", "Events"],
                    rows: page.unreviewed.map { r in H.row([H.t("#\(r.from)"), H.t("#\(r.through)"), H.t(String(r.events))]) }))
        content.append(section("h-unreviewed", "Not yet reviewed", unreviewed))

        // The signed review.
        content.append(section("h-review", "Sign a review", [reviewForm(chrome, page)]))

        // The trail.
        // The trail: its filters, then the latest events first (the review just signed on top);
        // the whole trail, oldest first, is `kstore report trail` or a narrower filter.
        let all = page.trail.entries.count
        let latest = Array(page.trail.entries.suffix(trailShown).reversed())
        content.append(
            section(
                "h-trail", "Audit trail (\(all) event\(all == 1 ? "" : "s"))",
                [
                    trailFilterForm(page.filter),
                    H.el(
                        "p", [("class", "sub")],
                        text: all > latest.count
                            ? "The latest \(latest.count) of \(all), newest first; filter by patient, actor or dates to see others."
                            : "Newest first."),
                    latest.isEmpty
                        ? H.el("p", [("class", "empty")], text: "No events match.") : Reports.eventTable(latest, showPatient: true),
                ]))
        content.append(Reports.trailActorsSection(page.trail))

        // The access log.
        content.append(
            section(
                "h-access", "Access log (\(page.access.count))",
                [
                    page.access.isEmpty
                        ? H.el("p", [("class", "empty")], text: "No reads recorded.")
                        : H.table(
                            "access", headers: ["Seq", "At", "OS user", "Command", "Patients"],
                            rows: page.access.map { a in
                                H.row([
                                    H.t("#\(a.sequence)"), H.el("span", [("class", "nowrap")], text: a.at), H.t(a.osUser),
                                    H.code(a.command),
                                    H.t(a.patients.isEmpty ? "-" : a.patients.joined(separator: ", ")),
                                ])
                            })
                ]))

        // FHIR export.
        content.append(
            section(
                "h-export", "Export (FHIR)",
                [
                    H.el(
                        "form", [("method", "get"), ("action", "/audit/export"), ("class", "box")],
                        [
                            dateField("export-from", name: "from", label: "From (optional)", value: nil),
                            dateField("export-to", name: "to", label: "To (optional)", value: nil),
                            field(
                                id: "export-format", label: "Format",
                                input: select(
                                    name: "format", id: "export-format", options: ["fhir", "ndjson"], selected: "fhir", placeholder: nil),
                                hint: "fhir: one Bundle; ndjson: one resource a line"),
                            H.el("button", [("type", "submit")], text: "Download"),
                        ])
                ]))
        return document(
            title: "Audit", chrome: chrome, content, reserving: 65_536 + 800 * page.trail.entries.count + 200 * page.access.count)
    }

    /// How many trail events the page shows, newest first.
    static let trailShown = 200

    static func dateField(_ id: String, name: String, label: String, value: Day?) -> Body {
        field(id: id, label: label, input: input("date", name: name, id: id, value: value?.description ?? ""))
    }

    static func reviewForm(_ chrome: WebChrome, _ page: AuditPage) -> Body {
        let signer = chrome.name ?? chrome.actorId
        return H.el(
            "form", [("method", "post"), ("action", "/audit/review"), ("class", "box")],
            [
                chrome.csrfField,
                problem(page.reviewError),
                field(
                    id: "review-through", label: "Reviewed through sequence",
                    input: input(
                        "number", name: "throughSequence", id: "review-through", value: String(page.head),
                        extra: [("min", "1"), ("max", String(page.head)), ("step", "1"), ("required", ""), ("inputmode", "numeric")]),
                    hint: "default: the head, #\(page.head)"),
                field(
                    id: "review-meaning", label: "Meaning of the signature",
                    input: select(
                        name: "meaning", id: "review-meaning", options: ["reviewed", "approved", "responsibility"], selected: "reviewed",
                        placeholder: nil)),
                field(
                    id: "review-note", label: "Note (optional)",
                    input: H.el("textarea", [("name", "note"), ("id", "review-note"), ("rows", "2"), ("maxlength", "2000")], text: "")),
                field(
                    id: "review-password", label: "Your password",
                    input: input(
                        "password", name: "password", id: "review-password", value: "",
                        extra: [("autocomplete", "current-password"), ("required", "")])),
                H.el(
                    "p", [("class", "sign")],
                    text:
                        "Entering your password signs this review electronically as \(signer) (\(chrome.actorId)): your printed name, the date and time, and the meaning chosen are recorded with it (21 CFR 11.50)."
                ),
                H.el("button", [("type", "submit")], text: "Sign the review"),
            ])
    }

    static func trailFilterForm(_ f: AuditPage.Filter) -> Body {
        H.el(
            "form", [("method", "get"), ("action", "/audit"), ("class", "picker"), ("aria-label", "Filter the trail")],
            [
                field(
                    id: "trail-patient", label: "Patient",
                    input: input("text", name: "patient", id: "trail-patient", value: f.patient ?? "", extra: [("autocapitalize", "none")])),
                field(
                    id: "trail-actor", label: "Actor",
                    input: input("text", name: "actor", id: "trail-actor", value: f.actor ?? "", extra: [("autocapitalize", "none")])),
                dateField("trail-from", name: "from", label: "From", value: f.from),
                dateField("trail-to", name: "to", label: "To", value: f.to),
                H.el("button", [("type", "submit"), ("class", "secondary")], text: "Filter the trail"),
            ])
    }
}
