import KClinic
import KStore

/// What one pass of an import over its file has found so far: the summary of what it wrote,
/// the bad lines (the first `maxReported` listed, the rest counted) and the store's refusal of
/// a line, if any. Once a line is bad nothing more is written (the transaction will be
/// aborted), but the rest of the file is still parsed so the report lists its bad lines too.
struct ImportTally {
    let source: String
    let maxReported: Int
    private(set) var summary = ImportSummary(imported: 0, duplicates: 0)
    /// Lines that did not parse or validate, in file order (at most `maxReported`).
    private var errors: [LineError] = []
    private var badLines = 0
    /// The store's refusal of a line (a stale version, a permission, a store check): at most
    /// one, since nothing is checked against the store after it.
    private var refusal: (line: Int, error: AppError)?

    init(source: String, maxReported: Int) {
        self.source = source
        self.maxReported = maxReported
    }

    /// Whether lines are still appended: no line has been bad so far.
    var writing: Bool { badLines == 0 && refusal == nil }

    mutating func written(_ outcome: AppendOutcome) {
        switch outcome {
        case .appended(let seq, _):
            summary.imported += 1
            if summary.firstSequence == nil { summary.firstSequence = seq }
            summary.lastSequence = seq
        case .duplicate:
            summary.duplicates += 1
        }
    }

    mutating func bad(_ line: Int, _ error: InputError) {
        badLines += 1
        if errors.count < maxReported { errors.append(LineError(file: source, line: line, error)) }
    }

    /// The store refused `line` with `error` (rendered as the command prints it).
    mutating func refused(_ line: Int, _ error: AppError) {
        refusal = (line, error)
    }

    /// What the command reports when a line was bad, else nil (everything was written).
    ///
    /// A refusal alone is reported as it is (exit 3, 65 or 77 with its own sentence); with bad
    /// lines after it, it is listed as the first of them (exit 65).
    var failure: AppError? {
        guard badLines > 0 else { return refusal?.error }
        var listed = errors
        var total = badLines
        if let refusal {
            listed.insert(ImportTally.lineError(refusal.error, file: source, line: refusal.line), at: 0)
            total += 1
            if listed.count > maxReported { listed.removeLast() }
        }
        if total > listed.count {
            listed.append(LineError(file: source, problem: "and \(total - listed.count) more bad lines; nothing was imported"))
        }
        return .badInput(listed)
    }

    /// A refusal as a line of a bad-input report.
    private static func lineError(_ error: AppError, file: String, line: Int) -> LineError {
        switch error {
        case .badInput(let lines) where lines.count == 1: return lines[0]
        case .notPermitted(.line(_, _, let refusal)): return LineError(file: file, line: line, problem: refusal.description)
        default:
            let text = error.description
            let prefix = "\(file):\(line): "
            return LineError(file: file, line: line, problem: text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text)
        }
    }
}
