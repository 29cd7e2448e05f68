import struct Foundation.UUID

/// One patient's course as the chart draws it (web.md, "The course chart"): every effective
/// score and infusion at its clinical date, the interval in force and the status day by day,
/// the step backs and relapses, each series' baseline. Built by replaying the patient's
/// effective events (voided ones left out, amended ones corrected: the very preprocessing of
/// `PhaseProjection.fold`) through `PhaseState.evolve`, one event at a time, snapshotting
/// after each clinical date. Pure: no clock, no I/O.
///
/// Readings:
/// - The status of a date is the status at the end of that date (after its last event), as
///   `query phase --on DATE` answers it. A band runs from the first date with its status to the
///   last (`to`), the evaluation date for a band still open.
/// - Hold is an overlay (R9): its bands are drawn over the underlying status' bands, so a taper
///   running during a pregnancy shows both. `taper-complete` is banded too (it counts as
///   discontinued, R8): a gap there would read as maintenance.
/// - The interval is the ladder's while the underlying status is `maintenance` under the
///   interval-extension protocol (`query phase`'s `interval.days`), the taper step's interval
///   during a taper (R8), else none.
public struct CourseHistory: Sendable, Equatable {
    public struct ScorePoint: Sendable, Equatable {
        public var instrument: Instrument
        public var day: Day
        public var value: Int
        public var eventId: UUID
        public var sequence: UInt64
    }

    public struct InfusionMark: Sendable, Equatable {
        public var day: Day
        public var series: Series
        public var dose: Dose
        public var route: Route
        public var justification: String?
        public var eventId: UUID
        public var sequence: UInt64
        /// The session's lowest SpO2 and lowest MOAA/S (its effective observations dated
        /// through the evaluation date, R13); nil when none recorded one.
        public var lowestSpo2: Double? = nil
        public var lowestMoaas: Int? = nil
    }

    /// From `from` on, the interval in force is `days` (nil: none).
    public struct IntervalStep: Sendable, Equatable {
        public var from: Day
        public var days: Int?
    }

    /// From `from` on, the status (end of day) is `status`.
    public struct StatusChange: Sendable, Equatable {
        public var from: Day
        public var status: PatientStatus
    }

    public struct Band: Sendable, Equatable {
        public var status: PatientStatus
        public var from: Day
        /// The last date with this status (the evaluation date while it is still open).
        public var to: Day
        public var open: Bool
    }

    /// From `from` on, the patient is on hold (`on`) or not.
    public struct HoldChange: Sendable, Equatable {
        public var from: Day
        public var on: Bool
    }

    public enum MarkerKind: String, Sendable, Equatable {
        case stepBack = "step-back"
        case relapse
    }

    public struct Marker: Sendable, Equatable {
        public var kind: MarkerKind
        public var day: Day
        public var eventId: UUID
        public var detail: String
    }

    /// One series' span and baseline (R1, R8: a new series has its own).
    public struct SeriesSpan: Sendable, Equatable {
        public var number: Int
        public var from: Day
        public var to: Day
        public var baseline: Int?
    }

    public var patient: String
    public var firstDay: Day?
    public var evaluationDay: Day
    public var scores: [ScorePoint] = []
    public var infusions: [InfusionMark] = []
    public var intervals: [IntervalStep] = []
    /// The underlying status (R9, hold not applied), by date.
    public var statuses: [StatusChange] = []
    /// Whether the patient was on hold (R9's overlay), by date.
    public var holds: [HoldChange] = []
    public var markers: [Marker] = []
    public var series: [SeriesSpan] = []

    /// The statuses the chart bands (web.md), plus `taper-complete` (see the type's readings).
    public static let bandedStatuses: Set<PatientStatus> = [.drugHoliday, .taper, .taperComplete, .discontinued]

    /// The bands: runs of a banded underlying status, then the hold overlay's runs.
    public var bands: [Band] {
        var out: [Band] = []
        for (i, s) in statuses.enumerated() where CourseHistory.bandedStatuses.contains(s.status) {
            let next = i + 1 < statuses.count ? statuses[i + 1].from : nil
            out.append(Band(status: s.status, from: s.from, to: next?.adding(days: -1) ?? evaluationDay, open: next == nil))
        }
        for (i, h) in holds.enumerated() where h.on {
            let next = i + 1 < holds.count ? holds[i + 1].from : nil
            out.append(Band(status: .hold, from: h.from, to: next?.adding(days: -1) ?? evaluationDay, open: next == nil))
        }
        return out
    }

