import Glibc
import KStore

/// What `kstore backup` made.
public struct BackupReport: Sendable, Equatable {
    /// The backup directory (holding `data.mdb`, owner-only).
    public var destination: String
    /// Events in the copy (its last sequence).
    public var events: UInt64
    /// Hex SHA-256 of the copy's last record (64 zeros for an empty log).
    public var headHash: String
    /// Size of the copy's `data.mdb`.
    public var bytes: Int
    /// The whole backup: copy, fsync, verification, rename.
    public var seconds: Double
    /// The copy and its fsync alone.
    public var copySeconds: Double
    /// Opening and verifying the copy, and the prefix check against the source.
    public var verifySeconds: Double
    /// The source's event count when the copy was checked against it (≥ `events`: writers
    /// may have appended while the copy was taken).
    public var sourceEvents: UInt64

    /// Copy throughput: bytes written (and synced) per second, in MB (10⁶ bytes).
    public var megabytesPerSecond: Double {
        copySeconds > 0 ? Double(bytes) / 1_000_000 / copySeconds : 0
    }
}

/// A consistent, verified hot copy of a store (`kstore backup DEST`).
///
/// The copy is LMDB's compacting copy taken in one read snapshot, so it is the log as of one
/// commit while other processes keep writing (they are never blocked). It is written into a
/// sibling `DEST.partial-<pid>`, synced, made owner-only, opened and verified like
/// `kstore audit verify`, checked to be a prefix of the source (its head hash is the source's
/// hash at the same sequence), and only then renamed to DEST (atomic) and the parent synced.
/// DEST is therefore either absent or a complete verified backup; on any failure the partial
/// copy is removed and nothing existing is touched.
public enum Backup {
    public static func run(_ store: ClinicStore, to destination: String) throws(AppError) -> BackupReport {
        let clock = ContinuousClock()
        let start = clock.now
        let target = try checkDestination(destination)
        let partial = target.path + ".partial-\(getpid())"
        switch try fs({ () throws(FileSystemError) in try FileSystem.kind(partial) }) {
        case .missing: break
        default:
            throw .usage("\(partial) is left over from an interrupted backup; remove it and run the backup again")
        }
        do {
            try FileSystem.makeDirectory(partial, mode: 0o700)
        } catch {
            throw .usage("cannot create the backup directory \(partial): \(error)")
        }
        do throws(AppError) {
            // 1. The compact copy, owner-only, on disk.
            let data = partial + "/data.mdb"
            do {
                try store.log.copyCompact(to: partial)
            } catch {
                throw .internal("cannot copy the store \(store.path) to \(partial): \(error)")
            }
            try fs { () throws(FileSystemError) in
                try FileSystem.setPermissions(data, 0o600)
                try FileSystem.fsync(data)
                try FileSystem.fsync(partial)
            }
            let bytes = try fs { () throws(FileSystemError) in try FileSystem.size(data) }
            let copied = clock.now

            // 2. The copy opens, verifies, and is a prefix of the source.
            let check = try verifyCopy(partial, source: store)
            let verified = clock.now

            // 3. Only the data file stays (opening the copy made a lock file), then the atomic rename.
            try fs { () throws(FileSystemError) in
                for name in try FileSystem.entries(partial) where name != "data.mdb" {
                    try FileSystem.removeFile(partial + "/" + name)
                }
                try FileSystem.fsync(partial)
            }
            do {
                try FileSystem.rename(partial, to: target.path)
            } catch {
                if error.code == ENOTEMPTY || error.code == EEXIST || error.code == ENOTDIR || error.code == EISDIR {
                    throw .usage("\(target.path) appeared while the backup was being made and is not empty; it was left as it is")
                }
                throw .internal("cannot move the verified copy into place: \(error)")
            }
            do {
                try FileSystem.fsync(target.parent)
            } catch {
                // The backup is complete and in place; only the rename's durability is in doubt.
                throw .internal("the backup is in \(target.path) but its directory could not be synced: \(error)")
            }
            let end = clock.now
            return BackupReport(
                destination: target.path, events: check.events, headHash: check.headHash, bytes: bytes,
                seconds: seconds(end - start), copySeconds: seconds(copied - start),
                verifySeconds: seconds(verified - copied), sourceEvents: check.sourceEvents)
        } catch {
            FileSystem.removeFlatDirectory(partial)
            throw error
        }
    }

