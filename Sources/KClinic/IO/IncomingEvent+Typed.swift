import struct Foundation.UUID

extension IncomingEvent {
    /// One event given as typed values (a command's options, not an import line), checked as an
    /// import line with these fields is: the same checks in the same order (`type`, `patient`,
    /// `occurredAt`, `actor`, `eventId`, `data`) and the same errors, naming the line's fields.
    /// `eventId` is the text given for it (nil: the store derives one from the content).
    public static func validate(
        type: EventType, patient: String, occurredAt: Timestamp, actor: Actor, eventId: String?, expectedVersion: UInt64?,
        data: JSONValue, now: Timestamp
    ) throws(InputError) -> IncomingEvent {
        guard type.isImportable else {
            throw InputError(
                field: "type", problem: "\(type.rawValue) is recorded by kstore itself and cannot be imported", expected: typeExpected())
        }
        guard isValidPatientId(patient) else {
            throw InputError(field: "patient", problem: "\(quotedForMessage(patient)) is not a valid patient id", expected: patientExpected)
        }
        try InputLimits.checkOccurredAt(occurredAt, now: now)
        let id = try readActorId(.string(actor.id), "actor.id")
        guard actor.role != .interface else {
            throw InputError(field: "actor.role", problem: "an interface never appears as an event's actor", expected: roleExpected)
        }
        var uuid: UUID? = nil
        if let eventId {
            guard let parsed = UUID(anyCaseString: eventId) else {
                throw InputError(field: "eventId", problem: "\(quotedForMessage(eventId)) is not a UUID", expected: uuidExpected)
            }
            uuid = parsed
        }
        let event = try ClinicalEvent.from(type: type, data: data, now: now)
        return IncomingEvent(
            eventId: uuid, type: type, patient: patient, occurredAt: occurredAt, actor: Actor(id: id, role: actor.role), event: event,
            expectedVersion: expectedVersion)
    }
}
