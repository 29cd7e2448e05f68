/// The answer of `kstore query phase` for one patient on one date (cli.md, "Projections and
/// replay"); encodes with exactly its JSON keys, dates as `YYYY-MM-DD`, absent values as null.
public struct PhaseView: Sendable, Equatable, Encodable {
    public struct Interval: Sendable, Equatable, Encodable {
        public var days: Int
        public var treatmentsAtInterval: Int
        public var requiredBeforeExtension: Int?
        public init(days: Int, treatmentsAtInterval: Int, requiredBeforeExtension: Int?) {
            self.days = days
            self.treatmentsAtInterval = treatmentsAtInterval
            self.requiredBeforeExtension = requiredBeforeExtension
        }
        enum CodingKeys: String, CodingKey { case days, treatmentsAtInterval, requiredBeforeExtension }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(days, forKey: .days)
            try c.encode(treatmentsAtInterval, forKey: .treatmentsAtInterval)
            try c.encodeIfPresentOrNil(requiredBeforeExtension, forKey: .requiredBeforeExtension)
        }
    }

    public var patient: String
    public var treatmentProtocol: TreatmentProtocol
    public var phase: TreatmentPhase
    public var status: PatientStatus
    public var weekOfTreatment: Int?
    public var responseStatus: ResponseStatus?
    public var baselineMadrs: Int?
    public var nadirMadrs: Int?
    public var latestMadrs: Int?
    /// Present while the underlying status is `maintenance` with the interval-extension protocol.
    public var interval: Interval?
    public var nextInfusionDue: Day?
    public var infusionOverdueDays: Int
    /// The events and rules behind the interval and the due date (`--explain`); nil: not asked,
    /// and then the key is left out of the JSON.
    public var explain: [ExplainStep]?

    public init(
        patient: String, treatmentProtocol: TreatmentProtocol, phase: TreatmentPhase, status: PatientStatus,
        weekOfTreatment: Int?, responseStatus: ResponseStatus?, baselineMadrs: Int?, nadirMadrs: Int?,
        latestMadrs: Int?, interval: Interval?, nextInfusionDue: Day?, infusionOverdueDays: Int,
        explain: [ExplainStep]? = nil
    ) {
        self.patient = patient
        self.treatmentProtocol = treatmentProtocol
        self.phase = phase
        self.status = status
        self.weekOfTreatment = weekOfTreatment
        self.responseStatus = responseStatus
        self.baselineMadrs = baselineMadrs
        self.nadirMadrs = nadirMadrs
        self.latestMadrs = latestMadrs
        self.interval = interval
        self.nextInfusionDue = nextInfusionDue
        self.infusionOverdueDays = infusionOverdueDays
        self.explain = explain
    }

    enum CodingKeys: String, CodingKey {
        case patient, `protocol`, phase, status, weekOfTreatment, responseStatus, baselineMadrs, nadirMadrs
        case latestMadrs, interval, nextInfusionDue, infusionOverdueDays, explain
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patient, forKey: .patient)
        try c.encode(treatmentProtocol.rawValue, forKey: .protocol)
        try c.encode(phase, forKey: .phase)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresentOrNil(weekOfTreatment, forKey: .weekOfTreatment)
        try c.encodeIfPresentOrNil(responseStatus, forKey: .responseStatus)
        try c.encodeIfPresentOrNil(baselineMadrs, forKey: .baselineMadrs)
        try c.encodeIfPresentOrNil(nadirMadrs, forKey: .nadirMadrs)
        try c.encodeIfPresentOrNil(latestMadrs, forKey: .latestMadrs)
        try c.encodeIfPresentOrNil(interval, forKey: .interval)
        try c.encodeIfPresentOrNil(nextInfusionDue?.description, forKey: .nextInfusionDue)
        try c.encode(infusionOverdueDays, forKey: .infusionOverdueDays)
        if let explain { try c.encode(explain, forKey: .explain) }
    }
}

extension KeyedEncodingContainer {
    /// Encodes the value, or an explicit null (cli.md: nulls are present, not left out).
    mutating func encodeIfPresentOrNil<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
