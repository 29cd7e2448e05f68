import Foundation
import KBinary
import KClinic
import KStore

/// The rule set in force and where it came from.
public struct RulesInForce: Sendable, Equatable {
    public var rules: RuleSet
    /// SHA-256 (hex) of the canonical JSON of the full rule set.
    public var hash: String
    /// The sequence of the `RuleSetAdopted` that put it in force; nil for the built-in defaults.
    public var adoptedAt: UInt64?

    public init(rules: RuleSet, adoptedAt: UInt64?) {
        self.rules = rules
        self.hash = RuleSetJSON.canonical(rules).hash
        self.adoptedAt = adoptedAt
    }

    /// The latest adopted rule set in `reader`'s transaction (the `$rules` stream), else the
    /// built-in defaults. With `recordedAtOrBefore`, the one in force at that knowledge time.
    static func load(_ reader: LogReader, recordedAtOrBefore asOf: Int64? = nil) throws -> RulesInForce {
        var chosen: RecordView?
        for seq in try reader.streamSequences(SystemStream.rules).reversed() {
            guard let view = try reader.record(seq) else { continue }
            if let asOf, view.recordedAtMicros > asOf { continue }
            chosen = view
            break
        }
        guard let view = chosen else { return RulesInForce(rules: .default, adoptedAt: nil) }
        let seq = view.sequence
        let r = try EventMapping.recorded(view)
        guard case .ruleSetAdopted(let adopted) = r.event else {
            throw StoreError.corrupt(sequence: seq, detail: "the rules stream holds a \(r.type.rawValue)")
        }
        do {
            let rules = try RuleSet.load(json: Array(adopted.content.utf8))
            return RulesInForce(rules: rules, adoptedAt: seq)
        } catch {
            throw StoreError.corrupt(sequence: seq, detail: "the adopted rule set no longer loads: \(error)")
        }
    }
}

/// One patient's fold states (phase, R1–R9/R12; monitoring and documentation, R10/R11) and the
/// latest clinical date among the events folded into them (the states answer any evaluation
/// date on or after that day without a refold).
public struct PatientProjection: Sendable {
    public var state: PatientState
    public var monitoring: MonitoringState
    var maxDay: Day

    init(patient: String) {
        state = PatientState(patient: patient)
        monitoring = MonitoringState(patient: patient)
        maxDay = Day(ordinal: .min)
    }

    init(state: PatientState, monitoring: MonitoringState, maxDay: Day) {
        self.state = state
        self.monitoring = monitoring
        self.maxDay = maxDay
    }

    public var patient: String { state.patient }

    /// One effective event, in protocol order, to both states (one access to self, so an
    /// array element is mutated in place).
    mutating func apply(_ event: Recorded, rules: RuleSet) {
        ClinicProjection.evolve(&state, &monitoring, event, rules: rules)
    }

    static let formatVersion: UInt8 = 2

    var bytes: [UInt8] {
        var w = BinaryWriter(capacity: 1024)
        w.writeByte(PatientProjection.formatVersion)
        w.writeVarInt(Int64(maxDay.ordinal))
        state.encode(into: &w)
        monitoring.encode(into: &w)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryError) -> PatientProjection {
        var r = BinaryReader(bytes)
        let v = try r.readByte()
        guard v == formatVersion else { throw .invalidValue("projection format \(v)") }
        let day = try r.readVarInt()
        guard day >= Int64(Int32.min), day <= Int64(Int32.max) else { throw .invalidValue("day \(day)") }
        let state = try PatientState.decode(from: &r)
        let monitoring = try MonitoringState.decode(from: &r)
        return PatientProjection(state: state, monitoring: monitoring, maxDay: Day(ordinal: Int32(day)))
    }
}

