import CLMDB
import Glibc

/// A failed file-system call: the operation, the path and the system's reason.
public struct FileSystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(operation) \(path) failed: \(String(cString: strerror(code)))"
    }
}

/// The few file-system calls a backup needs, each checked, each throwing the system's reason.
public enum FileSystem {
    /// What is at a path (not following a final symbolic link).
    public enum Kind: Equatable, Sendable {
        case missing
        case directory
        case file
        case symbolicLink
        case other
    }

    public static func kind(_ path: String) throws(FileSystemError) -> Kind {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return .missing }
            throw FileSystemError(operation: "lstat", path: path, code: errno)
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// The names in a directory, without `.` and `..`.
    public static func entries(_ path: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(path) else { throw FileSystemError(operation: "opendir", path: path, code: errno) }
        defer { closedir(dir) }
        return names(dir)
    }

    /// The names in an open directory, without `.` and `..` (the descriptor stays open and
    /// is not moved: a duplicate is read).
    public static func entries(_ directoryFD: Int32) -> [String] {
        let fd = dup(directoryFD)
        guard fd >= 0 else { return [] }
        guard let dir = fdopendir(fd) else {
            close(fd)
            return []
        }
        defer { closedir(dir) }
        rewinddir(dir)
        return names(dir)
    }

    /// What `readdir` lists of an open directory stream, without `.` and `..`.
    private static func names(_ dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Unlinks every entry but `keeping` of an open directory (one level: files, links; never
    /// following a link), as far as it can.
    public static func removeEntries(_ directoryFD: Int32, keeping: String? = nil) {
        for name in entries(directoryFD) where name != keeping {
            unlinkat(directoryFD, name, 0)
        }
    }

    /// Size in bytes of a file.
    public static func size(_ path: String) throws(FileSystemError) -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileSystemError(operation: "stat", path: path, code: errno) }
        return Int(st.st_size)
    }

    /// Permission bits of a path (e.g. 0o600).
    public static func permissions(_ path: String) throws(FileSystemError) -> mode_t {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileSystemError(operation: "stat", path: path, code: errno) }
        return st.st_mode & 0o7777
    }

    /// Creates a directory (its parent must exist) and sets `mode` exactly, whatever the umask.
    public static func makeDirectory(_ path: String, mode: mode_t) throws(FileSystemError) {
        guard mkdir(path, mode) == 0 else { throw FileSystemError(operation: "mkdir", path: path, code: errno) }
        try setPermissions(path, mode)
    }

    public static func setPermissions(_ path: String, _ mode: mode_t) throws(FileSystemError) {
        guard chmod(path, mode) == 0 else { throw FileSystemError(operation: "chmod", path: path, code: errno) }
    }

    /// Flushes a file's or a directory's data and metadata to the disk (`fsync`).
    public static func fsync(_ path: String) throws(FileSystemError) {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw FileSystemError(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        var rc: Int32
        repeat { rc = Glibc.fsync(fd) } while rc != 0 && errno == EINTR
        guard rc == 0 else { throw FileSystemError(operation: "fsync", path: path, code: errno) }
    }

    /// `rename(2)`: atomic on one file system. A directory replaces only a missing path or an
    /// empty directory; anything else fails (`ENOTEMPTY`, `ENOTDIR`, `EEXIST`) and is untouched.
    public static func rename(_ from: String, to: String) throws(FileSystemError) {
        guard Glibc.rename(from, to) == 0 else { throw FileSystemError(operation: "rename", path: "\(from) to \(to)", code: errno) }
    }

    public static func removeFile(_ path: String) throws(FileSystemError) {
        guard unlink(path) == 0 else { throw FileSystemError(operation: "unlink", path: path, code: errno) }
    }

    /// Removes a directory and the regular files in it (one level: a store directory), as far
    /// as it can. Returns false if something was left behind.
    @discardableResult
    public static func removeFlatDirectory(_ path: String) -> Bool {
        guard (try? kind(path)) == .directory else { return (try? kind(path)) == .missing }
        var ok = true
        for name in (try? entries(path)) ?? [] where unlink(path + "/" + name) != 0 { ok = false }
        if rmdir(path) != 0 { ok = false }
        return ok
    }
}

extension Environment {
    /// Compacting hot copy onto an open file (`mdb_env_copyfd2` with `MDB_CP_COMPACT`), which
    /// the caller created (owner-only, exclusively, without following links) and syncs.
    public func copy(toFile fd: Int32) throws(LMDBError) {
        try check(mdb_env_copyfd2(handle, fd, UInt32(MDB_CP_COMPACT)), "mdb_env_copyfd2")
    }
}

extension EventLog {
    /// Writes a consistent, compacted copy of the whole store (one read snapshot, free pages
    /// omitted: `mdb_env_copyfd2` with `MDB_CP_COMPACT`) onto an open, empty file the caller
    /// created; writers in this and other processes are not blocked. The copy never goes
    /// through a path, so nothing swapped in for one can receive it. Nothing is synced: the
    /// caller fsyncs. If another process grew the map since this one last looked
    /// (`MDB_MAP_RESIZED`), the new size is adopted, the file emptied and the copy started again.
    public func copyCompact(toFile fd: Int32) throws(LMDBError) {
        var attempts = 0
        while true {
            do throws(LMDBError) {
                try env.copy(toFile: fd)
                return
            } catch let error where error.code == .mapResized && attempts < 3 {
                attempts += 1
                _ = ftruncate(fd, 0)
                _ = lseek(fd, 0, SEEK_SET)
                try env.setMapSize(0)
            }
        }
    }
}
