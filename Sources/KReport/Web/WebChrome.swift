import KClinic

/// What every signed-in page shows around its content: who is signed in, the session's CSRF
/// token (every state-changing form carries it as the hidden field `csrf`), and the current path
/// (its link is marked `aria-current`). The navigation depends on the role (web.md, "Pages"):
/// the clinical roles see Today, Patients and Stock, compliance the audit, admin the audit, stock
/// and admin.
public struct WebChrome: Sendable, Equatable {
    public var actorId: String
    public var name: String?
    public var role: Role
    public var csrf: String
    public var path: String

    public init(actorId: String, name: String?, role: Role, csrf: String, path: String) {
        self.actorId = actorId
        self.name = name
        self.role = role
        self.csrf = csrf
        self.path = path
    }

    /// The navigation's links for the role, (label, path).
    public var links: [(label: String, path: String)] {
        switch role {
        case .clinician, .nurse: [("Today", "/"), ("Patients", "/patients"), ("Stock", "/stock")]
        case .compliance: [("Audit", "/audit")]
        case .admin: [("Audit", "/audit"), ("Stock", "/stock"), ("Admin", "/admin")]
        case .interface: []
        }
    }

    /// "name (role)", the id when the actor has no name.
    public var signedInAs: String { "\(name ?? actorId) (\(role.rawValue))" }

    /// The hidden `csrf` field of a state-changing form.
    var csrfField: Body { WebPages.hidden("csrf", csrf) }

    /// The top navigation bar (hidden in print).
    var nav: Body {
        let current = links.last { l in l.path == "/" ? path == "/" : path == l.path || path.hasPrefix(l.path + "/") }?.path
        let items: [Body] = links.map { l in
            var attributes = [("href", l.path)]
            if l.path == current { attributes.append(("aria-current", "page")) }
            return H.el("li", [], [H.el("a", attributes, text: l.label)])
        }
        return H.el(
            "nav", [("class", "top"), ("aria-label", "Main")],
            [
                H.el("span", [("class", "brand")], text: "kstore"),
                H.el("ul", [], items),
                H.el(
                    "div", [("class", "me")],
                    [
                        H.el("span", [("class", "who-am-i")], text: signedInAs),
                        H.el(
                            "form", [("method", "post"), ("action", "/logout"), ("class", "inline")],
                            [csrfField, H.el("button", [("type", "submit"), ("class", "secondary")], text: "Sign out")]),
                    ]),
            ])
    }
}
