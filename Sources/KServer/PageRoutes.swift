import Foundation
import HTTPTypes
import Hummingbird
import KApp
import KClinic
import KReport
import MultipartKit

/// The pages of web.md: server-rendered HTML (KReport's `WebPages`), forms that work without
/// JavaScript, every read of patient data in the access log before the page is sent.
struct PageRoutes {
    let server: WebServer

    func add(to router: Router<WebContext>) {
        router.get("/login") { request, _ in loginPage(request) }
        router.post("/login") { request, _ in try await login(request) }
        router.post("/logout") { request, _ in try await logout(request) }
        router.get("/") { request, _ in try await today(request) }
        router.get("/patients") { request, _ in try await patients(request) }
        router.get("/patients/:id") { request, context in try await patient(request, try id(context)) }
        router.get("/patients/:id/record") { request, context in try await recordPage(request, try id(context)) }
        router.post("/patients/:id/record") { request, context in try await record(request, try id(context)) }
        router.post("/patients/:id/alerts/:alert/acknowledge") { request, context in
            try await acknowledge(request, try id(context), context.parameters.get("alert") ?? "")
        }
        router.get("/stock") { request, _ in try await stock(request) }
        router.post("/stock") { request, _ in try await recordStock(request) }
        router.get("/audit") { request, _ in try await audit(request) }
        router.post("/audit/review") { request, _ in try await review(request) }
        router.get("/audit/export") { request, _ in try await export(request) }
        router.get("/admin") { request, _ in try await admin(request) }
        router.post("/admin/actors") { request, _ in try await addActor(request) }
        router.post("/admin/actors/:id/retire") { request, context in try await retire(request, context.parameters.get("id") ?? "") }
        router.post("/admin/actors/:id/password") { request, context in
            try await setPassword(request, context.parameters.get("id") ?? "")
        }
        router.post("/admin/rules") { request, _ in try await uploadRules(request) }
        router.post("/admin/rules/adopt") { request, _ in try await adoptRules(request) }
    }

    func id(_ context: WebContext) throws -> String {
        guard let id = context.parameters.get("id"), Parameters.isPatientId(id) else {
            throw WebError(.notFound, "there is no such patient id")
        }
        return id
    }

    static func errorPage(_ principal: Principal?, _ e: WebError) -> Response {
        .html(WebPages.error(principal.map { chrome($0, path: "") }, status: Int(e.status.code), sentence: e.sentence), status: e.status)
    }

    static func chrome(_ p: Principal, path: String) -> WebChrome {
        WebChrome(actorId: p.actor.id, name: p.name, role: p.actor.role, csrf: p.session?.csrf ?? "", path: path)
    }

    // MARK: Who is asking

    enum Gate {
        case allowed(Principal)
        case answer(Response)

        /// What to answer instead of the page (only asked when not `allowed`).
        var answer: Response {
            switch self {
            case .answer(let r): r
            case .allowed: Response(status: .internalServerError)
            }
        }
    }

    /// The signed-in principal of a page, or the answer to give instead: the sign-in page (for a
    /// form whose session ended, with what was typed kept), or 403 for the wrong role.
    func gate(_ request: Request, _ roles: Set<Role>, form: [String: String]? = nil) async throws -> Gate {
        let auth = try await server.authenticate(request)
        switch auth {
        case .principal(let p):
            guard roles.contains(p.actor.role) else {
                return .answer(
                    PageRoutes.errorPage(
                        p,
                        WebError(
                            .forbidden,
                            "\(p.actor.role.article) \(p.actor.role.rawValue) may not open this page; it is for "
                                + roles.subtracting([.interface]).map(\.rawValue).sorted().joined(separator: ", "))))
            }
            return .allowed(p)
        case .none, .expired:
            let expired: Bool
            if case .expired = auth { expired = true } else { expired = false }
            if let form {
                let carried = form.filter { $0.key != "csrf" && $0.key != "password" && $0.key != "confirm" }.sorted { $0.key < $1.key }
                    .map { ($0.key, $0.value) }
                return .answer(
                    .html(
                        WebPages.login(
                            error: nil, next: request.uri.path, actor: nil, carried: carried,
                            notice: "Your session ended after 15 minutes without activity; sign in again. What you typed is kept."),
                        status: .unauthorized))
            }
            let next = request.pathAndQuery.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
            return .answer(.redirect("/login?next=\(next)" + (expired ? "&expired=1" : "")))
        }
    }

