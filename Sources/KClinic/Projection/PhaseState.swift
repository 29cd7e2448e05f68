import struct Foundation.UUID

/// The complete fold state of one patient's protocol projection (R1–R9, R12 due dates, R7 alerts).
///
/// It is what `PhaseProjection.evolve` leaves after applying the patient's effective events in
/// protocol order, and it does not depend on an evaluation date: what does (phase by week, the
/// taper step in force, overdue days, alerts raised later than their event) is derived by
/// `PhaseProjection.view(_:on:rules:)`. It grows with the patient, not with the events: it keeps
/// the few scores and events the rules look back at, the step backs inside the tolerance window,
/// at most a month of PHQ-2 dates, and the alerts.
public struct PhaseState: Sendable, Equatable {
    /// A score and where it came from.
    public struct Score: Sendable, Equatable {
        public var value: Int
        public var ref: EventRef
        public var epochMillis: Int64
        public init(value: Int, ref: EventRef, epochMillis: Int64) {
            self.value = value
            self.ref = ref
            self.epochMillis = epochMillis
        }
    }

    /// What set the current interval of the ladder (for `--explain`).
    public enum LadderCause: Sendable, Equatable {
        /// Rung 0 at the start of the series (R4).
        case start
        /// The ladder extended at a maintenance infusion, judged stable on a MADRS (R4, R5).
        case extended(by: EventRef, fromDays: Int, score: Int)
        /// A MADRS rose over the nadir (R6).
        case steppedBack(by: EventRef, score: Int, nadir: Int, fromDays: Int)
        /// A clinician's ScheduleAdjusted (R6).
        case adjusted(by: EventRef)
        /// A DrugHolidayEnded, with or without its own resume interval (R8).
        case holidayEnded(by: EventRef, resumeGiven: Bool)
        /// A maintenance infusion after discontinuation or relapse resumed the ladder (R8).
        case resumed(by: EventRef)
    }

    /// Where the patient is on the R4 ladder.
    public struct Ladder: Sendable, Equatable {
        /// The rung index (meaningless while `customDays` is set).
        public var rung: Int
        /// A custom interval from ScheduleAdjusted or a holiday's resume interval (R6), else nil.
        public var customDays: Int?
        /// Maintenance infusions counted at the current interval (`treatmentsAtInterval`).
        public var count: Int
        public var cause: LadderCause
        public init(rung: Int = 0, customDays: Int? = nil, count: Int = 0, cause: LadderCause = .start) {
            self.rung = rung
            self.customDays = customDays
            self.count = count
            self.cause = cause
        }
    }

    /// The last counted maintenance infusion, kept so that a MADRS with the very same instant
    /// applied after it (later in the log) can still be the score R5 judges it with.
    public struct Judgement: Sendable, Equatable {
        public var infusion: EventRef
        public var epochMillis: Int64
        public var ladderBefore: Ladder
    }

    /// The current acute series and everything R9 says belongs to it.
    public struct CurrentSeries: Sendable, Equatable {
        /// 0 until the first acute infusion; 1 for the first series, 2… after discontinuations.
        public var number: Int = 0
        /// The instant of the infusion that fixed the baseline (R1: the first infusion ever; R8:
        /// the acute infusion that began a later series).
        public var anchorMillis: Int64?
        public var acuteCount: Int = 0
        public var lastAcute: EventRef?
        /// Clinical date of the acute infusion that completed the series (R2).
        public var completedOn: Day?
        public var baseline: Score?
        /// R2's response-assessment score.
        public var assessment: Score?
        public var firstMaintenance: EventRef?
        /// The last maintenance infusion (counted or not, R9).
        public var lastMaintenance: EventRef?
        /// R6's maintenance nadir (meaningful once `assessment` exists or the series was closed
        /// by a maintenance infusion).
        public var nadir: Int?
        /// R9 (revision 4): the instant of the maintenance infusion that closed this series before
        /// it was complete (`responseStatus` `not-assessed`); nil when it was not closed so.
        public var closedAtMillis: Int64?
        /// R8: a MADRS in response since the first maintenance infusion.
        public var remitted: Bool = false
        public var ladder = Ladder()
        public var judgement: Judgement?
        public init() {}
    }

