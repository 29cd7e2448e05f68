import struct Foundation.UUID

/// R3: the phase of treatment.
public enum TreatmentPhase: String, CaseIterable, Sendable, Equatable, Codable {
    case preTreatment = "pre-treatment"
    case stabilization
    case frequencyFinding = "frequency-finding"
    case optimization
    case longTerm = "long-term"
}

/// R9: the patient's status.
public enum PatientStatus: String, CaseIterable, Sendable, Equatable, Codable {
    case preTreatment = "pre-treatment"
    case acuteSeries = "acute-series"
    case awaitingResponse = "awaiting-response"
    case nonResponder = "non-responder"
    case maintenance
    case drugHoliday = "drug-holiday"
    case taper
    case taperComplete = "taper-complete"
    case discontinued
    case relapsed
    case hold
}

/// R2: the response of the current series.
public enum ResponseStatus: String, CaseIterable, Sendable, Equatable, Codable {
    case inProgress = "in-progress"
    case unknown
    case pending
    case responder
    case nonResponder = "non-responder"
    /// R2/R9 (revision 4): a maintenance infusion closed the series before it was complete.
    case notAssessed = "not-assessed"
}

/// R8: how soon after discontinuation a relapse came.
public enum RelapseClass: String, CaseIterable, Sendable, Equatable, Codable {
    case early, intermediate, late

    /// The guide's action for the class ("Managing Relapse").
    public var action: String {
        switch self {
        case .early: "reinitiate maintenance at previous frequency"
        case .intermediate: "single infusion or short series"
        case .late: "standard acute series"
        }
    }
}

/// Where an event sits in protocol order: its `occurredAt` instant, then its log sequence.
public struct OrderKey: Hashable, Comparable, Sendable {
    public var epochMillis: Int64
    public var sequence: UInt64
    @inlinable public init(epochMillis: Int64, sequence: UInt64) {
        self.epochMillis = epochMillis
        self.sequence = sequence
    }
    @inlinable public init(_ event: Recorded) {
        self.init(epochMillis: event.occurredAt.epochMillis, sequence: event.sequence)
    }
    @inlinable public static func < (a: OrderKey, b: OrderKey) -> Bool {
        a.epochMillis != b.epochMillis ? a.epochMillis < b.epochMillis : a.sequence < b.sequence
    }
}

/// A reference to one event: enough to cite it (explain, alerts) and to date it.
public struct EventRef: Hashable, Sendable {
    public var sequence: UInt64
    public var eventId: UUID
    /// The event's clinical date.
    public var day: Day
    public init(sequence: UInt64, eventId: UUID, day: Day) {
        self.sequence = sequence
        self.eventId = eventId
        self.day = day
    }
}
