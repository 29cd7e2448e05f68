import ArgumentParser
import KApp
import KClinic

struct BackupCommand: StoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Make a consistent, verified hot copy of the store in a new directory.",
        discussion: """
            The copy is taken in one snapshot while others keep writing (LMDB's compacting copy), \
            synced to disk, made owner-only, opened and verified like `audit verify`, and checked to \
            be a prefix of the log before it is moved into place. DEST must not exist or must be an \
            empty directory; nothing existing is ever overwritten.
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "The backup directory to create (absent, or an empty directory).") var destination: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run(_ store: ClinicStore) throws {
        // A backup is a copy of every patient's record: an audited read, recorded before the copy.
        try recordAccess(store, patients: try patientsInScope(store, nil))
        let r = try Backup.run(store, to: destination, notice: { Output.error($0) })
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
