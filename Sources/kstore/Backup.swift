import ArgumentParser
import KApp
import KClinic

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Make a consistent, verified hot copy of the store in a new directory.",
        discussion: """
            The copy is taken in one snapshot while others keep writing (LMDB's compacting copy), \
            synced to disk, made owner-only, opened and verified like `audit verify`, and checked to \
            be a prefix of the log before it is moved into place. DEST must not exist or must be an \
            empty directory; nothing existing is ever overwritten. DEST's directory may not be \
            writable by other users unless it is sticky. The copy and its verification run in a \
            child process: a store so damaged that reading it crashes is reported (exit 1).
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "The backup directory to create (absent, or an empty directory).") var destination: String
    @Flag(help: "Print the result as JSON.") var json = false
    /// Internal: this process is the child that copies onto descriptor 3 (the partial
    /// `data.mdb`) and verifies the copy in descriptor 4 (the partial directory, named this).
    @Option(name: .customLong("copy-child"), help: .hidden) var copyChild: String?

    mutating func run() throws {
        let path = options.path
        if let display = copyChild {
            ChildProcess.enterChild()
            try guarded {
                let store: ClinicStore
                do {
                    store = try ClinicStore.open(at: path)
                } catch let e as AppError where StoreDamage.openFailureIsDamage(store: path, e) {
                    throw AppError.checkFailed(StoreDamage.sentence("backup could not open data.mdb", "(\(e))"))
                }
                // A backup is a copy of every patient's record: an audited read, recorded before the copy.
                do {
                    try recordAccess(store, patients: try patientsInScope(store, nil))
                } catch  where StoreDamage.isDamage(error) {
                    throw AppError.checkFailed(StoreDamage.sentence("backup's reading of data.mdb", "failed (\(error))"))
                }
                let copied = try Backup.copyAndVerify(store, into: 3, directory: "/proc/self/fd/4", display: display)
                Output.json(copied.json)
            }
            return
        }
        try guarded {
            let clock = ContinuousClock()
            let start = clock.now
            let place = try Backup.prepare(destination, notice: { Output.error($0) })
            defer { place.close() }
            let copied: Backup.Copied
            do {
                let outcome = try ChildProcess.run(
                    ChildProcess.executable, ["backup", "--store", path, "--copy-child", place.partialPath, "--", destination],
                    descriptors: [(place.dataFD, 3), (place.directoryFD, 4)])
                switch outcome.ending {
                case .signaled(let signal):
                    throw AppError.checkFailed(
                        StoreDamage.sentence("backup's copy of data.mdb", "died of \(ChildProcess.signalName(signal))")
                            + " (nothing was written to \(place.target))")
                case .exited(let code) where code != 0:
                    throw ExitCode(code)
                case .exited:
                    guard let doc = try? JSONParser.parse(outcome.stdout), let result = Backup.Copied(json: doc) else {
                        throw AppError.internal("the copying child process printed no result; nothing was written to \(place.target)")
                    }
                    copied = result
                }
            } catch {
                place.discard()
                throw error
            }
            let r: BackupReport
            do {
                let c = start.duration(to: clock.now).components
                r = try Backup.finish(place, copied, seconds: Double(c.seconds) + Double(c.attoseconds) * 1e-18)
            } catch {
                place.discard()
                throw error
            }
            render(r, json: json)
        }
    }

    private func render(_ r: BackupReport, json: Bool) {
        if json {
            Output.json(
                .object([
                    ("destination", .string(r.destination)), ("events", .int(Int64(r.events))), ("head", .string(r.headHash)),
                    ("bytes", .int(Int64(r.bytes))), ("seconds", .double(rounded(r.seconds))),
                    ("copySeconds", .double(rounded(r.copySeconds))), ("verifySeconds", .double(rounded(r.verifySeconds))),
                    ("megabytesPerSecond", .double((r.megabytesPerSecond * 10).rounded() / 10)),
                    ("sourceEvents", .int(Int64(r.sourceEvents))),
                ]))
        } else {
            var t = Table(["DESTINATION", "EVENTS", "HEAD", "BYTES", "SECONDS", "MB/S"])
            t.add([
                r.destination, String(r.events), r.headHash, String(r.bytes),
                format3(r.seconds), format1(r.megabytesPerSecond),
            ])
            Output.writeBytes(Array(t.render().utf8), to: 1)
            Output.line(
                "verified: \(r.events) events, hash chain and indexes intact, a prefix of the store's \(r.sourceEvents); copied in \(format3(r.copySeconds)) s (\(format1(r.megabytesPerSecond)) MB/s), verified in \(format3(r.verifySeconds)) s"
            )
        }
    }

    private func rounded(_ s: Double) -> Double { (s * 1000).rounded() / 1000 }
    private func format3(_ x: Double) -> String { fixed(x, 3) }
    private func format1(_ x: Double) -> String { fixed(x, 1) }

    /// `x` with `digits` decimals (no Foundation formatting needed).
    private func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int64((x * scale).rounded())
        let whole = n / Int64(scale)
        let frac = String(n % Int64(scale))
        return "\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
    }
}
