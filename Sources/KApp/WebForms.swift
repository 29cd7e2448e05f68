import Foundation
import KClinic
import KReport

/// The web's charting forms (`/patients/{id}/record`) on the import pipeline's side: a posted
/// form becomes one import line (events.md's format), which the server runs through `Importer`
/// like any other, so a refusal is the CLI's own sentence; `formField(forLineErrorField:)` only
/// decides beside which field the page shows it.
public enum WebForms {
    /// Fields that could not be turned into JSON at all (a number field holding "abc"): form
    /// field name → one sentence in the CLI's form (`data.value: … (…)`).
    public struct Refused: Error, Sendable, Equatable {
        public var fields: [String: String]
        public init(fields: [String: String]) { self.fields = fields }
    }

    /// The import line for the form of `type` as posted: numbers as JSON numbers, a ticked
    /// checkbox ("on") true and an absent one false, empty optional fields (and empty required
    /// ones, so the import names them missing) left out, `occurredAt` from the datetime-local
    /// value read in `utcOffsetMinutes` (the clinic's offset), `now` in that offset when empty.
    /// Fields the form does not have (`csrf`, `type`, `witnessPassword`…) are ignored; `patient`
    /// nil: a stock form's line, which names none.
    public static func importLine(
        type: EventType, fields: [String: String], patient: String?, actor: Actor, now: Timestamp, utcOffsetMinutes: Int,
        eventId: UUID? = nil
    ) -> Result<[UInt8], Refused> {
        guard let form = RecordForm.form(for: type) ?? RecordForm.stockForm(for: type) else {
            return .failure(Refused(fields: ["": "type: \(type.rawValue) has no charting form (one of the forms offered)"]))
        }
        var refused: [String: String] = [:]
        var data: [(String, JSONValue)] = []
        for f in form.fields {
            let raw = fields[f.name] ?? ""
            let value: JSONValue?
            switch f.kind {
            case .checkbox:
                value = .bool(raw == "on" || raw == "true" || raw == "1")
            case .integer(let min, let max):
                value = number(raw, field: f.name, expected: "an integer from \(min) to \(max)", refused: &refused)
            case .number(let min, let max, _):
                value = number(raw, field: f.name, expected: "a number from \(bound(min)) to \(bound(max))", refused: &refused)
            case .yesNo:
                value = raw == "yes" ? .bool(true) : raw == "no" ? .bool(false) : nil
            case .select, .infusion, .text, .textarea:
                value = raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : .string(raw)
            }
            if let value { insert(value, at: f.name.split(separator: ".").map(String.init), into: &data) }
        }
        guard refused.isEmpty else { return .failure(Refused(fields: refused)) }

        var line: [(String, JSONValue)] = []
        if let eventId { line.append(("eventId", .string(eventId.uuidString.lowercased()))) }
        line += [
            ("type", .string(type.rawValue))
        ]
        // Stock events name no patient (their stream is the lot).
        if let patient { line.append(("patient", .string(patient))) }
        line += [
            ("occurredAt", .string(occurredAt(fields[RecordForm.occurredAtField] ?? "", utcOffsetMinutes: utcOffsetMinutes, now: now))),
            ("actor", .object([("id", .string(actor.id)), ("role", .string(actor.role.rawValue))])),
            ("data", .object(data)),
        ]
        var out: [UInt8] = []
        JSONWriter.writeLine(.object(line), into: &out)
        return .success(out)
    }

