import CSQLite

/// A SQLite failure: the call, the result code and sqlite3_errmsg's text.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var operation: String
    var message: String
    var description: String { "SQLite \(operation): \(message) (code \(code))" }
}

/// The thinnest safe layer over SQLite's C API: one connection, prepared statements, errors
/// with their text. What a small team writes once before reaching for a wrapper package.
final class SQLiteDB {
    let handle: OpaquePointer

    init(path: String) throws {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, operation: "open \(path)", message: message)
        }
        handle = db
    }

    deinit { sqlite3_close_v2(handle) }

    static var version: String { String(cString: sqlite3_libversion()) }

    func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
        guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw SQLiteError(code: rc, operation: operation(), message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    /// Runs SQL that returns no rows we need (PRAGMAs, DDL, BEGIN/COMMIT).
    func exec(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, operation: sql, message: message)
        }
    }

    /// The first column of the first row of `sql` as text (for PRAGMA answers and plans).
    func text(_ sql: String, column: Int32 = 0) throws -> String? {
        let s = try prepare(sql)
        guard try s.step() else { return nil }
        return s.string(column)
    }

    func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil), "prepare \(sql)")
        guard let stmt else { throw SQLiteError(code: SQLITE_MISUSE, operation: "prepare \(sql)", message: "empty statement") }
        return Statement(db: self, stmt: stmt, sql: sql)
    }
}

@available(*, unavailable)
extension SQLiteDB: Sendable {}

/// One prepared statement, reused with `reset` between executions.
final class Statement {
    let db: SQLiteDB
    let stmt: OpaquePointer
    let sql: String

    init(db: SQLiteDB, stmt: OpaquePointer, sql: String) {
        self.db = db
        self.stmt = stmt
        self.sql = sql
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() throws {
        try db.check(sqlite3_reset(stmt), "reset \(sql)")
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ index: Int32, _ value: Int64) throws {
        try db.check(sqlite3_bind_int64(stmt, index, value), "bind \(index) of \(sql)")
    }

    func bind(_ index: Int32, _ value: String) throws {
        var v = value
        let rc = v.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { c in csqlite_bind_text_transient(stmt, index, c.baseAddress, Int32(c.count)) }
        }
        try db.check(rc, "bind \(index) of \(sql)")
    }

    func bind(_ index: Int32, _ value: String?) throws {
        if let value { try bind(index, value) } else { try db.check(sqlite3_bind_null(stmt, index), "bind \(index) of \(sql)") }
    }

    func bind(_ index: Int32, utf8 bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { c in csqlite_bind_text_transient(stmt, index, c.baseAddress, Int32(c.count)) }
        }
        try db.check(rc, "bind \(index) of \(sql)")
    }

    func bindBlob(_ index: Int32, _ bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { buf in csqlite_bind_blob_transient(stmt, index, buf.baseAddress, Int32(buf.count)) }
        try db.check(rc, "bind \(index) of \(sql)")
    }

    /// One step: true when a row is available, false when done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(code: rc, operation: "step \(sql)", message: String(cString: sqlite3_errmsg(db.handle)))
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }

    /// The column's text bytes, valid until the next step/reset (as SQLite hands them out).
    func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        guard let p = sqlite3_column_text(stmt, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: Int(sqlite3_column_bytes(stmt, column)))
    }

    func string(_ column: Int32) -> String? {
        guard sqlite3_column_type(stmt, column) != SQLITE_NULL else { return nil }
        return String(decoding: bytes(column), as: UTF8.self)
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