/// Every patient's projection at one log position under one rule set, in memory.
struct ProjectionSet {
    var index: [String: Int] = [:]
    var entries: [PatientProjection] = []
    /// Per entry: changed since loaded (to be stored), and to be refolded from its stream.
    var touched: [Bool] = []
    var dirty: [Bool] = []
    /// Each entry's stored bytes, encoded by a parallel replay's workers (so the one writer
    /// only puts them); empty unless one per entry, and cleared when a fold changes entries.
    var encoded: [[UInt8]] = []

    /// Entry `i` as stored.
    func bytes(at i: Int) -> [UInt8] {
        encoded.count == entries.count ? encoded[i] : entries[i].bytes
    }

    mutating func slot(_ patient: String, load: (String) throws -> PatientProjection?) rethrows -> Int {
        if let i = index[patient] { return i }
        let p = try load(patient) ?? PatientProjection(patient: patient)
        entries.append(p)
        touched.append(false)
        dirty.append(false)
        index[patient] = entries.count - 1
        return entries.count - 1
    }

    var touchedIndices: [Int] { touched.indices.filter { touched[$0] } }

    /// Adds `other`'s patients (a disjoint shard of a parallel replay).
    mutating func absorb(_ other: ProjectionSet) {
        let keepEncoded = encoded.count == entries.count && other.encoded.count == other.entries.count
        if keepEncoded { encoded += other.encoded } else { encoded = [] }
        for i in other.entries.indices {
            index[other.entries[i].patient] = entries.count
            entries.append(other.entries[i])
            touched.append(other.touched[i])
            dirty.append(other.dirty[i])
        }
    }
}

/// One worker's share of a parallel replay: the patients whose id hashes to `index`.
struct Shard: Sendable {
    var index: Int
    var count: Int

    /// FNV-1a of a stream id's bytes: stable, cheap, and spreads `P-00001`-style ids evenly.
    static func hash(_ stream: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in stream {
            h = (h ^ UInt64(b)) &* 0x100_0000_01b3
        }
        return h
    }

    func owns(_ hash: UInt64) -> Bool {
        Int(hash % UInt64(count)) == index
    }
}

/// Read-only values handed to the workers of a parallel replay (see `rebuild(rules:)`).
struct UncheckedShared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The results of parallel workers, each slot written once by its own worker.
final class ShardResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ k: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        slots[k] = result
    }

    func take(_ k: Int) -> Result<Value, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return slots[k]
    }
}

/// Projections over the log: full replays, stored states with their checkpoint, catch-up.
///
/// Stored layout (auxiliary databases of the log):
/// - `projections`: patient id → u8 format · varint maxDay · `PatientState` binary;
/// - `projmeta`: `checkpoint` → the last sequence folded (BE64); `rulesHash` → the hash of the
///   rule set that produced them; `rulesSeq` → its RuleSetAdopted's sequence (0: defaults).
/// States and checkpoint are written in one write transaction, so a projection is never ahead of
/// or behind its checkpoint, and a query never sees half of a replay.
public final class ProjectionEngine {
    public let store: ClinicStore
    /// Called with (events so far, total) during long replays.
    public var progress: ((UInt64, UInt64) -> Void)?
    /// Threads of a full replay; nil: one a core from `parallelThreshold` events on (see
    /// `rebuild(rules:)`).
    public var replayThreads: Int?

    public init(store: ClinicStore) { self.store = store }

    var projectionsDB: Database? { store.log.auxiliary["projections"] }
    var metaDB: Database? { store.log.auxiliary["projmeta"] }

    static func amend(_ original: ClinicalEvent, _ fields: [(String, JSONValue)]) -> ClinicalEvent? {
        try? original.amended(with: fields)
    }

    // MARK: Rules

    /// The latest adopted rule set, else the built-in defaults.
    public func rulesInForce() throws -> RulesInForce {
        try store.log.read { reader in try rulesInForce(reader) }
    }

    func rulesInForce(_ reader: LogReader) throws -> RulesInForce {
        try RulesInForce.load(reader)
    }

    // MARK: Folding the log

