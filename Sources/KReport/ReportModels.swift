import KClinic

/// One event as recorded, with its corrections beside it: a row of the patient page's event
/// list and of the trail. Values are already text (JSON written, timestamps RFC 3339), so the
/// pages only lay them out.
public struct EventRow: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var field: String
        /// nil: the field was absent before.
        public var before: String?
        public var after: String
        public init(field: String, before: String?, after: String) {
            self.field = field
            self.before = before
            self.after = after
        }
    }

    public struct Correction: Sendable, Equatable {
        public var voids: Bool
        public var sequence: UInt64
        public var actor: String
        public var role: String
        public var osUser: String
        public var recordedAt: String
        public var reason: String
        /// An amendment's fields, before and after.
        public var changes: [Change]
        /// Undone by the void at this sequence.
        public var undoneBy: UInt64?
        /// A void of an earlier correction: that correction's sequence.
        public var ofCorrection: UInt64?
        public init(
            voids: Bool, sequence: UInt64, actor: String, role: String, osUser: String, recordedAt: String, reason: String,
            changes: [Change], undoneBy: UInt64?, ofCorrection: UInt64?
        ) {
            self.voids = voids
            self.sequence = sequence
            self.actor = actor
            self.role = role
            self.osUser = osUser
            self.recordedAt = recordedAt
            self.reason = reason
            self.changes = changes
            self.undoneBy = undoneBy
            self.ofCorrection = ofCorrection
        }
    }

    /// For a correction: the event it names, as recorded.
    public struct Target: Sendable, Equatable {
        public var eventId: String
        public var sequence: UInt64?
        public var type: String?
        public var data: String?
        public init(eventId: String, sequence: UInt64?, type: String?, data: String?) {
            self.eventId = eventId
            self.sequence = sequence
            self.type = type
            self.data = data
        }
    }

    public var sequence: UInt64
    public var eventId: String
    public var patient: String
    public var type: String
    public var occurredAt: String
    public var clinicalDay: Day
    public var recordedAt: String
    public var actor: String
    public var role: String
    public var osUser: String
    /// The data as recorded (JSON).
    public var data: String
    public var late: Bool
    /// "3 d 4 h" when late.
    public var lateBy: String?
    public var voidedBy: UInt64?
    /// The data in force now when corrections changed it (JSON), else nil.
    public var inForce: String?
    public var corrects: Target?
    /// For a correction: its reason.
    public var reason: String?
    public var corrections: [Correction]

    public init(
        sequence: UInt64, eventId: String, patient: String, type: String, occurredAt: String, clinicalDay: Day, recordedAt: String,
        actor: String, role: String, osUser: String, data: String, late: Bool, lateBy: String?, voidedBy: UInt64?, inForce: String?,
        corrects: Target?, reason: String?, corrections: [Correction]
    ) {
        self.sequence = sequence
        self.eventId = eventId
        self.patient = patient
        self.type = type
        self.occurredAt = occurredAt
        self.clinicalDay = clinicalDay
        self.recordedAt = recordedAt
        self.actor = actor
        self.role = role
        self.osUser = osUser
        self.data = data
        self.late = late
        self.lateBy = lateBy
        self.voidedBy = voidedBy
        self.inForce = inForce
        self.corrects = corrects
        self.reason = reason
        self.corrections = corrections
    }
}

/// Everything the patient page shows (`kstore report patient`, later `/patients/{id}`).
public struct PatientPage: Sendable {
    public var patient: String
    public var evaluationDay: Day
    public var rulesVersion: String
    public var rulesHash: String
    public var responseReduction: Double
    public var remissionMax: Int
    /// `query phase --explain`.
    public var phase: PhaseView
    public var history: CourseHistory
    public var due: [DueItem]
    public var audit: [AuditFinding]
    /// Every alert raised on or before the evaluation date (active and acknowledged).
    public var alerts: [ProtocolAlert]
    /// The patient's events as recorded, in log order, corrections beside what they correct.
    public var events: [EventRow]

