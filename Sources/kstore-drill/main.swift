// kstore-drill: the processes behind the crash, concurrency and measurement drills in tools/.
//
//   kstore-drill write-loop --store S [--batch N]         import batches forever; after each
//                                                         durable commit print "done FIRST LAST ID"
//   kstore-drill append --store S --count N --tag T       N single-event durable appends
//   kstore-drill measure --ndjson FILE [--runs R] [--appends N]
//                                                         import, scans and appends, medians
//   kstore-drill measure-encryption --ndjson FILE [--runs R] [--appends N]
//                                                         the same clinic into a plain and an
//                                                         encrypted store: import, replay,
//                                                         appends, verify, bytes/event (issue 16)
//   kstore-drill import --store S --ndjson FILE
//                                                         one import (one transaction, read as it
//                                                         is appended); prints its time
//   kstore-drill tamper --store S --mode byte|delete|swap|rewrite --at SEQ [--with SEQ2]
//                                                         damage the log for tools/tamper-drill.sh
//                                                         (see Tamper.swift)
//   kstore-drill report-timing --store S --patient P --on D [--runs R]
//                                                         gather and render the patient and today
//                                                         reports R times; prints medians (ms)
import Foundation
import KApp
import KClinic
import KReport
import KStore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("kstore-drill: " + message + "\n").utf8))
    exit(70)
}

let allArgs = Array(CommandLine.arguments.dropFirst())
guard let mode = allArgs.first else { fail("usage: kstore-drill write-loop|append|measure|tamper …") }