    /// Folds events `from`…`through` into `set`, streaming the log in bounded read transactions.
    ///
    /// With `corrections` (a full replay) voids and amendments are applied as events stream by.
    /// Without (a catch-up), a patient that receives a correction is refolded from all its
    /// events at the end; so is one that receives an event older than its last applied one.
    /// Returns the number of events read.
    @discardableResult
    func fold(
        from: UInt64, through: UInt64, rules: RuleSet, into set: inout ProjectionSet,
        corrections: CorrectionIndex? = nil, shard: Shard? = nil, load: (String) throws -> PatientProjection?
    ) throws -> UInt64 {
        var read: UInt64 = 0
        let amended = EventType.eventAmended.code
        let voided = EventType.eventVoided.code
        let total = through >= from ? through - from + 1 : 0
        let fix = corrections.flatMap { $0.isEmpty ? nil : $0 }
        set.encoded = []
        let reportProgress = shard.map { $0.index == 0 } ?? true
        // Patients by a hash of their stream id's bytes: no String hashing per event (it cost
        // ~6% of a replay); the slot's patient is compared, and a collision falls back to the
        // dictionary.
        var slots = SlotTable()
        try store.log.scanRaw(from: from, through: through) { seq, bytes in
            read += 1
            if reportProgress, let progress, read % 250_000 == 0 { progress(read, total) }
            guard let streamBytes = RecordView.peekStream(bytes) else {
                throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
            }
            let hash = Shard.hash(streamBytes)
            if let shard, !shard.owns(hash) { return true }
            // Folds never read who recorded an event: skip the actor and OS user strings.
            let view = try EventMapping.decodeView(bytes, sequence: seq, names: false)
            let stream = view.stream
            if SystemStream.isSystem(stream) { return true }
            let i: Int
            if let s = slots.find(hash), set.entries[s].patient == stream {
                i = s
            } else {
                i = try set.slot(stream, load: load)
                if slots.find(hash) == nil { slots.insert(hash, i) }
            }
            if set.dirty[i] { return true }
            if view.typeCode == amended || view.typeCode == voided {
                // A full replay has applied it through `corrections`; a catch-up refolds.
                if corrections == nil { set.dirty[i] = true }
                return true
            }
            // The correction (if any) decides before decoding: a voided event is not decoded.
            let action = fix?.action(for: view.eventId) ?? nil
            if case .void? = action { return true }
            var rec = try EventMapping.recorded(view)
            if case .amend(let list)? = action { CorrectionIndex.amend(&rec, list) }
            if !set.entries[i].state.isInOrder(rec) {
                set.dirty[i] = true
                return true
            }
            set.entries[i].apply(rec, rules: rules)
            let day = rec.occurredAt.clinicalDay
            if day > set.entries[i].maxDay { set.entries[i].maxDay = day }
            set.touched[i] = true
            return true
        }
        for i in set.dirty.indices where set.dirty[i] {
            set.entries[i] = try refold(set.entries[i].state.patient, rules: rules, throughSequence: through)
            set.dirty[i] = false
            set.touched[i] = true
        }
        return read
    }

    /// One patient from all its events (up to a log position, a knowledge time, a date).
    func refold(
        _ patient: String, rules: RuleSet, throughSequence: UInt64 = .max, day: Day? = nil, asOf: Int64? = nil
    ) throws -> PatientProjection {
        var events: [Recorded] = []
        try store.log.read { reader in
            try reader.forEachInStream(patient) { view in
                if view.sequence <= throughSequence { events.append(try EventMapping.recorded(view)) }
            }
        }
        let (state, monitoring) = ClinicProjection.fold(
            patient: patient, events: events, rules: rules, through: day, recordedAtOrBefore: asOf, amend: ProjectionEngine.amend)
        var maxDay = Day(ordinal: .min)
        for e in events where (asOf.map { e.recordedAtMicros <= $0 } ?? true) {
            let d = e.occurredAt.clinicalDay
            if (day.map { d <= $0 } ?? true) && d > maxDay { maxDay = d }
        }
        return PatientProjection(state: state, monitoring: monitoring, maxDay: maxDay)
    }

