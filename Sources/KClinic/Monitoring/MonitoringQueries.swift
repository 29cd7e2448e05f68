import struct Foundation.UUID

/// R10: how an item stands on the evaluation date.
public enum DueStatus: String, CaseIterable, Sendable, Equatable, Codable {
    case ok, due, overdue, missing
}

/// One line of `query due` (cli.md): `{patient, item, lastDone, dueFrom, dueBy, status}`.
public struct DueItem: Sendable, Equatable {
    public var patient: String
    public var item: String
    public var lastDone: Day?
    public var dueFrom: Day?
    public var dueBy: Day?
    public var status: DueStatus
    /// R14: the session (its infusion's eventId) a `rems-form` row is for.
    public var session: UUID?
    public init(patient: String, item: String, lastDone: Day?, dueFrom: Day?, dueBy: Day?, status: DueStatus, session: UUID? = nil) {
        self.session = session
        self.patient = patient
        self.item = item
        self.lastDone = lastDone
        self.dueFrom = dueFrom
        self.dueBy = dueBy
        self.status = status
    }
}

/// R11: what a finding is about. Findings of the same date sort in this order.
public enum AuditScope: String, CaseIterable, Sendable, Equatable, Codable {
    case baseline, visit, quarter, year
    /// R13: one infusion's session.
    case session

    var rank: Int {
        switch self {
        case .baseline: 0
        case .visit: 1
        case .session: 2
        case .quarter: 3
        case .year: 4
        }
    }
}

/// One finding of `query audit` (cli.md): `{patient, scope, date | periodStart+periodEnd,
/// missing}`. `date` for baseline (T0) and visit findings, the period for quarter and year.
public struct AuditFinding: Sendable, Equatable {
    public var patient: String
    public var scope: AuditScope
    public var date: Day?
    public var periodStart: Day?
    public var periodEnd: Day?
    /// Item names, sorted.
    public var missing: [String]
    /// A session finding's infusion.
    public var infusion: UUID?
    public init(
        patient: String, scope: AuditScope, date: Day? = nil, periodStart: Day? = nil, periodEnd: Day? = nil, infusion: UUID? = nil,
        missing: [String]
    ) {
        self.infusion = infusion
        self.patient = patient
        self.scope = scope
        self.date = date
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.missing = missing
    }
}

extension MonitoringProjection {
    /// Dates outside about years −770…10180 are not evaluated (day arithmetic stays in range;
    /// every date the CLI or an event can give is inside).
    static let evaluable: ClosedRange<Int32> = -1_000_000...3_000_000

    /// `query due` for one patient on `day` (R10), sorted by item name (rolling and period
    /// items together). `m` and `phase` must be folded through `day` (no event of a later
    /// clinical date applied; `m.latestEventDay` tells). Empty when the patient has no event
    /// on or before `day`, or the underlying status is `discontinued`.
    public static func due(_ m: MonitoringState, phase: PhaseState, on day: Day, rules: RuleSet) -> [DueItem] {
        guard evaluable.contains(day.ordinal), let first = phase.firstEventDay, first <= day else { return [] }
        // R14: the REMS form is the session's obligation, whatever the status.
        let rems = phase.sessions.remsDue(patient: m.patient, on: day, rules: rules)
        // R10: none while the (underlying, R9) status is discontinued.
        guard phase.underlyingStatus(on: day, rules) != .discontinued else { return rems }
        let t0 = m.t0.flatMap { $0 <= day ? $0 : nil }
        var out: [DueItem] = []
        out.reserveCapacity(rules.monitoring.count + MonitoringDoc.periodItems.count)

        // Rolling items.
        for item in rules.monitoring {
            guard let doc = MonitoringDoc(rollingItem: item.name) else { continue }
            // R12: symptom-tracking is the hybrid protocol's.
            if doc == .symptomScale && phase.treatmentProtocol != .hybrid { continue }
            // Before T0 only the baseline items.
            if t0 == nil && !item.baseline { continue }
            let last = m.tracks[doc.rawValue].last
            guard let anchor = last ?? t0 else {
                out.append(DueItem(patient: m.patient, item: item.name, lastDone: nil, dueFrom: nil, dueBy: nil, status: .missing))
                continue
            }
            if last == nil && item.baseline {
                // A baseline item with no event at all: missing, due by T0.
                out.append(DueItem(patient: m.patient, item: item.name, lastDone: nil, dueFrom: nil, dueBy: t0, status: .missing))
                continue
            }
            let from = item.dueFrom.added(to: anchor)
            let by = item.dueBy.added(to: anchor)
            let status: DueStatus = day < from ? .ok : (day <= by ? .due : .overdue)
            out.append(DueItem(patient: m.patient, item: item.name, lastDone: last, dueFrom: from, dueBy: by, status: status))
        }

        // Period items (from T0): by the window holding `day`.
        if let t0 {
            let nq = MonitoringState.quarterMonths(rules)
            let ny = MonitoringState.yearMonths(rules)
            let kq = MonitoringState.windowIndex(of: day, t0: t0, months: nq)
            let ky = MonitoringState.windowIndex(of: day, t0: t0, months: ny)
            for p in MonitoringDoc.periodItems {
                let (k, n, marks, bit) =
                    p.year ? (ky, ny, m.years, p.doc.yearBit) : (kq, nq, m.quarters, p.doc.quarterBit)
                let last = m.tracks[p.doc.rawValue].last
                let item: DueItem
                if MonitoringState.mask(marks, k) & bit != 0 {
                    item = DueItem(
                        patient: m.patient, item: p.name, lastDone: last,
                        dueFrom: MonitoringState.windowStart(k + 1, t0: t0, months: n),
                        dueBy: MonitoringState.windowEnd(k + 1, t0: t0, months: n), status: .ok)
                } else {
                    let missedBefore = k > 0 && MonitoringState.mask(marks, k - 1) & bit == 0
                    item = DueItem(
                        patient: m.patient, item: p.name, lastDone: last,
                        dueFrom: MonitoringState.windowStart(k, t0: t0, months: n),
                        dueBy: MonitoringState.windowEnd(k, t0: t0, months: n), status: missedBefore ? .overdue : .due)
                }
                out.append(item)
            }
        }
        out += rems
        out.sort {
            ($0.item, $0.dueFrom?.ordinal ?? .min, $0.session?.uuidString ?? "") < (
                $1.item, $1.dueFrom?.ordinal ?? .min, $1.session?.uuidString ?? ""
            )
        }
        return out
    }

