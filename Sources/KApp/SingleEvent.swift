import Foundation
import KClinic
import KStore

/// What a one-event write (`kstore append`, `amend`, `void`) did.
public struct SingleEventResult: Sendable {
    public var summary: ImportSummary
    /// The event as stored; nil when it was already recorded (a duplicate: nothing appended).
    public var recorded: Recorded?
}

/// One event from a command's options: built as typed values, validated as an import line is
/// (same checks, same field names, refusals prefixed `append:1: `, `amend:1: ` or `void:1: `), and
/// appended through the importer (same store checks and permissions, in one write transaction).
public enum SingleEvent {
    /// `kstore append`: `data` is the `--data` JSON text.
    public static func append(
        _ store: ClinicStore, type: EventType, patient: String, occurredAt: Timestamp, actor: Actor, data: String,
        expectedVersion: UInt64?, eventId: String?
    ) throws -> SingleEventResult {
        let json = try parseData(data, expected: "a JSON object, e.g. '{\"instrument\":\"MADRS\",\"value\":12}'")
        return try write(store, source: "append") { now throws(InputError) in
            try IncomingEvent.validate(
                type: type, patient: patient, occurredAt: occurredAt, actor: actor, eventId: eventId,
                expectedVersion: expectedVersion, data: json, now: now)
        }
    }

    /// `kstore amend`: `data` is the `--data` JSON text of the corrected fields.
    public static func amend(_ store: ClinicStore, event: String, reason: String, data: String, actor: Actor) throws -> SingleEventResult {
        let fields = try parseData(data, expected: "a JSON object of the corrected fields")
        return try correct(store, target: event, actor: actor, type: .eventAmended) { id in
            .object([("target", .string(id.uuidString.lowercased())), ("reason", .string(reason)), ("data", fields)])
        }
    }

    /// `kstore void`.
    public static func void(_ store: ClinicStore, event: String, reason: String, actor: Actor) throws -> SingleEventResult {
        try correct(store, target: event, actor: actor, type: .eventVoided) { id in
            .object([("target", .string(id.uuidString.lowercased())), ("reason", .string(reason))])
        }
    }

    /// `--data` as JSON; text that is not JSON is refused naming the option.
    static func parseData(_ text: String, expected: String) throws(AppError) -> JSONValue {
        do { return try JSONParser.parse(text) } catch {
            throw .badInput([.option("--data", "not valid JSON: \(error)", expected: expected)])
        }
    }

    /// A correction (amend or void) of the event `target`, on that event's patient, occurring now.
    /// `data` is the correction's data for the target's id.
    static func correct(
        _ store: ClinicStore, target: String, actor: Actor, type: EventType, data: (UUID) -> JSONValue
    ) throws -> SingleEventResult {
        guard let id = UUID(uuidString: target) else {
            throw AppError.badInput([.option("--event", "\(target) is not an event id", expected: "a UUID as printed by `kstore log`")])
        }
        let patient = try store.log.read { reader -> String? in
            guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)) else { return nil }
            return try reader.record(seq)?.stream
        }
        guard let patient else {
            throw AppError.badInput([
                .option("--event", "no event \(id.uuidString.lowercased()) is in the store", expected: "an event id from `kstore log`")
            ])
        }
        let occurredAt = store.now
        let json = data(id)
        return try write(store, source: type == .eventAmended ? "amend" : "void") { now throws(InputError) in
            try IncomingEvent.validate(
                type: type, patient: patient, occurredAt: occurredAt, actor: actor, eventId: nil, expectedVersion: nil, data: json,
                now: now)
        }
    }

    /// Validates the event (`FILE:LINE` being `source:1`), appends it, and reads it back.
    static func write(
        _ store: ClinicStore, source: String, _ event: (Timestamp) throws(InputError) -> IncomingEvent
    ) throws -> SingleEventResult {
        let incoming: IncomingEvent
        do throws(InputError) { incoming = try event(store.now) } catch {
            throw AppError.badInput([LineError(file: source, line: 1, error)])
        }
        let summary = try Importer(store: store).importEvent(incoming, source: source)
        guard let seq = summary.lastSequence else { return SingleEventResult(summary: summary, recorded: nil) }
        let recorded = try store.log.read { reader in try reader.record(seq).map(EventMapping.recorded) }
        return SingleEventResult(summary: summary, recorded: recorded)
    }
}
