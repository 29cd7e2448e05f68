import Foundation
import Glibc
import KApp
import KClinic
import KStore
import Testing

/// `kstore backup DEST`: a consistent, verified, owner-only hot copy that never overwrites anything.
@Suite(.serialized) struct BackupTests {
    /// A unique path in the temporary directory (not created), removed afterwards by the caller.
    func scratch(_ tag: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kstore-bk-\(tag)-\(UUID().uuidString)").path
    }

    func importExamples(_ store: ClinicStore) throws {
        let importer = Importer(store: store)
        for name in ["w1.ndjson", "w2.ndjson", "w3.ndjson"] {
            _ = try importer.importNDJSON(try exampleBytes(name), source: name)
        }
    }

    func mode(_ path: String) throws -> mode_t { try FileSystem.permissions(path) }

    /// Every record of `copy` has the same sequence and hash as `source`'s record at that sequence.
    func expectPrefix(_ copy: ClinicStore, of source: ClinicStore, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
        var copied: [(UInt64, [UInt8])] = []
        try copy.log.scan { view in
            copied.append((view.sequence, view.hash.copiedBytes))
            return true
        }
        var mismatches = 0
        try source.log.read { reader in
            for (seq, hash) in copied {
                let theirs = try reader.record(seq)?.hash.copiedBytes
                if theirs != hash { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(copied.count) copied records differ from the source", sourceLocation: sourceLocation)
        #expect(
            copied.enumerated().allSatisfy { UInt64($0.offset + 1) == $0.element.0 }, "the copy's sequences are not 1…n",
            sourceLocation: sourceLocation)
        return UInt64(copied.count)
    }

    @Test func backupOfTheWorkedExamplesVerifiesAndEqualsTheSource() throws {
        try withStore { store in
            try importExamples(store)
            let source = try LogAudit.verify(store)
            #expect(source.ok && source.events > 0)
            let dest = scratch("examples")
            defer { FileSystem.removeFlatDirectory(dest) }
            let report = try Backup.run(store, to: dest)
            #expect(report.destination == dest)
            #expect(report.events == source.events)
            #expect(report.headHash == source.headHash)
            #expect(report.sourceEvents == source.events)
            let size = try FileSystem.size(dest + "/data.mdb")
            #expect(report.bytes > 0 && report.bytes == size)
            #expect(report.seconds >= report.copySeconds && report.copySeconds > 0)
            // Only the data file, no partial sibling left.
            #expect(try FileSystem.entries(dest) == ["data.mdb"])
            #expect(try FileSystem.kind(dest + ".partial-\(getpid())") == .missing)
            // The copy opens, verifies, holds the same events and head, and the same store id.
            let copy = try ClinicStore.open(at: dest)
            let verified = try LogAudit.verify(copy)
            #expect(verified.ok, "\(verified.problems)")
            #expect(verified.events == source.events)
            #expect(verified.headHash == source.headHash)
            #expect(copy.log.storeId == store.log.storeId)
            #expect(try expectPrefix(copy, of: store) == source.events)
        }
    }

    @Test func permissionsAreOwnerOnly() throws {
        // Even with a permissive umask the backup is 0700 and its files 0600.
        let old = umask(0)
        defer { umask(old) }
        try withStore { store in
            try importExamples(store)
            let dest = scratch("perm")
            defer { FileSystem.removeFlatDirectory(dest) }
            _ = try Backup.run(store, to: dest)
            #expect(try mode(dest) == 0o700)
            for name in try FileSystem.entries(dest) {
                #expect(try mode(dest + "/" + name) == 0o600, "\(name)")
            }
        }
    }

    @Test func anEmptyDirectoryIsAcceptedAndBecomesTheBackup() throws {
        try withStore { store in
            try importExamples(store)
            let dest = scratch("empty")
            defer { FileSystem.removeFlatDirectory(dest) }
            try FileSystem.makeDirectory(dest, mode: 0o755)
            let report = try Backup.run(store, to: dest + "/")
            #expect(report.destination == dest)
            #expect(try mode(dest) == 0o700)
            #expect(try LogAudit.verify(try ClinicStore.open(at: dest)).ok)
        }
    }

    @Test func anExistingNonEmptyDestinationIsRefusedAndUntouched() throws {
        try withStore { store in
            try importExamples(store)
            let dest = scratch("full")
            defer { try? FileManager.default.removeItem(atPath: dest) }
            try FileSystem.makeDirectory(dest, mode: 0o755)
            let keep = dest + "/notes.txt"
            try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: keep))
            let before = try FileManager.default.attributesOfItem(atPath: keep)[.modificationDate] as? Date
            #expect(throws: AppError.self) { try Backup.run(store, to: dest) }
            do throws(AppError) {
                _ = try Backup.run(store, to: dest)
            } catch {
                #expect(error.exitCode == 64)
                #expect(error.description.contains("not empty"), "\(error)")
            }
            #expect(try FileSystem.entries(dest) == ["notes.txt"])
            #expect(try String(contentsOfFile: keep, encoding: .utf8) == "keep me\n")
            #expect(try FileManager.default.attributesOfItem(atPath: keep)[.modificationDate] as? Date == before)
            #expect(try mode(dest) == 0o755)
            #expect(try FileSystem.kind(dest + ".partial-\(getpid())") == .missing)

            // A regular file, and a missing parent directory, are refused too.
            let file = scratch("file")
            defer { try? FileManager.default.removeItem(atPath: file) }
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            #expect(
                throws: AppError.usage(
                    "\(file) already exists and is not a directory; a backup never overwrites anything: give a new or empty directory")
            ) {
                try Backup.run(store, to: file)
            }
            #expect(try String(contentsOfFile: file, encoding: .utf8) == "x")
            let orphan = scratch("noparent") + "/backup"
            #expect(throws: AppError.self) { try Backup.run(store, to: orphan) }
            #expect(try FileSystem.kind(orphan) == .missing)
        }
    }

    @Test func theCommandPrintsJSONAndRefusesWithExit64() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        try withStore { store in
            try importExamples(store)
            let count = try store.log.count()
            let dest = scratch("cli")
            defer { FileSystem.removeFlatDirectory(dest) }
            let r = try run(kstore, ["backup", "--store", store.path, dest, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try JSONParser.parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(doc["destination"] == .string(dest))
            #expect(doc["events"] == .int(Int64(count)))
            #expect(doc["head"] == .string(try store.log.hash(at: count) ?? ""))
            #expect(doc["bytes"] == .int(Int64(try FileSystem.size(dest + "/data.mdb"))))
            if case .double? = doc["seconds"] {} else { Issue.record("seconds: \(r.stdout)") }
            // The same destination again: refused, one sentence on stderr, exit 64, untouched.
            let again = try run(kstore, ["backup", "--store", store.path, dest])
            #expect(again.status == 64)
            #expect(again.stderr.hasPrefix("kstore: ") && again.stderr.contains("not empty"), "\(again.stderr)")
            #expect(again.stdout.isEmpty)
            #expect(try FileSystem.entries(dest) == ["data.mdb"])
            // The table form.
            let dest2 = scratch("cli2")
            defer { FileSystem.removeFlatDirectory(dest2) }
            let table = try run(kstore, ["backup", "--store", store.path, dest2])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("verified: \(count) events"), "\(table.stdout)")
        }
    }

    /// Another process grew the map past this one's (`MDB_MAP_RESIZED` at the copy's snapshot):
    /// the new size is adopted and the copy made.
    @Test func backupAfterAnotherProcessGrewTheMap() throws {
        guard let kstore = executable("kstore") else {
            Issue.record("kstore is not built; run `swift build --build-tests` first")
            return
        }
        try withStore(mapSize: 32 << 10) { store in
            let mapBefore = store.log.env.mapSize
            // ~12,000 events from another process: several MiB, past this process's map.
            var ndjson = ""
            for i in 0..<12_000 {
                let at = Timestamp(epochMillis: 1_735_700_000_000 + Int64(i) * 60_000, offsetMinutes: -300).rfc3339
                ndjson +=
                    line(
                        "VitalsRecorded", patient: "P-\(i % 9)", at: at,
                        data: #"{"systolic":\#(110 + i % 30),"diastolic":\#(70 + i % 15),"heartRate":72}"#) + "\n"
            }
            let imported = try run(kstore, ["import", "--store", store.path, "-"], stdin: ndjson)
            #expect(imported.status == 0, "\(imported.stderr)")
            let dest = scratch("resized")
            defer { FileSystem.removeFlatDirectory(dest) }
            let report = try Backup.run(store, to: dest)
            #expect(store.log.env.mapSize > mapBefore)
            #expect(report.events == (try store.log.count()))
            #expect(report.events >= 12_000)
            #expect(try LogAudit.verify(try ClinicStore.open(at: dest)).ok)
        }
    }

    /// The issue's case: a backup taken while 2 processes import concurrently opens, verifies
    /// and holds a prefix of the log.
    @Test func backupWhileTwoProcessesImportIsAVerifiedPrefix() throws {
        guard let drill = executable("kstore-drill") else {
            Issue.record("kstore-drill is not built; run `swift build --build-tests` first")
            return
        }
        try withStore { store in
            let writers = (1...2).map { _ -> Process in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: drill)
                p.arguments = ["write-loop", "--store", store.path, "--batch", "50"]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                return p
            }
            for p in writers { try p.run() }
            defer {
                for p in writers where p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                    p.waitUntilExit()
                }
            }
            // Both writers running and committing (up to 20 s for a slow start), then ~150 ms more.
            let deadline = Date().addingTimeInterval(20)
            while try store.log.count() < 200 && Date() < deadline && writers.allSatisfy(\.isRunning) { usleep(10_000) }
            usleep(150_000)
            let running = writers.allSatisfy { $0.isRunning }
            #expect(running, "a writer stopped early (is rn.drill permitted to record?)")
            let startCount = try store.log.count()

            let dest = scratch("hot")
            defer { FileSystem.removeFlatDirectory(dest) }
            let report = try Backup.run(store, to: dest)

            // The writers kept going after the copy (so it was taken while they wrote).
            let later = Date().addingTimeInterval(20)
            while try store.log.count() <= report.events && Date() < later && writers.allSatisfy(\.isRunning) { usleep(10_000) }
            for p in writers {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
            let finalCount = try store.log.count()
            #expect(report.events >= startCount, "the copy (\(report.events)) is older than the store before it began (\(startCount))")
            #expect(report.events <= report.sourceEvents)
            #expect(finalCount > report.events, "the writers did not write after the backup: \(finalCount) vs \(report.events)")

            let copy = try ClinicStore.open(at: dest)
            let verified = try LogAudit.verify(copy)
            #expect(verified.ok, "\(verified.problems.prefix(5))")
            #expect(verified.events == report.events)
            #expect(verified.headHash == report.headHash)
            #expect(try expectPrefix(copy, of: store) == report.events)
            #expect(try LogAudit.verify(store).ok)
        }
    }
}
