import KClinic
import KStore

/// Projections over the log: full replays, stored states with their checkpoint, catch-up.
///
/// Stored layout (auxiliary databases of the log):
/// - `projections`: patient id → a `PatientFoldState` (u8 format · varint maxDay · `PhaseState` ·
///   `MonitoringState`, each binary);
/// - `projmeta`: `checkpoint` → the last sequence folded (BE64); `rulesHash` → the hash of the
///   rule set that produced them; `rulesSeq` → its RuleSetAdopted's sequence (0: defaults);
///   `foldVersion` → the version of the folds that made them (`foldVersion`; absent before
///   protocol revision 4). Projections made by other folds or rules are rebuilt, not caught up.
/// States and checkpoint are written in one write transaction, so a projection is never ahead of
/// or behind its checkpoint, and a query never sees half of a replay.
public final class ProjectionEngine {
    public let store: ClinicStore
    /// Called with (events so far, total) during long replays.
    public var progress: ((UInt64, UInt64) -> Void)?
    /// Threads of a full replay; nil: one a core from `parallelThreshold` events on (see
    /// `rebuild(rules:)`).
    public var replayThreads: Int?
    /// Events read by this engine's passes over the log (full replays and catch-ups), added once
    /// a pass, never per event: shows tests how often a command folds the log.
    var eventsFolded: UInt64 = 0
    /// Whether queries store what their catch-up or rebuild computed (the command line does). The
    /// server's readers set it false: only its one writer thread writes, and it catches the stored
    /// projections up after each group of writes.
    public var persists = true

    public init(store: ClinicStore) { self.store = store }

    /// The version of the folds' logic, stored beside the projections they made: 2 is protocol
    /// revision 4 (early maintenance closes the series, R12 by clinical date, the discontinuation
    /// date, format 2 of `PhaseState`). Bump it whenever a fold's answer for the same events
    /// changes, so that stores made by an older kstore are rebuilt instead of caught up. 3: the
    /// session folds (session.md); 4: sessions kept by time rather than the 8 latest.
    static let foldVersion: UInt8 = 4

    var projectionsDB: Database? { store.log.auxiliary["projections"] }
    var metaDB: Database? { store.log.auxiliary["projmeta"] }

    static func amend(_ original: ClinicalEvent, _ fields: [(String, JSONValue)], _ recordedAt: Timestamp) -> ClinicalEvent? {
        PhaseProjection.standardAmend(original, fields, recordedAt)
    }

    // MARK: Rules

    /// The latest adopted rule set, else the built-in defaults.
    public func rulesInForce() throws -> RulesInForce {
        try store.log.read { reader in try rulesInForce(reader) }
    }

    func rulesInForce(_ reader: LogReader) throws -> RulesInForce {
        try RulesInForce.load(reader)
    }
}

@available(*, unavailable)
extension ProjectionEngine: Sendable {}
