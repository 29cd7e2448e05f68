import Foundation
import KClinic

/// The table on stdout and the same figures as JSON.
struct Report {
    var machine: Machine
    var main: MainFigures
    var scaling: [ScalingRow]
    var wallSeconds: Double

    struct Target {
        var name: String
        var measured: String
        var met: Bool
        var json: JSONValue {
            .object([("target", .string(name)), ("measured", .string(measured)), ("met", .bool(met))])
        }
    }

    // Medians.
    var kReplay: Double { median(main.kReplay) }
    var sReplayA: Double { median(main.sReplayA) }
    var sReplayB: Double { median(main.sReplayB) }
    var raw: Double { median(main.kRawScan) }

    /// The row whose memory stands for "4M": the largest scaling size (else the main table).
    var largest: (label: String, events: Int, memory: ReplayMemory)? {
        if let r = scaling.max(by: { $0.events < $1.events }) { return (r.label, r.events, r.memory) }
        return main.kMemory.map { ("main", main.events, $0) }
    }

    var targets: [Target] {
        var t: [Target] = [
            Target(name: "replay > 2M events/s", measured: fmtRate(kReplay) + " events/s", met: kReplay > 2e6),
            Target(name: "replay > 10× SQLite (a)", measured: fmtRatio(kReplay / sReplayA), met: kReplay / sReplayA > 10),
            Target(
                name: "import > 100k events/s", measured: fmtRate(median(main.kImport)) + " events/s", met: median(main.kImport) > 100_000),
            Target(name: "durable appends > 3,000/s", measured: fmtInt(median(main.kAppend)) + "/s", met: median(main.kAppend) > 3000),
            Target(
                name: "replay within 10× of the raw scan", measured: fmtRatio(raw / kReplay) + " the raw scan's cost",
                met: raw / kReplay <= 10),
            Target(
                name: "disk bytes/event ≤ NDJSON's", measured: "\(fmt(main.kDiskPerEvent, 0)) vs \(fmt(main.ndjsonPerEvent, 0))",
                met: main.kDiskPerEvent <= main.ndjsonPerEvent),
        ]
        if let l = largest {
            let anonMB = Double(l.memory.peakRssAnonKB) / 1024
            let rssMB = Double(max(l.memory.vmHWMKB, l.memory.peakRssKB)) / 1024
            t.append(
                Target(
                    name: "\(l.label) replay < 200 MB peak: anonymous memory (heap)",
                    measured: "\(fmt(anonMB, 0)) MB RssAnon at \(fmtInt(Double(l.events))) events",
                    met: anonMB < 200))
            t.append(
                Target(
                    name: "\(l.label) replay < 200 MB peak: whole RSS incl. the mapped store",
                    measured: "\(fmt(rssMB, 0)) MB peak RSS (\(fmt(Double(l.memory.peakRssFileKB) / 1024, 0)) MB of it data.mdb pages)",
                    met: rssMB < 200))
        }
        let sqliteDiffs = main.mismatches.filter { $0.hasPrefix("SQLite") }.count
        t.append(
            Target(
                name: "SQLite's states equal kstore's (every patient, both decodings)",
                measured: sqliteDiffs == 0 ? "\(main.patientsCompared) patients equal" : "\(sqliteDiffs) differences",
                met: sqliteDiffs == 0))
        if let pg = main.postgres {
            let pgDiffs = main.mismatches.filter { $0.hasPrefix("PostgreSQL") }.count
            t.append(
                Target(
                    name: "PostgreSQL's states equal kstore's (every patient, both decodings)",
                    measured: pgDiffs == 0 ? "\(pg.patientsCompared) patients equal" : "\(pgDiffs) differences",
                    met: pgDiffs == 0 && pg.patientsCompared > 0))
        }
        return t
    }

    /// "9.6× faster" / "2.1× slower" from a ratio where > 1 favours kstore.
    func versus(_ r: Double, _ better: String = "faster", _ worse: String = "slower") -> String {
        guard r.isFinite, r > 0 else { return "—" }
        return r >= 1 ? "\(fmtRatio(r)) \(better)" : "\(fmtRatio(1 / r)) \(worse)"
    }