    /// Every projection from the whole log under `rules`: memory grows with patients, not events.
    ///
    /// On a machine with more than one core and a log of at least `parallelThreshold` events,
    /// patients are split into one shard a core by a hash of their id, and each shard is folded
    /// by its own thread in its own read transactions over the same sequence range (every
    /// worker walks the whole log, but decodes and folds only its own patients' records; a
    /// patient's events stay in one worker, in log order, so the result is the single-threaded
    /// fold's exactly). Measured in ARCHITECTURE.md ("Parallel replay").
    func rebuild(rules: RuleSet, through: UInt64? = nil) throws -> (set: ProjectionSet, checkpoint: UInt64, events: UInt64) {
        let count = try store.log.count()
        let head = through.map { min($0, count) } ?? count
        let workers = max(1, replayThreads ?? (head >= ProjectionEngine.parallelThreshold ? ProjectionEngine.replayWorkers : 1))
        let corrections = try CorrectionIndex.build(store.log, through: head, workers: workers)
        if workers <= 1 {
            var set = ProjectionSet()
            let n = try fold(from: 1, through: head, rules: rules, into: &set, corrections: corrections, load: { _ in nil })
            return (set, head, n)
        }
        let results = ShardResults<(ProjectionSet, UInt64)>(count: workers)
        // The workers only read: the engine's store (LMDB read transactions are thread-safe,
        // one per worker, the environment opened with MDB_NOTLS), the rules and the corrections.
        // `progress` is called by worker 0 alone while the calling thread waits here.
        let shared = UncheckedShared((engine: self, rules: rules, corrections: corrections))
        DispatchQueue.concurrentPerform(iterations: workers) { k in
            let (engine, rules, corrections) = shared.value
            var set = ProjectionSet()
            do {
                let n = try engine.fold(
                    from: 1, through: head, rules: rules, into: &set, corrections: corrections,
                    shard: Shard(index: k, count: workers), load: { _ in nil })
                // Encoding the states for storage is per patient too: done here, in parallel.
                set.encoded = set.entries.map(\.bytes)
                results.store(k, .success((set, n)))
            } catch {
                results.store(k, .failure(error))
            }
        }
        var merged = ProjectionSet()
        var read: UInt64 = 0
        for k in 0..<workers {
            guard let result = results.take(k) else { throw AppError.internal("replay worker \(k) returned nothing") }
            let (set, n) = try result.get()
            read = max(read, n)
            merged.absorb(set)
        }
        return (merged, head, read)
    }

    /// Events from which a full replay is split across cores (below it, thread start-up and the
    /// extra header reads cost more than they save).
    static let parallelThreshold: UInt64 = 50_000

