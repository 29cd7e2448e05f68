import Glibc
import KClinic
import KStore

/// What `kstore audit verify` found, beyond the log's own report.
public struct AuditResult: Sendable {
    /// Every problem, in sequence order: the chain's, the indexes', the payloads', the stored
    /// projections' and, with a checkpoint, the checkpoint's.
    public var report: VerifyReport
    public var projections: ProjectionComparison
    /// The checkpoint checked against (already authenticated), if one was given.
    public var checkpoint: Checkpoint?
    /// Whether the log still extends `checkpoint` (nil without one).
    public var extendsCheckpoint: Bool?
    /// Whether the store is encrypted.
    public var encrypted = false
    /// What could not be checked: an encrypted store verified without its master key checks the
    /// chain, the indexes, the access log's chain and a checkpoint, not what only the key opens.
    public var unchecked: [String] = []
}

/// Whole-store checks behind `kstore audit verify`.
public enum LogAudit {
    /// Reads every page of the file the way the other commands will trust it: every entry of
    /// every tree (free list, main database, access log, projections; overflow headers, free
    /// lists and database records checked) and LMDB's compacting copy's walk (written to
    /// /dev/null), which follows every node's pointers as `backup` will. Damage is an LMDB
    /// error or, where LMDB follows a bad pointer, a crash: run it in a child process
    /// (`kstore audit verify` does). ~0.1 s of CPU for a million events.
    public static func checkPages(_ store: ClinicStore) throws {
        try store.log.walkEveryTree()
        let sink = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard sink >= 0 else { return }
        defer { close(sink) }
        try store.log.copyCompact(toFile: sink)
    }

    /// The store's own invariants (chain, sequences, indexes) plus the domain's: every payload
    /// decodes as its type, every role code is known, and the stored projections equal a fresh
    /// replay through their checkpoint.
    public static func verify(_ store: ClinicStore) throws -> VerifyReport {
        try audit(store).report
    }

    /// `verify`, and with `checkpoint` (already authenticated: `Checkpoint.load`) that the log
    /// still extends it.
    ///
    /// The projections are compared (unless `projections` is false) only when the log passed its
    /// own checks: a replay of a damaged log says nothing more.
    public static func audit(_ store: ClinicStore, checkpoint: Checkpoint? = nil, projections compareProjections: Bool = true) throws
        -> AuditResult
    {
        let keyless = store.log.isEncrypted && store.log.cipher == nil
        var report = try store.log.verify { view in
            do {
                _ = try EventMapping.recorded(view)
                return nil
            } catch {
                return "\(error)"
            }
        }
        var problems = report.problems
        var extends: Bool?
        if let checkpoint {
            var found = try compare(store, with: checkpoint)
            if let access = try AccessLog.compare(store, with: checkpoint) {
                // The access log has no sequence of the event log: named at the checkpoint's.
                found.append(VerifyProblem(sequence: max(checkpoint.sequence, 1), kind: .checkpoint, detail: access))
            }
            extends = found.isEmpty
            problems += found
        }
        let projections: ProjectionComparison
        if keyless {
            projections = .skipped("the store is encrypted and no master key was given")
        } else if !compareProjections {
            projections = .skipped("not asked for")
        } else if report.ok {
            do {
                let (outcome, found) = try ProjectionEngine(store: store).compareStoredWithReplay()
                projections = outcome
                problems += found
            } catch let StoreError.corrupt(sequence, detail) {
                projections = .skipped("the replay failed")
                problems.append(
                    VerifyProblem(
                        sequence: sequence, kind: .content, detail: "replaying the log to compare the stored projections failed: \(detail)")
                )
            }
        } else {
            projections = .skipped("the log failed its own checks")
        }
        if compareProjections && report.ok && !keyless {
            // R15's stored ledger (`LedgerCache`), caught up, against one rebuilt from the log.
            do {
                if let check = try LedgerReader.checkStored(store), !check.equal {
                    problems.append(
                        VerifyProblem(
                            sequence: max(check.through, 1), kind: .content,
                            detail:
                                "the stored controlled-substance ledger (through sequence \(check.through)) differs from the ledger rebuilt from the log; `kstore replay` rebuilds it"
                        ))
                }
            } catch let StoreError.corrupt(sequence, detail) {
                problems.append(
                    VerifyProblem(
                        sequence: sequence, kind: .content, detail: "rebuilding the controlled-substance ledger failed: \(detail)"))
            }
        }
        problems.sort { ($0.sequence, $0.kind.rawValue) < ($1.sequence, $1.kind.rawValue) }
        report.problems = problems
        var result = AuditResult(report: report, projections: projections, checkpoint: checkpoint, extendsCheckpoint: extends)
        result.encrypted = store.log.isEncrypted
        if keyless {
            result.unchecked = [
                "that every record opens under the store's key and its payload decodes",
                "the stored projections against a replay", "the stored controlled-substance ledger",
                "the access log's entries (its chain was checked)",
            ]
            // The access log's chain is evidence on its own; checked here when no checkpoint did.
            if checkpoint == nil, let first = try AccessLog.chain(store).broken.first {
                result.report.problems.append(
                    VerifyProblem(
                        sequence: max(report.events, 1), kind: .checkpoint,
                        detail: "the access log's chain is broken at read \(first): a record of who read what was altered or removed"))
            }
        }
        return result
    }

