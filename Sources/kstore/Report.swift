import ArgumentParser
import Foundation
import Glibc
import KApp
import KClinic
import KReport

/// `kstore report patient|today|trail --out FILE.html`: the pages of web.md as self-contained
/// files. A report is a read: recorded in the access log like the query it shows.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write a report as one self-contained HTML file (style and chart inline, no script): patient, today, trail, rems, dispensing.",
        subcommands: [PatientReport.self, TodayReport.self, TrailReport.self, RemsReport.self, DispensingReport.self]
    )

    struct PatientReport: ReportCommand {
        static let configuration = CommandConfiguration(
            commandName: "patient",
            abstract: "One patient's course: chart, phase and why, due items, audit findings, alerts, the events with corrections.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The patient id.") var patient: String
        @Option(help: "Evaluation date YYYY-MM-DD (default: today, local time).") var on: Day?
        @Option(help: "The HTML file to write (replaced whole; nothing is left there on failure).") var out: String

        func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String {
            let day = on ?? today()
            let engine = ProjectionEngine(store: store)
            guard let page = try engine.patientPage(patient, on: day) else {
                throw AppError.badInput([
                    .option("--patient", "no events of patient \(patient) on or before \(day)", expected: "a patient id from `kstore log`")
                ])
            }
            marks.mark("gather")
            try recordAccess(store, patients: [patient])
            marks.mark("access log")
            let text = Reports.patient(page)
            marks.mark("render")
            return text
        }
    }

    struct TodayReport: ReportCommand {
        static let configuration = CommandConfiguration(
            commandName: "today",
            abstract: "The clinic's day: infusions due and overdue, monitoring, active alerts, documentation gaps; most urgent first.")
        @OptionGroup var options: StoreOptions
        @Option(help: "Evaluation date YYYY-MM-DD (default: today, local time).") var on: Day?
        @Option(help: "The HTML file to write (replaced whole; nothing is left there on failure).") var out: String

        func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String {
            let engine = ProjectionEngine(store: store)
            let page = try engine.todayPage(on: on ?? today())
            marks.mark("catch-up+gather")
            // Like `query due` without --patient: every patient in the store was read.
            try recordAccess(store, patients: try patientsInScope(store, nil))
            marks.mark("access log")
            let text = Reports.today(page)
            marks.mark("render")
            return text
        }
    }

    struct TrailReport: ReportCommand {
        static let configuration = CommandConfiguration(
            commandName: "trail",
            abstract: "The audit trail as a printable document: verify's result and head hash, every event with its corrections.")
        @OptionGroup var options: StoreOptions
        @OptionGroup var trailFilter: TrailFilterOptions
        @Option(help: "The HTML file to write (replaced whole; nothing is left there on failure).") var out: String

        func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String {
            let filter = trailFilter.filter
            let (page, trail) = try AuditTrail.page(store, filter: filter)
            marks.mark("gather and verify")
            try recordAccess(store, patients: trail.entries.map(\.record.patient))
            marks.mark("access log")
            let text = Reports.trail(page)
            marks.mark("render")
            return text
        }
    }
}

extension Report {
    /// `kstore report rems` (session.md R14): the REMS patient monitoring form's content.
    struct RemsReport: ReportCommand {
        static let configuration = CommandConfiguration(
            commandName: "rems",
            abstract: "The esketamine REMS patient monitoring form of one session, from its events, ready to transcribe.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The esketamine infusion's event id.") var infusion: String
        @Option(help: "The day the form's lateness is judged on, YYYY-MM-DD (default: today, local time).") var on: Day?
        @Option(help: "The HTML file to write (replaced whole; nothing is left there on failure).") var out: String

        func validate() throws {
            guard UUID(uuidString: infusion) != nil else {
                throw ValidationError("--infusion \(infusion) is not an event id (a UUID such as 3f2b…-…)")
            }
        }

        func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String {
            guard let id = UUID(uuidString: infusion) else { throw AppError.usage("--infusion \(infusion) is not an event id") }
            let page = try ProjectionEngine(store: store).remsPage(infusion: id, today: on ?? today())
            marks.mark("gather")
            try recordAccess(store, patients: [page.form.patient])
            marks.mark("access log")
            let text = Reports.rems(page)
            marks.mark("render")
            return text
        }
    }

    /// `kstore report dispensing` (session.md R15): the controlled-substance record of a period,
    /// a printable document an inspector can take away.
    struct DispensingReport: ReportCommand {
        static let configuration = CommandConfiguration(
            commandName: "dispensing",
            abstract: "The controlled-substance record of a period: balances per lot, counts, lot alerts, every entry, signatures.")
        @OptionGroup var options: StoreOptions
        @Option(help: "First date YYYY-MM-DD.") var from: Day
        @Option(help: "Last date YYYY-MM-DD.") var to: Day
        @Option(help: "One lot.") var lot: String?
        @Option(help: "The HTML file to write (replaced whole; nothing is left there on failure).") var out: String

