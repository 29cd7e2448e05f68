/// An event to append: everything but what the store assigns (sequence, stream version,
/// recordedAt, hash).
public struct NewEvent: Sendable, Equatable {
    public var eventId: [UInt8]
    public var typeCode: UInt16
    public var schemaVersion: UInt8
    public var stream: String
    public var occurredAtMillis: Int64
    public var offsetMinutes: Int16
    public var actorId: String
    public var actorRole: UInt8
    public var osUser: String
    public var payload: [UInt8]
    /// The stream version the sender last saw (0: the stream must be new); nil: no check.
    public var expectedVersion: UInt64?

    public init(
        eventId: [UInt8], typeCode: UInt16, schemaVersion: UInt8, stream: String, occurredAtMillis: Int64,
        offsetMinutes: Int16, actorId: String, actorRole: UInt8, osUser: String, payload: [UInt8],
        expectedVersion: UInt64? = nil
    ) {
        self.eventId = eventId
        self.typeCode = typeCode
        self.schemaVersion = schemaVersion
        self.stream = stream
        self.occurredAtMillis = occurredAtMillis
        self.offsetMinutes = offsetMinutes
        self.actorId = actorId
        self.actorRole = actorRole
        self.osUser = osUser
        self.payload = payload
        self.expectedVersion = expectedVersion
    }
}

/// What happened to one event of an appended batch.
public enum AppendOutcome: Sendable, Equatable {
    case appended(sequence: UInt64, streamVersion: UInt64)
    /// Already in the store with the same content: skipped.
    case duplicate(sequence: UInt64)
}

/// Why an append was refused. Nothing of the batch was written.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `expectedVersion` did not match the stream's version.
    case conflict(index: Int, stream: String, expected: UInt64, actual: UInt64)
    /// The eventId is in the store (or earlier in the batch) with different content.
    case eventIdReused(index: Int, eventId: [UInt8], existingSequence: UInt64?)
    /// The caller's validation hook refused the event.
    case rejected(index: Int, reason: String)

    public var index: Int {
        switch self {
        case .conflict(let i, _, _, _), .eventIdReused(let i, _, _), .rejected(let i, _): i
        }
    }

    public var description: String {
        switch self {
        case .conflict(_, let stream, let expected, let actual):
            "conflict on \(stream): expected version \(expected), but the stream is at version \(actual); reload and retry"
        case .eventIdReused(_, let id, let seq):
            "eventId \(formatUUID(id)) is already recorded" + (seq.map { " (sequence \($0))" } ?? " earlier in this input")
                + " with different content; send a new eventId or correct the original with amend/void"
        case .rejected(_, let reason): reason
        }
    }
}

/// Lower-case canonical text of 16 UUID bytes.
public func formatUUID(_ bytes: some Collection<UInt8>) -> String {
    let hex: [Character] = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(36)
    for (i, b) in bytes.enumerated() {
        if i == 4 || i == 6 || i == 8 || i == 10 { out.append("-") }
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 0xF)])
    }
    return out
}
