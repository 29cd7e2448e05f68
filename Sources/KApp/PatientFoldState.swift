import KBinary
import KClinic

/// Everything the folds keep for one patient, at one log position under one rule set: both of
/// KClinic's fold states and the latest clinical date folded into them.
///
/// - `state`: the phase fold's state (KClinic `PhaseState`: protocol phase, ladder, scores,
///   alerts; R1–R9, R12), evolved by `PhaseProjection`;
/// - `monitoring`: the monitoring and documentation fold's state (KClinic `MonitoringState`;
///   R10/R11), evolved by `MonitoringProjection` after the phase fold for the same event;
/// - `maxDay`: the latest clinical date among the events folded in. The states answer any
///   evaluation date on or after it without a refold; an earlier date refolds the patient.
///
/// `PatientProjection` drives both folds for one event (`evolve`); this is the value it folds
/// into, kept per patient in a `FoldStateSet` during a pass and stored, one a patient, in the
/// `projections` database (`bytes`/`decode`: u8 format · varint maxDay · `PhaseState` ·
/// `MonitoringState`). A value, not a fold: KClinic's `…Projection` types are the folds.
public struct PatientFoldState: Sendable {
    public var state: PhaseState
    public var monitoring: MonitoringState
    var maxDay: Day
    /// Loaded from a stored projection that does not decode: to be refolded from its stream
    /// (never stored; a refold's result has it false).
    var needsRefold = false

    init(patient: String) {
        state = PhaseState(patient: patient)
        monitoring = MonitoringState(patient: patient)
        maxDay = Day(ordinal: .min)
    }

    init(state: PhaseState, monitoring: MonitoringState, maxDay: Day) {
        self.state = state
        self.monitoring = monitoring
        self.maxDay = maxDay
    }

    public var patient: String { state.patient }

    /// One effective event, in protocol order, to both states (one access to self, so an
    /// array element is mutated in place).
    mutating func evolve(_ event: Recorded, rules: RuleSet) {
        PatientProjection.evolve(&state, &monitoring, event, rules: rules)
    }

    static let formatVersion: UInt8 = 2

    var bytes: [UInt8] {
        var w = BinaryWriter(capacity: 1024)
        w.writeByte(PatientFoldState.formatVersion)
        w.writeVarInt(Int64(maxDay.ordinal))
        state.encode(into: &w)
        monitoring.encode(into: &w)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(BinaryError) -> PatientFoldState {
        var r = BinaryReader(bytes)
        let v = try r.readByte()
        guard v == formatVersion else { throw .invalidValue("projection format \(v)") }
        let day = try r.readVarInt()
        guard day >= Int64(Int32.min), day <= Int64(Int32.max) else { throw .invalidValue("day \(day)") }
        let state = try PhaseState.decode(from: &r)
        let monitoring = try MonitoringState.decode(from: &r)
        return PatientFoldState(state: state, monitoring: monitoring, maxDay: Day(ordinal: Int32(day)))
    }
}
