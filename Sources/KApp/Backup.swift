import Glibc
import KClinic
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
/// sibling `DEST.partial-<pid>`, synced, opened and verified like `kstore audit verify`,
/// checked to be a prefix of the source (its head hash is the source's hash at the same
/// sequence), and only then renamed to DEST (atomic) and the parent synced. DEST is therefore
/// either absent or a complete verified backup; on any failure the partial copy is removed and
/// nothing existing is touched.
///
/// Everything is done through directory descriptors (`openat`, `mkdirat`, `renameat`, never
/// following a link): the partial directory is created 0700 and its `data.mdb` 0600 with
/// `O_EXCL|O_NOFOLLOW` before the first byte is copied into it through that descriptor, and a
/// parent directory other users may write is refused unless it is sticky (and owned by this
/// user or root), so nobody else can swap a link in for any name the backup uses. Partial
/// copies left by killed backups (their process is gone) are removed first, each named through
/// `notice`.
public enum Backup {
    public static func run(_ store: ClinicStore, to destination: String, notice: (String) -> Void = { _ in }) throws(AppError)
        -> BackupReport
    {
        let clock = ContinuousClock()
        let start = clock.now
        let place = try prepare(destination, notice: notice)
        defer { place.close() }
        do throws(AppError) {
            let copy = try copyAndVerify(store, into: place.dataFD, directory: place.copyDirectory, display: place.partialPath)
            return try finish(place, copy, seconds: seconds(clock.now - start))
        } catch {
            place.discard()
            throw error
        }
    }

    /// The partial backup directory, created and held open: DEST's parent, the partial
    /// directory and its (empty, owner-only) `data.mdb`, each as a descriptor.
    public final class Place {
        public let target: String
        public let parent: String
        let name: String
        public let partialName: String
        public let parentFD: Int32
        public let directoryFD: Int32
        public let dataFD: Int32
        var closed = false

        init(target: String, parent: String, name: String, partialName: String, parentFD: Int32, directoryFD: Int32, dataFD: Int32) {
            self.target = target
            self.parent = parent
            self.name = name
            self.partialName = partialName
            self.parentFD = parentFD
            self.directoryFD = directoryFD
            self.dataFD = dataFD
        }

        /// The partial directory's path (for messages).
        public var partialPath: String { parent == "/" ? "/" + partialName : parent + "/" + partialName }

        /// A path to the partial directory that resolves through this process's descriptor
        /// (`/proc/self/fd/N`), so the copy is opened where it was written whatever happens to
        /// the names; the plain path where there is no /proc.
        public var copyDirectory: String {
            var st = stat()
            let proc = "/proc/self/fd/\(directoryFD)"
            return stat(proc, &st) == 0 ? proc : partialPath
        }

        /// Removes the partial directory and what is in it (through the descriptors).
        public func discard() {
            FileSystem.removeEntries(directoryFD)
            unlinkat(parentFD, partialName, AT_REMOVEDIR)
        }

        public func close() {
            guard !closed else { return }
            closed = true
            Glibc.close(dataFD)
            Glibc.close(directoryFD)
            Glibc.close(parentFD)
        }

        deinit { close() }
    }

