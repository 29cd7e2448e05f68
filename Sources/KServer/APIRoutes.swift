import Foundation
import HTTPTypes
import Hummingbird
import KApp
import KClinic

/// The JSON API, version 1 (web.md): each document is the CLI's `--json` document for the
/// same question, built by the same code (`Views`, `Documents`, `AuditTrailReader`).
struct APIRoutes {
    let server: WebServer

    func add(to router: Router<WebContext>) {
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in Response.jsonBytes(Array(OpenAPIDocument.json.utf8)) }
        api.post("session") { request, _ in try await signIn(request) }
        api.delete("session") { request, _ in try await signOut(request) }
        api.get("phase") { request, _ in try await phase(request) }
        api.get("due") { request, _ in try await due(request) }
        api.get("audit") { request, _ in try await audit(request) }
        api.get("alerts") { request, _ in try await alerts(request) }
        api.get("log") { request, _ in try await log(request) }
        api.get("trail") { request, _ in try await trail(request) }
        api.get("verify") { request, _ in try await verify(request) }
        api.get("unreviewed") { request, _ in try await unreviewed(request) }
        api.get("access") { request, _ in try await access(request) }
        api.get("inventory") { request, _ in try await inventory(request) }
        api.get("dispensing") { request, _ in try await dispensing(request) }
        api.post("events") { request, _ in try await events(request) }
        api.post("reviews") { request, _ in try await review(request) }
    }

    // MARK: Signing in

    func signIn(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: WebLimits.maxForm)
        guard let doc = try? JSONParser.parse(Array(buffer: body)), case .string(let actor)? = doc["actor"],
            case .string(let password)? = doc["password"]
        else {
            throw WebError.badRequest("send {\"actor\": ID, \"password\": P} as JSON")
        }
        let p = try await server.signIn(actor: actor, password: password)
        return Response.json(
            .object(
                [("actor", .string(p.principal.actor.id)), ("role", .string(p.principal.actor.role.rawValue))]
                    + (p.principal.name.map { [("name", JSONValue.string($0))] } ?? []) + [("csrf", .string(p.session.csrf))]),
            status: .ok
        ).with(cookie: server.sessionCookie(p.session.id))
    }

    func signOut(_ request: Request) async throws -> Response {
        let p = try await server.require(request, Roles.everyone)
        try server.checkCSRF(p, request)
        if let s = p.session { server.sessions.end(s.id) }
        return Response(status: .noContent).with(cookie: server.sessionCookie(nil))
    }

    // MARK: Queries

    func phase(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.clinical)
        let patient = try Parameters.patient(request.query("patient"))
        let day = try Parameters.day(request.query("on")) ?? Parameters.today()
        let asOf = try Parameters.timestamp(request.query("asOf"), "asOf").map { $0.epochMillis * 1000 }
        let explain = try Parameters.flag(request.query("explain"), "explain")
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            let views = try engine.phase(patient: patient, on: day, asOf: asOf, explain: explain)
            if let patient, views.isEmpty {
                throw WebError(.notFound, "no events of patient \(patient) on or before \(day)")
            }
            var out: [UInt8] = []
            if patient != nil, let v = views.first {
                JSONWriter.writeLine(Views.phase(v), into: &out)
            } else {
                JSONWriter.writeLine(.array(views.map(Views.phase)), into: &out)
            }
            return (out, views.map(\.patient))
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func due(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.clinical)
        let patient = try Parameters.patient(request.query("patient"))
        let day = try Parameters.day(request.query("on")) ?? Parameters.today()
        let statuses = try Parameters.statuses(request.query("status"))
        let asOf = try Parameters.timestamp(request.query("asOf"), "asOf").map { $0.epochMillis * 1000 }
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            let items = try engine.due(patient: patient, on: day, asOf: asOf).filter { statuses?.contains($0.status) ?? true }
            var out: [UInt8] = []
            JSONWriter.writeLine(.array(items.map(Views.due)), into: &out)
            return (out, try patient.map { [$0] } ?? LogReading.patients(store))
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func audit(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.clinicalAndCompliance)
        let patient = try Parameters.patient(request.query("patient"))
        let day = try Parameters.day(request.query("on")) ?? Parameters.today()
        let asOf = try Parameters.timestamp(request.query("asOf"), "asOf").map { $0.epochMillis * 1000 }
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            let findings = try engine.audit(patient: patient, on: day, asOf: asOf)
            var out: [UInt8] = []
            JSONWriter.writeLine(.array(findings.map(Views.audit)), into: &out)
            return (out, try patient.map { [$0] } ?? LogReading.patients(store))
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func alerts(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.clinical)
        let patient = try Parameters.patient(request.query("patient"))
        let day = try Parameters.day(request.query("on")) ?? Parameters.today()
        let all = try Parameters.flag(request.query("all"), "all")
        let asOf = try Parameters.timestamp(request.query("asOf"), "asOf").map { $0.epochMillis * 1000 }
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let engine = ProjectionEngine(store: store)
            engine.persists = false
            let alerts = try engine.alerts(patient: patient, on: day, asOf: asOf, all: all)
            var out: [UInt8] = []
            JSONWriter.writeLine(.array(alerts.map { Views.alert($0.1, patient: $0.0, on: day) }), into: &out)
            return (out, try patient.map { [$0] } ?? LogReading.patients(store))
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func log(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.everyone)
        let patient = try Parameters.patient(request.query("patient"))
        let type = try Parameters.eventType(request.query("type"))
        let from = try Parameters.uint(request.query("from"), "from", min: 1) ?? 1
        let limit = try Parameters.uint(request.query("limit"), "limit").map { Int(clamping: $0) }
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let selected = try LogReading.events(store, patient: patient, type: type, from: from, limit: limit)
            return (Documents.log(selected), selected.map(\.patient))
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    /// `query inventory --json` (R15): no patient in it (lots, lot alerts, the biennial item).
    func inventory(_ request: Request) async throws -> Response {
        _ = try await server.require(request, Roles.stock)
        let day = try Parameters.day(request.query("on")) ?? Parameters.today()
        let lot = try Parameters.lot(request.query("lot"))
        let doc = try await server.readers.run { store -> [UInt8] in
            let rules = try ProjectionEngine(store: store).rulesInForce().rules
            var out: [UInt8] = []
            JSONWriter.writeLine(
                Views.inventory(try LedgerReader.ledger(store, persist: false), on: day, lot: lot, rules: rules), into: &out)
            return out
        }
        return .jsonBytes(doc)
    }

    /// `query dispensing --json` (R15): a read of every patient named, logged.
    func dispensing(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.stock)
        guard let from = try Parameters.day(request.query("from"), "from"), let to = try Parameters.day(request.query("to"), "to") else {
            throw WebError.badRequest("from and to: the first and last day (YYYY-MM-DD) of the record")
        }
        guard from <= to else { throw WebError.badRequest("from: \(from) is after to \(to)") }
        let lot = try Parameters.lot(request.query("lot"))
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let ledger = try LedgerReader.ledger(store, persist: false)
            let rows = ledger.dispensing(from: from, to: to, lot: lot)
            var out: [UInt8] = []
            JSONWriter.writeLine(.array(rows.map { Views.dispensingRow($0, ledger: ledger) }), into: &out)
            return (out, Array(Set(rows.compactMap(\.patient))).sorted())
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func trail(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.compliance)
        let filter = AuditTrail.Filter(
            patient: try Parameters.patient(request.query("patient")), actor: try Parameters.actorId(request.query("actor")),
            type: try Parameters.eventType(request.query("type")), from: try Parameters.day(request.query("from"), "from"),
            to: try Parameters.day(request.query("to"), "to"))
        let (doc, patients) = try await server.readers.run { store -> ([UInt8], [String]) in
            let trail = try AuditTrailReader(store, filter: filter)
            var out: [UInt8] = []
            try trail.writeJSONLine { out.append(contentsOf: $0) }
            return (out, trail.patients)
        }
        try await server.recordRead(principal, request, patients: patients)
        return .jsonBytes(doc)
    }

    func verify(_ request: Request) async throws -> Response {
        _ = try await server.require(request, Roles.compliance)
        return .jsonBytes(try await server.verifyDocument())
    }

    func unreviewed(_ request: Request) async throws -> Response {
        _ = try await server.require(request, Roles.compliance)
        let doc = try await server.readers.run { store -> [UInt8] in
            var out: [UInt8] = []
            JSONWriter.writeLine(
                Documents.unreviewed(try Review.unreviewed(store), broken: try Review.brokenAttestations(store)), into: &out)
            return out
        }
        return .jsonBytes(doc)
    }

    func access(_ request: Request) async throws -> Response {
        _ = try await server.require(request, Roles.compliance)
        let patient = try Parameters.patient(request.query("patient"))
        let osUser = try Parameters.actorId(request.query("osUser"), "osUser")
        let path = server.config.storePath
        let doc = try await server.readers.run { store -> [UInt8] in
            var (all, broken) = try AccessLog.entries(store)
            // The commands as typed name the store's path: not for a browser (web.md).
            for i in all.indices { all[i].command = WebError.scrub(all[i].command, store: path) }
            var out: [UInt8] = []
            JSONWriter.writeLine(
                Documents.access(Documents.filterAccess(all, patient: patient, osUser: osUser), broken: broken), into: &out)
            return out
        }
        return .jsonBytes(doc)
    }

    // MARK: Writes

    /// `POST /api/v1/events`: an NDJSON body imported as one file (the same validation,
    /// permissions and atomicity), acknowledged after its commit.
    func events(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, Roles.everyone)
        try server.checkCSRF(principal, request)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > WebLimits.maxBody {
            throw WebError(.contentTooLarge, "the body is over 16 MiB; send a smaller file (split an import into several)")
        }
        let body = try await request.body.collect(upTo: WebLimits.maxBody)
        let bytes = Array(buffer: body)
        // A session or a person's token records as that actor; an interface's token for anyone.
        let onBehalfOf: String? = principal.actor.role == .interface && principal.session == nil ? nil : principal.actor.id
        let summary = try await server.importLines(bytes, as: onBehalfOf, source: "request")
        return .json(summary.json)
    }

    /// `POST /api/v1/reviews`: a review signed with the password in the same request.
    func review(_ request: Request) async throws -> Response {
        let principal = try await server.require(request, [.compliance])
        try server.checkCSRF(principal, request)
        let body = try await request.body.collect(upTo: WebLimits.maxForm)
        guard let doc = try? JSONParser.parse(Array(buffer: body)) else {
            throw WebError.badRequest("send {\"throughSequence\", \"meaning\", \"note\"?, \"password\"} as JSON")
        }
        guard case .int(let through)? = doc["throughSequence"], through >= 1 else {
            throw WebError(.unprocessableContent, "throughSequence: a sequence of this log (a whole number ≥ 1) is required")
        }
        guard case .string(let m)? = doc["meaning"], let meaning = SignatureMeaning(rawValue: m) else {
            throw WebError(.unprocessableContent, "meaning: one of reviewed, approved, responsibility is required")
        }
        var note: String? = nil
        if let n = doc["note"] {
            guard case .string(let s) = n else { throw WebError(.unprocessableContent, "note: a string") }
            note = s
        }
        guard case .string(let password)? = doc["password"] else {
            throw WebError(.unprocessableContent, "password: the signer's password is required (it signs the review)")
        }
        let (recorded, signature) = try await server.signedReview(
            principal, through: UInt64(through), meaning: meaning, note: note, password: password)
        return .json(Documents.review(recorded, signature: signature))
    }
}

