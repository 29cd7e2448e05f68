// kstore-bench: kstore beside a SQLite baseline (built the way a small team would), the raw
// LMDB floor and, with --postgres URL, a PostgreSQL peer (a Marten-style event table), in one
// process, release mode; prints a table and writes JSON. tools/bench.sh is
// the documented command (build + defaults: 1M events main table, scaling 100k/1M/4M).
//
//   kstore-bench [--events N | --patients P] [--runs R] [--scaling 100k,1M,4M | none] …
//   kstore-bench replay-child --store S       (internal: a full replay's peak memory)
//
// See Options.swift for every option. Every library call is timed in-process with a warm page
// cache; each figure is the median of --runs runs.
import Foundation
import KApp
import KClinic
import KStore

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "replay-child" {
    guard arguments.count == 3, arguments[1] == "--store" else { fail("usage: kstore-bench replay-child --store S", code: 64) }
    do { try ReplayMemory.child(store: arguments[2]) } catch { fail("replay-child: \(error)") }
}

let options = Options.parse(arguments)
let repo = findRepo(options.repo)
let machine = Machine.read(repo: repo)
let started = DispatchTime.now().uptimeNanoseconds

guard let python = which("python3") else { fail("python3 is required to generate the input (tools/generate-clinic.py)") }
let actorsTSV: String
do { actorsTSV = try String(contentsOfFile: repo + "/fixtures/actors.tsv", encoding: .utf8) } catch {
    fail("cannot read \(repo)/fixtures/actors.tsv: \(error)")
}

let ownWorkdir = options.workdir == nil
let workdir = options.workdir ?? (NSTemporaryDirectory() + "kstore-bench-\(getpid())")
do { try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true) } catch {
    fail("cannot create \(workdir): \(error)")
}
var made: [String] = []  // what to remove at the end
@MainActor func cleanUp() {
    guard !options.keep else { return }
    for p in made.reversed() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: p + suffix) }
    }
    if ownWorkdir { try? FileManager.default.removeItem(atPath: workdir) }
}

/// The generated clinic with `patients` patients (cached in the workdir: the generator is
/// deterministic).
@MainActor func generate(patients: Int, sessions: Bool = false) throws -> (path: String, bytes: [UInt8], events: Int) {
    let path = workdir + "/clinic-\(patients)p-seed\(options.seed)\(sessions ? "-sessions" : "").ndjson"
    if !FileManager.default.fileExists(atPath: path) {
        made.append(path)
        let t = try timed {
            try run(
                python,
                [
                    repo + "/tools/generate-clinic.py", "--patients", String(patients), "--seed", String(options.seed),
                    "--start", "2024-11-01", "--days", "730", "--out", path,
                ] + (sessions ? ["--sessions"] : []))
        }
        note("generated \(patients) patients in \(fmt(t)) s")
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw BenchFailure("cannot read \(path)") }
    let bytes = [UInt8](data)
    let events = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    return (path, bytes, events)
}

let now = SystemClock.now()
let today = now.clinicalDay
/// Synthetic events (catch-up, appends) are dated yesterday (UTC midnight, written at −05:00).
let syntheticBase = (now.epochMillis / 86_400_000 - 1) * 86_400_000

// The PostgreSQL peer, connected before anything is generated: an unreachable database fails
// at once (exit 69) rather than after the kstore and SQLite runs.
var postgres: PostgresPeer?
if let url = options.postgres {
    let target: PostgresTarget
    do { target = try PostgresTarget.parse(url) } catch { fail("\(error)", code: 64) }
    do {
        postgres = try await PostgresPeer.connect(target)
        note("PostgreSQL peer: \(target.redacted), server \(postgres?.serverVersion ?? "?")")
    } catch {
        fail("\(error)", code: 69)
    }
}

