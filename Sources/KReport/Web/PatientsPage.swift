import KClinic

/// `/patients`: every patient (or those whose id contains `query`) with status, phase,
/// interval and next due, on the evaluation date.
public struct PatientsPage: Sendable {
    public var evaluationDay: Day
    public var query: String?
    public var rows: [PhaseView]

    public init(evaluationDay: Day, query: String?, rows: [PhaseView]) {
        self.evaluationDay = evaluationDay
        self.query = query
        self.rows = rows
    }
}
