import KBinary
import KClinic

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
