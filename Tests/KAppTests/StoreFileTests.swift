import Foundation
import Glibc
import KApp
import KClinic
import KStore
import Testing

/// What operators and scripts do to a store's files (issue 11, items 1, 2, 3, 12, 15): a
/// deleted lock.mdb under a running writer, a data.mdb cut short or emptied, a store without
/// its meta, an archive this OS user may only read, a directory it may not enter, a full disk.
@Suite(.serialized) struct StoreFileTests {
    func scratch(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kstore-files-\(tag)-\(UUID().uuidString)").path
    }

    /// A store holding the worked examples, closed again; its path.
    func exampleStore(_ tag: String) throws -> String {
        let dir = scratch(tag)
        let store = try ClinicStore.create(at: dir)
        try registerTestActors(store)
        let importer = Importer(store: store)
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            _ = try importer.importNDJSON(try exampleBytes(name), source: name)
        }
        return dir
    }

    func kstore() throws -> String {
        guard let path = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }

    // MARK: Item 1: a deleted lock.mdb

    /// A second process that starts while the first is inside a write transaction, after a
    /// clean-up script deleted lock.mdb, gets a fresh lock file with a mutex of its own. Without
    /// kstore's own writer lock both commit over the same meta page and one's acknowledged
    /// event vanishes; with it the second waits, both events are kept, and the first process
    /// (whose lock file is gone) refuses to write again.
    @Test func aDeletedLockFileNeitherLosesEventsNorLetsTwoWritersIn() throws {
        guard let drill = executable("kstore-drill") else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        let dir = scratch("lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ClinicStore.create(at: dir)
        try registerTestActors(store)
        let before = try store.log.count()
        let event = NewEvent(
            eventId: (0..<16).map { _ in UInt8.random(in: 0...255) }, typeCode: 9999, schemaVersion: 1, stream: "L-1",
            occurredAtMillis: 1_767_600_000_000, offsetMinutes: 0, actorId: "rn.kim", actorRole: 1, osUser: "test",
            payload: Array("raw".utf8))
        func drillAppend() -> (Process, Pipe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: drill)
            p.arguments = ["append", "--store", dir, "--count", "1", "--tag", "L"]
            p.standardOutput = FileHandle.nullDevice
            let err = Pipe()
            p.standardError = err
            return (p, err)
        }
        let (second, secondErr) = drillAppend()
        var finishedDuringOurTransaction = false
        let clock: () -> Int64 = { 1_767_600_000_000_000 }
        try store.log.append(
            [event], clockMicros: clock,
            validate: { _, _, _ in
                // Inside our write transaction: the clean-up script, then another writer.
                unlink(dir + "/lock.mdb")
                try second.run()
                for _ in 0..<30 where second.isRunning { usleep(50_000) }
                finishedDuringOurTransaction = !second.isRunning
            })
        let secondMessage = String(decoding: secondErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(!finishedDuringOurTransaction, "a second writer committed while this process held the write transaction")
        // The second process made a new lock file while our transaction was open, so LMDB's
        // view of the log in it dates from before our commit: it waited for our commit, then
        // refused to write on top of that stale view.
        #expect(second.terminationStatus != 0)
        #expect(secondMessage.contains("lock.mdb was recreated while another process was writing"), "\(secondMessage)")
        // Our process opened the deleted lock file: it refuses to write any more.
        var refused: StoreError?
        do {
            try store.log.append([event], clockMicros: { 1_767_600_000_000_000 })
        } catch let e as StoreError {
            refused = e
        }
        #expect(refused == .lockFileReplaced(path: dir))
        #expect(refused?.description.contains("lock.mdb was deleted or replaced") == true)
        // Once the second process is gone, the next one sets the new lock file up afresh and writes.
        let (third, _) = drillAppend()
        try third.run()
        third.waitUntilExit()
        #expect(third.terminationStatus == 0)
        let reopened = try EventLog.open(at: dir, auxiliary: ClinicStore.auxiliaryDatabases)
        let after = try reopened.count()
        #expect(after == before + 2, "our event and the third process's are in the store: \(after) after \(before)")
        let report = try reopened.verify()
        #expect(report.ok, "\(report.problems)")
    }

    // MARK: Item 2: data.mdb cut short

    @Test func aTruncatedDataFileIsRefusedAndVerifyFailsNamingIt() throws {
        let kstore = try kstore()
        let dir = try exampleStore("trunc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let used = try EventLog.open(at: dir).env.usedBytes
        #expect(truncate(dir + "/data.mdb", off_t(used - 4096)) == 0)

        let log = try run(kstore, ["log", "--store", dir])
        #expect(log.status == 66, "status \(log.status): \(log.stderr)")
        #expect(log.stderr.contains("is damaged"), "\(log.stderr)")
        #expect(log.stderr.contains("backup"), "\(log.stderr)")
        let query = try run(kstore, ["query", "phase", "--store", dir])
        #expect(query.status == 66, "status \(query.status): \(query.stderr)")

        let verify = try run(kstore, ["audit", "verify", "--store", dir])
        #expect(verify.status == 1, "status \(verify.status): \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("FAILED") && verify.stdout.contains("cut short"), "\(verify.stdout)")
        let json = try run(kstore, ["audit", "verify", "--store", dir, "--json"])
        #expect(json.status == 1)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(doc?["ok"] as? Bool == false)
        #expect((doc?["problems"] as? [[String: Any]])?.first?["kind"] as? String == "damaged")
        #expect(fileSize(dir + "/data.mdb") == used - 4096, "nothing was written")
    }

    // MARK: Item 3: an empty data.mdb, a store without meta

    @Test func anEmptyDataFileIsNotAStore() throws {
        let kstore = try kstore()
        let dir = try exampleStore("empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(truncate(dir + "/data.mdb", 0) == 0)

        let verify = try run(kstore, ["audit", "verify", "--store", dir])
        #expect(verify.status == 1, "status \(verify.status): \(verify.stdout)")
        #expect(verify.stdout.contains("is damaged or is not a kstore store") && verify.stdout.contains("empty"), "\(verify.stdout)")
        let append = try run(
            kstore,
            [
                "append", "--store", dir, "--patient", "P-1", "--type", "ScoreRecorded", "--at", "2026-01-05T09:30:00-05:00",
                "--actor", "rn.kim", "--role", "nurse", "--data", #"{"instrument":"MADRS","value":12}"#,
            ])
        #expect(append.status == 66, "status \(append.status): \(append.stderr)")
        #expect(append.stderr.contains("is damaged or is not a kstore store"))
        #expect(fileSize(dir + "/data.mdb") == 0, "LMDB must not have initialised the empty file as a new store")
    }

    @Test func anLMDBFileWithoutKstoreMetaIsNotAStore() throws {
        let kstore = try kstore()
        let dir = scratch("nometa")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkdir(dir, 0o700) == 0)
        do {
            let env = try Environment(path: dir, mapSize: 1 << 20)
            _ = try env.openDatabases(["events"])
        }
        let verify = try run(kstore, ["audit", "verify", "--store", dir, "--json"])
        #expect(verify.status == 1, "status \(verify.status): \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("no kstore meta"), "\(verify.stdout)")
        let log = try run(kstore, ["log", "--store", dir])
        #expect(log.status == 66)
        #expect(log.stderr.contains("is damaged or is not a kstore store"), "\(log.stderr)")
    }

    // MARK: Item 12: a read-only archive, permission errors

    /// Runs kstore as the unprivileged OS user `nobody` (needs root to switch). The binary is
    /// copied to a directory anyone may enter first: the checkout itself may be owner-only.
    func runAsNobody(_ kstore: String, _ args: [String]) throws -> RunResult? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { return nil }
        let dir = scratch("bin")
        #expect(mkdir(dir, 0o755) == 0 && chmod(dir, 0o755) == 0)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let copy = dir + "/kstore"
        try FileManager.default.copyItem(atPath: kstore, toPath: copy)
        #expect(chmod(copy, 0o755) == 0)
        return try run("/usr/sbin/runuser", ["-u", "nobody", "--", copy] + args)
    }

    /// Makes `path` and everything under it readable (not writable) by others, and its
    /// ancestors traversable, so that `nobody` can read a copy made by root.
    func readableByOthers(_ path: String) throws {
        #expect(chmod(path, 0o755) == 0)
        for name in try FileManager.default.contentsOfDirectory(atPath: path) { #expect(chmod(path + "/" + name, 0o644) == 0) }
    }

    @Test func verifyChecksAnArchiveThisUserMayOnlyRead() throws {
        let kstore = try kstore()
        let dir = try exampleStore("ro")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try readableByOthers(dir)
        guard let verify = try runAsNobody(kstore, ["audit", "verify", "--store", dir]) else {
            print("StoreFileTests: not root or no runuser; the read-only archive case is checked by tools/store-files-drill.sh")
            return
        }
        #expect(verify.status == 0, "status \(verify.status): \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("ok: "), "\(verify.stdout)")
        // A write by that user says what is wrong, not that there is no store.
        let append = try runAsNobody(
            kstore,
            [
                "append", "--store", dir, "--patient", "P-1", "--type", "ScoreRecorded", "--at", "2026-01-05T09:30:00-05:00",
                "--actor", "rn.kim", "--role", "nurse", "--data", #"{"instrument":"MADRS","value":12}"#,
            ])
        #expect(append?.status == 66)
        #expect(append?.stderr.contains("permission denied for this OS user (nobody)") == true, "\(append?.stderr ?? "")")
    }

    @Test func aStoreThisUserMayNotEnterIsAPermissionErrorNotAMissingStore() throws {
        let kstore = try kstore()
        let dir = try exampleStore("perm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let log = try runAsNobody(kstore, ["log", "--store", dir]) else {
            print("StoreFileTests: not root or no runuser; the permission case is checked by tools/store-files-drill.sh")
            return
        }
        #expect(log.status == 66)
        #expect(log.stderr.contains("permission denied for this OS user (nobody)"), "\(log.stderr)")
        #expect(!log.stderr.contains("no kstore store"), "\(log.stderr)")
    }

    /// A store on a file system mounted read-only (a backup on read-only media): root cannot
    /// write it either, and verify still checks it.
    @Test func verifyChecksAStoreOnAReadOnlyFileSystem() throws {
        let kstore = try kstore()
        let dir = try exampleStore("romedia")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mount = scratch("mnt")
        #expect(mkdir(mount, 0o700) == 0)
        defer { rmdir(mount) }
        guard getuid() == 0, (try run("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount])).status == 0 else {
            print("StoreFileTests: cannot mount a tmpfs here; the read-only media case is checked by tools/store-files-drill.sh")
            return
        }
        defer { _ = try? run("/bin/umount", [mount]) }
        let copy = mount + "/store"
        #expect(mkdir(copy, 0o700) == 0)
        for name in ["data.mdb", "lock.mdb"] { try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: copy + "/" + name) }
        #expect((try run("/bin/mount", ["-o", "remount,ro", mount])).status == 0)
        let verify = try run(kstore, ["audit", "verify", "--store", copy])
        #expect(verify.status == 0, "status \(verify.status): \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("ok: "), "\(verify.stdout)")
        let log = try run(kstore, ["log", "--store", copy])
        #expect(log.status == 66)
        #expect(log.stderr.contains("read-only file system"), "\(log.stderr)")
    }

    // MARK: Item 15: a full disk

    @Test func aFullDiskIsCalledAFullDisk() throws {
        let kstore = try kstore()
        let mount = scratch("full")
        #expect(mkdir(mount, 0o700) == 0)
        defer { rmdir(mount) }
        guard getuid() == 0, (try run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount])).status == 0 else {
            print("StoreFileTests: cannot mount a tmpfs here; the full-disk case is checked by tools/store-files-drill.sh")
            return
        }
        defer { _ = try? run("/bin/umount", [mount]) }
        let dir = mount + "/store"
        do { try registerTestActors(try ClinicStore.create(at: dir)) }
        var lines = ""
        for i in 0..<20000 {
            let at = Timestamp(epochMillis: 1_767_600_000_000 + Int64(i) * 60_000, offsetMinutes: -300).rfc3339
            lines += line("ScoreRecorded", patient: "F-\(i % 40)", at: at, data: #"{"instrument":"MADRS","value":\#(i % 60)}"#) + "\n"
        }
        // A file, not standard input: the import stops reading at the full disk (a pipe's
        // writer would then die of SIGPIPE).
        let file = scratch("full") + ".ndjson"
        defer { unlink(file) }
        try lines.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try run(kstore, ["import", "--store", dir, file])
        #expect(result.status != 0)
        #expect(result.stderr.contains("the disk is full"), "\(result.stderr)")
        #expect(!result.stderr.contains("Input/output error"), "\(result.stderr)")
        #expect(try ClinicStore.open(at: dir, readOnly: true).log.verify().ok)
    }
}
