import KClinic

/// The pages of `kstore serve` (web.md, "Pages"): pure functions from page data to one whole
/// HTML document. The same writer as the reports (every value escaped in `Escape`), the
/// reports' stylesheet plus the web's (navigation, forms), no script: every page works without
/// JavaScript, prints without its navigation and forms, and fits a 768 px tablet (wide tables
/// scroll inside their own wrapper, not the page).
public enum WebPages {
    // MARK: Sign-in and errors

    /// The sign-in page: actor id and password, `next` (where to go after), and the values a
    /// form held when the session ended (`carry.NAME`), posted again so nothing typed is lost.
    public static func login(error: String?, next: String?, actor: String?, carried: [(String, String)], notice: String?) -> String {
        var fields: [Body] = [
            field(
                id: "actor", label: "Actor id",
                input: input(
                    "text", name: "actor", id: "actor", value: actor ?? "",
                    extra: [
                        ("autocomplete", "username"), ("required", ""), ("autocapitalize", "none"), ("spellcheck", "false"),
                    ])),
            field(
                id: "password", label: "Password",
                input: input(
                    "password", name: "password", id: "password", value: "",
                    extra: [("autocomplete", "current-password"), ("required", "")])),
        ]
        if let next { fields.append(hidden("next", next)) }
        for (name, value) in carried { fields.append(hidden("carry." + name, value)) }
        fields.append(H.el("button", [("type", "submit")], text: "Sign in"))
        var body: [Body] = [H.el("h1", [], text: "Sign in to kstore")]
        if let notice { body.append(H.el("p", [("class", "notice"), ("role", "status")], text: notice)) }
        if let error { body.append(H.el("p", [("class", "form-error"), ("role", "alert")], text: error)) }
        body.append(H.el("form", [("method", "post"), ("action", "/login"), ("class", "box")], fields))
        body.append(
            H.el(
                "p", [("class", "sub")],
                text: "A session ends after 15 minutes without activity. Your password is yours alone: it also signs reviews and adoptions."
            ))
        return document(title: "Sign in", chrome: nil, body)
    }

    /// A refusal or failure as one sentence (never a stack trace or a path).
    public static func error(_ chrome: WebChrome?, status: Int, sentence: String) -> String {
        let heading: String
        switch status {
        case 400: heading = "The request could not be understood"
        case 401: heading = "Please sign in"
        case 403: heading = "Not permitted"
        case 404: heading = "Not found"
        case 409: heading = "Changed in the meantime"
        case 413: heading = "Too large"
        case 422: heading = "Refused"
        case 429: heading = "Too many attempts"
        default: heading = status >= 500 ? "Something went wrong" : "Refused"
        }
        let home = chrome.map { c in c.links.first?.path ?? "/login" } ?? "/login"
        return document(
            title: "\(status) \(heading)", chrome: chrome,
            [
                H.el("h1", [], text: heading),
                H.el("p", [("class", "form-error"), ("role", "alert"), ("data-status", String(status))], text: sentence),
                H.el("p", [], [H.el("a", [("href", home)], text: chrome == nil ? "Sign in" : "Back to the start page")]),
            ])
    }

    // MARK: Parts (internal)

    /// A whole page: the chrome's navigation, then the content in `main` (tables wrapped to
    /// scroll on their own).
    static func document(title: String, chrome: WebChrome?, _ content: [Body], reserving capacity: Int = 1 << 16) -> String {
        var body: [Body] = []
        if let chrome { body.append(chrome.nav) }
        body.append(H.el("main", [("id", "main")], content.map(wrapTables)))
        // An empty icon: without it the browser asks for /favicon.ico, a 404 in its console.
        let icon = H.el("link", [("rel", "icon"), ("href", "data:,")])
        return H.page(title: title + " · kstore", css: css, head: [icon], body, reserving: capacity)
    }

    /// Every table inside `b` in a `div.scroll`, so a wide one scrolls inside the page.
    static func wrapTables(_ b: Body) -> Body {
        switch b {
        case .element(let name, let attributes, let children):
            if name == "table" { return .element("div", [("class", "scroll")], [b]) }
            return .element(name, attributes, children.map(wrapTables))
        default:
            return b
        }
    }

