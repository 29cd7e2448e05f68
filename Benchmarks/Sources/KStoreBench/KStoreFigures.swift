import Foundation
import KApp
import KBinary
import KClinic
import KStore

/// One valid event line for `patient`, unique by `n` (the shape kstore-drill's appends use).
func syntheticLine(patient: String, n: Int, baseMillis: Int64) -> String {
    let minute = n % 1_000_000
    let ts = Timestamp(epochMillis: baseMillis + Int64(minute) * 60_000, offsetMinutes: -300)
    let type: String
    let data: String
    switch n % 4 {
    case 0:
        type = "ScoreRecorded"
        data = #"{"instrument":"MADRS","value":\#(n % 61)}"#
    case 1:
        type = "VitalsRecorded"
        data = #"{"systolic":\#(110 + n % 30),"diastolic":\#(70 + n % 15),"heartRate":72}"#
    case 2:
        type = "ScreeningRecorded"
        data = #"{"kind":"urological-symptoms","positive":false}"#
    default:
        type = "InfusionAdministered"
        data = #"{"route":"IV","dose":{"value":0.5,"unit":"mg/kg"},"series":"maintenance"}"#
    }
    let id = UUID().uuidString.lowercased()
    return
        #"{"eventId":"\#(id)","type":"\#(type)","patient":"\#(patient)","occurredAt":"\#(ts.rfc3339)","actor":{"id":"rn.kim","role":"nurse"},"data":\#(data)}"#
}

/// A patient id of the generated clinic (P-00001 …).
func generatedPatient(_ i: Int) -> String { "P-" + String(format: "%05d", i) }

/// kstore through its public API, as the `kstore` commands call it.
enum KStoreBench {
    /// A new store with the fixtures' actors registered (what `kstore init` and
    /// tools/register-actors.sh do).
    static func createStore(at path: String, actorsTSV: String) throws -> ClinicStore {
        try? FileManager.default.removeItem(atPath: path)
        let store = try ClinicStore.create(at: path)
        try Actors.bootstrap(store)
        try Actors.registerFixtureActors(store, tsv: actorsTSV)
        return store
    }

    /// Imports `bytes`; returns (imported, seconds, sequence of the first imported event).
    static func importFile(_ store: ClinicStore, _ bytes: [UInt8], source: String) throws -> (events: Int, seconds: Double, first: UInt64) {
        var summary = ImportSummary(imported: 0, duplicates: 0)
        let t = try timed { summary = try Importer(store: store).importNDJSON(bytes, source: source) }
        guard summary.duplicates == 0 else { throw BenchFailure("kstore import: \(summary.duplicates) duplicates") }
        return (summary.imported, t, summary.firstSequence ?? 1)
    }

    static func dataFileBytes(_ store: ClinicStore) -> Int { fileSize(store.path + "/data.mdb") }

    /// Every patient's states, encoded as stored (phase then monitoring), from the stored
    /// projections answering for `day`.
    static func states(_ engine: ProjectionEngine, on day: Day) throws -> [String: (
        bytes: [UInt8], phase: PhaseState, monitoring: MonitoringState
    )] {
        let (projections, _) = try engine.projections(patient: nil, on: day, asOf: nil)
        var out: [String: (bytes: [UInt8], phase: PhaseState, monitoring: MonitoringState)] = [:]
        for p in projections {
            out[p.patient] = (encode(p.state, p.monitoring), p.state, p.monitoring)
        }
        return out
    }

    static func encode(_ phase: PhaseState, _ monitoring: MonitoringState) -> [UInt8] {
        var w = BinaryWriter(capacity: 1024)
        phase.encode(into: &w)
        monitoring.encode(into: &w)
        return w.bytes
    }

    /// N single-event durable imports (one commit each), with each one's latency.
    static func appends(_ store: ClinicStore, count: Int, baseMillis: Int64, tag: String) throws -> (rate: Double, latencies: [Double]) {
        let importer = Importer(store: store)
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        let lines = (0..<count).map { Array(syntheticLine(patient: "M-\(tag)-\($0 % 50)", n: $0, baseMillis: baseMillis).utf8) }
        let total = try timed {
            for line in lines {
                let l = try timed { _ = try importer.importNDJSON(line, source: "append") }
                latencies.append(l)
            }
        }
        return (Double(count) / total, latencies.sorted())
    }
}

// MARK: - Peak memory of a full replay, in a child process

/// What the `replay-child` mode reports.
struct ReplayMemory {
    var events: Int
    var seconds: Double
    var peakRssAnonKB: Int
    var peakRssFileKB: Int
    var peakRssKB: Int
    var vmHWMKB: Int

    var json: JSONValue {
        .object([
            ("events", jint(events)), ("seconds", jnum(seconds)), ("peakRssAnonKB", jint(peakRssAnonKB)),
            ("peakRssFileKB", jint(peakRssFileKB)), ("peakRssKB", jint(peakRssKB)), ("vmHWMKB", jint(vmHWMKB)),
        ])
    }

    init(events: Int, seconds: Double, peak: ProcMemory) {
        self.events = events
        self.seconds = seconds
        peakRssAnonKB = peak.rssAnonKB
        peakRssFileKB = peak.rssFileKB
        peakRssKB = peak.vmRSSKB
        vmHWMKB = peak.vmHWMKB
    }

    init(json: JSONValue) throws {
        func int(_ key: String) throws -> Int {
            guard case .int(let v)? = json[key] else { throw BenchFailure("replay-child: no \(key) in its report") }
            return Int(v)
        }
        events = try int("events")
        guard let s = json["seconds"] else { throw BenchFailure("replay-child: no seconds") }
        switch s {
        case .double(let d): seconds = d
        case .int(let i): seconds = Double(i)
        default: throw BenchFailure("replay-child: bad seconds")
        }
        peakRssAnonKB = try int("peakRssAnonKB")
        peakRssFileKB = try int("peakRssFileKB")
        peakRssKB = try int("peakRssKB")
        vmHWMKB = try int("vmHWMKB")
    }

    /// Runs this executable as `replay-child --store S` and reads its report.
    static func measure(store path: String) throws -> ReplayMemory {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let out = try run(me, ["replay-child", "--store", path])
        guard let line = out.split(separator: "\n").last else { throw BenchFailure("replay-child printed nothing") }
        let json: JSONValue
        do throws(JSONParseError) { json = try JSONParser.parse(String(line)) } catch { throw BenchFailure("replay-child: \(error)") }
        return try ReplayMemory(json: json)
    }

    /// The child: open the store, full replay of every projection (stored, as `kstore replay`
    /// does), print the peaks. Sampled every 2 ms from a thread; VmHWM is the kernel's own peak.
    static func child(store path: String) throws -> Never {
        let sampler = MemorySampler()
        var events: UInt64 = 0
        let t = try timed {
            let store = try ClinicStore.open(at: path)
            events = try ProjectionEngine(store: store).rebuildStored()
        }
        let peak = sampler.stop()
        print(JSONWriter.string(ReplayMemory(events: Int(events), seconds: t, peak: peak).json))
        exit(0)
    }
}