    /// Checks DEST and its parent, removes partial copies left by killed backups, and creates
    /// the partial directory with its empty, owner-only `data.mdb`.
    public static func prepare(_ destination: String, notice: (String) -> Void = { _ in }) throws(AppError) -> Place {
        let target = try checkDestination(destination)
        let parentFD = target.parentFD
        var keep = false
        defer { if !keep { close(parentFD) } }
        removeUnfinished(parentFD: parentFD, parent: target.parent, name: target.name, notice: notice)
        let partialName = target.name + ".partial-\(getpid())"
        let partialPath = target.parent == "/" ? "/" + partialName : target.parent + "/" + partialName
        if mkdirat(parentFD, partialName, 0o700) != 0 {
            let code = errno
            if code == EEXIST {
                throw .usage(
                    "\(partialPath) already exists and is not an unfinished backup of this user (\(describe(parentFD, partialName))); a backup never follows or reuses it: remove it and run the backup again"
                )
            }
            throw .usage("cannot create the backup directory \(partialPath): \(String(cString: strerror(code)))")
        }
        let directoryFD = openat(parentFD, partialName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0 else {
            let code = errno
            unlinkat(parentFD, partialName, AT_REMOVEDIR)
            throw .internal("cannot open the backup directory \(partialPath) it just created: \(String(cString: strerror(code)))")
        }
        var st = stat()
        guard fstat(directoryFD, &st) == 0, st.st_uid == geteuid(), fchmod(directoryFD, 0o700) == 0 else {
            close(directoryFD)
            throw .internal("the backup directory \(partialPath) is not the one this process created; it was left as it is")
        }
        let dataFD = openat(directoryFD, "data.mdb", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard dataFD >= 0, fchmod(dataFD, 0o600) == 0 else {
            let code = errno
            if dataFD >= 0 { close(dataFD) }
            FileSystem.removeEntries(directoryFD)
            close(directoryFD)
            unlinkat(parentFD, partialName, AT_REMOVEDIR)
            throw .internal("cannot create \(partialPath)/data.mdb: \(String(cString: strerror(code)))")
        }
        keep = true
        return Place(
            target: target.path, parent: target.parent, name: target.name, partialName: partialName, parentFD: parentFD,
            directoryFD: directoryFD, dataFD: dataFD)
    }

    /// What the copy holds, and how long the copy and its verification took.
    public struct Copied: Sendable, Equatable {
        public var events: UInt64
        public var headHash: String
        public var sourceEvents: UInt64
        public var bytes: Int
        public var copySeconds: Double
        public var verifySeconds: Double

        public init(events: UInt64, headHash: String, sourceEvents: UInt64, bytes: Int, copySeconds: Double, verifySeconds: Double) {
            self.events = events
            self.headHash = headHash
            self.sourceEvents = sourceEvents
            self.bytes = bytes
            self.copySeconds = copySeconds
            self.verifySeconds = verifySeconds
        }

        /// As the copying child process hands it to its parent.
        public var json: JSONValue {
            .object([
                ("events", .string(String(events))), ("headHash", .string(headHash)), ("sourceEvents", .string(String(sourceEvents))),
                ("bytes", .int(Int64(bytes))), ("copySeconds", .double(copySeconds)), ("verifySeconds", .double(verifySeconds)),
            ])
        }

        public init?(json: JSONValue) {
            func number(_ key: String) -> Double? {
                switch json[key] {
                case .int(let n)?: Double(n)
                case .double(let d)?: d
                default: nil
                }
            }
            guard case .string(let e)? = json["events"], let events = UInt64(e), case .string(let headHash)? = json["headHash"],
                case .string(let s)? = json["sourceEvents"], let sourceEvents = UInt64(s), let bytes = number("bytes"),
                let copySeconds = number("copySeconds"), let verifySeconds = number("verifySeconds")
            else { return nil }
            self.init(
                events: events, headHash: headHash, sourceEvents: sourceEvents, bytes: Int(bytes), copySeconds: copySeconds,
                verifySeconds: verifySeconds)
        }
    }

    /// The part that reads LMDB pages: the compact copy onto `dataFD` (synced), then the copy
    /// (opened at `directory`) verified and checked to be a prefix of the source.
    public static func copyAndVerify(_ store: ClinicStore, into dataFD: Int32, directory: String, display: String) throws(AppError)
        -> Copied
    {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try store.log.copyCompact(toFile: dataFD)
        } catch {
            if StoreDamage.isDamage(error) { throw .checkFailed(StoreDamage.sentence("backup's copy of data.mdb", "failed (\(error))")) }
            throw .internal("cannot copy the store \(store.path) to \(display): \(error)")
        }
        var rc: Int32
        repeat { rc = Glibc.fsync(dataFD) } while rc != 0 && errno == EINTR
        var st = stat()
        guard rc == 0, fstat(dataFD, &st) == 0 else {
            throw .internal("backup failed: fsync \(display)/data.mdb failed: \(String(cString: strerror(errno)))")
        }
        let copied = clock.now
        let check = try verifyCopy(directory, display: display, source: store)
        return Copied(
            events: check.events, headHash: check.headHash, sourceEvents: check.sourceEvents, bytes: Int(st.st_size),
            copySeconds: seconds(copied - start), verifySeconds: seconds(clock.now - copied))
    }

    /// Only the data file stays (opening the copy made a lock file), then the atomic rename
    /// into place and the parent synced.
    public static func finish(_ place: Place, _ copy: Copied, seconds total: Double) throws(AppError) -> BackupReport {
        FileSystem.removeEntries(place.directoryFD, keeping: "data.mdb")
        var rc: Int32
        repeat { rc = Glibc.fsync(place.directoryFD) } while rc != 0 && errno == EINTR
        guard rc == 0 else { throw .internal("backup failed: fsync \(place.partialPath) failed: \(String(cString: strerror(errno)))") }
        // The name still holds the directory the copy was written into (nothing swapped in).
        var mine = stat()
        var named = stat()
        guard fstat(place.directoryFD, &mine) == 0, fstatat(place.parentFD, place.partialName, &named, AT_SYMLINK_NOFOLLOW) == 0,
            named.st_mode & S_IFMT == S_IFDIR, named.st_dev == mine.st_dev, named.st_ino == mine.st_ino
        else {
            throw .internal(
                "\(place.partialPath) was replaced while the backup was being made (it is no longer the directory the copy was written into); nothing was moved into place"
            )
        }
        // A missing DEST is made here first (an empty directory of ours, or a refusal if something
        // appeared meanwhile), so the rename only ever replaces an empty directory (rename(2)
        // refuses a non-empty one) and never anything another process put there.
        var made = false
        if mkdirat(place.parentFD, place.name, 0o700) == 0 {
            made = true
        } else if errno != EEXIST {
            throw .internal("cannot create \(place.target): \(String(cString: strerror(errno)))")
        }
        if renameat(place.parentFD, place.partialName, place.parentFD, place.name) != 0 {
            let code = errno
            if made { unlinkat(place.parentFD, place.name, AT_REMOVEDIR) }
            if code == ENOTEMPTY || code == EEXIST || code == ENOTDIR || code == EISDIR {
                throw .usage("\(place.target) appeared while the backup was being made and is not empty; it was left as it is")
            }
            throw .internal("cannot move the verified copy into place: rename failed: \(String(cString: strerror(code)))")
        }
        repeat { rc = Glibc.fsync(place.parentFD) } while rc != 0 && errno == EINTR
        guard rc == 0 else {
            // The backup is complete and in place; only the rename's durability is in doubt.
            throw .internal(
                "the backup is in \(place.target) but its directory could not be synced: \(String(cString: strerror(errno)))")
        }
        return BackupReport(
            destination: place.target, events: copy.events, headHash: copy.headHash, bytes: copy.bytes,
            seconds: max(total, copy.copySeconds + copy.verifySeconds), copySeconds: copy.copySeconds,
            verifySeconds: copy.verifySeconds, sourceEvents: copy.sourceEvents)
    }

    /// Removes `NAME.partial-PID` directories in the parent whose process is gone (or is this
    /// one, which has not made one yet): they are this user's backups, killed before their
    /// rename. Anything else (another user's, a link, a running backup's) is left alone.
    static func removeUnfinished(parentFD: Int32, parent: String, name: String, notice: (String) -> Void) {
        let prefix = name + ".partial-"
        for entry in FileSystem.entries(parentFD) where entry.hasPrefix(prefix) {
            let digits = entry.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = Int32(digits) else { continue }
            let gone = pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)
            guard gone else { continue }
            var st = stat()
            guard fstatat(parentFD, entry, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid() else {
                continue
            }
            let fd = openat(parentFD, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            FileSystem.removeEntries(fd)
            close(fd)
            let path = parent == "/" ? "/" + entry : parent + "/" + entry
            if unlinkat(parentFD, entry, AT_REMOVEDIR) == 0 {
                notice("removed an unfinished backup left by a killed run: \(path)")
            } else {
                notice("could not remove an unfinished backup left by a killed run: \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// What is at `name` in a directory, in a few words (for refusals).
    static func describe(_ dirFD: Int32, _ name: String) -> String {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return "it cannot be examined" }
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return "it is a symbolic link"
        case S_IFDIR: return st.st_uid == geteuid() ? "it is a directory of a backup still running" : "it is a directory of another user"
        default: return "it is not a directory"
        }
    }

    /// DEST with trailing slashes removed, its parent directory (open) and its last component.
    struct Target {
        var path: String
        var parent: String
        var name: String
        var parentFD: Int32
    }

    /// DEST must be absent or an empty directory (not a link), in an existing directory that
    /// no other user may write (unless it is sticky and this user's or root's).
    static func checkDestination(_ destination: String) throws(AppError) -> Target {
        var path = destination
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard !path.isEmpty, path != "/", path != ".", path != "..", !path.hasSuffix("/."), !path.hasSuffix("/..") else {
            throw .usage(
                "backup needs a new directory to create, e.g. `kstore backup /backups/kstore-2026-01-05`; \(destination.isEmpty ? "none was given" : "\(destination) is not one")"
            )
        }
        let parent: String
        let name: String
        if let slash = path.lastIndex(of: "/") {
            parent = slash == path.startIndex ? "/" : String(path[..<slash])
            name = String(path[path.index(after: slash)...])
        } else {
            parent = "."
            name = path
        }
        let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw .usage("the directory \(parent) that would hold the backup \(path) does not exist; create it first")
            }
            throw .usage("cannot open the directory \(parent) that would hold the backup \(path): \(String(cString: strerror(code)))")
        }
        var keep = false
        defer { if !keep { close(parentFD) } }
        var st = stat()
        guard fstat(parentFD, &st) == 0 else {
            throw .internal("backup failed: fstat \(parent) failed: \(String(cString: strerror(errno)))")
        }
        let othersWrite = st.st_mode & (S_IWGRP | S_IWOTH) != 0
        let sticky = st.st_mode & S_ISVTX != 0
        if othersWrite && !(sticky && (st.st_uid == geteuid() || st.st_uid == 0)) {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            let why =
                sticky
                ? "is sticky but belongs to another user (uid \(st.st_uid))"
                : "is writable by \(st.st_mode & S_IWOTH != 0 ? "every user" : "its group") and not sticky (mode \(mode))"
            throw .usage(
                "the directory \(parent) that would hold the backup \(why): another user could swap the backup's files for links; give a directory only you can write (or a sticky one such as /tmp)"
            )
        }
        if fstatat(parentFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                let fd = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw .usage("cannot open \(path): \(String(cString: strerror(errno)))") }
                let entries = FileSystem.entries(fd)
                close(fd)
                if !entries.isEmpty {
                    throw .usage(
                        "\(path) already exists and is not empty (\(entries.count) entr\(entries.count == 1 ? "y" : "ies")); a backup never overwrites anything: give a new or empty directory"
                    )
                }
            case S_IFLNK:
                throw .usage("\(path) is a symbolic link; a backup never replaces one: give a new or empty directory")
            default:
                throw .usage(
                    "\(path) already exists and is not a directory; a backup never overwrites anything: give a new or empty directory")
            }
        } else if errno != ENOENT {
            throw .internal("backup failed: lstat \(path) failed: \(String(cString: strerror(errno)))")
        }
        keep = true
        return Target(path: path, parent: parent, name: name, parentFD: parentFD)
    }