    /// The underlying course of treatment, beside what the series says (R8, R9).
    public enum Mode: UInt8, Sendable, Equatable {
        /// Status from the series: pre-treatment, acute-series, awaiting-response, non-responder
        /// or maintenance.
        case active = 0
        case holiday = 1
        /// A taper (taper-complete on and after `Taper.completeOn`, seen from the view's date).
        case taper = 2
        /// A taper that had run its course by an event applied since (counts as discontinued).
        case taperComplete = 3
        case discontinued = 4
        case relapsed = 5
    }

    public struct Holiday: Sendable, Equatable {
        public var start: EventRef
        public var plannedWeeks: Int
        /// R7 holiday-overrun is raised on this day when the holiday is still running.
        public var overrunOn: Day { start.day.adding(days: RuleSet.boundedDays(7 * min(max(plannedWeeks, 0), 10_000) + 1)) }
    }

    public struct Taper: Sendable, Equatable {
        public var start: EventRef
        /// The TaperStarted's own steps; nil: the rule set's `taperSteps`.
        public var steps: [TaperStep]?
        /// Start plus all the steps' months (R8).
        public var completeOn: Day
    }

    /// One PHQ-2 date of the R12 window.
    public struct PHQ2Day: Sendable, Equatable {
        public var day: Day
        public var lowest: Int
        public var latest: Score
        /// Consecutive raised maintenance dates ending with this one (0: not raised, or not counted).
        public var run: Int
        /// The underlying status was `maintenance` when the day's latest PHQ-2 was applied (only
        /// such dates count towards a trigger).
        public var counts: Bool
    }

    /// An R12 trigger: an infusion is due on `day` until an infusion applied after `phq2`.
    public struct Trigger: Sendable, Equatable {
        public var phq2: Score
        public var day: Day { phq2.ref.day }
    }

    /// An acknowledgement whose alert was not (yet) raised when it was applied.
    public struct PendingAck: Sendable, Equatable {
        public var kind: AlertKind
        public var source: UUID
        public var ack: EventRef
    }

    public internal(set) var patient: String
    /// The (instant, sequence) of the last event applied: an event that sorts before it arrived
    /// out of order, and the patient must be refolded from all its events.
    public internal(set) var lastOrderKey: OrderKey?
    /// The earliest clinical date of any event applied (the patient appears from it on).
    public internal(set) var firstEventDay: Day?
    public internal(set) var treatmentProtocol: TreatmentProtocol = .intervalExtension
    /// T0: the clinical date of the first infusion of any series.
    public internal(set) var t0: Day?
    public internal(set) var latestMadrs: Score?
    public internal(set) var series = CurrentSeries()
    public internal(set) var mode: Mode = .active
    public internal(set) var holiday: Holiday?
    public internal(set) var taper: Taper?
    /// Discontinuation date (taper-complete counts as discontinued from its first day) and the
    /// event behind it (the MaintenanceDiscontinued, or the TaperStarted).
    public internal(set) var discontinuedOn: Day?
    public internal(set) var discontinuedBy: EventRef?
    /// R8: the DrugHolidayEnded whose date is due until the next maintenance infusion.
    public internal(set) var resumeDue: EventRef?
    /// R9: the `pregnant` status that put the patient on hold, while it lasts.
    public internal(set) var hold: EventRef?
    public internal(set) var lastNonBooster: EventRef?
    /// The (instant, sequence) of the last infusion of any series applied (R12: a trigger's due
    /// date lasts until an infusion applied after its PHQ-2).
    public internal(set) var lastInfusionKey: OrderKey?
    /// R8 (revision 4): the latest clinician's ScheduleAdjusted applied during a holiday, a
    /// taper or a discontinuation; the resumption uses its interval (the ladder already holds it).
    public internal(set) var pauseAdjusted: EventRef?
    /// R8 (revision 4): an infusion was given since the discontinuation date was set, so a later
    /// MaintenanceDiscontinued starts a new spell with its own date.
    public internal(set) var infusedSinceDiscontinuation: Bool = false
    /// Step backs inside the tolerance window (at most `toleranceStepBacks` kept).
    public internal(set) var stepBackDays: [Day] = []
    /// R12: PHQ-2 dates, sorted, covering at least twice the baseline window before the newest.
    public internal(set) var phq2Days: [PHQ2Day] = []
    public internal(set) var trigger: Trigger?
    public internal(set) var alerts: [ProtocolAlert] = []
    public internal(set) var pendingAcks: [PendingAck] = []
    /// R13/R14: the sessions (session.md).
    public internal(set) var sessions = SessionState()

