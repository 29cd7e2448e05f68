import KBinary

/// The events an `EventLog.check` has accepted so far and not written: what a `LogReader` of
/// that check sees on top of its snapshot (their sequences, eventIds, stream versions and
/// records), so each event of the batch is judged against the store plus the batch's earlier
/// events, exactly as `append` judges it inside its write transaction.
///
/// A pending record is encoded only when a reader asks for it (e.g. a correction targets an
/// event earlier in the same file); its hash is 32 zero bytes, since the chain is computed
/// only when the event is appended for real.
final class PendingEvents {
    /// An eventId as a dictionary key (16 bytes, hashed as two words).
    struct IdKey: Hashable {
        let high: UInt64
        let low: UInt64

        init?(_ bytes: [UInt8]) {
            guard bytes.count == 16 else { return nil }
            (high, low) = bytes.withUnsafeBytes {
                (
                    UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)),
                    UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
        }
    }

    /// Sequence of the first pending event (0 while there is none).
    private(set) var firstSequence: UInt64 = 0
    private var events: [NewEvent] = []
    private var versions: [UInt64] = []
    private var recordedAt: Int64 = 0
    private var ids: [IdKey: UInt64] = [:]
    private var streamVersions: [String: UInt64] = [:]
    private var streamSequences: [String: [UInt64]] = [:]
    /// Records encoded on demand, owned here until the check ends.
    private var encoded: [UInt64: UnsafeMutableRawBufferPointer] = [:]

    init(capacity: Int) {
        events.reserveCapacity(capacity)
        versions.reserveCapacity(capacity)
        ids.reserveCapacity(capacity)
    }

    deinit {
        for buffer in encoded.values { buffer.deallocate() }
    }

    var lastSequence: UInt64? { events.isEmpty ? nil : firstSequence + UInt64(events.count) - 1 }

    func add(_ event: NewEvent, sequence: UInt64, version: UInt64, recordedAtMicros: Int64) {
        if events.isEmpty {
            firstSequence = sequence
            recordedAt = recordedAtMicros
        }
        events.append(event)
        versions.append(version)
        if let key = IdKey(event.eventId) { ids[key] = sequence }
        streamVersions[event.stream] = version
        streamSequences[event.stream, default: []].append(sequence)
    }

    func contains(_ sequence: UInt64) -> Bool {
        guard let last = lastSequence else { return false }
        return sequence >= firstSequence && sequence <= last
    }

    func typeCode(_ sequence: UInt64) -> UInt16? {
        contains(sequence) ? events[Int(sequence - firstSequence)].typeCode : nil
    }

    func sequence(forEventId id: [UInt8]) -> UInt64? {
        guard let key = IdKey(id) else { return nil }
        return ids[key]
    }

    /// The stream's version counting the pending events; nil when none of them is in it.
    func version(of stream: String) -> UInt64? { streamVersions[stream] }

    /// The pending events' sequences in `stream`, ascending.
    func sequences(of stream: String) -> [UInt64] { streamSequences[stream] ?? [] }

    /// Every stream with pending events, with its version counting them.
    var streams: [String: UInt64] { streamVersions }

    /// The pending record at `sequence`, as it would be stored (with a zero hash).
    func record(_ sequence: UInt64) throws -> RecordView? {
        guard contains(sequence) else { return nil }
        if let buffer = encoded[sequence] { return try view(buffer, sequence) }
        let i = Int(sequence - firstSequence)
        let e = events[i]
        let record = EventRecord(
            sequence: sequence, eventId: e.eventId, typeCode: e.typeCode, schemaVersion: e.schemaVersion,
            stream: e.stream, streamVersion: versions[i], occurredAtMillis: e.occurredAtMillis,
            offsetMinutes: e.offsetMinutes, recordedAtMicros: recordedAt, actorId: e.actorId, actorRole: e.actorRole,
            osUser: e.osUser, payload: e.payload, hash: [])
        let bytes = record.encodedBody() + [UInt8](repeating: 0, count: EventRecord.hashSize)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        encoded[sequence] = buffer
        return try view(buffer, sequence)
    }

    private func view(_ buffer: UnsafeMutableRawBufferPointer, _ sequence: UInt64) throws -> RecordView {
        do throws(BinaryError) { return try RecordView(UnsafeRawBufferPointer(buffer)) } catch {
            throw StoreError.corrupt(sequence: sequence, detail: "pending record: \(error.description)")
        }
    }
}

@available(*, unavailable)
extension PendingEvents: Sendable {}