    /// Replay threads: the cores available, at most 8; `KSTORE_REPLAY_THREADS` overrides (1
    /// turns the parallel replay off, e.g. to measure the single-threaded cost).
    static var replayWorkers: Int {
        if let text = ProcessInfo.processInfo.environment["KSTORE_REPLAY_THREADS"], let n = Int(text), n >= 1 {
            return min(n, 64)
        }
        return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// Rebuilds every projection from the whole log under the rules in force and stores them
    /// (what `kstore replay` does, without comparing). Returns the events replayed.
    @discardableResult
    public func rebuildStored() throws -> UInt64 {
        let rules = try rulesInForce()
        let built = try rebuild(rules: rules.rules)
        try store.log.writeAuxiliary { writer in
            try persist(built.set, checkpoint: built.checkpoint, rules: rules, full: true, in: writer)
        }
        return built.events
    }

    /// Brings the stored projections up to the head of the log (what every query does first).
    /// Returns the number of patients whose projection is now in memory.
    @discardableResult
    public func catchUp() throws -> Int {
        try current().set.entries.count
    }

    // MARK: Stored projections

    /// Which log position and rule set produced the stored projections (nil: none stored yet).
    public func storedCheckpoint() throws -> (checkpoint: UInt64, rulesHash: String)? {
        try store.log.read { reader in try storedMeta(reader).map { ($0.checkpoint, $0.rulesHash) } }
    }

    struct StoredMeta {
        var checkpoint: UInt64
        var rulesHash: String
    }

    func storedMeta(_ reader: LogReader) throws -> StoredMeta? {
        guard let meta = metaDB,
            let cp = try reader.txn.get(meta, Array("checkpoint".utf8)), cp.count == 8,
            let hash = try reader.txn.get(meta, Array("rulesHash".utf8))
        else { return nil }
        var v: UInt64 = 0
        for b in cp { v = (v << 8) | UInt64(b) }
        return StoredMeta(checkpoint: v, rulesHash: String(decoding: hash, as: UTF8.self))
    }

    func loadStored(_ patient: String, _ reader: LogReader) throws -> PatientProjection? {
        guard let db = projectionsDB, let bytes = try reader.txn.get(db, Array(patient.utf8)) else { return nil }
        do {
            return try PatientProjection.decode(bytes)
        } catch {
            return nil  // an unreadable projection is rebuilt from the log
        }
    }

    /// Writes `set`'s touched projections (all of them, replacing everything, when `full`) and
    /// the checkpoint, in the given write transaction. Skips a catch-up that another process
    /// already overtook.
    func persist(_ set: ProjectionSet, checkpoint: UInt64, rules: RulesInForce, full: Bool, in reader: LogReader) throws {
        guard let db = projectionsDB, let meta = metaDB else { return }
        let txn = reader.txn
        if !full, let stored = try storedMeta(reader), stored.checkpoint >= checkpoint || stored.rulesHash != rules.hash {
            return
        }
        if full { try txn.clear(db) }
        let indices = full ? Array(set.entries.indices) : set.touchedIndices
        for i in indices {
            try txn.put(db, Array(set.entries[i].state.patient.utf8), set.bytes(at: i))
        }
        try txn.put(meta, Array("checkpoint".utf8), withUnsafeBytes(of: checkpoint.bigEndian) { Array($0) })
        try txn.put(meta, Array("rulesHash".utf8), Array(rules.hash.utf8))
        let seq = rules.adoptedAt ?? 0
        try txn.put(meta, Array("rulesSeq".utf8), withUnsafeBytes(of: seq.bigEndian) { Array($0) })
    }

    /// Brings the stored projections up to the head of the log and returns them with the rules.
    ///
    /// Only events after the checkpoint are read; a patient with a late-recorded or corrected
    /// event is refolded alone. Under a different rule set than the stored one (or none stored)
    /// everything is rebuilt.
    func current(patient: String? = nil) throws -> (set: ProjectionSet, rules: RulesInForce, checkpoint: UInt64) {
        let (rules, meta, head) = try store.log.read { reader in
            (try rulesInForce(reader), try storedMeta(reader), try reader.lastRecord()?.sequence ?? 0)
        }
        if let meta, meta.rulesHash == rules.hash, meta.checkpoint <= head {
            var set = ProjectionSet()
            if meta.checkpoint < head {
                try store.log.read { reader in
                    _ = try fold(from: meta.checkpoint + 1, through: head, rules: rules.rules, into: &set) { p in
                        try loadStored(p, reader)
                    }
                }
                try store.log.writeAuxiliary { writer in
                    try persist(set, checkpoint: head, rules: rules, full: false, in: writer)
                }
            }
            // Add what the catch-up did not touch.
            try store.log.read { reader in
                if let patient {
                    _ = try set.slot(patient) { p in try loadStored(p, reader) }
                } else if let db = projectionsDB {
                    try reader.txn.withCursor(db) { cursor in
                        var entry = try cursor.first()
                        while let (key, value) = entry {
                            let name = String(decoding: key, as: UTF8.self)
                            if set.index[name] == nil, let p = try? PatientProjection.decode(value) {
                                _ = set.slot(name) { _ in p }
                            }
                            entry = try cursor.next()
                        }
                    }
                }
            }
            return (set, rules, head)
        }
        let built = try rebuild(rules: rules.rules)
        try store.log.writeAuxiliary { writer in
            try persist(built.set, checkpoint: built.checkpoint, rules: rules, full: true, in: writer)
        }
        return (built.set, rules, built.checkpoint)
    }

    // MARK: Queries

    /// The fold states of each patient for evaluation date `day` (and knowledge time `asOf`).
    /// Without `asOf`, stored projections answer (caught up first); a patient whose events reach
    /// past `day` is refolded through it.
    public func projections(patient: String?, on day: Day, asOf: Int64?) throws -> (projections: [PatientProjection], rules: RulesInForce) {
        if let asOf {
            // What the record showed at `asOf`: the rules in force then, every patient refolded.
            let rules = try store.log.read { reader in try RulesInForce.load(reader, recordedAtOrBefore: asOf) }
            let patients = try patient.map { [$0] } ?? store.log.read { reader in
                try reader.streams().map(\.stream).filter { !SystemStream.isSystem($0) }
            }
            let out = try patients.map { try refold($0, rules: rules.rules, day: day, asOf: asOf) }
            return (out, rules)
        }
        let (set, rules, _) = try current(patient: patient)
        var out: [PatientProjection] = []
        let names = patient.map { [$0] } ?? set.index.keys.sorted()
        for name in names {
            guard let i = set.index[name] else { continue }
            let p = set.entries[i]
            out.append(p.maxDay > day ? try refold(name, rules: rules.rules, day: day) : p)
        }
        return (out, rules)
    }

    /// The phase fold state of each patient (see `projections`).
    public func states(patient: String?, on day: Day, asOf: Int64?) throws -> (states: [PatientState], rules: RulesInForce) {
        let (p, rules) = try projections(patient: patient, on: day, asOf: asOf)
        return (p.map(\.state), rules)
    }

    /// `query due` (R10): every patient's monitoring items on `day`.
    public func due(patient: String?, on day: Day, asOf: Int64?) throws -> [DueItem] {
        let (ps, rules) = try projections(patient: patient, on: day, asOf: asOf)
        return ps.flatMap { MonitoringProjection.due($0.monitoring, phase: $0.state, on: day, rules: rules.rules) }
    }

    /// `query audit` (R11): every patient's documentation findings on `day`.
    public func audit(patient: String?, on day: Day, asOf: Int64?) throws -> [AuditFinding] {
        let (ps, rules) = try projections(patient: patient, on: day, asOf: asOf)
        return ps.flatMap { MonitoringProjection.audit($0.monitoring, phase: $0.state, on: day, rules: rules.rules) }
    }

    /// `query alerts`: each patient's alerts raised on or before `day` (active only unless `all`),
    /// as (patient, alert), patients in order, each patient's alerts by date raised.
    public func alerts(patient: String?, on day: Day, asOf: Int64?, all: Bool) throws -> [(String, ProtocolAlert)] {
        let (states, _) = try states(patient: patient, on: day, asOf: asOf)
        var out: [(String, ProtocolAlert)] = []
        for s in states {
            let list = PhaseProjection.alerts(s, on: day, all: all).sorted {
                ($0.raisedOn, $0.source.sequence, $0.kind.rawValue) < ($1.raisedOn, $1.source.sequence, $1.kind.rawValue)
            }
            out += list.map { (s.patient, $0) }
        }
        return out
    }

    /// `query phase`: one view per patient that has an event on or before `day`.
    public func phase(patient: String?, on day: Day, asOf: Int64?, explain: Bool = false) throws -> [PhaseView] {
        let (states, rules) = try states(patient: patient, on: day, asOf: asOf)
        return states.compactMap { PhaseProjection.view($0, on: day, rules: rules.rules, explain: explain) }
    }
}

@available(*, unavailable)
extension ProjectionEngine: Sendable {}
