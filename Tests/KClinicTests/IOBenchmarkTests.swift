import Foundation
import KBinary
import KClinic
import Testing

/// Throughput of the IO layer. Off by default; run in release:
///
///     KSTORE_BENCH=1 swift test -c release --scratch-path .build-io --filter IOBenchmark
///
/// Prints medians of 7 runs: lines/s for `IncomingEvent.parse` over the w1 lines, MB/s for the
/// bare JSON parser, ns/event for `PayloadCodec.decode` and `encode`, and for comparison lines/s
/// for Foundation's `JSONDecoder` decoding the same lines into a small Codable struct.
struct IOBenchmarkTests {
    private struct CodableLine: Decodable {
        struct Actor: Decodable {
            let id: String
            let role: String
        }
        struct Dose: Decodable {
            let value: Double
            let unit: String
        }
        struct DataFields: Decodable {
            let `protocol`: String?
            let kind: String?
            let instrument: String?
            let value: Int?
            let test: String?
            let abnormal: Bool?
            let values: [String: Double]?
            let systolic: Int?
            let diastolic: Int?
            let positive: Bool?
            let route: String?
            let dose: Dose?
            let series: String?
        }
        let eventId: String?
        let type: String
        let patient: String
        let occurredAt: String
        let actor: Actor
        let data: DataFields
        let expectedVersion: UInt64?
    }

    private static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// Seconds for one call of `body`, median of `runs`.
    private static func time(runs: Int = 7, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm up
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            let d = ContinuousClock.now - start
            samples.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        return median(samples)
    }

    private typealias Payload = (type: EventType, version: UInt8, bytes: UnsafeRawBufferPointer)

    /// Payloads in one stable buffer, borrowed as the store hands them out (never freed: a test).
    private static func stable(_ events: [ClinicalEvent]) -> [Payload] {
        let encoded = events.map { PayloadCodec.encode($0) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, encoded.reduce(0) { $0 + $1.count }), alignment: 8)
        var offset = 0
        var out: [Payload] = []
        for (e, bytes) in zip(events, encoded) {
            for (k, b) in bytes.enumerated() { buffer[offset + k] = b }
            let slice = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[offset..<(offset + bytes.count)])
            out.append((e.type, PayloadCodec.currentSchemaVersion(e.type), slice))
            offset += bytes.count
        }
        return out
    }

    private static func decodeAll(_ payloads: [Payload], _ passes: Int) throws(BinaryError) -> Int {
        var sink = 0
        for _ in 0..<passes {
            for p in payloads {
                let e = try PayloadCodec.decode(type: p.type, schemaVersion: p.version, bytes: p.bytes)
                if case .scoreRecorded(let s) = e { sink &+= s.value }
            }
        }
        return sink
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["KSTORE_BENCH"] != nil))
    func throughput() throws {
        guard let text = ioExampleLines("w1.ndjson") else { return }
        let lines = text.map { Array($0.utf8) }
        let bytesPerPass = lines.reduce(0) { $0 + $1.count }
        let now = Timestamp(epochMillis: 1_900_000_000_000, offsetMinutes: 0)
        let passes = 2_000
        let linesPerRun = Double(lines.count * passes)

        var sink = 0
        let parseSeconds = try Self.time {
            for _ in 0..<passes {
                for line in lines {
                    let e = try IncomingEvent.parse(line: line, now: now)
                    sink &+= Int(e.occurredAt.offsetMinutes)
                }
            }
        }

        let jsonSeconds = try Self.time {
            for _ in 0..<passes {
                for line in lines {
                    if case .object(let m) = try JSONParser.parse(line) { sink &+= m.count }
                }
            }
        }

        let events = try lines.map { try IncomingEvent.parse(line: $0, now: now).event }
        let payloads = Self.stable(events)
        let decodePasses = 20_000
        let decodeSeconds = try Self.time { sink &+= try Self.decodeAll(payloads, decodePasses) }

        // Richer payloads: every sample line of the tests (strings, lab values, steps, amendments).
        let rich = Self.stable(try ioSampleLines.map { try IncomingEvent.parse(line: $0, now: now).event })
        let richPasses = 20_000
        let richSeconds = try Self.time { sink &+= try Self.decodeAll(rich, richPasses) }
        let encodeSeconds = Self.time {
            for _ in 0..<decodePasses {
                for e in events { sink &+= PayloadCodec.encode(e).count }
            }
        }

        let datas = lines.map { Data($0) }
        let decoder = JSONDecoder()
        let foundationPasses = 200
        let foundationSeconds = try Self.time {
            for _ in 0..<foundationPasses {
                for d in datas {
                    let l = try decoder.decode(CodableLine.self, from: d)
                    sink &+= l.patient.utf8.count
                }
            }
        }

        let payloadEvents = Double(payloads.count * decodePasses)
        print(
            """
            IO benchmark (\(lines.count) w1 lines, \(bytesPerPass / lines.count) bytes/line average, median of 7 runs):
              IncomingEvent.parse   \(Int(linesPerRun / parseSeconds)) lines/s  (\(Int(Double(bytesPerPass * passes) / parseSeconds / 1e6)) MB/s)
              JSONParser.parse      \(Int(linesPerRun / jsonSeconds)) lines/s  (\(Int(Double(bytesPerPass * passes) / jsonSeconds / 1e6)) MB/s)
              PayloadCodec.decode   \(String(format: "%.1f", decodeSeconds / payloadEvents * 1e9)) ns/event  (\(payloads.reduce(0) { $0 + $1.bytes.count } / payloads.count) bytes average, the w1 events)
              PayloadCodec.decode   \(String(format: "%.1f", richSeconds / Double(rich.count * richPasses) * 1e9)) ns/event over the \(rich.count) richer test samples (\(rich.reduce(0) { $0 + $1.bytes.count } / rich.count) bytes average)
              PayloadCodec.encode   \(String(format: "%.1f", encodeSeconds / payloadEvents * 1e9)) ns/event
              Foundation JSONDecoder \(Int(Double(lines.count * foundationPasses) / foundationSeconds)) lines/s (Codable struct, no validation)
              (sink \(sink & 1))
            """)
    }
}