    /// Whether the log still extends `checkpoint`: the same store, at least its length, and the
    /// same chain hash at every marked sequence and at its head. Returns at most one problem, of
    /// kind `.checkpoint`, at the first sequence that may differ:
    ///
    /// - the marks pin every `stride`-th hash, so when the first failing point is S and the last
    ///   matching one before it is P, records 1…P are the checkpointed ones and the first altered
    ///   record is in P+1…S (reported at P+1; exact when `stride` is 1, i.e. for a checkpoint of
    ///   up to 1,024 events by default). A rewrite that recomputes the hashes from record R on
    ///   changes every hash from R, so every point before R matches and every point from R fails.
    public static func compare(_ store: ClinicStore, with checkpoint: Checkpoint) throws -> [VerifyProblem] {
        let here = hex(store.log.storeId)
        let taken = "the checkpoint of \(checkpoint.createdAt) at sequence \(checkpoint.sequence)"
        guard checkpoint.storeId == here else {
            return [
                VerifyProblem(
                    sequence: 1, kind: .checkpoint,
                    detail: "\(taken) is of store \(checkpoint.storeId), this store is \(here): this log is not the one checkpointed")
            ]
        }
        guard checkpoint.sequence > 0 else { return [] }
        var points = checkpoint.markedSequences.map { (sequence: $0.sequence, expected: $0.mark, full: false) }
        points.append((checkpoint.sequence, checkpoint.headHash, true))
        return try store.log.read { reader -> [VerifyProblem] in
            let count = try? reader.lastSequence()
            var lastMatch: UInt64 = 0
            for point in points {
                let found: String?
                let why: String
                do {
                    if let stored = try reader.storedHash(point.sequence) {
                        let h = hex(stored)
                        found = point.full ? h : String(h.prefix(Checkpoint.markBytes * 2))
                        why = "its hash is \(found?.prefix(16) ?? "")…, the checkpoint's \(point.expected.prefix(16))…"
                    } else {
                        found = nil
                        why = "there is no record \(point.sequence)" + (count.map { " (the log ends at \($0))" } ?? "")
                    }
                } catch {
                    found = nil
                    why = "record \(point.sequence) is unreadable"
                }
                if found == point.expected {
                    lastMatch = point.sequence
                    continue
                }
                let first = lastMatch + 1
                let range =
                    first == point.sequence
                    ? "record \(point.sequence) is the first that is not the checkpointed one"
                    : "the first altered record is in \(first)–\(point.sequence) (the checkpoint pins one hash every \(checkpoint.stride) records; through \(lastMatch) the log matches)"
                return [
                    VerifyProblem(
                        sequence: first, kind: .checkpoint,
                        detail: "the log no longer extends \(taken): at sequence \(point.sequence) \(why); \(range)")
                ]
            }
            return []
        }
    }
}
