import Glibc

/// Runs a part of a command that reads LMDB pages in a child process (this same executable,
/// re-run with a hidden option), so that a damaged page that makes LMDB follow a bad pointer or
/// fail its own assertion kills the child, not the command: the parent reports the death as
/// damage, in a sentence and with cli.md's exit code.
public enum ChildProcess {
    /// How a child ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// What a child printed on its standard output, and how it ended.
    public struct Outcome: Sendable {
        public var stdout: [UInt8]
        public var ending: Ending
    }

    /// The running executable (`/proc/self/exe`), else `argv[0]`.
    public static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments.first ?? "kstore"
    }

    /// Runs `executable arguments…` with standard input and error inherited and standard output
    /// captured; `descriptors` maps open descriptors of this process to numbers in the child
    /// (e.g. `[fd: 3]`). The child has `SWIFT_BACKTRACE=enable=no` (a crash is reported by the
    /// parent, quickly, without a backtrace on the terminal).
    public static func run(_ executable: String, _ arguments: [String], descriptors: [(Int32, Int32)] = []) throws(AppError) -> Outcome {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0, fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC) == 0 else {
            throw .internal("cannot create a pipe for the child process: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        for (from, to) in descriptors { posix_spawn_file_actions_adddup2(&actions, from, to) }
        var env = environmentWithout("SWIFT_BACKTRACE")
        env.append("SWIFT_BACKTRACE=enable=no")
        let argv = [executable] + arguments
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgs in
            withCStrings(env) { cEnv in posix_spawn(&pid, executable, &actions, nil, cArgs, cEnv) }
        }
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pipeFDs[0])
            throw .internal("cannot run \(executable) as a child process: \(String(cString: strerror(rc)))")
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n > 0 {
                output.append(contentsOf: chunk[0..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .internal("cannot wait for the child process: \(String(cString: strerror(errno)))") }
        }
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS (macros Swift does not import).
        let signal = status & 0x7f
        if signal != 0 && signal != 0x7f { return Outcome(stdout: output, ending: .signaled(signal)) }
        return Outcome(stdout: output, ending: .exited((status >> 8) & 0xff))
    }

    /// In the child: no core file for a crash the parent reports as damage.
    public static func enterChild() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = withUnsafePointer(to: &none) { setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), $0) }
    }

    /// `SIGSEGV`, `SIGBUS`, `SIGABRT`… or `signal N`.
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(signal)"
        }
    }

    static func environmentWithout(_ name: String) -> [String] {
        var result: [String] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if !s.hasPrefix(name + "=") { result.append(s) }
            p += 1
        }
        return result
    }

    /// `strings` as a NULL-terminated array of C strings (posix_spawn's `char *const argv[]`).
    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return body(pointers)
    }
}