extension WebServer {
    /// Signs `actor` in with `password`: the same 401, after the same bcrypt work, for an
    /// unknown actor, a wrong password, an actor without a password and a retired actor; 429
    /// while the actor is locked out after five failures.
    func signIn(actor: String, password: String) async throws -> (principal: Principal, session: Session) {
        guard actor.utf8.count <= 64, password.utf8.count <= 1024 else {
            throw WebError(.unauthorized, "the actor id or the password is wrong")
        }
        if sessions.lockedOut(actor) != nil {
            throw WebError(.tooManyRequests, "too many failed sign-ins for \(actor): try again in 15 minutes, or ask an admin")
        }
        let ok = try await readers.run { store in try Credentials.checkPassword(store, actorId: actor, password: password) }
        let record = try await registry().actors[actor]
        guard ok, let record, record.active else {
            sessions.fail(actor)
            throw WebError(.unauthorized, "the actor id or the password is wrong")
        }
        sessions.succeeded(actor)
        let session = sessions.create(actorId: actor)
        return (Principal(actor: Actor(id: record.id, role: record.role), name: record.name, session: session), session)
    }

    /// Checks a signer's password (21 CFR 11.200: both components at signing); a wrong one
    /// counts as a failed sign-in and records nothing.
    func checkSignature(_ principal: Principal, password: String) async throws {
        let id = principal.actor.id
        if sessions.lockedOut(id) != nil {
            throw WebError(.tooManyRequests, "too many failed sign-ins for \(id): try again in 15 minutes, or ask an admin")
        }
        let ok = try await readers.run { store in try Credentials.checkPassword(store, actorId: id, password: password) }
        guard ok else {
            sessions.fail(id)
            throw WebError(.unauthorized, "the password is wrong: nothing was signed or recorded")
        }
        sessions.succeeded(id)
    }

