import Glibc
import KStore

/// The lines of an NDJSON input read in chunks (`chunkSize`, 1 MiB), so an import holds one
/// chunk and the line in hand, never the file: a line may span chunks (the buffer grows to hold
/// a line longer than a chunk), `\r\n` ends a line like `\n`, blank lines are skipped and a last
/// line without a newline counts.
///
/// `forEachLine` reads the input from its first byte every time it is called, because a write
/// transaction that meets a full map is run again from the start (`Environment.write`). A regular
/// file is read again with `pread`; a pipe (standard input) cannot be, so what is read from it is
/// also written to an unlinked spool file beside the store (owner-only, gone when closed) and the
/// second pass reads that first.
final class NDJSONReader {
    private enum Source {
        case memory([UInt8])
        case file(Int32)
        /// A descriptor that cannot seek, and the spool holding what was read of it.
        case pipe(Int32, spool: Int32)
    }

    static let chunkSize = 1 << 20

    private let source: Source
    private let closes: [Int32]
    /// Bytes of a pipe in the spool (all read so far).
    private var spooled = 0
    private let spoolCipher = EphemeralStreamCipher()
    /// The input's size when known before reading (a regular file, bytes in memory).
    let knownSize: Int?

    init(bytes: [UInt8]) {
        source = .memory(bytes)
        closes = []
        knownSize = bytes.count
    }

    /// Reads `fd` (closed at the end when `owned`); `spoolDirectory` is where a pipe is spooled.
    init(descriptor fd: Int32, owned: Bool, spoolDirectory: String) throws(ReadFailure) {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            if owned { close(fd) }
            throw ReadFailure(errno: errno)
        }
        if (st.st_mode & S_IFMT) == S_IFREG {
            source = .file(fd)
            knownSize = Int(st.st_size)
            closes = owned ? [fd] : []
        } else {
            var template = Array((spoolDirectory + "/.import-spool-XXXXXX").utf8CString)
            let spool = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.map { mkstemp($0) } ?? -1 }
            guard spool >= 0 else {
                if owned { close(fd) }
                throw ReadFailure(errno: errno)
            }
            // Unlinked at once: the spool has no name, and vanishes with the process.
            template.withUnsafeBufferPointer { buf in _ = buf.baseAddress.map { unlink($0) } }
            source = .pipe(fd, spool: spool)
            knownSize = nil
            closes = owned ? [fd, spool] : [spool]
        }
    }

    deinit {
        for fd in closes { close(fd) }
    }

    /// An errno met reading the input.
    struct ReadFailure: Error {
        var errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }

    /// Calls `body` with each non-blank line's number (from 1) and bytes (without `\r\n`), which
    /// live only for the call, from the input's first byte on.
    func forEachLine(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        var capacity = NDJSONReader.chunkSize
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        var position = 0  // bytes of the input read so far
        var filled = 0  // bytes in `buffer`
        var lineNo = 0
        var eof = false
        while !eof {
            if filled == capacity {
                // One line longer than the buffer: double it, keeping the line.
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 8)
                larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
            let n = try read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<capacity]))
            position += n
            eof = n == 0
            let end = filled + n
            var start = 0
            var i = filled
            let base = UnsafeRawBufferPointer(buffer)
            while i < end, let p = base.baseAddress, let nl = memchr(p + i, 0x0A, end - i) {
                i = p.distance(to: UnsafeRawPointer(nl))
                lineNo += 1
                try emit(UnsafeRawBufferPointer(rebasing: base[start..<i]), lineNo, body)
                i += 1
                start = i
            }
            if eof && start < end {
                lineNo += 1
                try emit(UnsafeRawBufferPointer(rebasing: base[start..<end]), lineNo, body)
                start = end
            }
            // Keep the unfinished line at the front.
            filled = end - start
            if filled > 0 && start > 0, let front = buffer.baseAddress {
                memmove(front, front + start, filled)
            }
        }
    }

    private func emit(_ raw: UnsafeRawBufferPointer, _ lineNo: Int, _ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        var line = raw
        if let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line[0..<(line.count - 1)]) }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        try body(lineNo, line)
    }

    /// Up to `into.count` bytes of the input from `offset` (0 at its end).
    private func read(at offset: Int, into: UnsafeMutableRawBufferPointer) throws(ReadFailure) -> Int {
        switch source {
        case .memory(let bytes):
            let n = max(0, min(into.count, bytes.count - offset))
            if n > 0 { bytes.withUnsafeBytes { into.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) } }
            return n
        case .file(let fd):
            return try retrying { pread(fd, into.baseAddress, into.count, off_t(offset)) }
        case .pipe(let fd, let spool):
            if offset < spooled {
                let n = try retrying { pread(spool, into.baseAddress, min(into.count, spooled - offset), off_t(offset)) }
                spoolCipher.apply(UnsafeMutableRawBufferPointer(rebasing: into[0..<n]), at: offset)
                return n
            }
            let n = try retrying { Glibc.read(fd, into.baseAddress, into.count) }
            // The spool holds the lines under a key of this process only (never plaintext on disk).
            let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: max(n, 1), alignment: 16)
            defer { sealed.deallocate() }
            if n > 0 { sealed.copyMemory(from: UnsafeRawBufferPointer(rebasing: into[0..<n])) }
            spoolCipher.apply(UnsafeMutableRawBufferPointer(rebasing: sealed[0..<n]), at: spooled)
            var written = 0
            while written < n {
                let w = try retrying {
                    pwrite(spool, sealed.baseAddress.map { $0 + written }, n - written, off_t(spooled + written))
                }
                guard w > 0 else { throw ReadFailure(errno: ENOSPC) }
                written += w
            }
            spooled += n
            return n
        }
    }

    private func retrying(_ call: () -> Int) throws(ReadFailure) -> Int {
        while true {
            let n = call()
            if n >= 0 { return n }
            if errno != EINTR { throw ReadFailure(errno: errno) }
        }
    }
}

@available(*, unavailable)
extension NDJSONReader: Sendable {}