    func text() -> String {
        var out: [String] = []
        out.append("")
        out.append("# kstore-bench")
        out.append("")
        out.append(machine.line)
        out.append(
            "input: tools/generate-clinic.py, \(fmtInt(Double(main.patients))) patients, \(fmtInt(Double(main.events))) events, "
                + "\(fmt(Double(main.ndjsonBytes) / 1e6)) MB NDJSON (\(fmt(main.ndjsonPerEvent, 0)) bytes/event); "
                + "medians of \(main.runs) run\(main.runs == 1 ? "" : "s"); \(main.appendsPerRun) appends per run and store")
        out.append("")
        out.append("| figure | kstore | SQLite (a) | SQLite (b) | floor | kstore vs (a) | kstore vs (b) | cost ÷ floor |")
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|")
        func row(_ cells: [String]) { out.append("| " + cells.joined(separator: " | ") + " |") }
        let m = main
        let kImp = median(m.kImport)
        let sImp = median(m.sImport)
        row(["import NDJSON (events/s)", fmtRate(kImp), fmtRate(sImp), "", "", versus(kImp / sImp), "", ""])
        let kApp = median(m.kAppend)
        let sApp = median(m.sAppendFull)
        row(["durable single-event appends (appends/s)", fmtInt(kApp), fmtInt(sApp) + " (FULL)", "", "", versus(kApp / sApp), "", ""])
        row([
            "  append latency p50 (µs)", fmtInt(median(m.kP50)), fmtInt(median(m.sP50Full)), "", "",
            versus(median(m.sP50Full) / median(m.kP50), "lower", "higher"), "", "",
        ])
        row([
            "  append latency p99 (µs)", fmtInt(median(m.kP99)), fmtInt(median(m.sP99Full)), "", "",
            versus(median(m.sP99Full) / median(m.kP99), "lower", "higher"), "", "",
        ])
        row([
            "  SQLite synchronous=NORMAL (not durable on power loss)", "",
            "\(fmtInt(median(m.sAppendNormal)))/s, p50 \(fmtInt(median(m.sP50Normal))) µs, p99 \(fmtInt(median(m.sP99Normal))) µs",
            "", "", "", "", "",
        ])
        row([
            "full replay of all projections (events/s)", fmtRate(kReplay), fmtRate(sReplayA), fmtRate(sReplayB), fmtRate(raw) + " raw scan",
            versus(kReplay / sReplayA), versus(kReplay / sReplayB), fmtRatio(raw / kReplay),
        ])
        row([
            "  the replay's read alone (raw LMDB cursor / SQLite query, no decode)", fmtRate(raw), fmtRate(median(m.sReadPass)),
            fmtRate(median(m.sReadPass)), "",
            versus(raw / median(m.sReadPass)), "", "",
        ])
        row(["  SQLite's read in log order instead (ORDER BY seq: table scan)", "", fmtRate(median(m.sReadPassBySeq)), "", "", "", "", ""])
        row([
            "  SQLite replay ÷ its own read", "", fmtRatio(median(m.sReadPass) / sReplayA), fmtRatio(median(m.sReadPass) / sReplayB), "",
            "", "", "",
        ])
        row(["catch-up after 1,000 new events (ms)", fmt(median(m.kCatchUpMs)), "", "", "", "", "", ""])
        row(["query: one patient's phase (ms)", fmt(median(m.kPhaseMs), 2), "", "", "", "", "", ""])
        row(["query: all overdue items (ms; \(m.kOverdueItems) items)", fmt(median(m.kOverdueMs)), "", "", "", "", "", ""])
        row([
            "audit verify (events/s)", fmtRate(median(m.kVerify)), "", "", fmtRate(raw) + " raw scan", "", "",
            fmtRatio(raw / median(m.kVerify)),
        ])
        row(["backup: compact copy + fsync (MB/s)", fmtInt(median(m.kBackupMBps)), "", "", "", "", "", ""])
        row(["  backup incl. verifying the copy (s)", fmt(median(m.kBackupSeconds), 2), "", "", "", "", "", ""])
        row([
            "bytes on disk per event", fmt(m.kDiskPerEvent, 0), fmt(m.sDiskPerEvent, 0), "", fmt(m.ndjsonPerEvent, 0) + " NDJSON",
            versus(m.sDiskPerEvent / m.kDiskPerEvent, "smaller", "larger"), "", fmtRatio(m.kDiskPerEvent / m.ndjsonPerEvent),
        ])
        if let mem = m.kMemory {
            row([
                "peak memory of a full replay (child process)",
                "peak RSS \(mb(max(mem.vmHWMKB, mem.peakRssKB))): anon \(mb(mem.peakRssAnonKB)), file \(mb(mem.peakRssFileKB))",
                "", "", "", "", "", "",
            ])
        }
        if let pg = m.postgres {
            let pA = median(pg.replayA)
            let pB = median(pg.replayB)
            let pRead = median(pg.readPass)
            let pLoad = median(pg.load)
            row([
                "PostgreSQL peer: load NDJSON (COPY; events/s)", fmtRate(kImp), fmtRate(pLoad), "", "", versus(kImp / pLoad), "", "",
            ])
            row([
                "PostgreSQL peer: full replay of all projections (events/s)", fmtRate(kReplay), fmtRate(pA), fmtRate(pB),
                fmtRate(pRead) + " its read", versus(kReplay / pA), versus(kReplay / pB), "",
            ])
            row([
                "  PostgreSQL's read alone (keyset pages by seq_id, no decode)", fmtRate(raw), fmtRate(pRead), fmtRate(pRead), "",
                versus(raw / pRead), "", "",
            ])
            row(["  PostgreSQL replay ÷ its own read", "", fmtRatio(pRead / pA), fmtRatio(pRead / pB), "", "", "", ""])
            row([
                "  one patient's state (ms): kstore query phase / PostgreSQL live fold of its stream", fmt(median(m.kPhaseMs), 2),
                fmt(median(pg.liveFoldMs), 2), "", "", versus(median(pg.liveFoldMs) / median(m.kPhaseMs)), "", "",
            ])
            row([
                "  PostgreSQL bytes on disk per event (mt_events, indexes, TOAST)", fmt(m.kDiskPerEvent, 0), fmt(m.pDiskPerEvent, 0), "",
                fmt(m.ndjsonPerEvent, 0) + " NDJSON", versus(m.pDiskPerEvent / m.kDiskPerEvent, "smaller", "larger"), "", "",
            ])
        }
        out.append("")
        out.append(
            "Import, appends and bytes on disk are one SQLite figure each (column (a)): lines parsed and validated by kstore's IncomingEvent.parse, "
                + "inserted by a prepared statement in transactions of 4,096 (kstore's import also checks every line against the store and the file's earlier lines: duplicates, stream versions, permissions, correction targets; commits a file of up to 2^20 events in one transaction; and hash-chains every record)."
        )
        out.append(
            "(a) SQLite, payload decoded by Foundation's JSONDecoder into Decodable mirrors (the baseline); "
                + "(b) the same rows, payload parsed by kstore's own JSONParser (isolates storage from decode). "
                + "Both fold with kstore's PatientProjection.fold and store the states; kstore's replay decodes, folds and stores. "
                + "SQLite replay reads `ORDER BY patient, seq` (plan: \(m.sPlan)). Appends: kstore one durable LMDB commit each; "
                + "SQLite WAL, synchronous=FULL, one autocommit INSERT each. Memory: RSS = anonymous (heap) + file (mapped data.mdb pages: page cache, shared, droppable)."
        )
        if let pg = m.postgres {
            out.append(
                "PostgreSQL peer: PostgreSQL \(pg.server) at \(pg.target), on this machine over loopback TCP; the table a team on Marten would have "
                    + "(kstore_bench.mt_events: seq_id bigserial primary key, id uuid unique, stream_id, version, data jsonb, type, timestamp, "
                    + "plus occurred_at text and actor columns; unique index on (stream_id, version)), loaded by one COPY FROM STDIN "
                    + "(text format, lines parsed and validated by IncomingEvent.parse first, as SQLite's). Replay: every row in seq_id order "
                    + "by keyset pages of \(PostgresPeer.pageSize) (plan: \(pg.plan)), each patient's events gathered in memory, folded by "
                    + "PatientProjection.fold, states stored by one COPY into mt_doc_patient; (a) and (b) decode the jsonb as SQLite's do. "
                    + "Live fold: one stream's rows by the (stream_id, version) index, decoded (b) and folded (Marten's AggregateStream), "
                    + "beside kstore's query phase from its stored projection."
            )
        }
        out.append(
            "correctness: \(m.mismatches.isEmpty ? "equal" : "DIFFERENT") — \(m.patientsCompared) patients' phase and monitoring states byte for byte, "
                + "and their phase and due answers on \(m.compareDay), kstore vs SQLite (a) and (b)\(m.postgres == nil ? "" : " and PostgreSQL (a) and (b)")"
        )
        out.append("")
        if !scaling.isEmpty {
            out.append("## Scaling (kstore)")
            out.append("")
            out.append(
                "| size | events | patients | import events/s | replay events/s | ns/event | verify events/s | ns/event | peak RSS | RssAnon | RssFile | anon KB/patient | store MB |"
            )
            out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
            for r in scaling {
                row([
                    r.label + (r.reusedMain ? " (main)" : ""), fmtInt(Double(r.events)), fmtInt(Double(r.patients)), fmtRate(r.importRate),
                    fmtRate(r.replay),
                    fmt(1e9 / r.replay, 0), fmtRate(r.verify), fmt(1e9 / r.verify, 0), mb(max(r.memory.vmHWMKB, r.memory.peakRssKB)),
                    mb(r.memory.peakRssAnonKB), mb(r.memory.peakRssFileKB),
                    fmt(Double(r.memory.peakRssAnonKB) / Double(max(r.patients, 1)), 1), fmt(Double(r.storeBytes) / 1e6, 0),
                ])
            }
            out.append("")
            out.append(
                "Each size from its own generated clinic imported as one file (the 1M row is the main table's store and medians); "
                    + "replay: median of --scaling-runs after a warm-up; verify: once; memory: a child process's full replay (peaks sampled every 2 ms, "
                    + "VmHWM). Linear cost = constant ns/event; memory with patients = constant anon KB/patient.")
            out.append("")
        }
        out.append("## Targets")
        out.append("")
        out.append("| target | measured | |")
        out.append("|---|---|---|")
        for t in targets { row([t.name, t.measured, t.met ? "met" : "MISSED"]) }
        out.append("")
        out.append("wall time of this run: \(fmt(wallSeconds, 0)) s")
        return out.joined(separator: "\n")
    }

