import struct Foundation.UUID

/// One line of `query phase --explain`: an event (or none, for a rule's default) and the rule
/// that made it count for the interval or the next due date.
public struct ExplainStep: Sendable, Equatable, Encodable {
    public var sequence: UInt64?
    public var eventId: UUID?
    /// The event's clinical date.
    public var date: Day?
    /// The rule id, e.g. "R4".
    public var rule: String
    /// One sentence.
    public var detail: String

    public init(sequence: UInt64?, eventId: UUID?, date: Day?, rule: String, detail: String) {
        self.sequence = sequence
        self.eventId = eventId
        self.date = date
        self.rule = rule
        self.detail = detail
    }

    public init(_ ref: EventRef?, rule: String, _ detail: String) {
        self.init(sequence: ref?.sequence, eventId: ref?.eventId, date: ref?.day, rule: rule, detail: detail)
    }

    enum CodingKeys: String, CodingKey { case sequence, eventId, date, rule, detail }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let sequence { try c.encode(sequence, forKey: .sequence) } else { try c.encodeNil(forKey: .sequence) }
        if let eventId {
            try c.encode(eventId.uuidString.lowercased(), forKey: .eventId)
        } else {
            try c.encodeNil(forKey: .eventId)
        }
        if let date { try c.encode(date.description, forKey: .date) } else { try c.encodeNil(forKey: .date) }
        try c.encode(rule, forKey: .rule)
        try c.encode(detail, forKey: .detail)
    }
}
