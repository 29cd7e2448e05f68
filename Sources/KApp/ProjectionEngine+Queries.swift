import KClinic
import KStore

extension ProjectionEngine {
    // MARK: Queries

    /// The fold states of each patient for evaluation date `day` (and knowledge time `asOf`).
    /// Without `asOf`, stored projections answer (caught up first); a patient whose events reach
    /// past `day` is refolded through it.
    public func projections(patient: String?, on day: Day, asOf: Int64?) throws -> (projections: [PatientFoldState], rules: RulesInForce) {
        if let asOf {
            // What the record showed at `asOf`: the rules in force then, every patient refolded.
            let rules = try store.log.read { reader in try RulesInForce.load(reader, recordedAtOrBefore: asOf) }
            let patients =
                try patient.map { [$0] }
                ?? store.log.read { reader in
                    try reader.streams().map(\.stream).filter { !SystemStream.isSystem($0) }
                }
            let out = try patients.map { try refold($0, rules: rules.rules, day: day, asOf: asOf) }
            return (out, rules)
        }
        let (set, rules, _, _) = try current(patient: patient)
        var out: [PatientFoldState] = []
        let names = patient.map { [$0] } ?? set.index.keys.sorted()
        for name in names {
            guard let i = set.index[name] else { continue }
            let p = set.entries[i]
            out.append(p.maxDay > day ? try refold(name, rules: rules.rules, day: day) : p)
        }
        return (out, rules)
    }

    /// The phase fold state of each patient (see `projections`).
    public func states(patient: String?, on day: Day, asOf: Int64?) throws -> (states: [PhaseState], rules: RulesInForce) {
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
