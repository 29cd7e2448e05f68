import Foundation
import Glibc
import KApp
import KClinic
import KStore
import Testing

/// Issue 11, items 8 and 9: a backup is built through directory descriptors (nothing swapped in
/// for one of its names receives the copy), refuses a parent other users may write, and removes
/// the partial copies killed backups left.
@Suite(.serialized) struct BackupSafetyTests {
    func scratch(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kstore-bks-\(tag)-\(UUID().uuidString)").path
    }

    func importExamples(_ store: ClinicStore) throws {
        let importer = Importer(store: store)
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            _ = try importer.importNDJSON(try exampleBytes(name), source: name)
        }
    }

    /// The pid of a process that has exited (and been reaped).
    func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    @Test func partialCopiesOfKilledBackupsAreRemovedAndNamed() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        try withStore { store in
            try importExamples(store)
            let parent = scratch("leftover")
            try FileSystem.makeDirectory(parent, mode: 0o700)
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let dest = parent + "/backup"
            // A killed backup's partial copy (its process is gone): a full data file.
            let dead = try deadPID()
            let leftover = dest + ".partial-\(dead)"
            try FileSystem.makeDirectory(leftover, mode: 0o700)
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: leftover + "/data.mdb"))
            // One of a backup still running (this test process) is left alone.
            let running = dest + ".partial-\(getpid())"
            try FileSystem.makeDirectory(running, mode: 0o700)
            // A link under a dead pid's name is never followed (nor is what it points at removed).
            let elsewhere = scratch("elsewhere")
            try FileSystem.makeDirectory(elsewhere, mode: 0o700)
            defer { try? FileManager.default.removeItem(atPath: elsewhere) }
            try Data("keep".utf8).write(to: URL(fileURLWithPath: elsewhere + "/keep.txt"))
            let link = dest + ".partial-\(try deadPID())"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere)

            let r = try run(kstore, ["backup", "--store", store.path, dest])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("removed an unfinished backup left by a killed run: \(leftover)"), "\(r.stderr)")
            #expect(try FileSystem.kind(leftover) == .missing)
            #expect(try FileSystem.kind(running) == .directory)
            #expect(try FileSystem.kind(link) == .symbolicLink)
            #expect(try FileSystem.entries(elsewhere) == ["keep.txt"])
            #expect(try FileSystem.entries(dest) == ["data.mdb"])
            // Nothing left over the second time: nothing said.
            let again = try run(kstore, ["backup", "--store", store.path, parent + "/backup2"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(!again.stderr.contains("removed an unfinished backup"), "\(again.stderr)")
        }
    }

    @Test func aParentOthersMayWriteIsRefusedUnlessSticky() throws {
        try withStore { store in
            try importExamples(store)
            let parent = scratch("open")
            try FileSystem.makeDirectory(parent, mode: 0o777)
            defer { try? FileManager.default.removeItem(atPath: parent) }
            do throws(AppError) {
                _ = try Backup.run(store, to: parent + "/backup")
                Issue.record("a backup into a world-writable, non-sticky directory was made")
            } catch {
                #expect(error.exitCode == 64)
                #expect(error.description.contains("writable by every user and not sticky"), "\(error)")
            }
            #expect(try FileSystem.entries(parent).isEmpty)
            // Group-writable is refused too; sticky (owned by this user) is accepted.
            try FileSystem.setPermissions(parent, 0o770)
            #expect(throws: AppError.self) { try Backup.run(store, to: parent + "/backup") }
            try FileSystem.setPermissions(parent, 0o1777)
            let report = try Backup.run(store, to: parent + "/backup")
            #expect(report.events == (try store.log.count()))
            #expect(try FileSystem.entries(parent) == ["backup"])
        }
    }

    /// The issue's attack: the temporary directory is swapped for a link to another directory
    /// while the backup runs. The copy never lands there and DEST never becomes the link.
    @Test func aLinkSwappedInForTheTemporaryDirectoryIsNotFollowed() throws {
        try withStore { store in
            try importExamples(store)
            let parent = scratch("swap")
            try FileSystem.makeDirectory(parent, mode: 0o700)
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let attacker = scratch("attacker")
            try FileSystem.makeDirectory(attacker, mode: 0o777)
            defer { try? FileManager.default.removeItem(atPath: attacker) }
            let dest = parent + "/backup"
            let partial = dest + ".partial-\(getpid())"
            let swapped = SwapFlag()
            let done = SwapFlag()
            let swapper = Thread {
                let deadline = Date().addingTimeInterval(20)
                while !done.value && Date() < deadline {
                    var st = stat()
                    if lstat(partial, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
                        if rename(partial, partial + ".moved") == 0 && symlink(attacker, partial) == 0 {
                            swapped.set()
                        }
                        return
                    }
                }
            }
            swapper.start()
            usleep(20_000)
            let outcome = Result { () throws(AppError) in try Backup.run(store, to: dest) }
            done.set()
            usleep(50_000)
            #expect(try FileSystem.entries(attacker).isEmpty, "the copy went into the swapped-in directory")
            #expect(try FileSystem.kind(dest) != .symbolicLink, "DEST became the swapped-in link")
            if case .success = outcome {
                #expect(try FileSystem.kind(dest + "/data.mdb") == .file)
            }
            _ = swapped.value
            // A link planted at the temporary name beforehand: refused with a sentence, not followed.
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.createSymbolicLink(atPath: partial, withDestinationPath: attacker)
            let dest2 = parent + "/backup2"
            let planted = dest2 + ".partial-\(getpid())"
            try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: attacker)
            do throws(AppError) {
                _ = try Backup.run(store, to: dest2)
                Issue.record("a backup went through a planted link")
            } catch {
                #expect(error.description.contains("symbolic link"), "\(error)")
            }
            #expect(try FileSystem.entries(attacker).isEmpty)
            #expect(try FileSystem.kind(planted) == .symbolicLink)
        }
    }
}

/// A flag set by one thread and read by another.
final class SwapFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }
    func set() {
        lock.lock()
        flag = true
        lock.unlock()
    }
}
