import Foundation
import KClinic

/// Every figure of the main table, per run (medians are taken at the end).
struct MainFigures {
    var patients = 0
    var events = 0
    var ndjsonBytes = 0
    var runs = 0
    var appendsPerRun = 0

    var kImport: [Double] = []
    var kRawScan: [Double] = []
    var kReplay: [Double] = []
    var kCatchUpMs: [Double] = []
    var kPhaseMs: [Double] = []
    var kOverdueMs: [Double] = []
    var kOverdueItems = 0
    var kVerify: [Double] = []
    var kBackupMBps: [Double] = []
    var kBackupSeconds: [Double] = []
    var kAppend: [Double] = []
    var kP50: [Double] = []
    var kP99: [Double] = []
    var kDiskBytes = 0
    var kMemory: ReplayMemory?

    var sImport: [Double] = []
    var sReadPass: [Double] = []
    var sReadPassBySeq: [Double] = []
    var sReplayA: [Double] = []
    var sReplayB: [Double] = []
    var sAppendFull: [Double] = []
    var sP50Full: [Double] = []
    var sP99Full: [Double] = []
    var sAppendNormal: [Double] = []
    var sP50Normal: [Double] = []
    var sP99Normal: [Double] = []
    var sDiskBytes = 0
    var sPlan = ""

    /// The PostgreSQL peer (--postgres): nil when not measured.
    var postgres: PostgresFigures?

    /// The correctness check: per patient, SQLite's states (both decodings) against kstore's.
    var patientsCompared = 0
    var mismatches: [String] = []
    var compareDay = ""

    var ndjsonPerEvent: Double { Double(ndjsonBytes) / Double(max(events, 1)) }
    var kDiskPerEvent: Double { Double(kDiskBytes) / Double(max(events, 1)) }
    var sDiskPerEvent: Double { Double(sDiskBytes) / Double(max(events, 1)) }
    var pDiskPerEvent: Double { Double(postgres?.diskBytes ?? 0) / Double(max(events, 1)) }
}

/// The PostgreSQL peer's figures, per run.
struct PostgresFigures {
    var server = ""
    var target = ""
    var load: [Double] = []
    var readPass: [Double] = []
    var replayA: [Double] = []
    var replayB: [Double] = []
    /// One patient's live fold (its stream by the index, decoded, folded), ms.
    var liveFoldMs: [Double] = []
    var diskBytes = 0
    var readBytes = 0
    var plan = ""
    var patientsCompared = 0

    var json: JSONValue {
        func series(_ xs: [Double]) -> JSONValue { .object([("median", jnum(median(xs))), ("runs", .array(xs.map(jnum)))]) }
        return .object([
            ("server", .string(server)), ("target", .string(target)),
            (
                "table",
                .string(
                    "kstore_bench.mt_events (Marten-style: seq_id bigserial, id uuid, stream_id, version, data jsonb, type, timestamp …)")
            ),
            ("loadEventsPerSecond", series(load)),
            ("replayJSONDecoderEventsPerSecond", series(replayA)),
            ("replayKStoreParserEventsPerSecond", series(replayB)),
            ("readPassRowsPerSecond", series(readPass)),
            ("readPassBytes", jint(readBytes)),
            ("liveFoldOnePatientMillis", series(liveFoldMs)),
            ("replayPageQueryPlan", .string(plan)),
            ("pageSize", jint(PostgresPeer.pageSize)),
            ("tableBytes", jint(diskBytes)),
            ("patientsCompared", jint(patientsCompared)),
        ])
    }
}

/// One size of the scaling table.
struct ScalingRow {
    var label: String
    var patients: Int
    var events: Int
    var ndjsonBytes: Int
    var storeBytes: Int
    var importRate: Double
    var rawScan: Double
    var replay: Double
    var verify: Double
    var memory: ReplayMemory
    var reusedMain: Bool

    var json: JSONValue {
        .object([
            ("label", .string(label)), ("patients", jint(patients)), ("events", jint(events)),
            ("ndjsonBytes", jint(ndjsonBytes)), ("storeBytes", jint(storeBytes)),
            ("importEventsPerSecond", jnum(importRate)), ("rawScanEntriesPerSecond", jnum(rawScan)),
            ("replayEventsPerSecond", jnum(replay)), ("replayNsPerEvent", jnum(1e9 / replay)),
            ("verifyEventsPerSecond", jnum(verify)), ("verifyNsPerEvent", jnum(1e9 / verify)),
            ("replayMemory", memory.json), ("fromMainTable", .bool(reusedMain)),
        ])
    }
}

struct Machine {
    var cores: Int
    var ramBytes: UInt64
    var cpu: String
    var kernel: String
    var date: String
    var commit: String
    var sqlite: String

    static func read(repo: String) -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var commit = "unknown"
        if let git = which("git"), let head = try? run(git, ["-C", repo, "rev-parse", "--short=12", "HEAD"]) {
            commit = head.trimmingCharacters(in: .whitespacesAndNewlines)
            if let status = try? run(git, ["-C", repo, "status", "--porcelain", "--untracked-files=no"]), !status.isEmpty {
                commit += " (work tree has uncommitted changes)"
            }
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return Machine(
            cores: ProcessInfo.processInfo.activeProcessorCount, ramBytes: ProcessInfo.processInfo.physicalMemory,
            cpu: cpu, kernel: "Linux " + kernel, date: f.string(from: Date()), commit: commit, sqlite: SQLiteDB.version)
    }

    var json: JSONValue {
        .object([
            ("cores", jint(cores)), ("ramBytes", .int(Int64(ramBytes))), ("cpu", .string(cpu)), ("kernel", .string(kernel)),
            ("date", .string(date)), ("commit", .string(commit)), ("sqlite", .string(sqlite)),
        ])
    }

    var line: String {
        "machine: \(cores) cores (\(cpu)), \(String(format: "%.1f", Double(ramBytes) / 1_073_741_824)) GiB RAM, \(kernel); "
            + "\(date); kstore commit \(commit); SQLite \(sqlite)"
    }
}