func option(_ name: String) -> String? {
    let args = Array(CommandLine.arguments.dropFirst(2))
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

/// One valid event line for patient `patient`, unique by `n`.
func syntheticLine(patient: String, n: Int, id: UUID = UUID(), baseMillis: Int64 = 1_767_600_000_000) -> String {
    let minute = n % 1_000_000
    let ts = Timestamp(epochMillis: baseMillis + Int64(minute) * 60_000, offsetMinutes: -300)
    let kind = n % 4
    let data: String
    let type: String
    switch kind {
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
    let role = type == "InfusionAdministered" || type == "ScoreRecorded" ? "nurse" : "nurse"
    return
        #"{"eventId":"\#(id.uuidString.lowercased())","type":"\#(type)","patient":"\#(patient)","occurredAt":"\#(ts.rfc3339)","actor":{"id":"rn.drill","role":"\#(role)"},"data":\#(data)}"#
}

/// fixtures/actors.tsv, found from the working directory (tools/ run from the package root).
func actorsTSV() throws -> String {
    try String(contentsOfFile: "fixtures/actors.tsv", encoding: .utf8)
}

func openStore(_ path: String) -> ClinicStore {
    do { return try ClinicStore.open(at: path) } catch { fail("\(error)") }
}

switch mode {
case "write-loop":
    guard let path = option("store") else { fail("--store is required") }
    let batch = Int(option("batch") ?? "50") ?? 50
    let store = openStore(path)
    let importer = Importer(store: store)
    var n = Int(getpid()) * 1_000_000
    while true {
        var lines = ""
        var lastId = UUID()
        for i in 0..<batch {
            lastId = UUID()
            lines += syntheticLine(patient: "D-\(i % 7)", n: n, id: lastId) + "\n"
            n += 1
        }
        do {
            let s = try importer.importNDJSON(Array(lines.utf8), source: "drill")
            // Printed only after the commit returned: the batch is durable.
            FileHandle.standardOutput.write(
                Data("done \(s.firstSequence ?? 0) \(s.lastSequence ?? 0) \(lastId.uuidString.lowercased())\n".utf8))
        } catch {
            fail("import failed: \(error)")
        }
    }

case "append":
    guard let path = option("store") else { fail("--store is required") }
    let count = Int(option("count") ?? "2000") ?? 2000
    let tag = option("tag") ?? "A"
    let store = openStore(path)
    let importer = Importer(store: store)
    for i in 0..<count {
        let line = syntheticLine(patient: "C-\(tag)-\(i % 5)", n: i)
        do {
            _ = try importer.importNDJSON(Array(line.utf8), source: "append")
        } catch {
            fail("append \(i) failed: \(error)")
        }
    }
    print("appended \(count)")

case "measure":
    guard let file = option("ndjson") else { fail("--ndjson FILE is required (tools/measure.sh generates one)") }
    let runs = Int(option("runs") ?? "3") ?? 3
    let appends = Int(option("appends") ?? "2000") ?? 2000
    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
    let bytes = [UInt8](data)
    let lineCount = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-measure-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: base) }
    var importRates: [Double] = []
    var rawRates: [Double] = []
    var decodeRates: [Double] = []
    var appendRates: [Double] = []
    var p50s: [Double] = []
    var p99s: [Double] = []
    var diskPerEvent = 0.0
    var replayRates: [Double] = []
    var catchUpMs: [Double] = []
    var lateCatchUpMs: [Double] = []
    do {
        for run in 0..<runs {
            let dir = base + "-\(run)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let store = try ClinicStore.create(at: dir)
            try Actors.bootstrap(store)
            try Actors.registerFixtureActors(store, tsv: actorsTSV())
            var imported = 0
            let t = try seconds {
                imported = try Importer(store: store).importNDJSON(bytes, source: file).imported
            }
            importRates.append(Double(imported) / t)
            diskPerEvent = Double(store.log.env.usedBytes) / Double(max(imported, 1))
            // Warm the page cache once, then time.
            _ = try store.log.rawScan()
            var entries = 0
            let tr = try seconds { entries = try store.log.rawScan().entries }
            rawRates.append(Double(entries) / tr)
            var decoded = 0
            let td = try seconds {
                try store.log.scan { view in
                    _ = try EventMapping.recorded(view)
                    decoded += 1
                    return true
                }
            }
            decodeRates.append(Double(decoded) / td)
            // Full replay of every projection from the log (stored at the end).
            let engine = ProjectionEngine(store: store)
            _ = try engine.rebuildStored()
            var replayed: UInt64 = 0
            let tp = try seconds { replayed = try engine.rebuildStored() }
            replayRates.append(Double(replayed) / tp)
            // Catch-up: 1,000 new events for 97 patients (one import), dated after everything
            // else (today's visits), then the first query's catch-up.
            let fresh = (0..<1000).map {
                syntheticLine(patient: "P-\(String(format: "%05d", $0 % 97 + 1))", n: $0, baseMillis: 1_795_651_200_000)
            }
            _ = try Importer(store: store).importNDJSON(Array(fresh.joined(separator: "\n").utf8), source: "catch-up")
            let tc = try seconds { _ = try engine.catchUp() }
            catchUpMs.append(tc * 1000)
            // The same for 1,000 late-recorded events (dated in January): each of the 97
            // patients is refolded from its whole stream.
            let late = (0..<1000).map {
                syntheticLine(patient: "P-\(String(format: "%05d", $0 % 97 + 1))", n: 7_000 + $0)
            }
            _ = try Importer(store: store).importNDJSON(Array(late.joined(separator: "\n").utf8), source: "late")
            let tl = try seconds { _ = try engine.catchUp() }
            lateCatchUpMs.append(tl * 1000)
            let importer = Importer(store: store)
            var latencies: [Double] = []
            latencies.reserveCapacity(appends)
            let ta = try seconds {
                for i in 0..<appends {
                    let line = Array(syntheticLine(patient: "M-\(i % 50)", n: i).utf8)
                    let l = try seconds { _ = try importer.importNDJSON(line, source: "append") }
                    latencies.append(l)
                }
            }
            appendRates.append(Double(appends) / ta)
            latencies.sort()
            p50s.append(latencies[latencies.count / 2] * 1e6)
            p99s.append(latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 1e6)
        }
    } catch {
        fail("\(error)")
    }
    func f(_ x: Double) -> String { String(format: "%.0f", x) }
    print(
        "input: \(file) (\(lineCount) events, \(bytes.count) bytes, \(String(format: "%.0f", Double(bytes.count) / Double(max(lineCount, 1)))) bytes/event)"
    )
    print("runs: \(runs) (medians)")
    print("import (streamed, one commit per file):             \(f(median(importRates))) events/s")
    print(
        "durable single-event appends (one commit each):        \(f(median(appendRates))) appends/s, p50 \(f(median(p50s))) µs, p99 \(f(median(p99s))) µs"
    )
    print("full log scan with decoding (envelope + payload):       \(f(median(decodeRates))) events/s")
    print("raw LMDB cursor scan of the same store:                 \(f(median(rawRates))) entries/s")
    print("full replay of every projection (decode + fold + store): \(f(median(replayRates))) events/s")
    print("catch-up after 1,000 new events (stored projections):   \(String(format: "%.1f", median(catchUpMs))) ms")
    print("  … after 1,000 late-recorded events (97 patients refolded): \(String(format: "%.1f", median(lateCatchUpMs))) ms")
    print("disk: \(f(diskPerEvent)) bytes/event (LMDB pages in use incl. indexes)")

case "measure-encryption":
    guard let file = option("ndjson") else { fail("--ndjson FILE is required") }
    runMeasureEncryption(file: file, runs: Int(option("runs") ?? "3") ?? 3, appends: Int(option("appends") ?? "2000") ?? 2000)

case "import":
    guard let path = option("store"), let file = option("ndjson") else { fail("--store and --ndjson are required") }
    let store = openStore(path)
    let importer = Importer(store: store)
    let t0 = DispatchTime.now().uptimeNanoseconds
    do {
        let s = try importer.importNDJSON(file: file)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print(
            String(
                format: "imported %d events (%d duplicates) in %.2f s: %.0f events/s, one transaction", s.imported, s.duplicates, seconds,
                Double(s.imported) / seconds))
    } catch {
        fail("import failed: \(error)")
    }

case "tamper":
    exit(runTamper(Array(allArgs.dropFirst())))

case "report-timing":
    guard let path = option("store"), let patient = option("patient"), let day = option("on").flatMap(Day.init(iso:)) else {
        fail("--store, --patient and --on are required")
    }
    let runs = Int(option("runs") ?? "15") ?? 15
    let store = openStore(path)
    let engine = ProjectionEngine(store: store)
    func ms(_ body: () throws -> Void) rethrows -> Double {
        let t = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    var gather: [Double] = []
    var render: [Double] = []
    var chart: [Double] = []
    var todayGather: [Double] = []
    var todayRender: [Double] = []
    var bytes = 0
    var events = 0
    var patients = 0
    do {
        for _ in 0..<runs {
            var page: PatientPage?
            gather.append(try ms { page = try engine.patientPage(patient, on: day) })
            guard let page else { fail("no events of \(patient) on or before \(day)") }
            events = page.events.count
            render.append(ms { bytes = Reports.patient(page).utf8.count })
            chart.append(
                ms {
                    _ = CourseChart.svg(
                        CourseChart.Input(
                            history: page.history, responseReduction: page.responseReduction, remissionMax: page.remissionMax,
                            nextInfusionDue: page.phase.nextInfusionDue, monitoringDue: page.nearestMonitoring))
                })
            var today: TodayPage?
            todayGather.append(try ms { today = try engine.todayPage(on: day) })
            if let today {
                patients = today.patients
                todayRender.append(ms { _ = Reports.today(today) })
            }
        }
    } catch {
        fail("\(error)")
    }
    print(
        String(
            format:
                "patient %@ (%d events, %d bytes): gather %.1f ms, render %.1f ms (chart %.1f); today (%d patients): gather %.1f ms, render %.1f ms (medians of %d)",
            patient, events, bytes, median(gather), median(render), median(chart), patients, median(todayGather), median(todayRender), runs)
    )
default:
    fail("unknown mode \(mode)")
}
