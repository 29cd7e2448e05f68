import Foundation
import Glibc
import Testing

/// The package root (…/Tests/KShipTests/ → …/).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

/// The built executable `name` (swift test builds it beside the test bundle).
func executable(_ name: String) throws -> String {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
    let dirs = [
        testBinary.deletingLastPathComponent(), testBinary.deletingLastPathComponent().deletingLastPathComponent(),
        packageRoot.appendingPathComponent(".build/debug"),
    ]
    for dir in dirs {
        let p = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    throw TestFailure("\(name) is not built; run `swift build --build-tests` first")
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A child process started with posix_spawn (Foundation's Process on Linux missed the exit of
/// tools/pg-scratch.sh, whose server it leaves running, and waited for ever).
struct Child {
    var pid: pid_t
    var stdout: Int32
    var stderr: Int32

    static func spawn(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> Child {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw TestFailure("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        // Every other descriptor this process has open is closed in the child, as Foundation's
        // Process does: a test elsewhere writing an executable it is about to run must not find it
        // held open by this child (ETXTBSY).
        let mine: Set<Int32> = [outPipe[0], outPipe[1], errPipe[0], errPipe[1]]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2, !mine.contains(fd), fcntl(fd, F_GETFD) >= 0 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        var rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        if rc == EBADF {
            // A descriptor listed above was closed meanwhile by another thread: once more without them.
            var plain = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&plain)
            defer { posix_spawn_file_actions_destroy(&plain) }
            posix_spawn_file_actions_addopen(&plain, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&plain, outPipe[1], 1)
            posix_spawn_file_actions_adddup2(&plain, errPipe[1], 2)
            for fd in mine { posix_spawn_file_actions_addclose(&plain, fd) }
            rc = posix_spawn(&pid, path, &plain, nil, argv, envp)
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw TestFailure("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        return Child(pid: pid, stdout: outPipe[0], stderr: errPipe[0])
    }

    /// Reads both pipes to their end (a server the child leaves running does not hold them:
    /// pg_ctl redirects its output) and reaps the child.
    func finish() -> RunResult {
        var out: [UInt8] = []
        var err: [UInt8] = []
        var fds = [pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while open > 0 {
            guard poll(&fds, 2, -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 { out += buffer[0..<n] } else { err += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return RunResult(status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }
}

/// Runs a process to completion.
@discardableResult
func run(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> RunResult {
    try Child.spawn(path, args, environment: environment).finish()
}

func kstore(_ args: [String], environment: [String: String] = [:]) throws -> RunResult {
    try run(try executable("kstore"), args, environment: environment)
}

/// One scratch PostgreSQL cluster for the whole test run (tools/pg-scratch.sh), destroyed at exit.
/// Without PostgreSQL's server installed, `start` fails and so does every test that needs it.
enum Scratch {
    static let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-ship-tests-\(getpid())").path
    static let script = packageRoot.appendingPathComponent("tools/pg-scratch.sh").path

    static let started: Result<String, TestFailure> = {
        do {
            let r = try run("/bin/bash", [script, "start", dir])
            guard r.status == 0 else {
                return .failure(TestFailure("tools/pg-scratch.sh start exited \(r.status): \(r.stderr)"))
            }
            atexit { _ = try? run("/bin/bash", [Scratch.script, "destroy", Scratch.dir]) }
            return .success(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            return .failure(TestFailure("cannot run tools/pg-scratch.sh: \(error)"))
        }
    }()

    /// The URL of the cluster's `kstore` database.
    static func baseURL() throws -> String { try started.get() }

    /// A fresh database owned by `kstore`; its URL.
    static func database() throws -> (name: String, url: String) {
        let base = try baseURL()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try psql("postgres", "CREATE DATABASE \(name) OWNER kstore")
        return (name, base.replacingOccurrences(of: "/kstore?", with: "/\(name)?"))
    }

    /// psql as the superuser on `database`; the output of `-tA` (unaligned, no headers).
    @discardableResult
    static func psql(_ database: String, _ sql: String) throws -> String {
        _ = try baseURL()
        let r = try run("/bin/bash", [script, "psql", dir, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql])
        guard r.status == 0 else { throw TestFailure("psql \(sql): exit \(r.status): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func restart() throws {
        let r = try run("/bin/bash", [script, "restart", dir])
        guard r.status == 0 else { throw TestFailure("pg-scratch restart: \(r.stderr)") }
    }
}

/// A new store with the fixtures' actors and the given fixture files (or NDJSON files) imported.
func makeStore(_ files: [String]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-ship-\(UUID().uuidString)").path
    let k = try executable("kstore")
    guard try kstore(["init", "--store", dir]).status == 0 else { throw TestFailure("kstore init failed") }
    let reg = try run("/bin/bash", [packageRoot.appendingPathComponent("tools/register-actors.sh").path, dir, k])
    guard reg.status == 0 else { throw TestFailure("register-actors: \(reg.stderr)") }
    for f in files {
        let path = f.hasPrefix("/") ? f : packageRoot.appendingPathComponent("fixtures/\(f)").path
        let r = try kstore(["import", "--store", dir, path])
        guard r.status == 0 else { throw TestFailure("import \(f): \(r.stderr)") }
    }
    return dir
}

let caseFixtures = [
    "case1-long-term-maintenance.ndjson", "case2-successful-transition.ndjson", "case3-tolerance-management.ndjson",
    "case4-poorly-documented.ndjson",
]

/// A generated clinic (tools/generate-clinic.py) as an NDJSON file.
func generatedClinic(patients: Int, seed: Int) throws -> String {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-ship-gen-\(UUID().uuidString).ndjson").path
    let r = try run(
        "/usr/bin/env",
        [
            "python3", packageRoot.appendingPathComponent("tools/generate-clinic.py").path, "--patients", String(patients), "--seed",
            String(seed), "--start", "2025-01-06", "--days", "400", "--out", out,
        ])
    guard r.status == 0 else { throw TestFailure("generate-clinic: \(r.stderr)") }
    return out
}

func parseJSON(_ s: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed])
}

/// A JSON value in a canonical text (keys sorted), to compare documents.
func canonical(_ v: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
}