    /// A path segment, percent-encoded (everything but `A-Za-z0-9._~-`).
    static func segment(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
            }
        }
        return out
    }

    static func patientPath(_ id: String) -> String { "/patients/" + segment(id) }

    /// A link to the patient's page on `day`.
    static func patientLink(_ id: String, on day: Day) -> Body {
        H.el("a", [("href", patientPath(id) + "?on=" + day.description)], text: id)
    }

    static func hidden(_ name: String, _ value: String) -> Body {
        H.el("input", [("type", "hidden"), ("name", name), ("value", value)])
    }

    static func input(_ type: String, name: String, id: String, value: String, extra: [(String, String)] = []) -> Body {
        var attributes = [("type", type), ("name", name), ("id", id)]
        if !value.isEmpty { attributes.append(("value", value)) }
        return H.el("input", attributes + extra)
    }

    /// A labelled input with its hint and its error beside it (`aria-describedby` names both).
    static func field(id: String, label: String, input: Body, hint: String? = nil, error: String? = nil, check: Bool = false) -> Body {
        var described: [String] = []
        if hint != nil { described.append(id + "-hint") }
        if error != nil { described.append(id + "-error") }
        var control = input
        if case .element(let name, var attributes, let children) = input {
            if !described.isEmpty { attributes.append(("aria-describedby", described.joined(separator: " "))) }
            if error != nil { attributes.append(("aria-invalid", "true")) }
            control = .element(name, attributes, children)
        }
        var classes = check ? "field check" : "field"
        if error != nil { classes += " invalid" }
        let labelNode = H.el("label", [("for", id)], text: label)
        var parts: [Body] = check ? [control, H.t(" "), labelNode] : [labelNode, control]
        if let hint { parts.append(H.el("p", [("class", "hint"), ("id", id + "-hint")], text: hint)) }
        if let error { parts.append(H.el("p", [("class", "field-error"), ("id", id + "-error")], text: error)) }
        return H.el("div", [("class", classes)], parts)
    }

    /// The GET form choosing the evaluation date (`?on=`), with hidden fields kept.
    static func datePicker(action: String, day: Day, keep: [(String, String)] = []) -> Body {
        H.el(
            "form", [("method", "get"), ("action", action), ("class", "picker")],
            keep.map { hidden($0.0, $0.1) } + [
                H.el(
                    "div", [("class", "field")],
                    [
                        H.el("label", [("for", "on")], text: "Show the date"),
                        H.el("input", [("type", "date"), ("id", "on"), ("name", "on"), ("value", day.description), ("required", "")]),
                    ]),
                H.el("button", [("type", "submit"), ("class", "secondary")], text: "Show"),
            ])
    }

    static func notice(_ s: String?) -> Body {
        s.map { H.el("p", [("class", "notice"), ("role", "status")], text: $0) } ?? .empty
    }

    static func problem(_ s: String?) -> Body {
        s.map { H.el("p", [("class", "form-error"), ("role", "alert")], text: $0) } ?? .empty
    }

    static func section(_ id: String, _ title: String, _ children: [Body]) -> Body {
        H.el("section", [("aria-labelledby", id)], [H.el("h2", [("id", id)], text: title)] + children)
    }

    static func select(name: String, id: String, options: [String], selected: String?, placeholder: String?, extra: [(String, String)] = [])
        -> Body
    {
        var opts: [Body] = []
        if let placeholder { opts.append(H.el("option", [("value", "")], text: placeholder)) }
        for o in options {
            var attributes = [("value", o)]
            if o == selected { attributes.append(("selected", "")) }
            opts.append(H.el("option", attributes, text: o))
        }
        return H.el("select", [("name", name), ("id", id)] + extra, opts)
    }

    /// The web's additions to the reports' stylesheet.
    static let css = """
        a{color:#0d3c61}
        nav.top{display:flex;flex-wrap:wrap;align-items:center;gap:8px 18px;padding:4px 0 10px;margin:0 0 14px;border-bottom:2px solid #333}
        nav.top .brand{font-weight:700;letter-spacing:.02em}
        nav.top ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0;padding:0}
        nav.top a{display:inline-block;padding:8px 4px;font-weight:600;font-size:1.05rem}
        nav.top a[aria-current=page]{text-decoration:none;border-bottom:3px solid #0d3c61}
        nav.top .me{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:8px}
        form.inline{display:inline;margin:0}
        a.action-link{display:inline-block;min-height:42px;box-sizing:border-box;padding:9px 18px;border:2px solid #0d3c61;border-radius:6px;background:#0d3c61;color:#fff;font-weight:600;text-decoration:none}
        a.action-link:focus,a.action-link:hover{background:#174f7d}
        .scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
        .scroll table{margin:6px 0 12px}
        main{min-width:0}
        form.box{border:1px solid var(--line);border-radius:6px;padding:12px;margin:8px 0;background:var(--bg);max-width:640px}
        .field{margin:0 0 12px;min-width:0}
        .field label{display:block;font-weight:600;margin-bottom:3px}
        .field.check label{display:inline}
        .hint{font-size:.85rem;color:var(--muted);margin:3px 0 0}
        input,select,textarea,button{font:inherit;max-width:100%}
        input[type=text],input[type=number],input[type=password],input[type=date],input[type=datetime-local],input[type=file],select,textarea{width:100%;max-width:420px;min-height:42px;padding:6px 8px;border:1px solid #777;border-radius:4px;background:#fff}
        textarea{min-height:76px}
        input[type=checkbox]{width:24px;height:24px;vertical-align:middle}
        button{min-height:42px;padding:8px 16px;border:2px solid #0d3c61;border-radius:6px;background:#0d3c61;color:#fff;font-weight:600;cursor:pointer}
        button.secondary{background:#fff;color:#0d3c61}
        button.danger{background:#fff;color:#8b0016;border-color:#8b0016}
        .field-error{color:#8b0016;font-weight:600;margin:4px 0 0}
        .field-error::before{content:"▲ "}
        .invalid input,.invalid select,.invalid textarea{border:2px solid #8b0016;background:#fdecee}
        .notice{border:2px solid #0d3c61;background:#e3f0fb;padding:8px 12px;border-radius:6px}
        .form-error{border:2px solid #8b0016;background:#fdecee;padding:8px 12px;border-radius:6px;font-weight:600}
        .picker{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px 12px;margin:10px 0}
        .picker .field{margin:0;flex:1 1 200px;max-width:420px}
        details.rec{border:1px solid var(--line);border-radius:6px;margin:8px 0;background:#fff}
        details.rec>summary{padding:12px;font-weight:600;font-size:1.05rem;cursor:pointer}
        details.rec[open]>summary{border-bottom:1px solid var(--line)}
        details.rec>form{margin:12px}
        .sign{border-left:4px solid #0d3c61;padding:6px 10px;background:#f3f7fb;max-width:640px}
        .actions details{margin:4px 0}
        .actions form{margin:4px 0}
        @media (max-width:800px){nav.top .me{margin-left:0}form.box{padding:10px}.scroll table.events{min-width:940px}}
        @media print{nav.top,form,.picker,details.rec,.no-print{display:none !important}.scroll{overflow:visible}}
        """
}