    public init(patient: String) {
        self.patient = patient
    }
}

extension PhaseState {
    /// Whether `event` comes after everything applied so far (else: refold the patient).
    public func isInOrder(_ event: Recorded) -> Bool {
        guard let last = lastOrderKey else { return true }
        return last < OrderKey(event)
    }
}

extension PhaseState.CurrentSeries {
    /// R2/R9: the acute part of the series is over: complete, or closed by a maintenance
    /// infusion before it was (revision 4).
    func isClosed(_ rules: RuleSet) -> Bool {
        acuteCount >= rules.acuteSeriesLength || closedAtMillis != nil
    }

    /// R6/R9: the nadir runs: from the assessment score, or from the maintenance infusion that
    /// closed the series.
    var hasNadir: Bool { assessment != nil || closedAtMillis != nil }
}

extension PhaseState.Ladder {
    /// The current interval in days.
    func intervalDays(_ rules: RuleSet) -> Int {
        if let c = customDays { return RuleSet.boundedDays(c) }
        guard !rules.ladder.isEmpty else { return 28 }
        return rules.ladder[min(max(rung, 0), rules.ladder.count - 1)].intervalDays
    }

    /// R4/R6: treatments at this interval before the ladder extends; nil: it never does (the last
    /// rung, or a custom interval with no rung above).
    func requiredBeforeExtension(_ rules: RuleSet) -> Int? {
        let ladder = rules.ladder
        if let c = customDays {
            guard ladder.contains(where: { $0.intervalDays > c }) else { return nil }
            if let below = ladder.last(where: { $0.intervalDays < c }) { return below.treatments }
            return ladder.first?.treatments
        }
        guard rung < ladder.count - 1, rung >= 0 else { return nil }
        return ladder[rung].treatments
    }

    /// R4: one rung up (from a custom interval, the first rung above it).
    mutating func extend(_ rules: RuleSet) {
        if let c = customDays {
            guard let i = rules.ladder.firstIndex(where: { $0.intervalDays > c }) else { return }
            rung = i
            customDays = nil
        } else if rung < rules.ladder.count - 1 {
            rung += 1
        }
    }

    /// R6: one rung down (at rung 0 it stays; from a custom interval, the last rung below it, or
    /// stays when below every rung).
    mutating func stepBack(_ rules: RuleSet) {
        if let c = customDays {
            if let i = rules.ladder.lastIndex(where: { $0.intervalDays < c }) {
                rung = i
                customDays = nil
            }
        } else if rung > 0 {
            rung = min(rung - 1, max(rules.ladder.count - 1, 0))
        }
    }

    /// R6: ScheduleAdjusted (and R8's resume interval): the rung with exactly that interval, the
    /// current one too, else a custom interval.
    mutating func set(intervalDays days: Int, _ rules: RuleSet) {
        if let i = rules.ladder.firstIndex(where: { $0.intervalDays == days }) {
            rung = i
            customDays = nil
        } else {
            customDays = days
        }
    }
}