    /// RFC 3339 from a datetime-local value (`YYYY-MM-DDTHH:MM`, seconds optional) and the
    /// offset in minutes; `now` in that offset when empty. Anything else is passed on as typed,
    /// for the import to refuse in its own words.
    public static func occurredAt(_ text: String, utcOffsetMinutes: Int, now: Timestamp) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return Timestamp(epochMillis: now.epochMillis, offsetMinutes: Int16(clamping: utcOffsetMinutes)).rfc3339 }
        let o = utcOffsetMinutes
        let offset =
            o == 0
            ? "Z"
            : (o < 0 ? "-" : "+") + String(format: "%02d:%02d", abs(o) / 60, abs(o) % 60)
        let u = Array(t.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { u[$0] >= 0x30 && u[$0] <= 0x39 } }
        guard u.count >= 16, digits(0..<4), u[4] == 0x2D, digits(5..<7), u[7] == 0x2D, digits(8..<10), u[10] == 0x54 || u[10] == 0x20,
            digits(11..<13), u[13] == 0x3A, digits(14..<16)
        else { return t }
        let minutes = String(decoding: u[0..<10], as: UTF8.self) + "T" + String(decoding: u[11..<16], as: UTF8.self)
        if u.count == 16 { return minutes + ":00" + offset }
        guard u[16] == 0x3A, u.count >= 19, digits(17..<19) else { return t }
        if u.count == 19 { return minutes + String(decoding: u[16..<19], as: UTF8.self) + offset }
        guard u[19] == 0x2E, u.count > 20, digits(20..<u.count) else { return t }
        return minutes + String(decoding: u[16...], as: UTF8.self) + offset
    }

    /// The form field beside which an import refusal of `field` (a `LineError`/`InputError`
    /// field path) is shown: `data.value` → `value`, `data.dose` and `data.dose.value` →
    /// `dose.value`, `data.dose.unit` → `dose.unit`, `occurredAt` → `occurredAt`; anything not
    /// a form field (`patient`, `actor.role`, `type`, `data`, `expectedVersion`, `line`) → `""`,
    /// the form as a whole.
    public static func formField(forLineErrorField field: String) -> String {
        if field == RecordForm.occurredAtField { return field }
        guard field.hasPrefix("data.") else { return "" }
        let parts = field.dropFirst(5).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { return "" }
        if first == "dose" { return parts.count > 1 && parts[1] == "unit" ? "dose.unit" : "dose.value" }
        return first
    }

    // MARK: Parts

    private static func number(
        _ raw: String, field: String, expected: String, refused: inout [String: String]
    ) -> JSONValue? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        if let i = Int64(s) { return .int(i) }
        if let d = Double(s), d.isFinite,
            s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 })
        {
            return .double(d)
        }
        let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
        refused[field] = "data.\(field): \(JSONWriter.string(.string(shown))) is not a number (\(expected))"
        return nil
    }

    private static func bound(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// Sets `value` at the nested `path` of an ordered object.
    private static func insert(_ value: JSONValue, at path: [String], into object: inout [(String, JSONValue)]) {
        guard let key = path.first else { return }
        if path.count == 1 {
            object.append((key, value))
            return
        }
        var inner: [(String, JSONValue)] = []
        if let i = object.firstIndex(where: { $0.0 == key }) {
            if case .object(let m) = object[i].1 { inner = m }
            insert(value, at: Array(path.dropFirst()), into: &inner)
            object[i].1 = .object(inner)
        } else {
            insert(value, at: Array(path.dropFirst()), into: &inner)
            object.append((key, .object(inner)))
        }
    }
}

extension WebForms {
    /// The patient's effective infusions a session form may name (`RecordPage.infusions`),
    /// newest first: those of the 12 hours before `now` (an observation's and a discharge's
    /// window, session.md), and the esketamine sessions dated in the last `remsFormDays` days
    /// (the REMS form's). Voided infusions are left out, amended ones shown as amended.
    public static func sessionInfusions(
        _ store: ClinicStore, patient: String, now: Timestamp, remsFormDays: Int
    ) throws -> [RecordPage.SessionInfusion] {
        var events: [Recorded] = []
        try store.log.read { reader in
            try reader.forEachInStream(patient) { view in events.append(try EventMapping.recorded(view)) }
        }
        let resolution = CorrectionResolution(events.compactMap { CorrectionResolution.Correction($0) })
        let twelveHours: Int64 = 12 * 3600 * 1000
        // A few minutes of clock difference between the chair and the server.
        let ahead: Int64 = 5 * 60 * 1000
        let today = now.clinicalDay
        var found: [(at: Int64, sequence: UInt64, infusion: RecordPage.SessionInfusion)] = []
        for r in events where !resolution.isVoided(r.eventId) {
            guard
                case .infusionAdministered(let i) = CorrectionResolution.applying(resolution.amendmentsInForce(of: r.eventId), to: r.event)
            else { continue }
            let age = now.epochMillis - r.occurredAt.epochMillis
            let recent = age <= twelveHours && age >= -ahead
            let remsWindow = i.givenDrug == .esketamine && r.occurredAt.clinicalDay >= today.adding(days: -remsFormDays) && age >= -ahead
            guard recent || remsWindow else { continue }
            let when = String(r.occurredAt.rfc3339.prefix(16)).replacingOccurrences(of: "T", with: " ")
            var label =
                "\(when), \(i.givenDrug.rawValue) \(bound(i.dose.value)) \(i.dose.unit.rawValue) \(i.route.rawValue), \(i.series.rawValue)"
            if let lot = i.lot { label += ", lot \(lot)" }
            found.append(
                (
                    r.occurredAt.epochMillis, r.sequence,
                    RecordPage.SessionInfusion(
                        eventId: r.eventId.uuidString.lowercased(), label: label, drug: i.givenDrug, withinTwelveHours: recent)
                ))
        }
        return found.sorted { ($0.at, $0.sequence) > ($1.at, $1.sequence) }.map(\.infusion)
    }
}
