import struct Foundation.UUID

/// An event as the log holds it: the envelope of events.md around its typed data.
public struct Recorded: Sendable, Equatable {
    public var sequence: UInt64
    public var eventId: UUID
    /// Patient id; the empty string for system streams.
    public var patient: String
    public var streamVersion: UInt64
    public var occurredAt: Timestamp
    /// When the store appended it, microseconds since the epoch (UTC).
    public var recordedAtMicros: Int64
    public var actor: Actor
    public var osUser: String
    public var schemaVersion: UInt8
    public var event: ClinicalEvent

    public init(
        sequence: UInt64, eventId: UUID, patient: String, streamVersion: UInt64, occurredAt: Timestamp,
        recordedAtMicros: Int64, actor: Actor, osUser: String, schemaVersion: UInt8, event: ClinicalEvent
    ) {
        self.sequence = sequence
        self.eventId = eventId
        self.patient = patient
        self.streamVersion = streamVersion
        self.occurredAt = occurredAt
        self.recordedAtMicros = recordedAtMicros
        self.actor = actor
        self.osUser = osUser
        self.schemaVersion = schemaVersion
        self.event = event
    }

    public var type: EventType { event.type }
}
