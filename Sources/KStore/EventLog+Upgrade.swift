import KBinary

/// Opening a store written in an older layout.
///
/// Format 1 (before this code) kept `streams` as `stream ‖ 0 ‖ version(BE64) → sequence` plus a
/// `heads` database (`stream → version ‖ last sequence`). Format 2 keeps `streams` as an
/// `MDB_DUPSORT|MDB_DUPFIXED` database `stream → sequences` and no `heads`. A format-1 store is
/// upgraded the first time this code opens it, in one write transaction: every event is read,
/// the old `streams` and `heads` entries are checked against it (an index that disagrees with
/// the events is evidence `audit verify` would report, so it is not silently rebuilt: the
/// upgrade is refused and nothing changes), then both are deleted, `streams` is rebuilt in the
/// new layout and `meta.format` set to 2. A crash before the commit leaves the format-1 store
/// as it was; the next open upgrades it again.
extension EventLog {
    /// What a store's files hold, as far as the layout goes.
    enum Layout: Equatable {
        /// No `meta` yet (a store being created).
        case new
        case current
        case format1
    }

    /// Upgrades a format-1 store to the current layout (once; a no-op on a current store).
    /// Throws `StoreError.newerFormat` for a store written by a newer kstore.
    static func upgradeIfNeeded(_ env: Environment, path: String) throws {
        // Looked at in a read transaction first, so opening a current store never takes the writer lock.
        guard try env.read({ txn in try layout(txn, path: path) }) == .format1 else { return }
        try env.write { txn in
            // Under the writer lock: another process may have upgraded it meanwhile.
            guard try layout(txn, path: path) == .format1 else { return }
            try upgradeFormat1(txn, path: path)
        }
    }

    static func layout(_ txn: Transaction, path: String) throws -> Layout {
        guard let meta = try txn.openDatabase("meta") else { return .new }
        let format = try txn.get(meta, Array("format".utf8)).flatMap { $0.count == 1 ? $0[0] : nil }
        if let format, format > formatVersion { throw StoreError.newerFormat(path: path, format: format) }
        if format == 1 { return .format1 }
        // No format yet (a `create` interrupted before writing it): the `streams` layout decides.
        if format == nil, let streams = try txn.openDatabase("streams"), !(try txn.flags(streams).contains(.dupSort)) {
            return .format1
        }
        return .current
    }

    private static func upgradeFormat1(_ txn: Transaction, path: String) throws {
        func refuse(_ detail: String) -> StoreError { .upgradeRefused(path: path, detail: detail) }
        guard let events = try txn.openDatabase("events"), let old = try txn.openDatabase("streams"),
            let meta = try txn.openDatabase("meta")
        else { throw refuse("the events, streams or meta database is missing") }
        let heads = try txn.openDatabase("heads")

        // Every event, checked against the old index, grouped by stream in version order.
        var byStream: [String: [UInt64]] = [:]
        var count = 0
        try txn.withCursor(events) { cursor in
            var expected: UInt64 = 1
            var entry = try cursor.first()
            while let (key, value) = entry {
                guard let seq = Keys.decodeUInt64(key), seq == expected else {
                    throw refuse("sequence \(expected) is missing from the events")
                }
                let view: RecordView
                do throws(BinaryError) { view = try RecordView(value) } catch {
                    throw refuse("the record at sequence \(seq) cannot be read (\(error.description))")
                }
                guard view.sequence == seq else { throw refuse("the record stored under \(seq) says it is sequence \(view.sequence)") }
                let version = UInt64(byStream[view.stream]?.count ?? 0) + 1
                guard view.streamVersion == version else {
                    throw refuse("stream \(view.stream) goes from version \(version - 1) to \(view.streamVersion) at sequence \(seq)")
                }
                guard try txn.get(old, Keys.format1Stream(view.stream, version: version)).flatMap(Keys.decodeUInt64) == seq else {
                    throw refuse("the streams index for \(view.stream) v\(version) does not point at sequence \(seq)")
                }
                byStream[view.stream, default: []].append(seq)
                count += 1
                expected += 1
                entry = try cursor.next()
            }
        }
        let oldEntries = try txn.count(old)
        guard oldEntries == count else { throw refuse("the streams index holds \(oldEntries) entries for \(count) events") }
        if let heads {
            let headEntries = try txn.count(heads)
            guard headEntries == byStream.count else {
                throw refuse("the heads index holds \(headEntries) streams, the events \(byStream.count)")
            }
            for (stream, seqs) in byStream {
                let head = try txn.get(heads, Keys.stream(stream)).flatMap(Keys.format1DecodeHead)
                guard head?.version == UInt64(seqs.count), head?.sequence == seqs.last else {
                    throw refuse("the heads index for \(stream) disagrees with its events")
                }
            }
        } else if !byStream.isEmpty {
            throw refuse("the heads database is missing")
        }

        // Replace the old layout.
        try txn.deleteDatabase(old)
        if let heads { try txn.deleteDatabase(heads) }
        guard let streams = try txn.openDatabase("streams", flags: [.dupSort, .dupFixed], create: true) else {
            throw refuse("the new streams database could not be created")
        }
        // Keys in byte order (appended), each key's sequences ascending (appended to its values).
        for stream in byStream.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let seqs = byStream[stream] else { continue }
            let key = Keys.stream(stream)
            for (i, seq) in seqs.enumerated() {
                try txn.put(streams, key, Keys.sequence(seq), flags: i == 0 ? .append : .appendDup)
            }
        }
        try txn.put(meta, Array("format".utf8), [formatVersion])
    }
}
