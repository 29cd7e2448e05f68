import Foundation
import KClinic

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func fail(_ message: String, code: Int32 = 70) -> Never {
    FileHandle.standardError.write(Data(("kstore-bench: " + message + "\n").utf8))
    exit(code)
}

/// Progress on stderr (stdout carries the tables).
func note(_ message: String) {
    FileHandle.standardError.write(Data(("  · " + message + "\n").utf8))
}

// MARK: - Timing

/// Wall seconds of `body` (monotonic clock).
func timed(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The q-quantile (0…1) of sorted values, nearest rank.
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

// MARK: - Memory (/proc/self/status)

/// The kB figures of /proc/self/status we report.
struct ProcMemory {
    var rssAnonKB = 0
    var rssFileKB = 0
    var vmRSSKB = 0
    var vmHWMKB = 0

    static func read() -> ProcMemory {
        var m = ProcMemory()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return m }
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = Int(line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
            switch key {
            case "RssAnon": m.rssAnonKB = value
            case "RssFile": m.rssFileKB = value
            case "VmRSS": m.vmRSSKB = value
            case "VmHWM": m.vmHWMKB = value
            default: break
            }
        }
        return m
    }
}

/// Samples /proc/self/status from a background thread every `intervalMicros` and keeps the peaks.
final class MemorySampler: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var peak = ProcMemory()
    private let done = DispatchSemaphore(value: 0)

    init(intervalMicros: UInt32 = 2_000) {
        let thread = Thread { [self] in
            while true {
                let m = ProcMemory.read()
                lock.lock()
                peak.rssAnonKB = max(peak.rssAnonKB, m.rssAnonKB)
                peak.rssFileKB = max(peak.rssFileKB, m.rssFileKB)
                peak.vmRSSKB = max(peak.vmRSSKB, m.vmRSSKB)
                let go = running
                lock.unlock()
                if !go { break }
                usleep(intervalMicros)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling (after one last sample) and returns the peaks, with VmHWM (the kernel's
    /// own high-water mark of the total RSS).
    func stop() -> ProcMemory {
        lock.lock()
        running = false
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        var p = peak
        p.vmHWMKB = ProcMemory.read().vmHWMKB
        return p
    }
}

// MARK: - Processes and files

/// Runs `executable` with `arguments`; returns stdout. Throws with stderr's text on a non-zero exit.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let errPath = NSTemporaryDirectory() + "kstore-bench-stderr-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard FileManager.default.createFile(atPath: errPath, contents: nil), let errHandle = FileHandle(forWritingAtPath: errPath) else {
        throw BenchFailure("cannot create \(errPath)")
    }
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = errHandle
    try p.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try? errHandle.close()
    guard p.terminationStatus == 0 else {
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        throw BenchFailure("\(executable) \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(err)")
    }
    return String(decoding: outData, as: UTF8.self)
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = dir + "/" + name
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

// MARK: - Formatting

func fmtInt(_ x: Double) -> String {
    guard x.isFinite else { return "—" }
    let n = Int(x.rounded())
    let s = String(abs(n))
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + String(out.reversed())
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    guard x.isFinite else { return "—" }
    return String(format: "%.\(digits)f", x)
}

/// Rates: 2.31M, 812k, 3,412.
func fmtRate(_ x: Double) -> String {
    guard x.isFinite else { return "—" }
    if x >= 1e6 { return String(format: "%.2fM", x / 1e6) }
    if x >= 1e5 { return String(format: "%.0fk", x / 1e3) }
    return fmtInt(x)
}

func fmtRatio(_ x: Double) -> String {
    guard x.isFinite else { return "—" }
    return x >= 10 ? String(format: "%.0f×", x) : String(format: "%.2f×", x)
}

/// JSON number for a Double (null when not finite).
func jnum(_ x: Double) -> JSONValue { x.isFinite ? .double((x * 1000).rounded() / 1000) : .null }
func jint(_ x: Int) -> JSONValue { .int(Int64(x)) }