/// Appends to `mismatches` every patient whose states (or phase and due answers on `day`)
/// differ from kstore's.
@MainActor func compareStates(
    _ name: String, _ folds: [String: SQLiteBaseline.Fold],
    with kstoreStates: [String: (bytes: [UInt8], phase: PhaseState, monitoring: MonitoringState)], on day: Day, rules: RuleSet,
    into mismatches: inout [String]
) {
    if Set(folds.keys) != Set(kstoreStates.keys) {
        mismatches.append("\(name): patients differ (\(folds.count) vs kstore's \(kstoreStates.count))")
    }
    for (patient, k) in kstoreStates.sorted(by: { $0.key < $1.key }) {
        guard let f = folds[patient] else { continue }
        let bytes = KStoreBench.encode(f.phase, f.monitoring)
        if bytes != k.bytes {
            let which = f.phase != k.phase ? "phase state" : "monitoring state"
            mismatches.append("\(name): \(patient): \(which) differs")
        } else if PhaseProjection.view(f.phase, on: day, rules: rules) != PhaseProjection.view(k.phase, on: day, rules: rules)
            || MonitoringProjection.due(f.monitoring, phase: f.phase, on: day, rules: rules)
                != MonitoringProjection.due(k.monitoring, phase: k.phase, on: day, rules: rules)
        {
            mismatches.append("\(name): \(patient): answers on \(day) differ")
        }
    }
}

var main = MainFigures()
main.runs = options.runs
main.appendsPerRun = options.appends
var scalingRows: [ScalingRow] = []

func p(_ xs: [Double]) -> Double { median(xs) }