    /// Replays `patient` through `day` (knowledge time `recordedAtOrBefore`, corrections through
    /// `amend`, as `PatientProjection.fold`) and keeps what the chart draws; also returns both
    /// fold states, equal to `PatientProjection.fold`'s for the same arguments.
    public static func build(
        patient: String, events: [Recorded], rules: RuleSet, through day: Day, recordedAtOrBefore: Int64? = nil,
        amend: PhaseProjection.Amend? = PhaseProjection.standardAmend
    ) -> (history: CourseHistory, state: PhaseState, monitoring: MonitoringState) {
        var h = CourseHistory(patient: patient, evaluationDay: day)
        var state = PhaseState(patient: patient)
        var monitoring = MonitoringState(patient: patient)
        var currentDay: Day?

        func snapshot(_ d: Day) {
            let underlying = state.underlyingStatus(on: d, rules)
            if h.statuses.last?.status != underlying { h.statuses.append(StatusChange(from: d, status: underlying)) }
            let onHold = state.hold != nil
            if (h.holds.last?.on ?? false) != onHold { h.holds.append(HoldChange(from: d, on: onHold)) }
            let interval = state.intervalInForce(on: d, underlying: underlying, rules)
            if h.intervals.isEmpty || h.intervals[h.intervals.count - 1].days != interval {
                h.intervals.append(IntervalStep(from: d, days: interval))
            }
            // R1/R8: the series' span and baseline.
            if state.series.number > 0 {
                let baseline = state.series.baseline?.value
                if let last = h.series.last, last.number == state.series.number {
                    h.series[h.series.count - 1].to = d
                    h.series[h.series.count - 1].baseline = baseline
                } else {
                    h.series.append(SeriesSpan(number: state.series.number, from: d, to: d, baseline: baseline))
                }
            }
        }
        /// Dates strictly between `a` and `b` on which the state changes with no event: a
        /// taper's steps and its end (R8).
        func between(_ a: Day, _ b: Day) {
            guard state.mode == .taper, let t = state.taper else { return }
            var months = 0
            var marks: [Day] = []
            for step in t.steps ?? rules.taperSteps {
                months += min(max(step.months, 0), 1200)
                marks.append(t.start.day.adding(months: months))
            }
            for m in marks where m > a && m < b { snapshot(m) }
        }

        // Per infusion, its observations' lowest SpO2 and MOAA/S (an observation follows its
        // infusion in time, but is matched at the end so the order does not matter).
        var lowest: [UUID: (spo2: Double?, moaas: Int?)] = [:]
        PhaseProjection.forEachEffectiveEvent(
            patient: patient, events: events, through: day, recordedAtOrBefore: recordedAtOrBefore, amend: amend
        ) { e in
            let d = e.occurredAt.clinicalDay
            if let c = currentDay, c != d {
                snapshot(c)
                between(c, d)
            }
            currentDay = d
            if h.firstDay.map({ d < $0 }) ?? true { h.firstDay = d }
            PatientProjection.evolve(&state, &monitoring, e, rules: rules)
            switch e.event {
            case .scoreRecorded(let s):
                if s.instrument != .moca {
                    h.scores.append(ScorePoint(instrument: s.instrument, day: d, value: s.value, eventId: e.eventId, sequence: e.sequence))
                }
            case .infusionAdministered(let inf):
                h.infusions.append(
                    InfusionMark(
                        day: d, series: inf.series, dose: inf.dose, route: inf.route, justification: inf.justification,
                        eventId: e.eventId, sequence: e.sequence))
            case .observationRecorded(let o):
                var l = lowest[o.infusion] ?? (nil, nil)
                if let v = o.spo2 { l.spo2 = min(l.spo2 ?? v, v) }
                if let v = o.moaas { l.moaas = min(l.moaas ?? v, v) }
                lowest[o.infusion] = l
            default:
                break
            }
        }
        for i in h.infusions.indices {
            guard let l = lowest[h.infusions[i].eventId] else { continue }
            h.infusions[i].lowestSpo2 = l.spo2
            h.infusions[i].lowestMoaas = l.moaas
        }
        if let c = currentDay {
            snapshot(c)
            between(c, day.adding(days: 1))
            if c < day { snapshot(day) }
        }
        for a in state.alerts where a.raisedOn <= day {
            switch a.kind {
            case .symptomRise:
                h.markers.append(Marker(kind: .stepBack, day: a.raisedOn, eventId: a.source.eventId, detail: a.detail))
            case .relapse:
                h.markers.append(Marker(kind: .relapse, day: a.raisedOn, eventId: a.source.eventId, detail: a.detail))
            default:
                break
            }
        }
        return (h, state, monitoring)
    }
}

extension PhaseState {
    /// The interval the chart draws on `day` (see `CourseHistory`): the ladder's under
    /// `maintenance` with interval-extension, the taper step's during a taper.
    func intervalInForce(on day: Day, underlying: PatientStatus, _ rules: RuleSet) -> Int? {
        switch underlying {
        case .maintenance:
            return treatmentProtocol == .intervalExtension ? series.ladder.intervalDays(rules) : nil
        case .taper:
            return taperStep(on: day, rules)?.intervalDays
        default:
            return nil
        }
    }
}