    /// Checks a witness's password, re-entered at the recorder's side (a stock event's
    /// witness, session.md), as a signer's is checked: a wrong one, or an actor with no
    /// password, counts as a failed sign-in of the witness and records nothing.
    func checkWitness(_ witness: String, password: String) async throws {
        guard !witness.isEmpty, witness.utf8.count <= 64, password.utf8.count <= 1024 else {
            throw WebError(.unauthorized, "the witness's actor id or password is wrong: nothing was recorded")
        }
        if sessions.lockedOut(witness) != nil {
            throw WebError(.tooManyRequests, "too many failed sign-ins for \(witness): try again in 15 minutes, or ask an admin")
        }
        let ok = try await readers.run { store in try Credentials.checkPassword(store, actorId: witness, password: password) }
        guard ok else {
            sessions.fail(witness)
            throw WebError(.unauthorized, "the witness's actor id or password is wrong: nothing was recorded")
        }
        sessions.succeeded(witness)
    }

    func signedReview(
        _ principal: Principal, through: UInt64, meaning: SignatureMeaning, note: String?, password: String
    ) async throws -> (Review.Recorded, ElectronicSignature) {
        try await checkSignature(principal, password: password)
        let signature = ElectronicSignature(
            actorId: principal.actor.id, name: principal.printedName, meaning: meaning, signedAt: SystemClock.now())
        let id = principal.actor.id
        let recorded = try await writer.run { store in
            try Review.record(store, through: through, actorId: id, note: note, signature: signature)
        }
        return (recorded, signature)
    }

