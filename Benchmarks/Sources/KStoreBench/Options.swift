import Foundation

let usage = """
    kstore-bench: kstore beside a SQLite baseline and the raw LMDB floor, in one process.

    usage: kstore-bench [--events N | --patients P] [--runs R] [--appends N]
                        [--scaling 100k,1M,4M | --scaling none] [--scaling-runs R]
                        [--json OUT] [--workdir DIR] [--repo DIR] [--seed S] [--keep] [--sessions]
                        [--postgres URL]

      --events N        main table input size (default 1M; the generator gives ≈ 488 events a
                        patient, so N/488 patients; the actual count is reported)
      --patients P      main table input as a patient count instead
      --runs R          runs of every figure of the main table; medians (default 3)
      --appends N       durable single-event appends per run and store (default 2000)
      --scaling LIST    replay/verify/memory at these sizes (default 100k,1M,4M; none: skip)
      --scaling-runs R  replay runs per scaling size, median (default 3); verify runs once
      --json OUT        also write every figure as JSON to OUT
      --workdir DIR     stores and generated input go here (default: a new temp directory);
                        everything made there (and the PostgreSQL schema) is removed at
                        the end unless --keep
      --repo DIR        the kstore checkout (fixtures/actors.tsv, tools/generate-clinic.py);
                        default: found upwards from the working directory or this executable
      --seed S          generator seed (default 1)
      --postgres URL    also measure PostgreSQL as a peer (a Marten-style mt_events table with
                        jsonb data, in the schema kstore_bench, which is dropped and created
                        again): postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable];
                        default: the environment variable KSTORE_BENCH_PG_URL, else no peer.
                        The password may come from PGPASSWORD; it is never printed.

    Exit 0; 1 when SQLite's or PostgreSQL's projected states differ from kstore's; 64 on a
    usage error; 69 when PostgreSQL cannot be reached; 70 when a step fails.
    """

struct Options {
    var events: Int? = nil
    var patients: Int? = nil
    var runs = 3
    var appends = 2000
    var scaling: [(label: String, events: Int)] = [("100k", 100_000), ("1M", 1_000_000), ("4M", 4_000_000)]
    var scalingRuns = 3
    var json: String? = nil
    var workdir: String? = nil
    var repo: String? = nil
    var seed = 1
    var keep = false
    /// Also measure the session clinic (generate-clinic.py --sessions): replay and `query inventory`.
    var sessions = false
    /// The PostgreSQL peer's URL (--postgres, else KSTORE_BENCH_PG_URL); nil: no peer.
    var postgres: String? = nil

    /// events a generated patient has on average (tools/generate-clinic.py over 730 days).
    static let eventsPerPatient = 488.0

    static func patients(forEvents n: Int) -> Int { max(1, Int((Double(n) / eventsPerPatient).rounded())) }

    var mainPatients: Int { patients ?? Options.patients(forEvents: events ?? 1_000_000) }

    /// "100k", "1M", "4M", "250000".
    static func size(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        var mult = 1.0
        var digits = Substring(t)
        if t.hasSuffix("k") {
            mult = 1e3
            digits = t.dropLast()
        }
        if t.hasSuffix("m") {
            mult = 1e6
            digits = t.dropLast()
        }
        guard let v = Double(digits), v > 0 else { return nil }
        return Int(v * mult)
    }

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        func value(_ name: String) -> String {
            guard i + 1 < args.count else { fail("\(name) needs a value\n\n" + usage, code: 64) }
            i += 1
            return args[i]
        }
        func positive(_ name: String, _ text: String) -> Int {
            guard let v = Options.size(text), v > 0 else { fail("\(name) \(text) is not a positive number", code: 64) }
            return v
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--events": o.events = positive(a, value(a))
            case "--patients": o.patients = positive(a, value(a))
            case "--runs": o.runs = positive(a, value(a))
            case "--appends": o.appends = positive(a, value(a))
            case "--scaling-runs": o.scalingRuns = positive(a, value(a))
            case "--scaling":
                let v = value(a)
                if v == "none" || v.isEmpty {
                    o.scaling = []
                } else {
                    o.scaling = v.split(separator: ",").map { part in
                        let label = String(part).trimmingCharacters(in: .whitespaces)
                        return (label, positive(a, label))
                    }
                }
            case "--no-scaling": o.scaling = []
            case "--json": o.json = value(a)
            case "--workdir": o.workdir = value(a)
            case "--repo": o.repo = value(a)
            case "--seed": o.seed = positive(a, value(a))
            case "--keep": o.keep = true
            case "--sessions": o.sessions = true
            case "--postgres": o.postgres = value(a)
            case "-h", "--help":
                print(usage)
                exit(0)
            default: fail("unknown argument \(a)\n\n" + usage, code: 64)
            }
            i += 1
        }
        if o.events != nil && o.patients != nil { fail("give --events or --patients, not both", code: 64) }
        if o.postgres == nil, let url = ProcessInfo.processInfo.environment["KSTORE_BENCH_PG_URL"], !url.isEmpty { o.postgres = url }
        return o
    }
}

/// The checkout: a directory holding fixtures/actors.tsv and tools/generate-clinic.py.
func findRepo(_ given: String?) -> String {
    func isRepo(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/fixtures/actors.tsv")
            && FileManager.default.fileExists(atPath: dir + "/tools/generate-clinic.py")
    }
    if let given {
        guard isRepo(given) else { fail("--repo \(given) holds no fixtures/actors.tsv and tools/generate-clinic.py", code: 64) }
        return given
    }
    var starts = [FileManager.default.currentDirectoryPath]
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        starts.append((exe as NSString).deletingLastPathComponent)
    }
    for start in starts {
        var dir = (start as NSString).standardizingPath
        while true {
            if isRepo(dir) { return dir }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir || parent.isEmpty { break }
            dir = parent
        }
    }
    fail("cannot find the kstore checkout (fixtures/actors.tsv, tools/generate-clinic.py); pass --repo DIR", code: 64)
}
