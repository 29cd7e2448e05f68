import KClinic

/// `/audit`: verify's result, the unreviewed ranges, the trail with its filters, the access
/// log, the signed review form and the FHIR export.
public struct AuditPage: Sendable {
    public struct Problem: Sendable, Equatable {
        public var sequence: UInt64?
        public var kind: String
        public var detail: String
        public init(sequence: UInt64?, kind: String, detail: String) {
            self.sequence = sequence
            self.kind = kind
            self.detail = detail
        }
    }

    public struct Range: Sendable, Equatable {
        public var from: UInt64
        public var through: UInt64
        public var events: UInt64
        public init(from: UInt64, through: UInt64, events: UInt64) {
            self.from = from
            self.through = through
            self.events = events
        }
    }

    public struct Access: Sendable, Equatable {
        public var sequence: UInt64
        public var at: String
        public var osUser: String
        public var command: String
        public var patients: [String]
        public init(sequence: UInt64, at: String, osUser: String, command: String, patients: [String]) {
            self.sequence = sequence
            self.at = at
            self.osUser = osUser
            self.command = command
            self.patients = patients
        }
    }

    /// The trail's filters as given (shown again in the filter form).
    public struct Filter: Sendable, Equatable {
        public var patient: String?
        public var actor: String?
        public var from: Day?
        public var to: Day?
        public init(patient: String? = nil, actor: String? = nil, from: Day? = nil, to: Day? = nil) {
            self.patient = patient
            self.actor = actor
            self.from = from
            self.to = to
        }
    }

    public var verifyOK: Bool
    public var verifiedEvents: UInt64
    public var headHash: String
    public var problems: [Problem]
    public var unreviewed: [Range]
    public var reviewedThrough: UInt64?
    public var head: UInt64
    /// Warnings: events reviewed earlier whose stored bytes changed since.
    public var alteredSinceReview: [String]
    public var filter: Filter
    public var trail: TrailPage
    public var access: [Access]
    /// What the last post did (e.g. "Review recorded as sequence 420").
    public var notice: String?
    /// The review form's refusal (a wrong password, a sequence beyond the head).
    public var reviewError: String?

    public init(
        verifyOK: Bool, verifiedEvents: UInt64, headHash: String, problems: [Problem], unreviewed: [Range], reviewedThrough: UInt64?,
        head: UInt64, alteredSinceReview: [String], filter: Filter, trail: TrailPage, access: [Access], notice: String? = nil,
        reviewError: String? = nil
    ) {
        self.verifyOK = verifyOK
        self.verifiedEvents = verifiedEvents
        self.headHash = headHash
        self.problems = problems
        self.unreviewed = unreviewed
        self.reviewedThrough = reviewedThrough
        self.head = head
        self.alteredSinceReview = alteredSinceReview
        self.filter = filter
        self.trail = trail
        self.access = access
        self.notice = notice
        self.reviewError = reviewError
    }
}