    /// Imports `bytes` as one NDJSON file (all lines or none) on the writer thread, every line's
    /// actor required to be `actorId` when given; returns after the durable commit.
    func importLines(_ bytes: [UInt8], as actorId: String?, source: String) async throws -> ImportSummary {
        try await writer.run { store in
            var importer = Importer(store: store)
            importer.onBehalfOf = actorId
            return try importer.importNDJSON(bytes, source: source)
        }
    }

    /// `kstore audit verify --json`, run as the CLI runs it (a child process walks the store,
    /// so damage that would crash a reader is reported, not fatal to the server).
    func verifyDocument() async throws -> [UInt8] {
        let path = config.storePath
        return try await readers.run { _ in
            let outcome = try ChildProcess.run(ChildProcess.executable, ["audit", "verify", "--store", path, "--json"])
            guard case .exited(let code) = outcome.ending, code == 0 || code == 1, !outcome.stdout.isEmpty else {
                throw WebError(.internalServerError, "verify could not run; run `kstore audit verify` on the server")
            }
            return outcome.stdout
        }
    }

    /// The session cookie (web.md: HttpOnly, SameSite=Strict, Secure under TLS, no Max-Age);
    /// nil clears it.
    func sessionCookie(_ id: String?) -> String {
        var c = "kstore_session=\(id ?? ""); Path=/; HttpOnly; SameSite=Strict"
        if tls { c += "; Secure" }
        if id == nil { c += "; Max-Age=0" }
        return c
    }
}

extension Response {
    func with(cookie: String) -> Response {
        var r = self
        r.headers.append(HTTPField(name: .setCookie, value: cookie))
        return r
    }
}
