import Foundation
import KClinic
import Testing

// Test-only helpers for the protocol engine: an NDJSON loader for the worked examples (the real
// JSON parser lives in KClinic/IO and is not used here), and a small builder of histories.

enum TestLoadError: Error, CustomStringConvertible {
    case bad(line: Int, String)
    var description: String {
        switch self {
        case .bad(let line, let why): "line \(line): \(why)"
        }
    }
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)` → Timestamp (enough for tests).
func testTimestamp(_ text: String) -> Timestamp? {
    let u = Array(text.utf8)
    func num(_ a: Int, _ n: Int) -> Int? {
        guard a + n <= u.count else { return nil }
        var v = 0
        for i in a..<(a + n) {
            guard u[i] >= 48, u[i] <= 57 else { return nil }
            v = v * 10 + Int(u[i] - 48)
        }
        return v
    }
    guard u.count >= 16, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
        let mi = num(14, 2), let day = Day(year: y, month: mo, day: d)
    else { return nil }
    var i = 16
    var sec = 0
    var ms = 0
    if i < u.count, u[i] == UInt8(ascii: ":") {
        guard let s = num(i + 1, 2) else { return nil }
        sec = s
        i += 3
        if i < u.count, u[i] == UInt8(ascii: ".") {
            guard let f = num(i + 1, 3) else { return nil }
            ms = f
            i += 4
        }
    }
    var offset = 0
    if i < u.count {
        if u[i] == UInt8(ascii: "Z") {
            offset = 0
        } else {
            guard let oh = num(i + 1, 2), let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        }
    }
    let local = Int64(day.ordinal) * 86_400_000 + Int64(((h * 60 + mi) * 60 + sec) * 1000 + ms)
    return Timestamp(epochMillis: local - Int64(offset) * 60_000, offsetMinutes: Int16(offset))
}

/// Maps NDJSON import lines to `Recorded` with JSONSerialization: sequence = line number,
/// recordedAt = occurredAt, stream version = position in the patient's stream.
func loadNDJSON(_ text: String) throws -> [Recorded] {
    var out: [Recorded] = []
    var versions: [String: UInt64] = [:]
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
        let lineNo = n + 1
        guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let type = obj["type"] as? String, let patient = obj["patient"] as? String,
            let at = obj["occurredAt"] as? String, let ts = testTimestamp(at),
            let actor = obj["actor"] as? [String: Any], let actorId = actor["id"] as? String,
            let roleName = actor["role"] as? String, let role = Role(rawValue: roleName),
            let data = obj["data"] as? [String: Any]
        else { throw TestLoadError.bad(line: lineNo, "envelope") }
        let id = (obj["eventId"] as? String).flatMap(UUID.init(uuidString:)) ?? UUID()
        let event = try testEvent(type, data, line: lineNo)
        let v = (versions[patient] ?? 0) + 1
        versions[patient] = v
        out.append(
            Recorded(
                sequence: UInt64(lineNo), eventId: id, patient: patient, streamVersion: v, occurredAt: ts,
                recordedAtMicros: ts.epochMillis * 1000, actor: Actor(id: actorId, role: role), osUser: "test",
                schemaVersion: 1, event: event))
    }
    return out
}

private func testEvent(_ type: String, _ d: [String: Any], line: Int) throws -> ClinicalEvent {
    func str(_ k: String) throws -> String {
        guard let s = d[k] as? String else { throw TestLoadError.bad(line: line, "data.\(k)") }
        return s
    }
    func int(_ k: String) throws -> Int {
        guard let n = d[k] as? NSNumber else { throw TestLoadError.bad(line: line, "data.\(k)") }
        return n.intValue
    }
    func bool(_ k: String) throws -> Bool {
        guard let b = d[k] as? Bool else { throw TestLoadError.bad(line: line, "data.\(k)") }
        return b
    }
    func enumValue<E: RawRepresentable>(_ k: String, _: E.Type) throws -> E where E.RawValue == String {
        guard let e = E(rawValue: try str(k)) else { throw TestLoadError.bad(line: line, "data.\(k)") }
        return e
    }
    switch type {
    case "PatientEnrolled":
        return .patientEnrolled(
            PatientEnrolled(protocol: d["protocol"] == nil ? .intervalExtension : try enumValue("protocol", TreatmentProtocol.self)))
    case "ConsentRecorded":
        return .consentRecorded(ConsentRecorded(kind: try enumValue("kind", ConsentKind.self)))
    case "ScoreRecorded":
        return .scoreRecorded(ScoreRecorded(instrument: try enumValue("instrument", Instrument.self), value: try int("value")))
    case "LabResulted":
        return .labResulted(LabResulted(test: try enumValue("test", LabTest.self), abnormal: try bool("abnormal")))
    case "VitalsRecorded":
        return .vitalsRecorded(VitalsRecorded(systolic: try int("systolic"), diastolic: try int("diastolic")))
    case "ScreeningRecorded":
        return .screeningRecorded(ScreeningRecorded(kind: try enumValue("kind", ScreeningKind.self), positive: try bool("positive")))
    case "AssessmentRecorded":
        return .assessmentRecorded(AssessmentRecorded(kind: try enumValue("kind", AssessmentKind.self)))
    case "InfusionAdministered":
        guard let dose = d["dose"] as? [String: Any], let value = (dose["value"] as? NSNumber)?.doubleValue,
            let unit = (dose["unit"] as? String).flatMap(DoseUnit.init(rawValue:))
        else { throw TestLoadError.bad(line: line, "data.dose") }
        return .infusionAdministered(
            InfusionAdministered(
                route: try enumValue("route", Route.self), dose: Dose(value: value, unit: unit),
                series: try enumValue("series", Series.self), justification: d["justification"] as? String))
    default:
        throw TestLoadError.bad(line: line, "type \(type) not supported by the test loader")
    }
}

// MARK: - Building histories

func day(_ iso: String) -> Day {
    guard let d = Day(iso: iso) else {
        Issue.record("bad test date \(iso)")
        return Day(ordinal: 0)
    }
    return d
}

/// A patient's history, appended in log order: sequence numbers count up, recordedAt is the
/// append order (one second apart, after every occurredAt) unless given.
struct History {
    var patient: String
    var events: [Recorded] = []
    var offsetMinutes: Int16 = -300
    var nextSequence: UInt64 = 1
    var nextId: UInt64 = 1

    init(_ patient: String = "P") { self.patient = patient }

    /// `"2026-01-05"` (09:30 local), `"2026-01-05T08:30"` (local, the history's offset), or a
    /// full RFC 3339 timestamp.
    func timestamp(_ at: String, defaultTime: String = "09:30") -> Timestamp {
        var text = at
        if text.count == 10 { text += "T" + defaultTime }
        if text.count == 16 {
            let o = Int(offsetMinutes)
            let sign = o < 0 ? "-" : "+"
            text += ":00" + sign + String(format: "%02d:%02d", abs(o) / 60, abs(o) % 60)
        }
        guard let ts = testTimestamp(text) else {
            Issue.record("bad test timestamp \(at)")
            return Timestamp(epochMillis: 0, offsetMinutes: 0)
        }
        return ts
    }

    @discardableResult
    mutating func add(_ at: String, _ event: ClinicalEvent, defaultTime: String = "09:30", recordedAtMicros: Int64? = nil)
        -> Recorded
    {
        let ts = timestamp(at, defaultTime: defaultTime)
        let n = nextId
        nextId += 1
        let id = UUID(uuidString: String(format: "00000000-0000-4000-8000-%012llx", n)) ?? UUID()
        let r = Recorded(
            sequence: nextSequence, eventId: id, patient: patient, streamVersion: nextSequence, occurredAt: ts,
            recordedAtMicros: recordedAtMicros ?? (Int64(4_000_000_000) + Int64(nextSequence)) * 1_000_000,
            actor: Actor(id: "dr.test", role: .clinician), osUser: "test", schemaVersion: 1, event: event)
        nextSequence += 1
        events.append(r)
        return r
    }

    @discardableResult
    mutating func enrolled(_ p: TreatmentProtocol = .intervalExtension, _ at: String = "2026-01-05T08:00") -> Recorded {
        add(at, .patientEnrolled(PatientEnrolled(protocol: p)))
    }
    @discardableResult
    mutating func madrs(_ at: String, _ value: Int) -> Recorded {
        add(at, .scoreRecorded(ScoreRecorded(instrument: .madrs, value: value)), defaultTime: "08:30")
    }
    @discardableResult
    mutating func phq2(_ at: String, _ value: Int) -> Recorded {
        add(at, .scoreRecorded(ScoreRecorded(instrument: .phq2, value: value)), defaultTime: "08:00")
    }
    @discardableResult
    mutating func infusion(
        _ at: String, _ series: Series, dose: Double = 0.5, unit: DoseUnit = .mgPerKg, justification: String? = nil
    ) -> Recorded {
        add(
            at,
            .infusionAdministered(
                InfusionAdministered(route: .iv, dose: Dose(value: dose, unit: unit), series: series, justification: justification)))
    }
    /// A visit: MADRS at 08:30, then a maintenance (or given series) infusion at 09:30.
    mutating func visit(_ date: String, madrs value: Int, _ series: Series = .maintenance) {
        madrs(date, value)
        infusion(date, series)
    }
    @discardableResult
    mutating func adjust(_ at: String, _ days: Int) -> Recorded {
        add(at, .scheduleAdjusted(ScheduleAdjusted(intervalDays: days, reason: "clinician")), defaultTime: "10:00")
    }
    @discardableResult
    mutating func holiday(_ at: String, weeks: Int) -> Recorded {
        add(at, .drugHolidayStarted(DrugHolidayStarted(plannedWeeks: weeks)), defaultTime: "10:00")
    }
    @discardableResult
    mutating func holidayEnd(_ at: String, resume: Int? = nil) -> Recorded {
        add(at, .drugHolidayEnded(DrugHolidayEnded(resumeIntervalDays: resume)), defaultTime: "10:00")
    }
    @discardableResult
    mutating func taper(_ at: String, steps: [TaperStep]? = nil) -> Recorded {
        add(at, .taperStarted(TaperStarted(steps: steps)), defaultTime: "10:00")
    }
    @discardableResult
    mutating func discontinue(_ at: String) -> Recorded {
        add(at, .maintenanceDiscontinued(MaintenanceDiscontinued(reason: "stop")), defaultTime: "10:00")
    }
    @discardableResult
    mutating func pregnancy(_ at: String, _ status: PregnancyStatus) -> Recorded {
        add(at, .pregnancyStatusRecorded(PregnancyStatusRecorded(status: status)), defaultTime: "10:00")
    }
    @discardableResult
    mutating func acknowledge(_ at: String, _ alertId: String) -> Recorded {
        add(at, .alertAcknowledged(AlertAcknowledged(alertId: alertId)), defaultTime: "12:00")
    }
    @discardableResult
    mutating func void(_ at: String, _ target: Recorded) -> Recorded {
        add(at, .eventVoided(EventVoided(target: target.eventId, reason: "error")), defaultTime: "12:00")
    }
    @discardableResult
    mutating func amend(_ at: String, _ target: Recorded, _ data: [(String, JSONValue)]) -> Recorded {
        add(at, .eventAmended(EventAmended(target: target.eventId, reason: "typo", data: data)), defaultTime: "12:00")
    }

    /// The examples' shared start: enrolled, MADRS 32 on 2026-01-05, six acute infusions on Jan
    /// 5, 7, 9, 12, 14, 16 (09:30), MADRS `assessment` on Jan 19 (10:00).
    mutating func acuteSeries(baseline: Int? = 32, assessment: Int? = 4, protocol p: TreatmentProtocol = .intervalExtension) {
        enrolled(p)
        if let baseline { add("2026-01-05T08:10", .scoreRecorded(ScoreRecorded(instrument: .madrs, value: baseline))) }
        for d in ["2026-01-05", "2026-01-07", "2026-01-09", "2026-01-12", "2026-01-14", "2026-01-16"] {
            infusion(d, .acute)
        }
        if let assessment { madrs("2026-01-19T10:00", assessment) }
    }

    /// W1's ladder: maintenance visits on the due dates with MADRS `score`.
    static let w1Dates = [
        "2026-01-23", "2026-01-30", "2026-02-06", "2026-02-13", "2026-02-23", "2026-03-05", "2026-03-15",
        "2026-03-29", "2026-04-12", "2026-04-26", "2026-05-10", "2026-05-31", "2026-06-21", "2026-07-12",
        "2026-08-09", "2026-09-06", "2026-10-04", "2026-11-01",
    ]

    func fold(through: String? = nil, rules: RuleSet = .default, asOf: Int64? = nil, amend: PhaseProjection.Amend? = nil)
        -> PhaseState
    {
        PhaseProjection.fold(
            patient: patient, events: events, rules: rules, through: through.map(day), recordedAtOrBefore: asOf,
            amend: amend)
    }

    func view(on date: String, rules: RuleSet = .default, explain: Bool = false) -> PhaseView? {
        PhaseProjection.view(fold(through: date, rules: rules), on: day(date), rules: rules, explain: explain)
    }
}

/// The expected `query phase` answer, every field spelled out.
func phaseView(
    _ patient: String = "P", protocol p: TreatmentProtocol = .intervalExtension, phase: TreatmentPhase,
    status: PatientStatus, week: Int?, response: ResponseStatus?, baseline: Int?, nadir: Int?, latest: Int?,
    interval: (Int, Int, Int?)?, due: String?, overdue: Int
) -> PhaseView {
    PhaseView(
        patient: patient, treatmentProtocol: p, phase: phase, status: status, weekOfTreatment: week,
        responseStatus: response, baselineMadrs: baseline, nadirMadrs: nadir, latestMadrs: latest,
        interval: interval.map { PhaseView.Interval(days: $0.0, treatmentsAtInterval: $0.1, requiredBeforeExtension: $0.2) },
        nextInfusionDue: due.map(day), infusionOverdueDays: overdue)
}

/// A trivial amendment merge for tests (the real one is `ClinicalEvent.amended(with:)` in IO):
/// `value` of a score, `series` of an infusion, `intervalDays` of a ScheduleAdjusted.
func testAmend(_ original: ClinicalEvent, _ fields: [(String, JSONValue)], _ recordedAt: Timestamp) -> ClinicalEvent? {
    var e = original
    for (key, value) in fields {
        switch (e, key, value) {
        case (.scoreRecorded(var s), "value", .int(let v)):
            s.value = Int(v)
            e = .scoreRecorded(s)
        case (.infusionAdministered(var i), "series", .string(let v)):
            guard let series = Series(rawValue: v) else { return nil }
            i.series = series
            e = .infusionAdministered(i)
        case (.scheduleAdjusted(var a), "intervalDays", .int(let v)):
            a.intervalDays = Int(v)
            e = .scheduleAdjusted(a)
        default:
            return nil
        }
    }
    return e
}