do {
    let input = try generate(patients: options.mainPatients)
    main.patients = options.mainPatients
    main.events = input.events
    main.ndjsonBytes = input.bytes.count
    note("main input: \(fmtInt(Double(input.events))) events, \(main.patients) patients, \(fmt(Double(input.bytes.count) / 1e6)) MB NDJSON")

    // kstore's states captured on the first run, right after its replay (before catch-up and
    // appends add events), for the equality check against SQLite's.
    var kstoreStates: [String: (bytes: [UInt8], phase: PhaseState, monitoring: MonitoringState)] = [:]
    var rules = RuleSet.default

    for run in 0..<options.runs {
        note("run \(run + 1)/\(options.runs): kstore")
        // MARK: kstore
        let kpath = workdir + "/kstore-\(run)"
        made.append(kpath)
        let store = try KStoreBench.createStore(at: kpath, actorsTSV: actorsTSV)
        let imp = try KStoreBench.importFile(store, input.bytes, source: input.path)
        guard imp.events == input.events else { throw BenchFailure("kstore imported \(imp.events) of \(input.events) lines") }
        main.kImport.append(Double(imp.events) / imp.seconds)
        let sequenceBase = imp.first - 1

        _ = try store.log.rawScan()  // warm the page cache
        var entries = 0
        let tr = try timed { entries = try store.log.rawScan().entries }
        main.kRawScan.append(Double(entries) / tr)

        let engine = ProjectionEngine(store: store)
        _ = try engine.rebuildStored()  // warm
        var replayed: UInt64 = 0
        let tp = try timed { replayed = try engine.rebuildStored() }
        main.kReplay.append(Double(replayed) / tp)
        main.kDiskBytes = KStoreBench.dataFileBytes(store)
        rules = try engine.rulesInForce().rules

        // Queries from the stored projections, on today's date (what `kstore query` answers).
        var phaseTimes: [Double] = []
        var overdueTimes: [Double] = []
        for i in 0..<5 {
            let patient = generatedPatient(i * 37 % main.patients + 1)
            var views: [PhaseView] = []
            phaseTimes.append(try timed { views = try engine.phase(patient: patient, on: today, asOf: nil) } * 1000)
            guard views.count == 1 else { throw BenchFailure("query phase \(patient): \(views.count) views") }
            var overdue = 0
            overdueTimes.append(
                try timed {
                    overdue = try engine.due(patient: nil, on: today, asOf: nil).filter { $0.status == .overdue }.count
                } * 1000)
            main.kOverdueItems = overdue
        }
        main.kPhaseMs.append(median(phaseTimes))
        main.kOverdueMs.append(median(overdueTimes))

        if run == 0 {
            kstoreStates = try KStoreBench.states(engine, on: today)
            note("peak memory of a full replay (child process)")
            main.kMemory = try ReplayMemory.measure(store: kpath)
        }

        var report: VerifyReport?
        let tv = try timed { report = try LogAudit.audit(store).report }
        guard let report, report.ok else {
            throw BenchFailure("audit verify found problems: \(report?.problems.prefix(3).map(\.description) ?? [])")
        }
        main.kVerify.append(Double(report.events) / tv)

        let backupPath = workdir + "/backup-\(run)"
        made.append(backupPath)
        let b = try Backup.run(store, to: backupPath)
        main.kBackupMBps.append(b.megabytesPerSecond)
        main.kBackupSeconds.append(b.seconds)
        try? FileManager.default.removeItem(atPath: backupPath)

        // MARK: SQLite
        note("run \(run + 1)/\(options.runs): SQLite")
        let spath = workdir + "/sqlite-\(run).db"
        made.append(spath)
        let sqlite = try SQLiteBaseline.create(at: spath)
        var simp = SQLiteBaseline.ImportResult(events: 0, maxDay: today)
        let ts = try timed { simp = try sqlite.importNDJSON(input.bytes, now: now) }
        guard simp.events == input.events else { throw BenchFailure("SQLite imported \(simp.events) of \(input.events) lines") }
        main.sImport.append(Double(simp.events) / ts)
        if run == 0 { main.sPlan = try sqlite.replayPlan() }

        _ = try sqlite.readPass()  // warm
        var rows = 0
        let tpass = try timed { rows = try sqlite.readPass().rows }
        main.sReadPass.append(Double(rows) / tpass)
        let tseq = try timed { rows = try sqlite.readPass(inLogOrder: true).rows }
        main.sReadPassBySeq.append(Double(rows) / tseq)

        var foldsB: [String: SQLiteBaseline.Fold] = [:]
        var nB = 0
        let tb = try timed { (nB, foldsB) = try sqlite.replay(.kstoreParser, rules: rules, sequenceBase: sequenceBase, now: now) }
        main.sReplayB.append(Double(nB) / tb)
        var foldsA: [String: SQLiteBaseline.Fold] = [:]
        var nA = 0
        let ta = try timed { (nA, foldsA) = try sqlite.replay(.jsonDecoder, rules: rules, sequenceBase: sequenceBase, now: now) }
        main.sReplayA.append(Double(nA) / ta)
        main.sDiskBytes = try sqlite.bytesOnDisk()

        if run == 0 {
            // The correctness check: the same states per patient, byte for byte, and the same
            // answers on the data's last day.
            let day = simp.maxDay
            main.compareDay = day.description
            main.patientsCompared = kstoreStates.count
            for (name, folds) in [("SQLite (a) JSONDecoder", foldsA), ("SQLite (b) kstore parser", foldsB)] {
                compareStates(name, folds, with: kstoreStates, on: day, rules: rules, into: &main.mismatches)
            }
            note(
                main.mismatches.isEmpty
                    ? "states equal: \(kstoreStates.count) patients, kstore = SQLite (a) = SQLite (b)"
                    : "STATES DIFFER: \(main.mismatches.count) (first: \(main.mismatches[0]))")
        }

        // MARK: PostgreSQL (--postgres)
        if let pg = postgres {
            note("run \(run + 1)/\(options.runs): PostgreSQL")
            var f = main.postgres ?? PostgresFigures(server: pg.serverVersion, target: pg.target.redacted)
            try await pg.create()
            var pimp = SQLiteBaseline.ImportResult(events: 0, maxDay: today)
            let tl = try await timedAsync { pimp = try await pg.load(input.bytes, now: now) }
            guard pimp.events == input.events else { throw BenchFailure("PostgreSQL loaded \(pimp.events) of \(input.events) lines") }
            f.load.append(Double(pimp.events) / tl)
            // VACUUM (ANALYZE) first: statistics for the planner and hint bits set, as on a table
            // that has been live for a while.
            f.diskBytes = try await pg.bytesOnDisk()
            if run == 0 { f.plan = try await pg.replayPlan() }

            _ = try await pg.readPass()  // warm
            var prows = 0
            let tpass = try await timedAsync { (prows, f.readBytes) = try await pg.readPass() }
            f.readPass.append(Double(prows) / tpass)

            var pfoldsB: [String: SQLiteBaseline.Fold] = [:]
            var pnB = 0
            let tb = try await timedAsync {
                (pnB, pfoldsB) = try await pg.replay(.kstoreParser, rules: rules, sequenceBase: sequenceBase, now: now)
            }
            f.replayB.append(Double(pnB) / tb)
            var pfoldsA: [String: SQLiteBaseline.Fold] = [:]
            var pnA = 0
            let ta = try await timedAsync {
                (pnA, pfoldsA) = try await pg.replay(.jsonDecoder, rules: rules, sequenceBase: sequenceBase, now: now)
            }
            f.replayA.append(Double(pnA) / ta)

            // One patient's state without a stored projection: its stream by the index, folded.
            var liveTimes: [Double] = []
            for i in 0..<5 {
                let patient = generatedPatient(i * 37 % main.patients + 1)
                var live: SQLiteBaseline.Fold?
                liveTimes.append(
                    try await timedAsync {
                        live = try await pg.liveFold(patient: patient, rules: rules, sequenceBase: sequenceBase, now: now)
                    } * 1000)
                if let live, let replayed = pfoldsB[patient],
                    KStoreBench.encode(live.phase, live.monitoring) != KStoreBench.encode(replayed.phase, replayed.monitoring)
                {
                    main.mismatches.append("PostgreSQL live fold: \(patient): differs from the full replay's")
                }
            }
            f.liveFoldMs.append(median(liveTimes))

            if run == 0 {
                let day = simp.maxDay
                let before = main.mismatches.count
                for (name, folds) in [("PostgreSQL (a) JSONDecoder", pfoldsA), ("PostgreSQL (b) kstore parser", pfoldsB)] {
                    compareStates(name, folds, with: kstoreStates, on: day, rules: rules, into: &main.mismatches)
                }
                f.patientsCompared = kstoreStates.count
                note(
                    main.mismatches.count == before
                        ? "states equal: \(kstoreStates.count) patients, kstore = PostgreSQL (a) = PostgreSQL (b)"
                        : "POSTGRESQL STATES DIFFER: \(main.mismatches.count - before) (first: \(main.mismatches[before]))")
            }
            main.postgres = f
        }
        if run == 0 { kstoreStates = [:] }

        // MARK: catch-up and appends (these add events, so they come last)
        note("run \(run + 1)/\(options.runs): catch-up and appends")
        let fresh = (0..<1000).map {
            syntheticLine(patient: generatedPatient($0 % min(97, main.patients) + 1), n: $0, baseMillis: syntheticBase)
        }
        _ = try Importer(store: store).importNDJSON(Array(fresh.joined(separator: "\n").utf8), source: "catch-up")
        main.kCatchUpMs.append(try timed { _ = try engine.catchUp() } * 1000)

        // Flush everyone's dirty pages first (generated input, imports, the backup's deleted
        // copy): an fsync should wait for its own commit, not for unrelated writeback.
        sync()
        let ka = try KStoreBench.appends(store, count: options.appends, baseMillis: syntheticBase, tag: "K\(run)")
        main.kAppend.append(ka.rate)
        main.kP50.append(quantile(ka.latencies, 0.5) * 1e6)
        main.kP99.append(quantile(ka.latencies, 0.99) * 1e6)

        for level in ["FULL", "NORMAL"] {
            try sqlite.setSynchronous(level)
            sync()
            let insert = try sqlite.db.prepare(SQLiteBaseline.insertSQL)
            var latencies: [Double] = []
            latencies.reserveCapacity(options.appends)
            let lines = (0..<options.appends).map {
                Array(syntheticLine(patient: "M-\(level)-\($0 % 50)", n: $0, baseMillis: syntheticBase).utf8)
            }
            let total = try timed {
                for line in lines {
                    latencies.append(try timed { try sqlite.append(line: line, with: insert, now: now) })
                }
            }
            latencies.sort()
            let rate = Double(options.appends) / total
            if level == "FULL" {
                main.sAppendFull.append(rate)
                main.sP50Full.append(quantile(latencies, 0.5) * 1e6)
                main.sP99Full.append(quantile(latencies, 0.99) * 1e6)
            } else {
                main.sAppendNormal.append(rate)
                main.sP50Normal.append(quantile(latencies, 0.5) * 1e6)
                main.sP99Normal.append(quantile(latencies, 0.99) * 1e6)
            }
        }
        if !options.keep {
            try? FileManager.default.removeItem(atPath: kpath)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: spath + suffix) }
        }
    }

    // MARK: scaling
    for (label, target) in options.scaling {
        let patients = Options.patients(forEvents: target)
        if patients == main.patients, let memory = main.kMemory {
            scalingRows.append(
                ScalingRow(
                    label: label, patients: patients, events: main.events, ndjsonBytes: main.ndjsonBytes, storeBytes: main.kDiskBytes,
                    importRate: p(main.kImport), rawScan: p(main.kRawScan), replay: p(main.kReplay), verify: p(main.kVerify),
                    memory: memory, reusedMain: true))
            continue
        }
        note("scaling \(label): \(patients) patients")
        let data = try generate(patients: patients)
        let path = workdir + "/kstore-scaling-\(label)"
        made.append(path)
        let store = try KStoreBench.createStore(at: path, actorsTSV: actorsTSV)
        let imp = try KStoreBench.importFile(store, data.bytes, source: data.path)
        note("imported \(fmtInt(Double(imp.events))) events in \(fmt(imp.seconds)) s (\(fmtRate(Double(imp.events) / imp.seconds))/s)")
        guard imp.events == data.events else { throw BenchFailure("kstore imported \(imp.events) of \(data.events) lines") }
        _ = try store.log.rawScan()
        var entries = 0
        let tr = try timed { entries = try store.log.rawScan().entries }
        let engine = ProjectionEngine(store: store)
        _ = try engine.rebuildStored()
        var replays: [Double] = []
        for _ in 0..<options.scalingRuns {
            var n: UInt64 = 0
            let t = try timed { n = try engine.rebuildStored() }
            replays.append(Double(n) / t)
        }
        // One verify (it is the slowest figure here, and holds a replay of its own).
        var report: VerifyReport?
        let tv = try timed { report = try LogAudit.audit(store).report }
        guard let report, report.ok else { throw BenchFailure("audit verify at \(label) found problems") }
        let verifies = [Double(report.events) / tv]
        let memory = try ReplayMemory.measure(store: path)
        scalingRows.append(
            ScalingRow(
                label: label, patients: patients, events: data.events, ndjsonBytes: data.bytes.count,
                storeBytes: KStoreBench.dataFileBytes(store), importRate: Double(imp.events) / imp.seconds,
                rawScan: Double(entries) / tr, replay: median(replays), verify: median(verifies), memory: memory, reusedMain: false))
        if !options.keep {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: data.path)
        }
    }
    // MARK: sessions (issue 14): the same clinic charted with sessions and its stock
    if options.sessions {
        let data = try generate(patients: main.patients, sessions: true)
        let path = workdir + "/kstore-sessions"
        made.append(path)
        let store = try KStoreBench.createStore(at: path, actorsTSV: actorsTSV)
        let imp = try KStoreBench.importFile(store, data.bytes, source: data.path)
        let engine = ProjectionEngine(store: store)
        _ = try engine.rebuildStored()
        var replays: [Double] = []
        for _ in 0..<max(3, options.runs) {
            var n: UInt64 = 0
            let t = try timed { n = try engine.rebuildStored() }
            replays.append(Double(n) / t)
        }
        let rules = try engine.rulesInForce().rules
        var lots = 0
        var inventory: [Double] = []
        for _ in 0..<max(5, options.runs) {
            let t = try timed {
                let ledger = try LedgerReader.ledger(store)
                let doc = Views.inventory(ledger, on: today, lot: nil, rules: rules)
                lots = ledger.lots.count
                _ = JSONWriter.string(doc)
            }
            inventory.append(t * 1000)
        }
        print(
            "sessions: \(fmtInt(Double(imp.events))) events (\(data.bytes.count / max(1, imp.events)) B of NDJSON a line), import \(fmtRate(Double(imp.events) / imp.seconds))/s, "
                + "replay \(fmtRate(median(replays)))/s (plain clinic: \(fmtRate(p(main.kReplay)))/s), "
                + "query inventory over \(lots) lots: \(fmt(median(inventory))) ms (median of \(inventory.count))")
    }
} catch {
    cleanUp()
    fail("\(error)")
}

if let pg = postgres {
    // The schema goes as the stores do (unless --keep); a failure here changes no figure.
    if !options.keep { try? await pg.exec("DROP SCHEMA IF EXISTS \(PostgresPeer.schema) CASCADE") }
    await pg.close()
}
let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
let report = Report(machine: machine, main: main, scaling: scalingRows, wallSeconds: wall)
print(report.text())
if let out = options.json {
    do { try Data(JSONWriter.string(report.json()).utf8 + [0x0A]).write(to: URL(fileURLWithPath: out)) } catch {
        cleanUp()
        fail("cannot write \(out): \(error)")
    }
}
cleanUp()
if !main.mismatches.isEmpty {
    FileHandle.standardError.write(
        Data(
            ("kstore-bench: SQLite's or PostgreSQL's projected states differ from kstore's:\n  "
                + main.mismatches.prefix(20).joined(separator: "\n  ") + "\n").utf8))
    exit(1)
}
