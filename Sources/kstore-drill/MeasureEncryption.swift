import Foundation
import KApp
import KClinic
import KStore

/// `kstore-drill measure-encryption --ndjson FILE [--runs R] [--appends N]`: issue 16's
/// benchmark, plain beside encrypted in the same run. Each run imports FILE into a fresh plain
/// store and a fresh encrypted one (a master key made for the run, outside both), then times on
/// each: the import, a full replay of every projection (after one warm-up), N durable
/// single-event appends, and `LogAudit.verify` (the encrypted store without its key and with it).
/// Prints medians and the bytes per event of each store's data.mdb and of LMDB's pages in use.
func runMeasureEncryption(file: String, runs: Int, appends: Int) -> Never {
    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
    let bytes = [UInt8](data)
    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-measure-enc-\(getpid())").path
    let keyDir = base + "-key"
    defer {
        try? FileManager.default.removeItem(atPath: keyDir)
    }
    struct Rates {
        var importRate: [Double] = []
        var replay: [Double] = []
        var appends: [Double] = []
        var verify: [Double] = []
        var verifyKeyless: [Double] = []
        var fileBytesPerEvent = 0.0
        var usedBytesPerEvent = 0.0
        var events = 0
    }
    var plain = Rates()
    var encrypted = Rates()
    do {
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyFile = keyDir + "/master.key"
        _ = try MasterKeys.generate(out: keyFile)
        for run in 0..<runs {
            // Alternate which goes first, so neither always gets the colder cache.
            for enc in (run % 2 == 0 ? [false, true] : [true, false]) {
                let dir = base + "-\(run)-\(enc ? "enc" : "plain")"
                defer { try? FileManager.default.removeItem(atPath: dir) }
                var r = enc ? encrypted : plain
                do {
                    let store = try ClinicStore.create(at: dir, masterKeyFile: enc ? keyFile : nil)
                    try Actors.bootstrap(store)
                    try Actors.registerFixtureActors(store, tsv: actorsTSV())
                    var imported = 0
                    let t = try seconds { imported = try Importer(store: store).importNDJSON(bytes, source: file).imported }
                    r.importRate.append(Double(imported) / t)
                    r.events = Int(try store.log.count())
                    r.usedBytesPerEvent = Double(store.log.env.usedBytes) / Double(max(r.events, 1))
                    let engine = ProjectionEngine(store: store)
                    _ = try engine.rebuildStored()
                    var replayed: UInt64 = 0
                    let tp = try seconds { replayed = try engine.rebuildStored() }
                    r.replay.append(Double(replayed) / tp)
                    let importer = Importer(store: store)
                    let ta = try seconds {
                        for i in 0..<appends {
                            _ = try importer.importNDJSON(Array(syntheticLine(patient: "M-\(i % 50)", n: i).utf8), source: "append")
                        }
                    }
                    r.appends.append(Double(appends) / ta)
                }
                // Verify on a fresh handle: the encrypted store without its key, then with it.
                let n = Double(r.events + appends)
                if enc {
                    let keyless = try ClinicStore.open(at: dir, keyless: true)
                    var report: VerifyReport?
                    let tk = try seconds { report = try LogAudit.verify(keyless) }
                    guard report?.ok == true else { fail("keyless verify of the encrypted store failed: \(report?.problems ?? [])") }
                    r.verifyKeyless.append(n / tk)
                }
                let opened = try ClinicStore.open(at: dir, keyFile: enc ? keyFile : nil)
                var report: VerifyReport?
                let tv = try seconds { report = try LogAudit.verify(opened) }
                guard report?.ok == true else { fail("verify failed: \(report?.problems ?? [])") }
                r.verify.append(n / tv)
                let size = (try FileManager.default.attributesOfItem(atPath: dir + "/data.mdb")[.size] as? NSNumber)?.doubleValue ?? 0
                r.fileBytesPerEvent = size / n
                if enc { encrypted = r } else { plain = r }
            }
        }
    } catch {
        fail("\(error)")
    }
    func f(_ x: Double) -> String { String(format: "%.0f", x) }
    func pct(_ a: Double, _ b: Double) -> String { String(format: "%.0f%%", b == 0 ? 0 : 100 * a / b) }
    print("input: \(file) (\(plain.events) events in the store after import), runs: \(runs) (medians), appends: \(appends) per run")
    print("                                     plain        encrypted    encrypted/plain")
    func row(_ name: String, _ p: Double, _ e: Double) {
        print(
            name.padding(toLength: 36, withPad: " ", startingAt: 0) + f(p).padding(toLength: 13, withPad: " ", startingAt: 0)
                + f(e).padding(toLength: 13, withPad: " ", startingAt: 0) + pct(e, p))
    }
    row("import (events/s)", median(plain.importRate), median(encrypted.importRate))
    row("full replay (events/s)", median(plain.replay), median(encrypted.replay))
    row("durable appends (appends/s)", median(plain.appends), median(encrypted.appends))
    row("verify, with the key (events/s)", median(plain.verify), median(encrypted.verify))
    row("verify, without the key (events/s)", median(plain.verify), median(encrypted.verifyKeyless))
    row("data.mdb bytes/event", plain.fileBytesPerEvent, encrypted.fileBytesPerEvent)
    row("LMDB pages in use, bytes/event", plain.usedBytesPerEvent, encrypted.usedBytesPerEvent)
    exit(0)
}