        func validate() throws {
            guard from <= to else { throw ValidationError("--from \(from) is after --to \(to)") }
        }

        func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String {
            let page = try ProjectionEngine(store: store).dispensingPage(from: from, to: to, lot: lot)
            marks.mark("gather")
            // A read of every patient named, as `query dispensing`.
            try recordAccess(store, patients: Array(Set(page.rows.compactMap(\.entry.patient))).sorted())
            marks.mark("access log")
            let text = Reports.dispensing(page)
            marks.mark("render")
            return text
        }
    }
}

/// A report subcommand: check that `--out` can be written (a temporary file beside it) before
/// the store is opened, gather and render, then rename the temporary file over `--out`. On any
/// failure the temporary file is removed and `--out` is left as it was.
protocol ReportCommand: ParsableCommand {
    var options: StoreOptions { get }
    var out: String { get }
    func html(_ store: ClinicStore, _ marks: inout Marks) throws -> String
}

extension ReportCommand {
    mutating func run() throws {
        let out = self.out
        try guarded {
            var marks = Marks()
            let file = try ReportFile(path: out)
            defer { file.discard() }
            marks.mark("temporary file")
            let store = try ClinicStore.open(at: options.path)
            marks.mark("open")
            let text = try html(store, &marks)
            try file.commit(text)
            marks.mark("write+rename")
            // KSTORE_REPORT_TIMING=1: where the command's time went, on standard error (for
            // BENCHMARKS; the first figure is the time from process start to `run`).
            if getenv("KSTORE_REPORT_TIMING") != nil {
                Output.write("report: \(marks.summary), \(text.utf8.count) bytes\n", to: 2)
            }
        }
    }
}

/// A temporary file in the directory of `path`, renamed to `path` once written whole.
final class ReportFile {
    let path: String
    let temporary: String
    private var fd: Int32
    private var committed = false

    init(path: String) throws {
        self.path = path
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        guard !name.isEmpty, !path.hasSuffix("/") else {
            throw AppError.usage("cannot write --out \(path): it names a directory, not a file")
        }
        var isDir = stat()
        if stat(path, &isDir) == 0, (isDir.st_mode & S_IFMT) == S_IFDIR {
            throw AppError.usage("cannot write --out \(path): it is a directory")
        }
        var template = Array("\(dir)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard fd >= 0 else {
            throw AppError.usage("cannot write --out \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.temporary = template.withUnsafeBufferPointer { buf in buf.baseAddress.map { String(cString: $0) } ?? "" }
        // Owner-only, as mkstemp creates it (0600): a report holds patients' data, like the
        // store and its backups. Whoever shares it chooses to, with chmod or a copy.
    }

    /// Writes `text` whole, syncs, and renames the file over `path`.
    func commit(_ text: String) throws {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var off = 0
        let ok = bytes.withUnsafeBytes { buf -> Bool in
            while off < buf.count {
                let n = write(fd, buf.baseAddress?.advanced(by: off), buf.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else {
            let reason = errno == ENOSPC ? "the disk is full" : String(cString: strerror(errno))
            throw AppError.usage("cannot write --out \(path): \(reason)")
        }
        close(fd)
        fd = -1
        guard rename(temporary, path) == 0 else {
            throw AppError.usage("cannot write --out \(path): \(String(cString: strerror(errno)))")
        }
        committed = true
    }

    /// Removes the temporary file unless it was committed.
    func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        if !committed { unlink(temporary) }
    }
}

/// The phases of a report command with their durations (KSTORE_REPORT_TIMING).
struct Marks {
    private var last: Double
    private var phases: [(String, Double)] = []

    init() {
        let now = monotonicMillis()
        // The process's start, from /proc/self/stat (field 22, clock ticks since boot).
        last = now
        if let start = processStartMillis() { phases.append(("start to run", now - start)) }
    }

    mutating func mark(_ phase: String) {
        let now = monotonicMillis()
        phases.append((phase, now - last))
        last = now
    }

    var summary: String {
        phases.map { p in
            let tenths = Int((p.1 * 10).rounded())
            return "\(p.0) \(tenths / 10).\(tenths % 10) ms"
        }.joined(separator: ", ")
    }
}

/// When this process started, in CLOCK_MONOTONIC milliseconds (Linux: /proc/self/stat's
/// starttime counts clock ticks since boot, as CLOCK_MONOTONIC does, give or take suspend).
func processStartMillis() -> Double? {
    guard let f = fopen("/proc/self/stat", "r") else { return nil }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 1024)
    guard fgets(&buf, Int32(buf.count), f) != nil else { return nil }
    let line = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // Fields after the command name, which is in parentheses and may hold spaces.
    guard let close = line.lastIndex(of: ")") else { return nil }
    let fields = line[line.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state); starttime is field 22.
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    return hz > 0 ? ticks / hz * 1000 : nil
}

/// Milliseconds on the monotonic clock (timings only).
func monotonicMillis() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}