    /// DEST with trailing slashes removed, and its parent directory.
    struct Target {
        var path: String
        var parent: String
    }

    /// DEST must be absent or an empty directory (not a link), in an existing directory.
    static func checkDestination(_ destination: String) throws(AppError) -> Target {
        var path = destination
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard !path.isEmpty, path != "/", path != ".", path != "..", !path.hasSuffix("/."), !path.hasSuffix("/..") else {
            throw .usage(
                "backup needs a new directory to create, e.g. `kstore backup /backups/kstore-2026-01-05`; \(destination.isEmpty ? "none was given" : "\(destination) is not one")"
            )
        }
        let parent: String
        if let slash = path.lastIndex(of: "/") {
            parent = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            parent = "."
        }
        switch try fs({ () throws(FileSystemError) in try FileSystem.kind(path) }) {
        case .missing:
            break
        case .directory:
            let entries = try fs { () throws(FileSystemError) in try FileSystem.entries(path) }
            if !entries.isEmpty {
                throw .usage(
                    "\(path) already exists and is not empty (\(entries.count) entr\(entries.count == 1 ? "y" : "ies")); a backup never overwrites anything: give a new or empty directory"
                )
            }
        case .symbolicLink:
            throw .usage("\(path) is a symbolic link; a backup never replaces one: give a new or empty directory")
        case .file, .other:
            throw .usage("\(path) already exists and is not a directory; a backup never overwrites anything: give a new or empty directory")
        }
        guard try fs({ () throws(FileSystemError) in try FileSystem.kind(parent) }) == .directory else {
            throw .usage("the directory \(parent) that would hold the backup \(path) does not exist; create it first")
        }
        return Target(path: path, parent: parent)
    }

    struct CopyCheck {
        var events: UInt64
        var headHash: String
        var sourceEvents: UInt64
    }

    /// Opens the copy (closed again on return), verifies it, and checks it is a prefix of `source`.
    static func verifyCopy(_ path: String, source: ClinicStore) throws(AppError) -> CopyCheck {
        let copy: ClinicStore
        do {
            copy = try ClinicStore.open(at: path)
        } catch {
            throw .internal("the copy in \(path) does not open: \(error)")
        }
        guard copy.log.storeId == source.log.storeId else {
            throw .internal("the copy in \(path) carries another store id than \(source.path)")
        }
        let report: VerifyReport
        do {
            report = try LogAudit.verify(copy)
        } catch {
            throw .internal("cannot verify the copy in \(path): \(error)")
        }
        guard report.ok else {
            let first = report.problems.first.map { ": first \($0)" } ?? ""
            throw .checkFailed(
                "the copy failed verification (\(report.problems.count) problem(s) in \(report.events) events\(first)); it was removed. Run `kstore audit verify` on the store"
            )
        }
        let sourceEvents: UInt64
        let sourceHash: String?
        do {
            sourceEvents = try source.log.count()
            sourceHash = report.events == 0 ? nil : try source.log.hash(at: report.events)
        } catch {
            throw .internal("cannot read the source store \(source.path) to compare the copy with it: \(error)")
        }
        guard report.events <= sourceEvents else {
            throw .checkFailed("the copy holds \(report.events) events but the store only \(sourceEvents); it was removed")
        }
        if report.events > 0 && sourceHash != report.headHash {
            throw .checkFailed(
                "the copy's head hash at sequence \(report.events) is not the store's (\(report.headHash.prefix(16))… ≠ \(sourceHash?.prefix(16) ?? "nothing")…): it is not a prefix of the log; it was removed"
            )
        }
        return CopyCheck(events: report.events, headHash: report.headHash, sourceEvents: sourceEvents)
    }

    /// Runs file-system calls, turning their failure into an internal error naming the call.
    static func fs<T>(_ body: () throws(FileSystemError) -> T) throws(AppError) -> T {
        do {
            return try body()
        } catch {
            throw .internal("backup failed: \(error)")
        }
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
