import Foundation
import KApp
import KClinic
import KReport
import KStore
import Testing

/// Issue 12: the course chart's data-* against the events and `query phase`, the reports'
/// escaping, the time axis, and `kstore report`'s files, exit codes and access records.
@Suite struct ReportTests {
    static let cases: [(file: String, patient: String, on: String)] = [
        ("examples/w1.ndjson", "W1", "2026-11-20"),
        ("examples/w2.ndjson", "W2", "2026-04-25"),
        ("examples/w3.ndjson", "W3", "2026-04-10"),
        ("case1-long-term-maintenance.ndjson", "C1", "2026-11-15"),
        ("case2-successful-transition.ndjson", "C2", "2026-12-01"),
        ("case3-tolerance-management.ndjson", "C3", "2026-11-20"),
        ("case4-poorly-documented.ndjson", "C4", "2026-10-01"),
    ]

    static func fixture(_ name: String) throws -> [UInt8] {
        let path = packageRoot.appendingPathComponent("fixtures/\(name)").path
        return [UInt8](try #require(FileManager.default.contents(atPath: path)))
    }

    /// Every element carrying data-kind="kind": its attributes.
    static func elements(_ html: String, kind: String) -> [[String: String]] {
        var out: [[String: String]] = []
        let needle = "data-kind=\"\(kind)\""
        var search = html.startIndex
        while let r = html.range(of: needle, range: search..<html.endIndex) {
            guard let open = html[..<r.lowerBound].lastIndex(of: "<"), let close = html[r.upperBound...].firstIndex(of: ">") else { break }
            out.append(attributes(String(html[open...close])))
            search = r.upperBound
        }
        return out
    }

    static func attributes(_ tag: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(tag)
        while let eq = rest.range(of: "=\"") {
            let name = rest[..<eq.lowerBound].split(separator: " ").last.map(String.init) ?? ""
            let after = rest[eq.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            out[name] = String(after[..<end])
            rest = after[after.index(after: end)...]
        }
        return out
    }

    /// The effective clinical events of `patient` as the trail resolves corrections (an
    /// independent path from the chart's fold): (record, data in force) of those not voided.
    static func effective(_ store: ClinicStore, _ patient: String, through day: Day) throws -> [(Recorded, JSONValue)] {
        let trail = try AuditTrail.build(store, filter: AuditTrail.Filter(patient: patient))
        return trail.entries.compactMap { e in
            guard !e.voided, e.corrects == nil, let data = e.effectiveData, e.record.occurredAt.clinicalDay <= day else { return nil }
            return (e.record, data)
        }
    }

    static func checkChart(_ store: ClinicStore, patient: String, on day: Day, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let engine = ProjectionEngine(store: store)
        let page = try #require(try engine.patientPage(patient, on: day), sourceLocation: sourceLocation)
        let html = Reports.patient(page)
        let events = try effective(store, patient, through: day)

        // Every effective MADRS drawn once, at its date and (corrected) value.
        let scores = elements(html, kind: "score").filter { $0["data-instrument"] == "MADRS" }
        let madrs = events.filter { $0.0.type == .scoreRecorded && $0.1["instrument"] == .string("MADRS") }
        #expect(scores.count == madrs.count, "\(patient): MADRS drawn", sourceLocation: sourceLocation)
        for (r, data) in madrs {
            let id = r.eventId.uuidString.lowercased()
            let drawn = scores.filter { $0["data-event"] == id }
            #expect(drawn.count == 1, "\(patient): MADRS \(id) drawn once", sourceLocation: sourceLocation)
            #expect(drawn.first?["data-date"] == r.occurredAt.clinicalDay.description, sourceLocation: sourceLocation)
            if case .int(let v) = data["value"] {
                #expect(drawn.first?["data-value"] == String(v), sourceLocation: sourceLocation)
            }
        }
        // Every effective infusion drawn once, at its date and series.
        let infusions = elements(html, kind: "infusion")
        let given = events.filter { $0.0.type == .infusionAdministered }
        #expect(infusions.count == given.count, "\(patient): infusions drawn", sourceLocation: sourceLocation)
        for (r, data) in given {
            let drawn = infusions.filter { $0["data-event"] == r.eventId.uuidString.lowercased() }
            #expect(drawn.count == 1, sourceLocation: sourceLocation)
            #expect(drawn.first?["data-date"] == r.occurredAt.clinicalDay.description, sourceLocation: sourceLocation)
            if case .string(let s) = data["series"] { #expect(drawn.first?["data-series"] == s, sourceLocation: sourceLocation) }
        }
        // The due marker is `query phase`'s next due.
        let phase = try #require(try engine.phase(patient: patient, on: day, asOf: nil).first, sourceLocation: sourceLocation)
        let due = elements(html, kind: "next-due")
        if let next = phase.nextInfusionDue {
            #expect(due.count == 1 && due.first?["data-date"] == next.description, "\(patient): next due", sourceLocation: sourceLocation)
        } else {
            #expect(due.isEmpty, sourceLocation: sourceLocation)
        }
        // Bands match the status history: `query phase` on the band's first and last dates says
        // its status (hold as shown, the others as underlying, so compare where no hold runs),
        // and every event date whose status is banded lies in a band of that status.
        let bands = elements(html, kind: "band").compactMap { b -> (String, Day, Day)? in
            guard let s = b["data-status"], let f = b["data-from"].flatMap(Day.init(iso:)), let t = b["data-to"].flatMap(Day.init(iso:))
            else {
                return nil
            }
            return (s, f, t)
        }
        let holds = bands.filter { $0.0 == "hold" }
        func onHold(_ d: Day) -> Bool { holds.contains { $0.1 <= d && d <= $0.2 } }
        func status(_ d: Day) throws -> String? { try engine.phase(patient: patient, on: d, asOf: nil).first?.status.rawValue }
        for (s, from, to) in bands {
            #expect(from <= to, sourceLocation: sourceLocation)
            for d in [from, to] where s == "hold" || !onHold(d) {
                #expect(try status(d) == s, "\(patient): band \(s) \(from)…\(to) on \(d)", sourceLocation: sourceLocation)
            }
            if to < day, s != "hold", !onHold(to.adding(days: 1)) {
                #expect(try status(to.adding(days: 1)) != s, "\(patient): band \(s) ends at \(to)", sourceLocation: sourceLocation)
            }
        }
        let banded: Set<String> = ["drug-holiday", "taper", "taper-complete", "discontinued", "hold"]
        for d in Set(events.map { $0.0.occurredAt.clinicalDay }) {
            guard let s = try status(d), banded.contains(s) else { continue }
            #expect(
                bands.contains { $0.0 == s && $0.1 <= d && d <= $0.2 }, "\(patient): \(s) on \(d) banded", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: cases.indices) func chartCarriesTheEventsItDraws(_ i: Int) throws {
        let c = Self.cases[i]
        try withStore { store in
            _ = try Importer(store: store).importNDJSON(try Self.fixture(c.file), source: c.file)
            try Self.checkChart(store, patient: c.patient, on: try #require(Day(iso: c.on)))
        }
    }

    /// Voided events are not drawn; an amended score is drawn at its corrected value.
    @Test func voidedAbsentAmendedCorrected() throws {
        try withStore { store in
            let importer = Importer(store: store)
            _ = try importer.importNDJSON(try Self.fixture("examples/w1.ndjson"), source: "w1")
            let events = try LogReading.events(store, patient: "W1", type: nil, from: 1, limit: nil)
            let madrs = try #require(events.first { if case .scoreRecorded(let s) = $0.event { s.instrument == .madrs } else { false } })
            let infusion = try #require(events.last { $0.type == .infusionAdministered })
            let clinician = Actor(id: "dr.hale", role: .clinician)
            _ = try SingleEvent.amend(
                store, event: madrs.eventId.uuidString, reason: "transcription \"error\" <b>&amp;</b>", data: #"{"value":33}"#,
                actor: clinician)
            _ = try SingleEvent.void(store, event: infusion.eventId.uuidString, reason: "wrong chart", actor: clinician)
            let day = try #require(Day(iso: "2026-11-20"))
            try Self.checkChart(store, patient: "W1", on: day)
            let html = Reports.patient(try #require(try ProjectionEngine(store: store).patientPage("W1", on: day)))
            let points = Self.elements(html, kind: "score").filter { $0["data-event"] == madrs.eventId.uuidString.lowercased() }
            #expect(points.map { $0["data-value"] } == ["33"])
            #expect(!html.contains("data-event=\"\(infusion.eventId.uuidString.lowercased())\""))
            // The reason is shown as recorded, escaped (quotes, tags and an entity-looking text).
            #expect(html.contains("transcription &quot;error&quot; &lt;b&gt;&amp;amp;&lt;/b&gt;"))
            #expect(!html.contains("<b>&amp;</b>"))
        }
    }

    /// Two years of weekly visits: the time axis' labels do not overlap, at any chart width.
    @Test(arguments: [300.0, 764, 1200]) func ticksNeverOverlap(_ pixels: Double) throws {
        let from = try #require(Day(iso: "2025-01-06"))
        for span in [10, 45, 120, 400, 730, 1500] {
            let to = from.adding(days: span)
            let ticks = CourseChart.ticks(from: from, to: to, pixels: pixels)
            #expect(ticks.count >= 2 || span < 14)
            let perDay = pixels / Double(span)
            for (a, b) in zip(ticks, ticks.dropFirst()) {
                let gap = Double(a.day.days(to: b.day)) * perDay
                #expect(gap >= Double(a.label.count + b.label.count) * 12 * 0.62 / 2, "span \(span) at \(pixels): \(a.label) / \(b.label)")
            }
            #expect(ticks.allSatisfy { $0.day >= from && $0.day <= to })
        }
    }

    @Test func todayAndTrailRender() throws {
        try withStore { store in
            for c in Self.cases { _ = try Importer(store: store).importNDJSON(try Self.fixture(c.file), source: c.file) }
            let day = try #require(Day(iso: "2026-04-10"))
            let today = try ProjectionEngine(store: store).todayPage(on: day)
            let html = Reports.today(today)
            #expect(html.contains("Today at the clinic: 2026-04-10"))
            let due = try ProjectionEngine(store: store).due(patient: nil, on: day, asOf: nil).filter { $0.status != .ok }
            #expect(today.monitoring.count == due.count)
            #expect(!html.contains("<script"))
            let (page, _) = try AuditTrail.page(store, filter: AuditTrail.Filter(patient: "W2"))
            let trail = Reports.trail(page)
            #expect(page.verifyOK)
            #expect(trail.contains(page.headHash))
            #expect(trail.contains("counter(page)"))
        }
    }

    /// `kstore report`: the file, the access record, and bad input (one sentence, cli.md's
    /// code, no file left behind).
    @Test func commandWritesFileAndRefusesBadInput() throws {
        let kstore = try #require(executable("kstore"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storePath = dir + "/store"
        _ = try withStoreAt(storePath) { store in
            _ = try Importer(store: store).importNDJSON(try Self.fixture("examples/w2.ndjson"), source: "w2")
        }
        let out = dir + "/w2.html"
        let ok = try run(kstore, ["report", "patient", "--store", storePath, "--patient", "W2", "--on", "2026-04-25", "--out", out])
        #expect(ok.status == 0, "\(ok.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // A patient's page is owner-only, like the store and its backups.
        var st = stat()
        #expect(stat(out, &st) == 0 && st.st_mode & 0o777 == 0o600, "mode \(String(st.st_mode & 0o777, radix: 8))")
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http"))
        let access = try run(kstore, ["audit", "access", "--store", storePath])
        #expect(access.stdout.contains("report patient"))
        for sub in [["today", "--on", "2026-04-25"], ["trail", "--patient", "W2"]] {
            let r = try run(kstore, ["report"] + sub + ["--store", storePath, "--out", dir + "/\(sub[0]).html"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/\(sub[0]).html"))
        }

        let bad = dir + "/bad.html"
        let unknown = try run(kstore, ["report", "patient", "--store", storePath, "--patient", "NOPE", "--out", bad])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let date = try run(kstore, ["report", "patient", "--store", storePath, "--patient", "W2", "--on", "2026-13-01", "--out", bad])
        #expect(date.status == 64)
        let unwritable = try run(kstore, ["report", "today", "--store", storePath, "--out", dir + "/no/such/dir/x.html"])
        #expect(unwritable.status == 64)
        #expect(unwritable.stderr.split(separator: "\n").count == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("bad") || $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    func withStoreAt<T>(_ path: String, _ body: (ClinicStore) throws -> T) throws -> T {
        let store = try ClinicStore.create(at: path)
        try registerTestActors(store)
        return try body(store)
    }
}
