import Foundation
import KClinic
import KStore

/// Puts the corpus through the real store (`EventLog.append` into a temporary LMDB
/// environment) and reads back every stored record, so the hand-codec bytes measured are
/// exactly the stored ones and the hashes are the real SHA-256 chain.
enum StoreCheck {
    /// Fills `events[i].hash` from the store and returns the stored record bytes (body ‖ hash).
    static func storeAndReadBack(_ events: inout [SourceEvent]) throws -> [[UInt8]] {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("codec-compare-\(ProcessInfo.processInfo.processIdentifier)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var stored: [[UInt8]] = []
        stored.reserveCapacity(events.count)
        do {
            let log = try EventLog.create(at: dir, mapSize: 1 << 30, clockMicros: events.first?.recordedAtMicros ?? 0)
            var start = 0
            while start < events.count {
                let end = min(start + Corpus.batchSize, events.count)
                let batch = events[start..<end].map { e in
                    NewEvent(
                        eventId: e.eventId, typeCode: e.typeCode, schemaVersion: e.schemaVersion, stream: e.stream,
                        occurredAtMillis: e.occurredAtMillis, offsetMinutes: e.offsetMinutes, actorId: e.actor.id,
                        actorRole: e.actor.role.code, osUser: e.osUser, payload: PayloadCodec.encode(e.event))
                }
                let recorded = events[start].recordedAtMicros
                try log.append(batch, clockMicros: { recorded })
                start = end
            }
            try log.scan { view in
                var bytes = view.body.copiedBytes
                bytes.append(contentsOf: view.hash)
                stored.append(bytes)
                return true
            }
        }
        guard stored.count == events.count else {
            throw BenchError.bad("store holds \(stored.count) records, expected \(events.count)")
        }
        for i in events.indices {
            let view = try stored[i].withUnsafeBytes { try RecordView($0) }
            guard view.sequence == events[i].sequence, view.streamVersion == events[i].streamVersion,
                view.recordedAtMicros == events[i].recordedAtMicros
            else { throw BenchError.bad("store assigned different sequence/version/recordedAt at \(i)") }
            events[i].hash = view.hash.copiedBytes
        }
        return stored
    }
}
