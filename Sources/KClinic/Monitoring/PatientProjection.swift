/// Both per-patient projections together: the phase projection (R1–R9, R12, R7 alerts) and the
/// monitoring projection (R10, R11), folded over exactly the same effective events in the same
/// order.
public enum PatientProjection {
    /// Replays one patient from its events, given in any order and with their corrections,
    /// with the same preprocessing as `PhaseProjection.fold` (events of other patients ignored,
    /// knowledge time, corrections through `amend`, evaluation date, protocol order).
    public static func fold(
        patient: String, events: [Recorded], rules: RuleSet, through day: Day? = nil,
        recordedAtOrBefore: Int64? = nil, amend: PhaseProjection.Amend? = nil
    ) -> (phase: PhaseState, monitoring: MonitoringState) {
        var phase = PhaseState(patient: patient)
        var monitoring = MonitoringState(patient: patient)
        PhaseProjection.forEachEffectiveEvent(
            patient: patient, events: events, through: day, recordedAtOrBefore: recordedAtOrBefore, amend: amend
        ) { e in
            phase.evolve(e, rules: rules)
            monitoring.evolve(e, phase: phase, rules: rules)
        }
        return (phase, monitoring)
    }

    /// Applies ONE effective event to both states, in protocol order (check
    /// `phase.isInOrder(event)` first; when false, refold with `fold`).
    public static func evolve(_ phase: inout PhaseState, _ monitoring: inout MonitoringState, _ event: Recorded, rules: RuleSet) {
        phase.evolve(event, rules: rules)
        monitoring.evolve(event, phase: phase, rules: rules)
    }
}
