import Foundation
import KApp
import KClinic
import KReport
import Testing

/// The web's pages (pure rendering) and its charting forms: role-dependent navigation, only
/// permitted forms offered, refusals beside their fields, values refilled, every value escaped,
/// no script, and a posted form as an import line the import pipeline parses.
@Suite struct WebPagesTests {
    static let day = Day(year: 2026, month: 3, day: 14) ?? Day(ordinal: 20_526)
    static let now = Timestamp(epochMillis: 1_773_500_000_000, offsetMinutes: 0)

    static func chrome(_ role: Role, path: String = "/", name: String? = "Dana Lee") -> WebChrome {
        WebChrome(actorId: "dana", name: name, role: role, csrf: "tok-123", path: path)
    }

    static func view(_ patient: String, overdue: Int = 0) -> PhaseView {
        PhaseView(
            patient: patient, treatmentProtocol: .intervalExtension, phase: .stabilization, status: .maintenance, weekOfTreatment: 3,
            responseStatus: nil, baselineMadrs: 30, nadirMadrs: 10, latestMadrs: 12,
            interval: PhaseView.Interval(days: 21, treatmentsAtInterval: 1, requiredBeforeExtension: 3), nextInfusionDue: day,
            infusionOverdueDays: overdue)
    }

    static func noScript(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.lowercased().contains("<script"), sourceLocation: sourceLocation)
        #expect(!html.lowercased().contains(" onclick="), sourceLocation: sourceLocation)
        #expect(!html.lowercased().contains("javascript:"), sourceLocation: sourceLocation)
    }

    /// The opening tag of the element whose id is `id`.
    static func tag(_ html: String, id: String) -> String? {
        guard let r = html.range(of: "id=\"\(id)\""), let open = html[..<r.lowerBound].lastIndex(of: "<"),
            let close = html[r.upperBound...].firstIndex(of: ">")
        else { return nil }
        return String(html[open...close])
    }

    // MARK: Chrome

    @Test func navigationDependsOnTheRole() {
        let page = TodayPage(evaluationDay: Self.day, rulesVersion: "v1", patients: 0, infusions: [], monitoring: [], alerts: [], gaps: [])
        for role in [Role.nurse, .clinician] {
            let html = WebPages.today(Self.chrome(role), page)
            #expect(html.contains("<a href=\"/\" aria-current=\"page\">Today</a>"))
            #expect(html.contains("<a href=\"/patients\">Patients</a>"))
            #expect(!html.contains("href=\"/audit\""))
            #expect(!html.contains("href=\"/admin\""))
            #expect(html.contains("Dana Lee (\(role.rawValue))"))
        }
        let compliance = WebPages.error(Self.chrome(.compliance, path: "/audit"), status: 404, sentence: "No such page.")
        #expect(compliance.contains("<a href=\"/audit\" aria-current=\"page\">Audit</a>"))
        #expect(!compliance.contains("href=\"/admin\""))
        #expect(!compliance.contains("href=\"/patients\""))
        let admin = WebPages.error(Self.chrome(.admin, path: "/admin/rules"), status: 403, sentence: "Not for you.")
        #expect(admin.contains("href=\"/audit\""))
        #expect(admin.contains("<a href=\"/admin\" aria-current=\"page\">Admin</a>"))
        #expect(!admin.contains("href=\"/patients\""))
        // Sign out: a POST with the session's CSRF token; the nav is hidden in print.
        #expect(admin.contains("<form method=\"post\" action=\"/logout\""))
        #expect(admin.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok-123\">"))
        #expect(admin.contains("@media print{nav.top,form"))
        #expect(admin.contains("Not for you."))
        Self.noScript(admin)
    }

    @Test func theErrorPageShowsOnlyItsSentence() {
        let html = WebPages.error(nil, status: 500, sentence: "The store could not be read <here>.")
        #expect(html.contains("The store could not be read &lt;here&gt;."))
        #expect(html.contains("href=\"/login\""))
        #expect(!html.contains("<nav"))
        Self.noScript(html)
    }

    // MARK: Sign-in

    @Test func signInKeepsWhatWasTyped() {
        let html = WebPages.login(
            error: "Wrong actor id or password.", next: "/patients/P-1/record", actor: "dana",
            carried: [("type", "ScoreRecorded"), ("value", "12"), ("note", "\"quoted\" <b>")],
            notice: "Your session ended after 15 minutes without activity; sign in again. What you typed is kept.")
        #expect(html.contains("<form method=\"post\" action=\"/login\""))
        #expect(html.contains("name=\"actor\" id=\"actor\" value=\"dana\""))
        #expect(html.contains("type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\""))
        #expect(html.contains("<input type=\"hidden\" name=\"next\" value=\"/patients/P-1/record\">"))
        #expect(html.contains("<input type=\"hidden\" name=\"carry.value\" value=\"12\">"))
        #expect(html.contains("<input type=\"hidden\" name=\"carry.note\" value=\"&quot;quoted&quot; &lt;b&gt;\">"))
        #expect(html.contains("What you typed is kept."))
        #expect(html.contains("<label for=\"actor\">") && html.contains("<label for=\"password\">"))
        Self.noScript(html)
    }

    // MARK: Today and patients

    @Test func todayLinksEveryPatientAndHasADatePicker() {
        let page = TodayPage(
            evaluationDay: Self.day, rulesVersion: "v1", patients: 2, infusions: [Self.view("P-1", overdue: 2)],
            monitoring: [DueItem(patient: "P.2", item: "urinalysis", lastDone: nil, dueFrom: nil, dueBy: Self.day, status: .overdue)],
            alerts: [], gaps: [])
        let html = WebPages.today(Self.chrome(.nurse), page)
        #expect(html.contains("<a href=\"/patients/P-1?on=2026-03-14\">P-1</a>"))
        #expect(html.contains("<a href=\"/patients/P.2?on=2026-03-14\">P.2</a>"))
        #expect(html.contains("<form method=\"get\" action=\"/\" class=\"picker\">"))
        #expect(html.contains("<input type=\"date\" id=\"on\" name=\"on\" value=\"2026-03-14\""))
        #expect(html.contains("<div class=\"scroll\"><table class=\"infusions\">"))
        // The report itself is unchanged: no links, no forms.
        let report = Reports.today(page)
        #expect(!report.contains("<a ") && !report.contains("<form"))
        Self.noScript(html)
    }

    @Test func patientsSearchAndEscaping() {
        let page = PatientsPage(
            evaluationDay: Self.day, query: "<script>", rows: [Self.view("P-9"), Self.view("<script>alert(1)</script>")])
        let html = WebPages.patients(Self.chrome(.clinician, path: "/patients"), page)
        #expect(html.contains("<form method=\"get\" action=\"/patients\""))
        #expect(html.contains("name=\"q\" value=\"&lt;script&gt;\""))
        #expect(html.contains("<a href=\"/patients/P-9?on=2026-03-14\">P-9</a>"))
        // An id outside [A-Za-z0-9._-] (never stored, but never trusted) is percent-encoded and escaped.
        #expect(html.contains("href=\"/patients/%3Cscript%3Ealert%281%29%3C%2Fscript%3E?on=2026-03-14\""))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("21 days"))
        Self.noScript(html)
    }

    // MARK: Patient

    @Test func patientPageOffersAcknowledgeAndCharting() throws {
        let bytes = try exampleBytes("w1.ndjson")
        let on = try #require(Day(iso: "2026-11-20"))
        var page = try withStore { store in
            _ = try Importer(store: store).importNDJSON(bytes, source: "w1")
            return try ProjectionEngine(store: store).patientPage("W1", on: on)
        }.flatMap { $0 }
        var p = try #require(page)
        let source = EventRef(sequence: 7, eventId: UUID(), day: on)
        p.alerts.append(ProtocolAlert(kind: .doseAboveLimit, source: source, raisedOn: on, facts: .dose(mgPerKg: 0.9, limit: 0.75)))
        page = p
        let alertId = p.alerts[p.alerts.count - 1].id
        let html = WebPages.patient(
            Self.chrome(.clinician, path: "/patients/W1"), p, canAcknowledge: true, canRecord: true, notice: "Done <ok>")
        #expect(html.contains("<a href=\"/patients/W1/record\" class=\"action-link\">Chart a visit</a>"))
        let encoded = alertId.replacingOccurrences(of: ":", with: "%3A")
        #expect(html.contains("action=\"/patients/W1/alerts/\(encoded)/acknowledge\""))
        #expect(html.contains("name=\"note\""))
        #expect(html.contains("<form method=\"get\" action=\"/patients/W1\" class=\"picker\">"))
        #expect(html.contains("Done &lt;ok&gt;"))
        #expect(html.contains("<svg"))
        Self.noScript(html)

        let nurse = WebPages.patient(Self.chrome(.nurse, path: "/patients/W1"), p, canAcknowledge: false, canRecord: false, notice: nil)
        #expect(!nurse.contains("/acknowledge"))
        #expect(!nurse.contains("Chart a visit"))
        // The report of the same page has neither.
        let report = Reports.patient(p)
        #expect(!report.contains("/acknowledge") && !report.contains("<form"))

        p.patient = "<script>x</script>"
        let hostile = WebPages.patient(Self.chrome(.clinician), p, canAcknowledge: true, canRecord: true, notice: nil)
        Self.noScript(hostile)
        #expect(hostile.contains("&lt;script&gt;x&lt;/script&gt;"))
    }

    // MARK: Charting

    @Test func onlyPermittedFormsAreOffered() {
        let nurse = RecordForm.offered(to: .nurse, table: .default).map(\.type)
        #expect(!nurse.contains(.scheduleAdjusted))
        #expect(nurse.contains(.scoreRecorded) && nurse.contains(.infusionAdministered) && nurse.contains(.vitalsRecorded))
        #expect(nurse.contains(.observationRecorded) && nurse.contains(.dischargeRecorded) && nurse.contains(.remsFormSubmitted))
        let clinician = RecordForm.offered(to: .clinician, table: .default).map(\.type)
        #expect(clinician.contains(.scheduleAdjusted) && clinician.contains(.maintenanceDiscontinued) && clinician.contains(.taperStarted))
        #expect(clinician.count == RecordForm.catalogue.count)
        #expect(RecordForm.offered(to: .compliance, table: .default).isEmpty)
        // An admin may record a REMS form (session.md), though the record page itself is for the
        // clinical roles (web.md): an admin records it through the API.
        #expect(RecordForm.offered(to: .admin, table: .default).map(\.type) == [.remsFormSubmitted])

        let page = RecordPage(patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .nurse, table: .default))
        let html = WebPages.record(Self.chrome(.nurse, path: "/patients/P-1/record"), page)
        #expect(html.contains("name=\"type\" value=\"ScoreRecorded\""))
        #expect(!html.contains("ScheduleAdjusted"))
        #expect(!html.contains("Clinician decisions"))
        let clinicianHTML = WebPages.record(
            Self.chrome(.clinician),
            RecordPage(patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .clinician, table: .default)))
        #expect(clinicianHTML.contains("name=\"type\" value=\"ScheduleAdjusted\""))
        #expect(clinicianHTML.contains("Clinician decisions"))
        Self.noScript(clinicianHTML)
    }

    @Test func theCatalogueMatchesEventsMd() throws {
        let score = try #require(RecordForm.form(for: .scoreRecorded))
        #expect(score.fields.first?.kind == .select(["MADRS", "PHQ2", "PHQ9", "MOCA"]))
        let vitals = try #require(RecordForm.form(for: .vitalsRecorded))
        #expect(vitals.fields.map(\.kind) == [.integer(min: 50, max: 260), .integer(min: 30, max: 160), .integer(min: 20, max: 250)])
        #expect(vitals.fields.map(\.required) == [true, true, false])
        let infusion = try #require(RecordForm.form(for: .infusionAdministered))
        #expect(
            infusion.fields.map(\.name) == [
                "drug", "route", "dose.value", "dose.unit", "weightKg", "series", "lot", "durationMinutes", "justification",
            ])
        #expect(infusion.fields[0].kind == .select(["ketamine", "esketamine"]))
        #expect(infusion.fields[1].kind == .select(["IV", "IM", "intranasal", "sublingual", "oral"]))
        #expect(infusion.fields[4].kind == .number(min: 20, max: 350, step: nil))
        #expect(infusion.fields[7].kind == .integer(min: 1, max: 240))
        let observation = try #require(RecordForm.form(for: .observationRecorded))
        #expect(
            observation.fields.map(\.name) == [
                "infusion", "systolic", "diastolic", "heartRate", "spo2", "moaas", "cadss", "respiratoryDepression",
            ])
        #expect(
            observation.fields.map(\.kind) == [
                .infusion(esketamineOnly: false), .integer(min: 50, max: 260), .integer(min: 30, max: 160), .integer(min: 20, max: 250),
                .number(min: 50, max: 100, step: nil), .integer(min: 0, max: 5), .integer(min: 0, max: 92), .yesNo,
            ])
        #expect(observation.fields.map(\.label).contains("SpO2 (%)"))
        #expect(observation.fields.map(\.label).contains("MOAA/S (0–5)"))
        #expect(observation.fields.map(\.label).contains("CADSS (0–92)"))
        let discharge = try #require(RecordForm.form(for: .dischargeRecorded))
        #expect(discharge.fields.map(\.name) == ["infusion", "criteriaMet", "escort", "transferred", "note"])
        let rems = try #require(RecordForm.form(for: .remsFormSubmitted))
        #expect(rems.fields.map(\.kind) == [.infusion(esketamineOnly: true), .text])
        #expect(try #require(RecordForm.form(for: .drugHolidayStarted)).fields.first?.kind == .integer(min: 1, max: 26))
        #expect(try #require(RecordForm.form(for: .taperStarted)).fields.isEmpty)
        #expect(
            try #require(RecordForm.form(for: .pregnancyStatusRecorded)).fields.first?.kind
                == .select(["planning", "pregnant", "not-pregnant", "postpartum"]))
    }

    static let infusions = [
        RecordPage.SessionInfusion(
            eventId: "11111111-1111-4111-8111-111111111111", label: "2026-03-14 09:30, esketamine 56 mg intranasal, acute",
            drug: .esketamine, withinTwelveHours: true),
        RecordPage.SessionInfusion(
            eventId: "22222222-2222-4222-8222-222222222222", label: "2026-03-14 08:00, ketamine 0.5 mg/kg IV, maintenance",
            drug: .ketamine, withinTwelveHours: true),
        RecordPage.SessionInfusion(
            eventId: "33333333-3333-4333-8333-333333333333", label: "2026-03-10 09:00, esketamine 84 mg intranasal, acute",
            drug: .esketamine, withinTwelveHours: false),
    ]

    @Test func sessionFormsOfferThePatientsInfusions() throws {
        let page = RecordPage(
            patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .nurse, table: .default),
            submitted: "ObservationRecorded",
            values: ["infusion": "22222222-2222-4222-8222-222222222222", "spo2": "91"], infusions: Self.infusions)
        let html = WebPages.record(Self.chrome(.nurse, path: "/patients/P-1/record"), page)
        Self.noScript(html)
        func options(_ id: String) -> [String] {
            guard let start = html.range(of: "id=\"\(id)\""), let end = html[start.upperBound...].range(of: "</select>") else { return [] }
            return html[start.upperBound..<end.lowerBound].components(separatedBy: "<option value=\"").dropFirst().map {
                String($0.prefix { $0 != "\"" })
            }
        }
        // Observation and discharge: the last 12 hours, newest first; the REMS form: esketamine only.
        let recent = ["", "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
        #expect(options("f-ObservationRecorded-infusion") == recent)
        #expect(options("f-DischargeRecorded-infusion") == recent)
        #expect(
            options("f-RemsFormSubmitted-infusion") == [
                "", "11111111-1111-4111-8111-111111111111", "33333333-3333-4333-8333-333333333333",
            ])
        #expect(
            html.contains(
                "<option value=\"22222222-2222-4222-8222-222222222222\" selected=\"\">2026-03-14 08:00, ketamine 0.5 mg/kg IV, maintenance</option>"
            ))
        #expect(html.contains("<label for=\"f-ObservationRecorded-spo2\">SpO2 (%) (optional)</label>"))
        #expect(html.contains("MOAA/S (0–5)") && html.contains("CADSS (0–92)"))
        #expect(Self.tag(html, id: "f-ObservationRecorded-spo2")?.contains("value=\"91\"") == true)
        #expect(
            html.contains("<option value=\"\">— not assessed —</option><option value=\"yes\">yes</option><option value=\"no\">no</option>"))
        // No infusion yet: the select says so.
        let empty = WebPages.record(
            Self.chrome(.nurse), RecordPage(patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .nurse, table: .default))
        )
        #expect(empty.contains("No infusion of this patient in the last 12 hours: record the infusion first."))
        #expect(empty.contains("No esketamine session of this patient in the last 7 days"))

        // Posted: the infusion's id, a yes/no left out when not assessed, numbers as numbers.
        let actor = Actor(id: "nurse.kim", role: .nurse)
        let line = try WebForms.importLine(
            type: .observationRecorded,
            fields: ["infusion": "22222222-2222-4222-8222-222222222222", "spo2": "91.5", "moaas": "3", "respiratoryDepression": ""],
            patient: "P-1", actor: actor, now: Self.now, utcOffsetMinutes: 0
        ).get()
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("\"data\":{\"infusion\":\"22222222-2222-4222-8222-222222222222\",\"moaas\":3,\"spo2\":91.5}"))
        let yes = try WebForms.importLine(
            type: .observationRecorded,
            fields: ["infusion": "22222222-2222-4222-8222-222222222222", "respiratoryDepression": "yes"],
            patient: "P-1", actor: actor, now: Self.now, utcOffsetMinutes: 0
        ).get()
        #expect(String(decoding: yes, as: UTF8.self).contains("\"respiratoryDepression\":true"))
        let discharge = try WebForms.importLine(
            type: .dischargeRecorded, fields: ["infusion": "22222222-2222-4222-8222-222222222222", "escort": "on"], patient: "P-1",
            actor: actor, now: Self.now, utcOffsetMinutes: 0
        ).get()
        #expect(
            String(decoding: discharge, as: UTF8.self).contains(
                "\"data\":{\"criteriaMet\":false,\"escort\":true,\"infusion\":\"22222222-2222-4222-8222-222222222222\",\"transferred\":false}"
            ))
    }

    @Test func aRefusalIsShownBesideItsFieldAndValuesAreRefilled() {
        let page = RecordPage(
            patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .nurse, table: .default), submitted: "ScoreRecorded",
            values: ["instrument": "PHQ2", "value": "9", "occurredAt": "2026-03-14T09:30"],
            errors: [
                "value": "data.value: 9 is out of range (an integer from 0 to 6)", "": "patient: the stream is <stale>",
            ])
        let html = WebPages.record(Self.chrome(.nurse, path: "/patients/P-1/record"), page)
        let input = Self.tag(html, id: "f-ScoreRecorded-value") ?? ""
        #expect(input.contains("aria-describedby=\"f-ScoreRecorded-value-hint f-ScoreRecorded-value-error\""))
        #expect(input.contains("aria-invalid=\"true\""))
        #expect(input.contains("value=\"9\""))
        #expect(
            html.contains(
                "<p class=\"field-error\" id=\"f-ScoreRecorded-value-error\">data.value: 9 is out of range (an integer from 0 to 6)</p>"))
        #expect(html.contains("<option value=\"PHQ2\" selected=\"\">PHQ2</option>"))
        #expect(Self.tag(html, id: "f-ScoreRecorded-occurredAt")?.contains("value=\"2026-03-14T09:30\"") == true)
        #expect(html.contains("patient: the stream is &lt;stale&gt;"))
        // The posted form is open; the others are closed and not refilled.
        #expect(html.contains("<details class=\"rec\" id=\"form-ScoreRecorded\" data-type=\"ScoreRecorded\" open=\"\">"))
        #expect(html.contains("<details class=\"rec\" id=\"form-VitalsRecorded\" data-type=\"VitalsRecorded\">"))
        #expect(Self.tag(html, id: "f-VitalsRecorded-systolic")?.contains("value=") == false)
        // Every input has a label.
        for form in page.forms {
            for f in form.fields {
                #expect(html.contains("<label for=\"f-\(form.type.rawValue)-\(f.name.replacingOccurrences(of: ".", with: "-"))\""))
            }
        }
        // Each form posts to the patient's record path with the CSRF token and its type.
        #expect(html.contains("<form method=\"post\" action=\"/patients/P-1/record\""))
        #expect(html.contains("<input type=\"hidden\" name=\"type\" value=\"ScoreRecorded\">"))
        #expect(html.contains("type=\"datetime-local\" name=\"occurredAt\""))
        Self.noScript(html)
    }

    @Test func postedNotesAreEscaped() {
        let page = RecordPage(
            patient: "P-1", evaluationDay: Self.day, forms: RecordForm.offered(to: .nurse, table: .default),
            submitted: "SideEffectReported",
            values: ["note": "</textarea><script>alert(1)</script>", "category": "\"><script>"], errors: [:],
            banner: "Recorded <SideEffectReported> as sequence 412")
        let html = WebPages.record(Self.chrome(.nurse), page)
        Self.noScript(html)
        #expect(html.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>"))
        #expect(html.contains("Recorded &lt;SideEffectReported&gt; as sequence 412"))
    }

    // MARK: Import lines

    static func validValues(_ form: RecordForm) -> [String: String] {
        var v: [String: String] = [:]
        for f in form.fields {
            switch f.kind {
            case .select(let options): v[f.name] = options.first
            case .integer(let min, let max): v[f.name] = String(min + (max - min) / 4)
            case .number: v[f.name] = "0.5"
            case .checkbox: v[f.name] = "on"
            case .yesNo: v[f.name] = "no"
            case .infusion: v[f.name] = "0b5d7c1e-3f2a-4c8e-9a6b-1d2e3f4a5b6c"
            case .text, .textarea: v[f.name] = "as discussed"
            }
        }
        if form.type == .vitalsRecorded || form.type == .observationRecorded { v["systolic"] = "128" }
        if form.type == .infusionAdministered { (v["lot"], v["weightKg"]) = ("KX-2291", "72.3") }
        if form.type == .observationRecorded { v["spo2"] = "97" }
        return v
    }

    @Test func everyFormWithValidValuesParsesAsAnImportLine() throws {
        let actor = Actor(id: "dr.lee", role: .clinician)
        for form in RecordForm.catalogue {
            var values = Self.validValues(form)
            values["csrf"] = "tok"
            values["type"] = form.type.rawValue
            let result = WebForms.importLine(
                type: form.type, fields: values, patient: "P-1", actor: actor, now: Self.now, utcOffsetMinutes: -300)
            let line = try result.get()
            #expect(line.last == 0x0A)
            do {
                let parsed = try IncomingEvent.parse(line: line, now: Self.now)
                #expect(parsed.type == form.type)
                #expect(parsed.patient == "P-1")
                #expect(parsed.actor == actor)
                #expect(parsed.occurredAt.offsetMinutes == -300)
            } catch {
                Issue.record("\(form.type): \(error) in \(String(decoding: line, as: UTF8.self))")
            }
        }
    }

    @Test func importLineConvertsTheFormsStrings() throws {
        let actor = Actor(id: "nurse.kim", role: .nurse)
        let line = try WebForms.importLine(
            type: .infusionAdministered,
            fields: [
                "route": "IV", "dose.value": "0.5", "dose.unit": "mg/kg", "series": "acute", "justification": "",
                "occurredAt": "2026-01-05T09:30",
            ],
            patient: "P-0001", actor: actor, now: Self.now, utcOffsetMinutes: -300
        ).get()
        let parsed = try IncomingEvent.parse(line: line, now: Self.now)
        #expect(parsed.occurredAt.rfc3339 == "2026-01-05T09:30:00-05:00")
        guard case .infusionAdministered(let e) = parsed.event else {
            Issue.record("not an infusion")
            return
        }
        #expect(e.dose.value == 0.5 && e.dose.unit == .mgPerKg && e.justification == nil)

        // A checkbox absent is false, ticked is true; empty optional fields are left out.
        let lab = try IncomingEvent.parse(
            line: try WebForms.importLine(
                type: .labResulted, fields: ["test": "LFT"], patient: "P-1", actor: actor, now: Self.now, utcOffsetMinutes: 60
            ).get(),
            now: Self.now)
        #expect(lab.event == .labResulted(LabResulted(test: .lft, abnormal: false, values: nil)))
        #expect(lab.occurredAt.epochMillis == Self.now.epochMillis && lab.occurredAt.offsetMinutes == 60)
        let vitals = try WebForms.importLine(
            type: .vitalsRecorded, fields: ["systolic": "120", "diastolic": "80", "heartRate": ""], patient: "P-1", actor: actor,
            now: Self.now,
            utcOffsetMinutes: 0
        ).get()
        #expect(String(decoding: vitals, as: UTF8.self).contains("\"data\":{\"diastolic\":80,\"systolic\":120}"))

        // Not a number at all: refused beside the field, in the CLI's form.
        let bad = WebForms.importLine(
            type: .scoreRecorded, fields: ["instrument": "MADRS", "value": "twelve"], patient: "P-1", actor: actor, now: Self.now,
            utcOffsetMinutes: 0)
        #expect(throws: WebForms.Refused.self) { try bad.get() }
        if case .failure(let r) = bad {
            #expect(r.fields["value"] == "data.value: \"twelve\" is not a number (an integer from 0 to 60)")
        }

        // An out-of-range value goes through, for the import's own sentence.
        let high = try WebForms.importLine(
            type: .scoreRecorded, fields: ["instrument": "PHQ2", "value": "9"], patient: "P-1", actor: actor, now: Self.now,
            utcOffsetMinutes: 0
        ).get()
        #expect(throws: InputError.self) { try IncomingEvent.parse(line: high, now: Self.now) }
        do {
            _ = try IncomingEvent.parse(line: high, now: Self.now)
        } catch {
            #expect(WebForms.formField(forLineErrorField: error.field) == "value")
        }
        // A required select left empty: the import says it is missing, beside that field.
        let empty = try WebForms.importLine(
            type: .scoreRecorded, fields: ["instrument": "", "value": "3"], patient: "P-1", actor: actor, now: Self.now, utcOffsetMinutes: 0
        ).get()
        do {
            _ = try IncomingEvent.parse(line: empty, now: Self.now)
            Issue.record("an empty instrument parsed")
        } catch {
            #expect(error.field == "data.instrument")
            #expect(WebForms.formField(forLineErrorField: error.field) == "instrument")
        }
    }

    @Test func datetimeLocalValues() {
        #expect(WebForms.occurredAt("2026-01-05T09:30", utcOffsetMinutes: -300, now: Self.now) == "2026-01-05T09:30:00-05:00")
        #expect(WebForms.occurredAt("2026-01-05T09:30:15", utcOffsetMinutes: 330, now: Self.now) == "2026-01-05T09:30:15+05:30")
        #expect(WebForms.occurredAt("2026-01-05T09:30", utcOffsetMinutes: 0, now: Self.now) == "2026-01-05T09:30:00Z")
        #expect(WebForms.occurredAt("yesterday", utcOffsetMinutes: 0, now: Self.now) == "yesterday")
        #expect(WebForms.occurredAt("", utcOffsetMinutes: 0, now: Self.now) == Self.now.rfc3339)
    }

    @Test func errorFieldsMapToFormFields() {
        #expect(WebForms.formField(forLineErrorField: "data.value") == "value")
        #expect(WebForms.formField(forLineErrorField: "data.systolic") == "systolic")
        #expect(WebForms.formField(forLineErrorField: "data.dose.value") == "dose.value")
        #expect(WebForms.formField(forLineErrorField: "data.dose.unit") == "dose.unit")
        #expect(WebForms.formField(forLineErrorField: "data.dose") == "dose.value")
        #expect(WebForms.formField(forLineErrorField: "occurredAt") == "occurredAt")
        #expect(WebForms.formField(forLineErrorField: "data") == "")
        #expect(WebForms.formField(forLineErrorField: "patient") == "")
        #expect(WebForms.formField(forLineErrorField: "actor.role") == "")
        #expect(WebForms.formField(forLineErrorField: "expectedVersion") == "")
    }

    // MARK: Audit and admin

    static func trail() -> TrailPage {
        TrailPage(
            filters: [("patient", "P-1")], storeId: "s-1", verifyOK: true, verifiedEvents: 42, headHash: "ab12", problems: [],
            lateEntryHours: 24, rulesVersion: "v1", entries: [],
            actors: [TrailPage.ActorRow(id: "<b>x</b>", roles: "nurse", events: 3, corrections: 0, correctedByOthers: 0, lateEntries: 0)])
    }

    // MARK: Stock

    static func stockPage(_ role: Role, submitted: String? = nil, values: [String: String] = [:], errors: [String: String] = [:])
        -> StockPage
    {
        func at(_ minutes: Int64) -> Timestamp { Timestamp(epochMillis: now.epochMillis - 86_400_000 + minutes * 60_000, offsetMinutes: 0) }
        func mg(_ s: String) -> Milligrams? { Milligrams(decimalText: s) }
        let entries = [
            LedgerEntry(
                kind: .received, at: at(0), sequence: 1, eventId: UUID(), lot: "KX-2291", drug: .ketamine, quantity: mg("500"),
                patient: nil,
                actor: "dr.lee", witness: nil),
            LedgerEntry(
                kind: .given, at: at(60), sequence: 2, eventId: UUID(), lot: "KX-2291", drug: .ketamine, quantity: mg("32.535"),
                patient: "P-1", actor: "nurse.kim", witness: nil),
            LedgerEntry(
                kind: .wasted, at: at(61), sequence: 3, eventId: UUID(), lot: "KX-2291", drug: nil, quantity: mg("17.465"), patient: nil,
                actor: "nurse.kim", witness: "dr.lee"),
            LedgerEntry(
                kind: .counted, at: at(120), sequence: 4, eventId: UUID(), lot: "KX-2291", drug: nil, quantity: mg("440"), patient: nil,
                actor: "dr.lee", witness: nil, countKind: .routine),
            LedgerEntry(
                kind: .given, at: at(130), sequence: 5, eventId: UUID(), lot: "<EMPTY>", drug: .ketamine, quantity: mg("10"),
                patient: "P-2",
                actor: "nurse.kim", witness: nil),
        ]
        let ledger = Ledger(entries: entries, acknowledgements: [])
        return StockPage(
            evaluationDay: day, lots: ledger.summaries(on: day), alerts: ledger.alerts(on: day, tolerance: mg("0.5") ?? .zero),
            biennial: ledger.biennial(on: day, months: 24), forms: RecordForm.stockOffered(to: role, table: .default),
            submitted: submitted, values: values, errors: errors)
    }

    @Test func stockPageShowsTheInventoryAndTheFormsOfTheRole() throws {
        let html = WebPages.stock(Self.chrome(.clinician, path: "/stock"), Self.stockPage(.clinician))
        Self.noScript(html)
        #expect(html.contains("<a href=\"/stock\" aria-current=\"page\">Stock</a>"))
        for header in [
            "Lot", "Drug", "Received (mg)", "Given (mg)", "Wasted (mg)", "Disposed (mg)", "Adjusted (mg)", "Balance (mg)", "Last count",
        ] {
            #expect(html.contains("<th>\(header)</th>") || html.contains(">\(header)</th>"), "\(header)")
        }
        // 500 − 32.535 − 17.465 = 450; counted 440: discrepancy −10, an alert.
        #expect(
            html.contains("<td>KX-2291</td><td>ketamine</td><td>500</td><td>32.535</td><td>17.465</td><td>0</td><td>0</td><td>450</td>"))
        #expect(html.contains("(discrepancy -10 mg)"))
        #expect(html.contains("inventory-discrepancy"))
        // A lot never received is overdrawn; its name is escaped.
        #expect(html.contains("&lt;EMPTY&gt;"))
        #expect(!html.contains("<EMPTY>"))
        #expect(html.contains("lot-overdrawn"))
        #expect(html.contains("id=\"biennial\" data-status="))
        #expect(html.contains("Biennial inventory: last done never"))
        // A clinician records every stock event; the witnessed ones ask for the witness's password.
        for type in ["StockReceived", "StockWasted", "InventoryCounted", "StockAdjusted", "StockDisposed"] {
            #expect(html.contains("<input type=\"hidden\" name=\"type\" value=\"\(type)\">"), "\(type)")
        }
        #expect(html.contains("<form method=\"post\" action=\"/stock\""))
        #expect(html.contains("name=\"csrf\" value=\"tok-123\""))
        for type in ["StockWasted", "StockAdjusted", "StockDisposed"] {
            let tag = try #require(Self.tag(html, id: "f-\(type)-witnessPassword"))
            #expect(tag.contains("type=\"password\"") && tag.contains("required"))
        }
        #expect(Self.tag(html, id: "f-StockReceived-witnessPassword") == nil)
        #expect(Self.tag(html, id: "f-StockAdjusted-quantityMg")?.contains("min=\"-100000\"") == true)

        // A nurse records a waste only; an admin everything but a waste.
        let nurse = WebPages.stock(Self.chrome(.nurse, path: "/stock"), Self.stockPage(.nurse))
        #expect(nurse.contains("value=\"StockWasted\""))
        #expect(!nurse.contains("value=\"StockReceived\"") && !nurse.contains("value=\"StockDisposed\""))
        #expect(!nurse.contains("value=\"StockAdjusted\"") && !nurse.contains("value=\"InventoryCounted\""))
        let admin = RecordForm.stockOffered(to: .admin, table: .default).map(\.type)
        #expect(admin == [.stockReceived, .inventoryCounted, .stockAdjusted, .stockDisposed])
        #expect(RecordForm.stockOffered(to: .compliance, table: .default).isEmpty)
        // The nav: Stock for clinicians, nurses and admins, not for compliance.
        #expect(
            WebPages.error(Self.chrome(.admin, path: "/stock"), status: 404, sentence: "x").contains(
                "<a href=\"/stock\" aria-current=\"page\">Stock</a>"))
        #expect(!WebPages.error(Self.chrome(.compliance, path: "/audit"), status: 404, sentence: "x").contains("href=\"/stock\""))
    }

    @Test func aRefusedWasteKeepsItsValuesButNotThePassword() {
        let page = Self.stockPage(
            .nurse, submitted: "StockWasted",
            values: [
                "lot": "KX-2291", "quantityMg": "5", "witness": "dr.lee", "reason": "rest of the vial", "witnessPassword": "secret-pw-123",
            ],
            errors: ["witnessPassword": "the witness's actor id or password is wrong: nothing was recorded"])
        let html = WebPages.stock(Self.chrome(.nurse, path: "/stock"), page)
        #expect(html.contains("<details class=\"rec\" id=\"form-StockWasted\" data-type=\"StockWasted\" open=\"\">"))
        #expect(Self.tag(html, id: "f-StockWasted-witness")?.contains("value=\"dr.lee\"") == true)
        #expect(!html.contains("secret-pw-123"))
        #expect(
            html.contains("the witness&#39;s actor id or password is wrong") || html.contains("the witness's actor id or password is wrong")
        )
    }

    @Test func stockFormsAreImportLinesWithoutAPatient() throws {
        let actor = Actor(id: "dr.lee", role: .clinician)
        let values: [EventType: [String: String]] = [
            .stockReceived: ["drug": "ketamine", "lot": "KX-2291", "quantityMg": "500", "supplier": "Acme Pharma", "invoice": ""],
            .stockWasted: [
                "lot": "KX-2291", "quantityMg": "17.465", "reason": "rest of the vial", "witness": "nurse.kim", "witnessPassword": "pw",
            ],
            .inventoryCounted: ["lot": "KX-2291", "onHandMg": "440", "kind": "biennial"],
            .stockAdjusted: ["lot": "KX-2291", "quantityMg": "-10", "reason": "loss", "witness": "nurse.kim", "reference": "DEA-106-1"],
            .stockDisposed: ["lot": "KX-2291", "quantityMg": "40", "method": "reverse-distributor", "witness": "nurse.kim"],
        ]
        for form in RecordForm.stockCatalogue {
            let fields = try #require(values[form.type])
            let line = try WebForms.importLine(
                type: form.type, fields: fields, patient: nil, actor: actor, now: Self.now, utcOffsetMinutes: 0
            ).get()
            let text = String(decoding: line, as: UTF8.self)
            #expect(!text.contains("\"patient\""), "\(text)")
            #expect(!text.contains("witnessPassword") && !text.contains("\"pw\""))
            do {
                let parsed = try IncomingEvent.parse(line: line, now: Self.now)
                #expect(parsed.type == form.type)
                #expect(parsed.patient == "$lot:KX-2291")
            } catch {
                Issue.record("\(form.type): \(error) in \(text)")
            }
        }
    }

    @Test func auditPageHasTheSignedReviewAndTheFilters() {
        let page = AuditPage(
            verifyOK: false, verifiedEvents: 42, headHash: "ab12cd",
            problems: [AuditPage.Problem(sequence: 7, kind: "hash", detail: "<bad>")],
            unreviewed: [AuditPage.Range(from: 31, through: 42, events: 12)], reviewedThrough: 30, head: 42,
            alteredSinceReview: ["#12 changed since the review of 2026-03-01"], filter: AuditPage.Filter(patient: "P-1", from: Self.day),
            trail: Self.trail(),
            access: [
                AuditPage.Access(sequence: 3, at: "2026-03-14T10:00:00Z", osUser: "kim", command: "report patient", patients: ["P-1"])
            ],
            reviewError: "The password is not right; nothing was recorded.")
        let html = WebPages.audit(Self.chrome(.compliance, path: "/audit", name: "Casey <Q>"), page)
        #expect(html.contains("<form method=\"post\" action=\"/audit/review\""))
        #expect(html.contains("name=\"throughSequence\" id=\"review-through\" value=\"42\""))
        for m in ["reviewed", "approved", "responsibility"] { #expect(html.contains("<option value=\"\(m)\"")) }
        #expect(html.contains("signs this review electronically as Casey &lt;Q&gt; (dana)"))
        #expect(html.contains("21 CFR 11.50"))
        #expect(html.contains("<form method=\"get\" action=\"/audit\""))
        #expect(html.contains("name=\"patient\" id=\"trail-patient\" value=\"P-1\""))
        #expect(html.contains("type=\"date\" name=\"from\" id=\"trail-from\" value=\"2026-03-14\""))
        #expect(html.contains("<form method=\"get\" action=\"/audit/export\""))
        #expect(html.contains("<option value=\"ndjson\">"))
        #expect(html.contains("data-verify=\"failed\"") && html.contains("&lt;bad&gt;"))
        #expect(html.contains("Reviewed through #30 of #42."))
        #expect(html.contains("report patient"))
        #expect(html.contains("&lt;b&gt;x&lt;/b&gt;"))
        #expect(html.contains("The password is not right"))
        Self.noScript(html)
    }

    @Test func adminPageAndRuleDiff() {
        let page = AdminPage(
            actors: [
                AdminPage.ActorRow(id: "dr.lee", name: "Dr Lee", role: .clinician, osUser: "lee", active: true, hasPassword: true),
                AdminPage.ActorRow(id: "old", name: nil, role: .nurse, osUser: "old", active: false, hasPassword: false),
            ], rulesVersion: "2026.1", rulesHash: "deadbeef")
        let html = WebPages.admin(Self.chrome(.admin, path: "/admin"), page)
        #expect(html.contains("action=\"/admin/actors/dr.lee/retire\""))
        #expect(!html.contains("action=\"/admin/actors/old/retire\""))
        #expect(html.contains("action=\"/admin/actors/old/password\""))
        #expect(html.contains("name=\"confirm\"") && html.contains("minlength=\"12\""))
        #expect(html.contains("<form method=\"post\" action=\"/admin/actors\""))
        for r in ["clinician", "nurse", "compliance", "admin", "interface"] { #expect(html.contains("<option value=\"\(r)\">")) }
        #expect(html.contains("enctype=\"multipart/form-data\"") && html.contains("type=\"file\" name=\"rules\""))
        #expect(html.contains("2026.1") && html.contains("deadbeef"))
        Self.noScript(html)

        let diff = RuleDiffPage(
            uploadedVersion: "2026.2", uploadedHash: "feed", currentVersion: "2026.1", currentHash: "deadbeef",
            changes: [
                RuleDiffPage.Change(patient: "P-1", field: "interval.days", before: "21", after: "28"),
                RuleDiffPage.Change(patient: "P-2", field: "status", before: "maintenance", after: "<taper>"),
                RuleDiffPage.Change(patient: "P-1", field: "nextInfusionDue", before: "2026-03-20", after: "2026-03-27"),
            ])
        let d = WebPages.ruleDiff(Self.chrome(.admin, path: "/admin/rules"), diff)
        #expect(d.contains("<form method=\"post\" action=\"/admin/rules/adopt\""))
        #expect(d.contains("<input type=\"hidden\" name=\"contentHash\" value=\"feed\">"))
        #expect(d.contains("<input type=\"hidden\" name=\"meaning\" value=\"approved\">"))
        #expect(d.contains("signs the adoption"))
        #expect(d.components(separatedBy: "class=\"patient-diff\"").count == 3)
        #expect(d.contains("&lt;taper&gt;"))
        Self.noScript(d)
        let none = WebPages.ruleDiff(
            Self.chrome(.admin),
            RuleDiffPage(uploadedVersion: "2026.2", uploadedHash: "feed", currentVersion: "2026.1", currentHash: "d", changes: []))
        #expect(none.contains("changes nothing for any patient"))
    }
}
