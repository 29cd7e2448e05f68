import Foundation

@testable import KStore

/// A store in a unique temporary directory, removed afterwards.
func withTemporaryLog<T>(mapSize: Int = EventLog.defaultMapSize, _ body: (EventLog, String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let log = try EventLog.create(at: dir, mapSize: mapSize, clockMicros: 1_700_000_000_000_000)
    return try body(log, dir)
}

func clock() -> Int64 { 1_767_600_000_000_000 }

func uuidBytes(_ n: Int) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 16)
    var v = n
    for i in (0..<16).reversed() {
        b[i] = UInt8(v & 0xFF)
        v >>= 8
    }
    return b
}

func event(_ n: Int, stream: String = "P-1", payload: [UInt8]? = nil, expected: UInt64? = nil) -> NewEvent {
    NewEvent(
        eventId: uuidBytes(n), typeCode: 4, schemaVersion: 1, stream: stream,
        occurredAtMillis: 1_767_600_000_000 + Int64(n) * 60_000, offsetMinutes: -300,
        actorId: "rn.kim", actorRole: 2, osUser: "tester", payload: payload ?? [UInt8(n & 0xFF), 1, 2, 3],
        expectedVersion: expected)
}
