import Glibc

/// Keeping long passes from holding the whole store resident.
///
/// LMDB reads through a read-only shared memory map of data.mdb. Every page a process touches
/// stays mapped in it (and the kernel maps up to 16 neighbouring cached pages on each fault), so
/// a full replay of a 1 GB store would end with ~1 GB of file pages counted in its resident set,
/// although it needs only one bounded state per patient. `releaseResidentPages()` drops this
/// process's mappings of the whole map with `MADV_DONTNEED`: on a read-only shared file mapping
/// that only unmaps (the data stays in the page cache; the next read maps the page again,
/// unchanged), so it is safe at any moment, even while another thread reads through the map.
extension Environment {
    /// Unmaps this process's resident pages of data.mdb. Call it inside a transaction (the map
    /// cannot move while one is open in this process). A no-op where /proc is not available.
    func releaseResidentPages() {
        guard let region = mappedRegion() else { return }
        _ = madvise(region.start, region.length, MADV_DONTNEED)
    }

    /// File pages this process may keep mapped before a long pass releases them.
    public static let residentBudget = 64 << 20

    /// Releases the map's resident pages when this process's resident file-backed memory is
    /// above `residentBudget` (read from /proc/self/statm, a cheap read), so a pass over a
    /// small store never pays for faulting its pages in again. Call inside a transaction.
    func releaseResidentPagesIfOverBudget() {
        guard let shared = residentSharedBytes(), shared > Environment.residentBudget else { return }
        releaseResidentPages()
    }

    /// Resident file-backed (and shared) bytes of this process: /proc/self/statm's third field.
    private func residentSharedBytes() -> Int? {
        guard let statm = fopen("/proc/self/statm", "r") else { return nil }
        defer { fclose(statm) }
        var size = 0
        var resident = 0
        var shared = 0
        guard readStatm(statm, &size, &resident, &shared) else { return nil }
        return shared * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// This environment's map as /proc/self/maps lists it (the mapping of its data.mdb).
    private func mappedRegion() -> (start: UnsafeMutableRawPointer, length: Int)? {
        guard let canonical = realpath(path + "/data.mdb", nil) else { return nil }
        let dataFile = String(cString: canonical)
        free(canonical)
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            // "start-end perms offset dev inode path"
            guard text.hasSuffix(" " + dataFile + "\n") || text.hasSuffix(" " + dataFile) else { continue }
            let fields = text.split(separator: " ", maxSplits: 1)
            guard let range = fields.first else { continue }
            let bounds = range.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start,
                let pointer = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            return (pointer, Int(end - start))
        }
        return nil
    }
}

/// The first three numbers of /proc/self/statm (size, resident, shared, in pages).
private func readStatm(_ file: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int, _ c: inout Int) -> Bool {
    var buffer = [CChar](repeating: 0, count: 128)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
    let fields = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    guard fields.count >= 3, let x = Int(fields[0]), let y = Int(fields[1]), let z = Int(fields[2]) else { return false }
    a = x
    b = y
    c = z
    return true
}