    func readForm(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: WebLimits.maxForm)
        return FormBody.parse(Array(buffer: body))
    }

    // MARK: Signing in

    func loginPage(_ request: Request) -> Response {
        let notice = request.query("expired") == "1" ? "Your session ended after 15 minutes without activity; sign in again." : nil
        return .html(WebPages.login(error: nil, next: safeNext(request.query("next")), actor: nil, carried: [], notice: notice))
    }

    /// Only paths of this site (no `//host`, no scheme) are followed after sign-in.
    func safeNext(_ s: String?) -> String? {
        guard let s, s.hasPrefix("/"), !s.hasPrefix("//"), !s.contains("\\"), s.count < 2000 else { return nil }
        return s
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let actor = form["actor"] ?? ""
        let next = safeNext(form["next"])
        let carried = form.filter { $0.key.hasPrefix("carry.") }.map { (String($0.key.dropFirst(6)), $0.value) }.sorted { $0.0 < $1.0 }
        let signed: (principal: Principal, session: Session)
        do {
            signed = try await server.signIn(actor: actor, password: form["password"] ?? "")
        } catch let e as WebError {
            return .html(WebPages.login(error: e.sentence, next: next, actor: actor, carried: carried, notice: nil), status: e.status)
        }
        let cookie = server.sessionCookie(signed.session.id)
        // A form whose session had ended: shown again, filled in, to be saved with the new session.
        if !carried.isEmpty, let next, let patient = recordPath(next) {
            var values: [String: String] = [:]
            for (k, v) in carried { values[k] = v }
            let page = try await recordPageBody(
                signed.principal, request, patient, values: values, errors: [:], submitted: values["type"], banner: nil)
            return Response.html(page).with(cookie: cookie)
        }
        return Response.redirect(next ?? home(signed.principal.actor.role)).with(cookie: cookie)
    }

    func recordPath(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "patients", parts[2] == "record", Parameters.isPatientId(String(parts[1])) else { return nil }
        return String(parts[1])
    }

    func home(_ role: Role) -> String {
        switch role {
        case .clinician, .nurse, .interface: "/"
        case .compliance: "/audit"
        case .admin: "/admin"
        }
    }

    func logout(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        if case .principal(let p) = try await server.authenticate(request) {
            try server.checkCSRF(p, request, form: form)
            if let s = p.session { server.sessions.end(s.id) }
        }
        return Response.redirect("/login").with(cookie: server.sessionCookie(nil))
    }

    // MARK: Clinical pages

    func day(_ request: Request) throws -> Day { try Parameters.day(request.query("on")) ?? Parameters.today() }

    func today(_ request: Request) async throws -> Response {
        let gated = try await gate(request, [.clinician, .nurse])
        guard case .allowed(let p) = gated else { return gated.answer }
        let day = try day(request)
        let page = try await server.readers.run { store in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            return try engine.todayPage(on: day)
        }
        let shown = page.infusions.map(\.patient) + page.monitoring.map(\.patient) + page.alerts.map(\.patient) + page.gaps.map(\.patient)
        try await server.recordRead(p, request, patients: Array(Set(shown)))
        return .html(WebPages.today(PageRoutes.chrome(p, path: "/"), page))
    }

    func patients(_ request: Request) async throws -> Response {
        let gated = try await gate(request, [.clinician, .nurse])
        guard case .allowed(let p) = gated else { return gated.answer }
        let day = try day(request)
        let q = request.query("q").map { String($0.prefix(64)) }
        let rows = try await server.readers.run { store in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            let all = try engine.phase(patient: nil, on: day, asOf: nil)
            guard let q else { return all }
            return all.filter { $0.patient.localizedCaseInsensitiveContains(q) }
        }
        try await server.recordRead(p, request, patients: rows.map(\.patient))
        return .html(WebPages.patients(PageRoutes.chrome(p, path: "/patients"), PatientsPage(evaluationDay: day, query: q, rows: rows)))
    }

    func patient(_ request: Request, _ id: String) async throws -> Response {
        let gated = try await gate(request, [.clinician, .nurse])
        guard case .allowed(let p) = gated else { return gated.answer }
        let day = try day(request)
        let (page, table) = try await server.readers.run { store -> (PatientPage?, PermissionTable) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            return (try engine.patientPage(id, on: day), try engine.rulesInForce().rules.permissions)
        }
        guard let page else { throw WebError(.notFound, "no events of patient \(id) on or before \(day)") }
        try await server.recordRead(p, request, patients: [id])
        let notice = request.query("notice").map { String($0.prefix(300)) }
        return .html(
            WebPages.patient(
                PageRoutes.chrome(p, path: "/patients/\(id)"), page, canAcknowledge: table.may(p.actor.role, record: .alertAcknowledged),
                canRecord: true, notice: notice))
    }

    // MARK: Charting

    func recordPage(_ request: Request, _ id: String) async throws -> Response {
        let gated = try await gate(request, [.clinician, .nurse])
        guard case .allowed(let p) = gated else { return gated.answer }
        let banner = request.query("recorded").map { String($0.prefix(120)) }
        return .html(try await recordPageBody(p, request, id, values: [:], errors: [:], submitted: nil, banner: banner))
    }

    func recordPageBody(
        _ p: Principal, _ request: Request, _ id: String, values: [String: String], errors: [String: String], submitted: String?,
        banner: String?
    ) async throws -> String {
        let now = SystemClock.now()
        let (table, infusions) = try await server.readers.run { store -> (PermissionTable, [RecordPage.SessionInfusion]) in
            let rules = try ProjectionEngine(store: store).rulesInForce().rules
            let infusions = try WebForms.sessionInfusions(store, patient: id, now: now, remsFormDays: rules.session.remsFormDays)
            return (rules.permissions, infusions)
        }
        var values = values
        let forms = RecordForm.offered(to: p.actor.role, table: table)
        // The session forms list the patient's infusions: patient data, a read to log.
        let namesInfusions = forms.contains { f in
            f.fields.contains { if case .infusion = $0.kind { true } else { false } }
        }
        if namesInfusions && !infusions.isEmpty { try await server.recordRead(p, request, patients: [id]) }
        for f in forms {
            // The form just refused keeps its id (resent after a fix it is still one event).
            let key = "eventId.\(f.type.rawValue)"
            if f.type.rawValue == submitted, let sent = values["eventId"] {
                values[key] = sent
            } else {
                values[key] = UUID().uuidString.lowercased()
            }
        }
        let page = RecordPage(
            patient: id, evaluationDay: Parameters.today(), forms: forms,
            submitted: submitted, values: values, errors: errors, banner: banner, infusions: infusions)
        return WebPages.record(PageRoutes.chrome(p, path: "/patients/\(id)/record"), page)
    }

    /// A charted visit: the form becomes one import line, imported as the signed-in actor
    /// (the same checks and sentences as `kstore import`), acknowledged after its commit.
    func record(_ request: Request, _ id: String) async throws -> Response {
        let form = try await readForm(request)
        let gated = try await gate(request, [.clinician, .nurse], form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        // Refusals are answered here, not thrown: the error page keeps the signed-in navigation.
        guard let typeName = form["type"], let type = EventType(rawValue: typeName), let recordForm = RecordForm.form(for: type) else {
            return PageRoutes.errorPage(p, WebError.badRequest("the form has no event type this page charts"))
        }
        let table = try await server.readers.run { store in try ProjectionEngine(store: store).rulesInForce().rules.permissions }
        guard table.may(p.actor.role, record: type) else {
            return PageRoutes.errorPage(
                p,
                WebError.forbidden(
                    "\(p.actor.role.article) \(p.actor.role.rawValue) may not record \(type.rawValue) (\(recordForm.title.lowercased())); a clinician may"
                ))
        }
        let eventId = form["eventId"].flatMap { UUID(uuidString: $0) }
        let offset = TimeZone.current.secondsFromGMT(for: Date()) / 60
        let built: [UInt8]
        switch WebForms.importLine(
            type: type, fields: form, patient: id, actor: p.actor, now: SystemClock.now(), utcOffsetMinutes: offset, eventId: eventId)
        {
        case .success(let l): built = l
        case .failure(let refused):
            return .html(
                try await recordPageBody(p, request, id, values: form, errors: refused.fields, submitted: typeName, banner: nil),
                status: .unprocessableContent)
        }
        let actorId = p.actor.id
        let line = built
        do {
            let summary = try await server.importLines(line, as: actorId, source: "form")
            let what =
                summary.imported > 0
                ? "\(recordForm.title) recorded for \(id) as sequence \(summary.lastSequence ?? 0)"
                : "nothing new: this form was already recorded"
            return .redirect("/patients/\(id)/record?recorded=" + (what.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch {
            let e = server.webError(error)
            var errors: [String: String] = [:]
            if e.lineErrors.isEmpty {
                errors[""] = e.sentence
            } else {
                for l in e.lineErrors {
                    var bare = l
                    bare.file = nil
                    bare.line = nil
                    errors[WebForms.formField(forLineErrorField: l.field ?? "")] = bare.description
                }
            }
            let values = form
            return .html(
                try await recordPageBody(p, request, id, values: values, errors: errors, submitted: typeName, banner: nil), status: e.status
            )
        }
    }

    func acknowledge(_ request: Request, _ id: String, _ alert: String) async throws -> Response {
        let form = try await readForm(request)
        let gated = try await gate(request, [.clinician, .nurse], form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        var data: [(String, JSONValue)] = [("alertId", .string(String(alert.prefix(200))))]
        if let note = form["note"], !note.trimmingCharacters(in: .whitespaces).isEmpty { data.append(("note", .string(note))) }
        var ackLine: [UInt8] = []
        JSONWriter.writeLine(
            .object([
                ("type", .string(EventType.alertAcknowledged.rawValue)), ("patient", .string(id)),
                ("occurredAt", .string(SystemClock.now().rfc3339)),
                ("actor", .object([("id", .string(p.actor.id)), ("role", .string(p.actor.role.rawValue))])), ("data", .object(data)),
            ]), into: &ackLine)
        let line = ackLine
        let actorId = p.actor.id
        let notice: String
        do {
            let s = try await server.importLines(line, as: actorId, source: "form")
            notice = "Alert acknowledged (sequence \(s.lastSequence ?? 0))"
        } catch {
            var e = server.webError(error)
            if let first = e.lineErrors.first {
                var bare = first
                bare.file = nil
                bare.line = nil
                e.sentence = bare.description
            }
            notice = "Not acknowledged: " + e.sentence
        }
        return .redirect("/patients/\(id)?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    // MARK: Stock

    /// Who may open `/stock`: the roles that record stock events (session.md); web.md gives
    /// compliance no stock page, so it is refused.
    static let stockRoles: Set<Role> = [.clinician, .nurse, .admin]

    func stock(_ request: Request) async throws -> Response {
        let gated = try await gate(request, PageRoutes.stockRoles)
        guard case .allowed(let p) = gated else { return gated.answer }
        let banner = request.query("recorded").map { String($0.prefix(200)) }
        return .html(try await stockPageBody(p, day: try day(request), values: [:], errors: [:], submitted: nil, banner: banner))
    }

    func stockPageBody(
        _ p: Principal, day: Day, values: [String: String], errors: [String: String], submitted: String?, banner: String?
    ) async throws -> String {
        let (ledger, rules) = try await server.readers.run { store -> (Ledger, RuleSet) in
            (try LedgerReader.ledger(store, persist: false), try ProjectionEngine(store: store).rulesInForce().rules)
        }
        var values = values
        let forms = RecordForm.stockOffered(to: p.actor.role, table: rules.permissions)
        for f in forms {
            let key = "eventId.\(f.type.rawValue)"
            if f.type.rawValue == submitted, let sent = values["eventId"] {
                values[key] = sent
            } else {
                values[key] = UUID().uuidString.lowercased()
            }
        }
        let page = StockPage(
            evaluationDay: day, lots: ledger.summaries(on: day),
            alerts: ledger.alerts(on: day, tolerance: rules.session.inventoryToleranceMg),
            biennial: ledger.biennial(on: day, months: rules.session.inventoryMonths), forms: forms, submitted: submitted,
            values: values, errors: errors, banner: banner)
        return WebPages.stock(PageRoutes.chrome(p, path: "/stock"), page)
    }

    /// A stock form: one import line naming no patient, imported as the signed-in actor. A
    /// witnessed form carries the witness's password, checked first: a wrong one records
    /// nothing and counts as a failed sign-in of the witness.
    func recordStock(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let gated = try await gate(request, PageRoutes.stockRoles, form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        guard let typeName = form["type"], let type = EventType(rawValue: typeName), let stockForm = RecordForm.stockForm(for: type)
        else {
            return PageRoutes.errorPage(p, WebError.badRequest("the form has no stock event type this page records"))
        }
        let today = Parameters.today()
        func again(_ errors: [String: String], _ status: HTTPResponse.Status) async throws -> Response {
            var values = form
            values[RecordForm.witnessPasswordField] = nil
            return .html(
                try await stockPageBody(p, day: today, values: values, errors: errors, submitted: typeName, banner: nil), status: status)
        }
        let table = try await server.readers.run { store in try ProjectionEngine(store: store).rulesInForce().rules.permissions }
        guard table.may(p.actor.role, record: type) else {
            return PageRoutes.errorPage(
                p,
                WebError.forbidden(
                    "\(p.actor.role.article) \(p.actor.role.rawValue) may not record \(type.rawValue) (\(stockForm.title.lowercased()))"))
        }
        if stockForm.witnessed {
            let witness = (form["witness"] ?? "").trimmingCharacters(in: .whitespaces)
            do {
                try await server.checkWitness(witness, password: form[RecordForm.witnessPasswordField] ?? "")
            } catch {
                let e = server.webError(error)
                return try await again([RecordForm.witnessPasswordField: e.sentence], e.status)
            }
        }
        let offset = TimeZone.current.secondsFromGMT(for: Date()) / 60
        let built: [UInt8]
        switch WebForms.importLine(
            type: type, fields: form, patient: nil, actor: p.actor, now: SystemClock.now(), utcOffsetMinutes: offset,
            eventId: form["eventId"].flatMap { UUID(uuidString: $0) })
        {
        case .success(let l): built = l
        case .failure(let refused): return try await again(refused.fields, .unprocessableContent)
        }
        let line = built
        let actorId = p.actor.id
        do {
            let summary = try await server.importLines(line, as: actorId, source: "form")
            let what =
                summary.imported > 0
                ? "\(stockForm.title) recorded as sequence \(summary.lastSequence ?? 0)"
                : "nothing new: this form was already recorded"
            return .redirect("/stock?recorded=" + (what.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch {
            let e = server.webError(error)
            var errors: [String: String] = [:]
            if e.lineErrors.isEmpty {
                errors[""] = e.sentence
            } else {
                for l in e.lineErrors {
                    var bare = l
                    bare.file = nil
                    bare.line = nil
                    errors[WebForms.formField(forLineErrorField: l.field ?? "")] = bare.description
                }
            }
            return try await again(errors, e.status)
        }
    }

    // MARK: Audit

    func audit(_ request: Request, notice: String? = nil, reviewError: String? = nil, status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let gated = try await gate(request, Roles.compliance)
        guard case .allowed(let p) = gated else { return gated.answer }
        // A signed review redirects here with its acknowledgement in `notice`.
        let notice = notice ?? request.query("notice").map { String($0.prefix(300)) }
        let filter = AuditPage.Filter(
            patient: try Parameters.patient(request.query("patient")), actor: try Parameters.actorId(request.query("actor")),
            from: try Parameters.day(request.query("from"), "from"), to: try Parameters.day(request.query("to"), "to"))
        let verify = try await server.verifyDocument()
        let doc = try? JSONParser.parse(verify)
        var problems: [AuditPage.Problem] = []
        if case .array(let list)? = doc?["problems"] {
            for item in list {
                var seq: UInt64? = nil
                if case .int(let s)? = item["sequence"], s > 0 { seq = UInt64(s) }
                var kind = ""
                var detail = ""
                if case .string(let k)? = item["kind"] { kind = k }
                if case .string(let d)? = item["detail"] { detail = d }
                problems.append(AuditPage.Problem(sequence: seq, kind: kind, detail: detail))
            }
        }
        var ok = false
        var events: UInt64 = 0
        var head = ""
        if case .bool(let b)? = doc?["ok"] { ok = b }
        if case .int(let n)? = doc?["events"] { events = UInt64(max(0, n)) }
        if case .string(let h)? = doc?["head"] { head = h }
        let verified = (
            ok: ok, events: events, head: head, problems: problems.map { "sequence \($0.sequence ?? 0): \($0.kind): \($0.detail)" }
        )
        let (okNow, eventsNow, headNow, problemsNow) = (ok, events, head, problems)
        let trailFilter = AuditTrail.Filter(patient: filter.patient, actor: filter.actor, from: filter.from, to: filter.to)
        let path = server.config.storePath
        let (page, shown) = try await server.readers.run { store -> (AuditPage, [String]) in
            let u = try Review.unreviewed(store)
            let broken = try Review.brokenAttestations(store)
            let (trailPage, trail) = try AuditTrail.page(store, filter: trailFilter, verified: verified)
            let (entries, _) = try AccessLog.entries(store)
            let access = entries.suffix(200).reversed().map { e in
                AuditPage.Access(
                    sequence: e.sequence, at: EventMapping.formatMicros(e.atMicros), osUser: e.osUser,
                    command: WebError.scrub(e.command, store: path),
                    patients: e.patients.isEmpty && e.patientCount > 0 ? ["all \(e.patientCount) patients"] : e.patients)
            }
            let page = AuditPage(
                verifyOK: okNow, verifiedEvents: eventsNow, headHash: headNow, problems: problemsNow,
                unreviewed: u.ranges.map { AuditPage.Range(from: $0.lowerBound, through: $0.upperBound, events: UInt64($0.count)) },
                reviewedThrough: u.reviewedThrough == 0 ? nil : u.reviewedThrough, head: u.head,
                alteredSinceReview: broken.map {
                    "the log through \($0.review.through), reviewed by \($0.review.actor) at sequence \($0.review.sequence), has changed since"
                }, filter: filter, trail: trailPage, access: Array(access), notice: notice, reviewError: reviewError)
            return (page, Array(Set(trail.entries.map(\.record.patient))))
        }
        try await server.recordRead(p, request, patients: shown)
        return .html(WebPages.audit(PageRoutes.chrome(p, path: "/audit"), page), status: status)
    }

    func review(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let gated = try await gate(request, [.compliance], form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        guard let through = form["throughSequence"].flatMap({ UInt64($0) }), through >= 1 else {
            return try await audit(
                request, reviewError: "throughSequence: a sequence of this log is required", status: .unprocessableContent)
        }
        guard let meaning = form["meaning"].flatMap({ SignatureMeaning(rawValue: $0) }) else {
            return try await audit(
                request, reviewError: "meaning: choose reviewed, approved or responsibility", status: .unprocessableContent)
        }
        let note = form["note"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        do {
            let (r, s) = try await server.signedReview(p, through: through, meaning: meaning, note: note, password: form["password"] ?? "")
            let notice = "Review through sequence \(r.through) signed by \(s.description) and recorded as sequence \(r.sequence)"
            return .redirect("/audit?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch {
            let e = server.webError(error)
            return try await audit(request, reviewError: e.sentence, status: e.status)
        }
    }

    func export(_ request: Request) async throws -> Response {
        let gated = try await gate(request, Roles.compliance)
        guard case .allowed(let p) = gated else { return gated.answer }
        guard let from = try Parameters.day(request.query("from"), "from"), let to = try Parameters.day(request.query("to"), "to") else {
            throw WebError.badRequest("from and to: the first and last day (YYYY-MM-DD) to export")
        }
        let fhir = (request.query("format") ?? "fhir") == "fhir"
        let (bytes, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            var out: [UInt8] = []
            if fhir {
                let resources = try FHIRExport.resources(store, from: from, to: to)
                for r in resources { JSONWriter.writeLine(r, into: &out) }
                return (out, FHIRExport.patients(in: resources))
            }
            let selected = try LogReading.recorded(store, from: from, through: to)
            for r in selected { JSONWriter.writeLine(EventMapping.json(r), into: &out) }
            return (out, selected.map(\.patient))
        }
        try await server.recordRead(p, request, patients: patients)
        let name = "kstore-\(fhir ? "fhir" : "events")-\(from)-\(to).ndjson"
        return Response(
            status: .ok,
            headers: [.contentType: "application/x-ndjson", .contentDisposition: "attachment; filename=\"\(name)\""],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Admin

    func admin(_ request: Request, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let gated = try await gate(request, [.admin])
        guard case .allowed(let p) = gated else { return gated.answer }
        let notice = notice ?? request.query("notice").map { String($0.prefix(300)) }
        let page = try await server.readers.run { store -> AdminPage in
            let actors = try Actors.list(store)
            let withPassword = try Credentials.actorsWithPassword(store)
            let rules = try ProjectionEngine(store: store).rulesInForce()
            return AdminPage(
                actors: actors.map {
                    AdminPage.ActorRow(
                        id: $0.id, name: $0.name, role: $0.role, osUser: $0.osUser, active: $0.active,
                        hasPassword: withPassword.contains($0.id))
                }, rulesVersion: rules.rules.version, rulesHash: rules.hash, notice: notice, error: error)
        }
        return .html(WebPages.admin(PageRoutes.chrome(p, path: "/admin"), page), status: status)
    }

    /// Runs an admin's change; on a refusal the admin page is shown with its sentence.
    func adminChange(
        _ request: Request, form: [String: String], _ change: @escaping @Sendable (ClinicStore, Actor) throws -> String
    ) async throws -> Response {
        let gated = try await gate(request, [.admin], form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        let admin = p.actor
        do {
            let notice = try await server.writer.run { store in try change(store, admin) }
            return .redirect("/admin?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch {
            let e = server.webError(error)
            return try await self.admin(request, error: e.sentence, status: e.status)
        }
    }

    func addActor(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let id = form["id"] ?? ""
        let name = form["name"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let osUser = form["osUser"] ?? ""
        guard let role = form["role"].flatMap({ Role(rawValue: $0) }) else {
            return try await admin(
                request, error: "role: choose clinician, nurse, compliance, admin or interface", status: .unprocessableContent)
        }
        return try await adminChange(request, form: form) { store, admin in
            let seq = try Actors.add(store, id: id, role: role, osUser: osUser, name: name, by: admin)
            return "Registered \(id) as \(role.rawValue) (sequence \(seq))"
        }
    }

    func retire(_ request: Request, _ id: String) async throws -> Response {
        let form = try await readForm(request)
        let response = try await adminChange(request, form: form) { store, admin in
            let seq = try Actors.retire(store, id: id, by: admin)
            return "Retired \(id) (sequence \(seq)); their sessions ended"
        }
        if response.status == .seeOther { server.sessions.endAll(actorId: id) }
        return response
    }

    func setPassword(_ request: Request, _ id: String) async throws -> Response {
        let form = try await readForm(request)
        let password = form["password"] ?? ""
        guard password == form["confirm"] else {
            return try await admin(request, error: "the two passwords differ; nothing was changed", status: .unprocessableContent)
        }
        return try await adminChange(request, form: form) { store, admin in
            let seq = try Credentials.setPassword(store, actorId: id, password: password, by: .webActor(admin))
            return "Password of \(id) set (sequence \(seq))"
        }
    }

    /// A rule file uploaded: its replay diff, patient by patient, and the signed adopt form.
    func uploadRules(_ request: Request) async throws -> Response {
        let gated = try await gate(request, [.admin])
        guard case .allowed(let p) = gated else { return gated.answer }
        let body = try await request.body.collect(upTo: WebLimits.maxForm)
        guard let contentType = request.headers[.contentType], let boundary = PageRoutes.boundary(contentType) else {
            throw WebError.badRequest("upload the rule file as multipart/form-data (the form's file field `rules`)")
        }
        struct Upload: Decodable {
            var csrf: String
            var rules: String
        }
        let upload: Upload
        do {
            upload = try FormDataDecoder().decode(Upload.self, from: body, boundary: boundary)
        } catch {
            return try await admin(request, error: "choose a rule file (JSON) to upload", status: .unprocessableContent)
        }
        try server.checkCSRF(p, request, form: ["csrf": upload.csrf])
        let rules: RuleSet
        do {
            rules = try RuleSet.load(json: Array(upload.rules.utf8))
        } catch {
            return try await admin(request, error: "the rule file is not a rule set: \(error)", status: .unprocessableContent)
        }
        let hash = RuleSetJSON.canonical(rules).hash
        server.pending.set(hash, rules, actor: p.actor.id)
        return try await diffPage(request, p, rules, hash: hash, error: nil, status: .ok)
    }

    /// The replay diff of an uploaded rule set and its signed adoption form (again, with the
    /// sentence, after a refused signature).
    func diffPage(
        _ request: Request, _ p: Principal, _ rules: RuleSet, hash: String, error: String?, status: HTTPResponse.Status
    ) async throws -> Response {
        let day = Parameters.today()
        let (report, current) = try await server.readers.run { store -> (ReplayReport, RulesInForce) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            return (try engine.replay(newRules: rules, apply: false, on: day), try engine.rulesInForce())
        }
        try await server.recordRead(p, request, patients: Array(Set(report.changes.map(\.patient))))
        let page = RuleDiffPage(
            uploadedVersion: rules.version, uploadedHash: hash, currentVersion: current.rules.version, currentHash: current.hash,
            changes: report.changes.map {
                RuleDiffPage.Change(patient: $0.patient, field: $0.field, before: Views.cell($0.before), after: Views.cell($0.after))
            }, error: error)
        return .html(WebPages.ruleDiff(PageRoutes.chrome(p, path: "/admin"), page), status: status)
    }

    static func boundary(_ contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for part in contentType.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces)
            if kv.lowercased().hasPrefix("boundary=") {
                return String(kv.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Adopts the uploaded rule set, signed with the admin's password (meaning `approved`).
    func adoptRules(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let gated = try await gate(request, [.admin], form: form)
        guard case .allowed(let p) = gated else { return gated.answer }
        try server.checkCSRF(p, request, form: form)
        guard let hash = form["contentHash"], let rules = server.pending.get(hash, actor: p.actor.id) else {
            return try await admin(
                request, error: "upload the rule file again: the upload to adopt was not found", status: .unprocessableContent)
        }
        do {
            try await server.checkSignature(p, password: form["password"] ?? "")
        } catch {
            let e = server.webError(error)
            return try await diffPage(request, p, rules, hash: hash, error: e.sentence, status: e.status)
        }
        let signature = ElectronicSignature(actorId: p.actor.id, name: p.printedName, meaning: .approved, signedAt: SystemClock.now())
        let day = Parameters.today()
        do {
            let report = try await server.writer.run { store in
                try ProjectionEngine(store: store).replay(newRules: rules, apply: true, on: day, signature: signature)
            }
            server.pending.remove(hash)
            let notice = "Adopted rule set \(report.rulesAfter), signed by \(signature.description); projections stored"
            return .redirect("/admin?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch {
            let e = server.webError(error)
            return try await admin(request, error: e.sentence, status: e.status)
        }
    }
}

/// Rule files uploaded and shown, waiting for their signed adoption (in memory, an hour).
final class PendingRules: @unchecked Sendable {
    private let lock = NSLock()
    private var uploads: [String: (rules: RuleSet, actor: String, at: Date)] = [:]

    func set(_ hash: String, _ rules: RuleSet, actor: String) {
        lock.withLock {
            uploads = uploads.filter { Date().timeIntervalSince($0.value.at) < 3600 }
            uploads[hash] = (rules, actor, Date())
        }
    }

    func get(_ hash: String, actor: String) -> RuleSet? {
        lock.withLock {
            guard let u = uploads[hash], u.actor == actor, Date().timeIntervalSince(u.at) < 3600 else { return nil }
            return u.rules
        }
    }

    func remove(_ hash: String) { lock.withLock { uploads[hash] = nil } }
}
