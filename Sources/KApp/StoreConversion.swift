import Foundation
import Glibc
import KStore

/// `kstore encrypt` (a plain store into an encrypted one) and `kstore key rekey` (an encrypted
/// store under a new data key): the log copied record by record into a new store beside the
/// old one, verified, then swapped in with one atomic exchange of the two directories; the old
/// one is removed only after.
///
/// The new store keeps the store id, the creation time, every event's sequence, id, times,
/// actor and payload, the web credentials and the access log (re-sealed and re-chained); the
/// projections and the ledger are rebuilt. Its chain hashes are new (they cover the new stored
/// bytes): checkpoints signed before no longer match and a network copy in PostgreSQL must be
/// shipped again under a new site (ARCHITECTURE.md, "Encryption at rest").
public enum StoreConversion {
    public struct Outcome: Sendable {
        public var events: UInt64
        public var oldHead: String
        public var newHead: String
        public var masterKeyId: String
        public var seconds: Double
        /// Set when the old store's files could not be removed after the swap.
        public var leftOver: String?
    }

    /// Converts `store` (opened with its key, when it has one) into a store encrypted under a new
    /// data key wrapped by the master key in `masterKeyFile`. `verb` names the command in messages.
    public static func convert(_ store: ClinicStore, masterKeyFile: String, verb: String) throws -> Outcome {
        let started = Date()
        let master: MasterKey
        do { master = try MasterKey.load(path: masterKeyFile, store: store.path) } catch { throw AppError(error) }
        // The old log must verify: a conversion of a damaged log would bury the evidence.
        let before = try store.log.verify()
        guard before.ok else {
            throw AppError.checkFailed(
                "the store does not verify (first problem: \(before.problems.first?.description ?? "?")); nothing was converted. "
                    + "Run `kstore audit verify` and restore a verified backup first")
        }
        let dir = (store.path as NSString).standardizingPath
        let partial = dir + ".\(verb)-\(getpid())"
        if access(partial, F_OK) == 0 {
            throw AppError.usage("\(partial) exists (left by an earlier \(verb)?); remove it and run the command again")
        }
        var target: EventLog? = try EventLog.create(
            at: partial, mapSize: max(EventLog.defaultMapSize, store.log.env.usedBytes * 2), auxiliary: ClinicStore.auxiliaryDatabases,
            clockMicros: try store.log.createdAtMicros, masterKey: master, storeId: store.log.storeId)
        do {
            guard let log = target else { throw AppError.internal("the new store did not open") }
            let events = try store.log.convert(into: log) { source, out in
                try copyCredentials(source, out)
                try copyAccessLog(source, out)
            }
            target = nil
            // The new store, opened as every command will: with the key; projections and the
            // ledger rebuilt and stored, then verified whole and compared record by record.
            let converted = try ClinicStore.open(at: partial, keyFile: masterKeyFile)
            _ = try ProjectionEngine(store: converted).rebuildStored()
            _ = try LedgerReader.rebuildStoring(converted)
            let after = try LogAudit.audit(converted)
            guard after.report.ok else {
                throw AppError.internal(
                    "the converted store did not verify (\(after.report.problems.first?.description ?? "?")); the store was not changed")
            }
            try compareRecords(store.log, converted.log, through: events)
            guard after.report.events == events, after.report.events == before.events else {
                throw AppError.internal("the converted store holds \(after.report.events) events, the store \(before.events)")
            }
            var outcome = Outcome(
                events: events, oldHead: before.headHash, newHead: after.report.headHash, masterKeyId: master.id,
                seconds: Date().timeIntervalSince(started))
            try FileSystem.fsync(partial + "/data.mdb")
            try EventLog.exchangeDirectories(dir, partial)
            try? FileSystem.fsync((dir as NSString).deletingLastPathComponent)
            // `partial` now names the old store: removed only now that the new one is in place.
            if !FileSystem.removeFlatDirectory(partial) { outcome.leftOver = partial }
            return outcome
        } catch {
            target = nil
            _ = FileSystem.removeFlatDirectory(partial)
            if let e = error as? AppError { throw e }
            if let e = error as? KeyError { throw AppError(e) }
            throw AppError.internal("\(verb) failed, and the store was not changed: \(error)")
        }
    }

    /// Every event of `a` says what the same event of `b` says (sequence, id, stream, version,
    /// times, actor, payload): the conversion lost nothing and changed nothing.
    static func compareRecords(_ a: EventLog, _ b: EventLog, through: UInt64) throws {
        var seq: UInt64 = 1
        let chunk: UInt64 = 65_536
        while seq <= through {
            let last = min(through, seq + chunk - 1)
            try a.read { ra in
                try b.read { rb in
                    for s in seq...last {
                        guard let x = try ra.record(s)?.materialize(), let y = try rb.record(s)?.materialize() else {
                            throw AppError.internal("sequence \(s) is missing after the conversion")
                        }
                        var x2 = x
                        x2.hash = y.hash
                        guard x2 == y else { throw AppError.internal("sequence \(s) differs after the conversion") }
                    }
                }
            }
            seq = last + 1
        }
    }

    static func copyCredentials(_ source: LogReader, _ out: LogReader) throws {
        guard let from = source.auxiliary("credentials"), let to = out.auxiliary("credentials") else { return }
        try source.auxForEach(from) { key, value in
            try out.auxPut(to, key, value)
            return true
        }
    }

    /// The access log re-sealed and re-chained, entry by entry, in order (its entries unchanged).
    static func copyAccessLog(_ source: LogReader, _ out: LogReader) throws {
        guard let from = source.auxiliary("access"), let to = out.auxiliary("access") else { return }
        var prev = [UInt8](repeating: 0, count: 32)
        var entries: [([UInt8], [UInt8])] = []
        try source.txn.withCursor(from) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                guard value.count > 32 else { throw AppError.internal("the access log has a damaged entry; nothing was converted") }
                let k = key.copiedBytes
                guard let plain = source.auxOpen(from, key: k, Array(value[0..<(value.count - 32)])) else {
                    throw AppError.internal("an access log entry does not open under the store's key; nothing was converted")
                }
                entries.append((k, plain))
                entry = try cursor.next()
            }
        }
        for (key, plain) in entries {
            let stored = out.auxSeal(to, key: key, plain)
            let hash = AccessLog.chainHash(prev, stored)
            try out.txn.put(to, key, stored + hash, flags: .append)
            prev = hash
        }
    }
}
