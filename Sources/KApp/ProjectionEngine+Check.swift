import KBinary
import KClinic
import KStore

extension ProjectionEngine {
    /// Compares the stored projections with a fresh replay of the log **through their own
    /// checkpoint** under the rule set they were built under (`rulesSeq`, checked against their
    /// `rulesHash`). Writes nothing (the stored
    /// projections are not caught up first: events after the checkpoint are not in them yet, and
    /// the chain check covers those). Each difference is a `.content` problem at the checkpoint's
    /// sequence naming the patient.
    ///
    /// Equal means: the same phase and monitoring states (byte for byte) and a stored `maxDay`
    /// no earlier than the replay's. A later stored `maxDay` is legitimate: a patient refolded
    /// during a catch-up counts the dates of its correction events too, and a later `maxDay` only
    /// makes queries for earlier dates refold (an earlier one would be wrong: stored states
    /// would answer dates before events they hold).
    func compareStoredWithReplay(maxProblems: Int = 1000) throws -> (ProjectionComparison, [VerifyProblem]) {
        guard let db = projectionsDB else { return (.noneStored, []) }
        let snapshot = try store.log.read {
            reader -> (meta: StoredMeta, stored: [String: [UInt8]], head: UInt64, rules: RulesInForce?, rulesSeq: UInt64)? in
            guard let meta = try storedMeta(reader) else { return nil }
            var stored: [String: [UInt8]] = [:]
            var unopened = 0
            try reader.auxForEach(db, unopened: { _ in unopened += 1 }) { key, value in
                stored[String(decoding: key, as: UTF8.self)] = value
                return true
            }
            if unopened > 0 {
                throw StoreError.corrupt(
                    sequence: 0, detail: "\(unopened) stored projection(s) do not open under the store's key (altered or moved)")
            }
            let head = try reader.lastRecord()?.sequence ?? 0
            let claimed = try claimedRules(reader)
            return (meta, stored, head, claimed.rules, claimed.sequence)
        }
        guard let snapshot else { return (.noneStored, []) }
        let checkpoint = snapshot.meta.checkpoint
        if checkpoint > snapshot.head {
            let problem = VerifyProblem(
                sequence: snapshot.head + 1, kind: .content,
                detail:
                    "the stored projections fold the log through sequence \(checkpoint) but the log ends at \(snapshot.head): events were removed from its end"
            )
            return (.skipped("their checkpoint \(checkpoint) is past the end of the log"), [problem])
        }
        guard snapshot.meta.foldVersion == ProjectionEngine.foldVersion else {
            // Made by another version of the folds (an older kstore): a cache the next query
            // rebuilds from the log, not evidence of anything; the chain check covers the log.
            let made = snapshot.meta.foldVersion.map { "fold version \($0)" } ?? "a kstore from before protocol revision 4"
            return (
                .skipped(
                    "they were made by \(made) (this kstore's folds are version \(ProjectionEngine.foldVersion)); the next query or `kstore replay` rebuilds them"
                ), []
            )
        }
        guard let rules = snapshot.rules, rules.hash == snapshot.meta.rulesHash else {
            let claim = snapshot.rulesSeq == 0 ? "the built-in defaults" : "the rule set adopted at sequence \(snapshot.rulesSeq)"
            let actual = snapshot.rules.map { "\($0.rules.version) (\($0.hash.prefix(16))…)" } ?? "not a readable rule set adoption"
            let problem = VerifyProblem(
                sequence: checkpoint, kind: .content,
                detail:
                    "the stored projections say they were built under \(claim) with hash \(snapshot.meta.rulesHash.prefix(16))…, but that is \(actual)"
            )
            return (.skipped("their rule set is not the one the log holds"), [problem])
        }
        let set = try rebuild(rules: rules.rules, through: checkpoint).set

        var stored = snapshot.stored
        var found: [(patient: String, detail: String)] = []
        for (patient, i) in set.index {
            let rebuilt = set.entries[i]
            guard let bytes = stored.removeValue(forKey: patient) else {
                found.append((patient, "patient \(patient) has events through sequence \(checkpoint) but no stored projection"))
                continue
            }
            if bytes == set.bytes(at: i) { continue }
            let decoded: PatientFoldState
            do {
                decoded = try bytes.withUnsafeBytes { buf throws(BinaryError) in try PatientFoldState.decode(buf) }
            } catch {
                found.append((patient, "the stored projection of patient \(patient) does not decode: \(error)"))
                continue
            }
            var parts: [String] = []
            if decoded.state.encoded != rebuilt.state.encoded { parts.append("phase state") }
            if decoded.monitoring.encoded != rebuilt.monitoring.encoded { parts.append("monitoring state") }
            if decoded.maxDay < rebuilt.maxDay {
                parts.append("latest clinical date (stored \(decoded.maxDay), replay \(rebuilt.maxDay))")
            }
            if !parts.isEmpty {
                found.append(
                    (
                        patient,
                        "the stored projection of patient \(patient) differs from a fresh replay through sequence \(checkpoint): \(parts.joined(separator: ", "))"
                    ))
            }
        }
        for patient in stored.keys {
            found.append((patient, "a projection is stored for patient \(patient), who has no events through sequence \(checkpoint)"))
        }
        found.sort { $0.patient.utf8.lexicographicallyPrecedes($1.patient.utf8) }
        var problems = found.prefix(maxProblems).map { VerifyProblem(sequence: checkpoint, kind: .content, detail: $0.detail) }
        if found.count > maxProblems {
            problems.append(VerifyProblem(sequence: checkpoint, kind: .content, detail: "… and \(found.count - maxProblems) more patients"))
        }
        return (.compared(checkpoint: checkpoint, patients: set.entries.count), problems)
    }

    /// The rule set the stored projections say they were built under: the `RuleSetAdopted` at
    /// their `rulesSeq` (0: the built-in defaults). A `replay --rules --apply` stores projections
    /// folded through the event before its own adoption, so this is not "the rules in force at
    /// the checkpoint". Nil when that record is not a rule set adoption.
    func claimedRules(_ reader: LogReader) throws -> (rules: RulesInForce?, sequence: UInt64) {
        var seq: UInt64 = 0
        if let meta = metaDB, let bytes = try reader.auxGet(meta, Array("rulesSeq".utf8), keys: .ordered), bytes.count == 8 {
            for b in bytes { seq = (seq << 8) | UInt64(b) }
        } else {
            // Stored before `rulesSeq` existed: the latest adoption.
            let latest = try rulesInForce(reader)
            return (latest, latest.adoptedAt ?? 0)
        }
        guard seq > 0 else { return (RulesInForce(rules: .default, adoptedAt: nil), 0) }
        guard let view = try reader.record(seq), let r = try? EventMapping.recorded(view), case .ruleSetAdopted(let adopted) = r.event,
            let rules = try? RuleSet.load(json: Array(adopted.content.utf8))
        else { return (nil, seq) }
        return (RulesInForce(rules: rules, adoptedAt: seq), seq)
    }
}

extension PhaseState {
    fileprivate var encoded: [UInt8] {
        var w = BinaryWriter(capacity: 512)
        encode(into: &w)
        return w.bytes
    }
}

extension MonitoringState {
    fileprivate var encoded: [UInt8] {
        var w = BinaryWriter(capacity: 512)
        encode(into: &w)
        return w.bytes
    }
}