    /// `query audit` for one patient on `day` (R11): only findings with something missing,
    /// sorted by date (a period's start), then scope (baseline, visit, quarter, year). `m` and
    /// `phase` must be folded through `day`.
    public static func audit(_ m: MonitoringState, phase: PhaseState, on day: Day, rules: RuleSet) -> [AuditFinding] {
        guard evaluable.contains(day.ordinal) else { return [] }
        // R13: sessions are audited from `sessionAuditFrom`, with or without a T0.
        let sessions = phase.sessions.findings(patient: m.patient, on: day, rules: rules)
        guard let t0 = m.t0, t0 <= day else { return sessions }
        var out: [AuditFinding] = sessions

        // Baseline: dated T0.
        if m.baseline != MonitoringDoc.baselineComplete {
            out.append(
                AuditFinding(
                    patient: m.patient, scope: .baseline, date: t0,
                    missing: names(MonitoringDoc.baselineItems, have: m.baseline)))
        }

        // Visits still missing something.
        for v in m.visits where v.day <= day {
            out.append(AuditFinding(patient: m.patient, scope: .visit, date: v.day, missing: names(MonitoringDoc.visitItems, have: v.have)))
        }

        // Quarter and year windows that ended before `day` and were not wholly discontinued.
        func windows(_ scope: AuditScope, months n: Int, _ marks: [MonitoringState.WindowMark], _ items: [String], complete: UInt8) {
            var k = 0
            var next = 0  // into `marks`, sorted by index
            while true {
                let start = MonitoringState.windowStart(k, t0: t0, months: n)
                let nextStart = MonitoringState.windowStart(k + 1, t0: t0, months: n)
                guard nextStart <= day else { break }  // its last day is before `day`
                while next < marks.count && marks[next].index < k { next += 1 }
                let mask = next < marks.count && marks[next].index == k ? marks[next].mask : 0
                let end = nextStart.adding(days: -1)
                if mask != complete && !m.whollyDiscontinued(start, end) {
                    out.append(
                        AuditFinding(
                            patient: m.patient, scope: scope, periodStart: start, periodEnd: end,
                            missing: names(items, have: mask)))
                }
                k += 1
            }
        }
        windows(
            .quarter, months: MonitoringState.quarterMonths(rules), m.quarters, MonitoringDoc.quarterItems,
            complete: MonitoringDoc.quarterComplete)
        windows(.year, months: MonitoringState.yearMonths(rules), m.years, MonitoringDoc.yearItems, complete: MonitoringDoc.yearComplete)

        out.sort { a, b in
            let da = a.date ?? a.periodStart ?? t0
            let db = b.date ?? b.periodStart ?? t0
            if da != db { return da < db }
            if a.scope.rank != b.scope.rank { return a.scope.rank < b.scope.rank }
            return (a.infusion?.uuidString.lowercased() ?? "") < (b.infusion?.uuidString.lowercased() ?? "")
        }
        return out
    }

    /// The names of the items whose bit is not in `have`, sorted.
    static func names(_ items: [String], have: UInt8) -> [String] {
        var out: [String] = []
        for (i, name) in items.enumerated() where have & (UInt8(1) << UInt8(i)) == 0 { out.append(name) }
        return out.sorted()
    }
}