    public init(
        patient: String, evaluationDay: Day, rulesVersion: String, rulesHash: String, responseReduction: Double, remissionMax: Int,
        phase: PhaseView, history: CourseHistory, due: [DueItem], audit: [AuditFinding], alerts: [ProtocolAlert], events: [EventRow]
    ) {
        self.patient = patient
        self.evaluationDay = evaluationDay
        self.rulesVersion = rulesVersion
        self.rulesHash = rulesHash
        self.responseReduction = responseReduction
        self.remissionMax = remissionMax
        self.phase = phase
        self.history = history
        self.due = due
        self.audit = audit
        self.alerts = alerts
        self.events = events
    }

    /// The nearest monitoring date: the earliest `dueBy` of the items not `ok` (overdue first,
    /// being earliest), else the earliest `dueFrom` of the rest.
    public var nearestMonitoring: (item: String, day: Day)? {
        let open = due.filter { $0.status != .ok }.compactMap { d in d.dueBy.map { (d.item, $0) } }
        if let m = open.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { return m }
        let rest = due.compactMap { d in d.dueFrom.map { (d.item, $0) } }
        return rest.min(by: { ($0.1, $0.0) < ($1.1, $1.0) })
    }
}

/// The clinic's day (`kstore report today`, later `/`).
public struct TodayPage: Sendable {
    public var evaluationDay: Day
    public var rulesVersion: String
    public var patients: Int
    /// Patients with an infusion due on or before the evaluation date.
    public var infusions: [PhaseView]
    /// Monitoring items due, overdue or missing.
    public var monitoring: [DueItem]
    /// Active alerts, (patient, alert).
    public var alerts: [(patient: String, alert: ProtocolAlert)]
    /// Documentation findings.
    public var gaps: [AuditFinding]

    public init(
        evaluationDay: Day, rulesVersion: String, patients: Int, infusions: [PhaseView], monitoring: [DueItem],
        alerts: [(patient: String, alert: ProtocolAlert)], gaps: [AuditFinding]
    ) {
        self.evaluationDay = evaluationDay
        self.rulesVersion = rulesVersion
        self.patients = patients
        self.infusions = infusions
        self.monitoring = monitoring
        self.alerts = alerts
        self.gaps = gaps
    }
}

/// The audit trail as a document (`kstore report trail`).
public struct TrailPage: Sendable {
    public struct ActorRow: Sendable, Equatable {
        public var id: String
        public var roles: String
        public var events: Int
        public var corrections: Int
        public var correctedByOthers: Int
        public var lateEntries: Int
        public init(id: String, roles: String, events: Int, corrections: Int, correctedByOthers: Int, lateEntries: Int) {
            self.id = id
            self.roles = roles
            self.events = events
            self.corrections = corrections
            self.correctedByOthers = correctedByOthers
            self.lateEntries = lateEntries
        }
    }

    /// The filters, as (name, value) pairs for those given.
    public var filters: [(String, String)]
    public var storeId: String
    public var verifyOK: Bool
    public var verifiedEvents: UInt64
    public var headHash: String
    /// Verify's problems, one sentence each.
    public var problems: [String]
    public var lateEntryHours: Int
    public var rulesVersion: String
    public var entries: [EventRow]
    public var actors: [ActorRow]

    public init(
        filters: [(String, String)], storeId: String, verifyOK: Bool, verifiedEvents: UInt64, headHash: String, problems: [String],
        lateEntryHours: Int, rulesVersion: String, entries: [EventRow], actors: [ActorRow]
    ) {
        self.filters = filters
        self.storeId = storeId
        self.verifyOK = verifyOK
        self.verifiedEvents = verifiedEvents
        self.headHash = headHash
        self.problems = problems
        self.lateEntryHours = lateEntryHours
        self.rulesVersion = rulesVersion
        self.entries = entries
        self.actors = actors
    }
}