    struct CopyCheck {
        var events: UInt64
        var headHash: String
        var sourceEvents: UInt64
    }

    /// Opens the copy (closed again on return), verifies it, and checks it is a prefix of `source`.
    static func verifyCopy(_ path: String, display: String, source: ClinicStore) throws(AppError) -> CopyCheck {
        let copy: ClinicStore
        do {
            copy = try ClinicStore.open(at: path)
        } catch {
            if StoreDamage.isDamage(error) {
                throw .checkFailed(StoreDamage.sentence("backup's copy of data.mdb", "does not open (\(error)); it was removed"))
            }
            throw .internal("the copy in \(display) does not open: \(error)")
        }
        guard copy.log.storeId == source.log.storeId else {
            throw .checkFailed(
                StoreDamage.sentence("backup's copy of data.mdb", "carries another store id than \(source.path)") + "; it was removed")
        }
        let report: VerifyReport
        do {
            report = try LogAudit.verify(copy)
        } catch {
            if StoreDamage.isDamage(error) {
                throw .checkFailed(StoreDamage.sentence("backup's verification of its copy", "failed (\(error)); it was removed"))
            }
            throw .internal("cannot verify the copy in \(display): \(error)")
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
            if StoreDamage.isDamage(error) {
                throw .checkFailed(StoreDamage.sentence("backup's reading of data.mdb", "failed (\(error)); the copy was removed"))
            }
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
