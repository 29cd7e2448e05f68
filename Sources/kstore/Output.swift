import Glibc
import KApp
import KClinic

/// Data to standard output, diagnostics to standard error.
enum Output {
    static func line(_ s: String) {
        var text = s
        text.append("\n")
        write(text, to: 1)
    }

    static func error(_ s: String) {
        var text = "kstore: " + s
        if !text.hasSuffix("\n") { text.append("\n") }
        write(text, to: 2)
    }

    static func json(_ value: JSONValue) {
        var out: [UInt8] = []
        JSONWriter.writeLine(value, into: &out)
        writeBytes(out, to: 1)
    }

    static func write(_ s: String, to fd: Int32) {
        writeBytes(Array(s.utf8), to: fd)
    }

    static func writeBytes(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress?.advanced(by: off), buf.count - off)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                off += n
            }
        }
    }
}

/// A plain text table: a header row, then rows; columns padded to their widest cell.
struct Table {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) { self.headers = headers }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for r in rows {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        func fmt(_ r: [String]) -> String {
            var line = ""
            for (i, c) in r.enumerated() {
                if i == r.count - 1 {
                    line += c
                } else {
                    line += c + String(repeating: " ", count: widths[i] - c.count + 2)
                }
            }
            return line
        }
        var out = fmt(headers) + "\n"
        out += fmt(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for r in rows { out += fmt(r) + "\n" }
        return out
    }
}

/// Records, before anything is shown, that this command read these patients' data
/// (the access log: `kstore audit access`).
func recordAccess(_ store: ClinicStore, patients: [String]) throws {
    let command = (["kstore"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    do {
        try AccessLog.record(store, command: command, patients: patients.filter { !$0.hasPrefix("$") })
    } catch {
        throw AppError.internal("could not record this read in the access log (\(error)); nothing was shown")
    }
}

/// The patients a query covers: the one named, else every patient in the store.
func patientsInScope(_ store: ClinicStore, _ patient: String?) throws -> [String] {
    if let patient { return [patient] }
    return try LogReading.patients(store)
}

/// A write into a store whose last `audit verify` failed says so (one line on standard error).
func warnIfLastVerifyFailed(_ store: ClinicStore) {
    if let warning = VerifyVerdict.warning(store: store.path) { Output.error(warning) }
}