    func mb(_ kb: Int) -> String { "\(fmtInt(Double(kb) / 1024)) MB" }

    func json() -> JSONValue {
        let m = main
        func series(_ xs: [Double]) -> JSONValue { .object([("median", jnum(median(xs))), ("runs", .array(xs.map(jnum)))]) }
        let pgReplayA: JSONValue = m.postgres.map { jnum(kReplay / median($0.replayA)) } ?? .null
        let pgReplayB: JSONValue = m.postgres.map { jnum(kReplay / median($0.replayB)) } ?? .null
        let pgLoad: JSONValue = m.postgres.map { jnum(median(m.kImport) / median($0.load)) } ?? .null
        let pgJSON: JSONValue = m.postgres?.json ?? .null
        return .object([
            ("format", .string("kstore-bench-1")),
            ("machine", machine.json),
            ("wallSeconds", jnum(wallSeconds)),
            (
                "input",
                .object([
                    ("generator", .string("tools/generate-clinic.py --start 2024-11-01 --days 730")),
                    ("patients", jint(m.patients)), ("events", jint(m.events)), ("ndjsonBytes", jint(m.ndjsonBytes)),
                    ("ndjsonBytesPerEvent", jnum(m.ndjsonPerEvent)), ("runs", jint(m.runs)), ("appendsPerRun", jint(m.appendsPerRun)),
                ])
            ),
            (
                "kstore",
                .object([
                    ("importEventsPerSecond", series(m.kImport)),
                    ("appendsPerSecond", series(m.kAppend)), ("appendP50Micros", series(m.kP50)), ("appendP99Micros", series(m.kP99)),
                    ("replayEventsPerSecond", series(m.kReplay)),
                    ("rawScanEntriesPerSecond", series(m.kRawScan)),
                    ("catchUp1000Millis", series(m.kCatchUpMs)),
                    ("queryPhaseOnePatientMillis", series(m.kPhaseMs)),
                    ("queryOverdueMillis", series(m.kOverdueMs)), ("overdueItems", jint(m.kOverdueItems)),
                    ("verifyEventsPerSecond", series(m.kVerify)),
                    ("backupMegabytesPerSecond", series(m.kBackupMBps)), ("backupSeconds", series(m.kBackupSeconds)),
                    ("diskBytesPerEvent", jnum(m.kDiskPerEvent)), ("dataFileBytes", jint(m.kDiskBytes)),
                    ("replayMemory", m.kMemory?.json ?? .null),
                ])
            ),
            (
                "sqlite",
                .object([
                    ("version", .string(machine.sqlite)),
                    ("importEventsPerSecond", series(m.sImport)),
                    ("appendsPerSecondFull", series(m.sAppendFull)), ("appendP50MicrosFull", series(m.sP50Full)),
                    ("appendP99MicrosFull", series(m.sP99Full)),
                    ("appendsPerSecondNormal", series(m.sAppendNormal)), ("appendP50MicrosNormal", series(m.sP50Normal)),
                    ("appendP99MicrosNormal", series(m.sP99Normal)),
                    ("replayJSONDecoderEventsPerSecond", series(m.sReplayA)),
                    ("replayKStoreParserEventsPerSecond", series(m.sReplayB)),
                    ("readPassRowsPerSecond", series(m.sReadPass)),
                    ("readPassBySeqRowsPerSecond", series(m.sReadPassBySeq)),
                    ("replayQueryPlan", .string(m.sPlan)),
                    ("diskBytesPerEvent", jnum(m.sDiskPerEvent)), ("fileBytes", jint(m.sDiskBytes)),
                ])
            ),
            (
                "ratios",
                .object([
                    ("replayKStoreOverSQLiteJSONDecoder", jnum(kReplay / sReplayA)),
                    ("replayKStoreOverSQLiteKStoreParser", jnum(kReplay / sReplayB)),
                    ("replayCostOverRawScanCost", jnum(raw / kReplay)),
                    ("verifyCostOverRawScanCost", jnum(raw / median(m.kVerify))),
                    ("importKStoreOverSQLite", jnum(median(m.kImport) / median(m.sImport))),
                    ("appendsKStoreOverSQLiteFull", jnum(median(m.kAppend) / median(m.sAppendFull))),
                    ("diskKStoreOverNDJSON", jnum(m.kDiskPerEvent / m.ndjsonPerEvent)),
                    ("diskKStoreOverSQLite", jnum(m.kDiskPerEvent / m.sDiskPerEvent)),
                    ("replayKStoreOverPostgresJSONDecoder", pgReplayA),
                    ("replayKStoreOverPostgresKStoreParser", pgReplayB),
                    ("importKStoreOverPostgresLoad", pgLoad),
                ])
            ),
            (
                "correctness",
                .object([
                    ("equal", .bool(m.mismatches.isEmpty)), ("patientsCompared", jint(m.patientsCompared)),
                    ("answersComparedOn", .string(m.compareDay)), ("differences", .array(m.mismatches.prefix(50).map { .string($0) })),
                ])
            ),
            ("postgres", pgJSON),
            ("scaling", .array(scaling.map(\.json))),
            ("targets", .array(targets.map(\.json))),
        ])
    }
}
