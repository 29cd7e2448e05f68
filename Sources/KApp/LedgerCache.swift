import Foundation
import KBinary
import KClinic
import KStore

/// R15's raw material, stored beside the projections (key `ledger` of `projmeta`) so that a
/// query of the stock reads what was appended since instead of the whole log: every infusion,
/// stock event and lot acknowledgement as recorded (uncorrected), in log order, and the
/// sequences of the corrections that concern them. Corrections are applied when the ledger is
/// made (`resolve`), so an amendment or a void recorded later is never missed: a correction's
/// target is looked up among the cached ids when it is collected.
///
/// The stored ledger names the sequence and hash it was made through; one whose record at that
/// sequence no longer has that hash (a rewritten or restored log) is ignored and rebuilt.
/// `audit verify` compares it with a ledger rebuilt from the log (`LedgerReader.checkStored`).
struct LedgerCache {
    static let key = Array("ledger".utf8)
    static let version: UInt8 = 2

    var through: UInt64
    var headHash: String
    /// Every entry naming a lot, by lot, and those naming none, each list in R15's order
    /// (`Ledger.inOrder`), so the ledger is made without regrouping or sorting.
    var lots: [String: [LedgerEntry]] = [:]
    var unlotted: [LedgerEntry] = []
    var acks: [LotAcknowledgement] = []
    /// Corrections that concern an entry, an acknowledgement or another such correction.
    var corrections: [(sequence: UInt64, id: UUID)] = []

    // MARK: Collecting from the log

    /// Reads the log from `from` to its head, adding what the ledger needs.
    mutating func collect(_ store: ClinicStore, from: UInt64) throws {
        let amended = EventType.eventAmended.code
        let voided = EventType.eventVoided.code
        let ack = EventType.alertAcknowledged.code
        // A table by type code: no hashing per record.
        var wanted = [Bool](repeating: false, count: 256)
        for t in EventType.allCases where t.isStock || t == .infusionAdministered || t.isCorrection { wanted[Int(t.code)] = true }
        let lotPrefix = Array(LotStream.prefix.utf8)
        // The ids a correction may concern, built at the first correction met.
        var ids: Set<UUID>? = nil
        var last = through
        var lots = self.lots
        var unlotted = self.unlotted
        var unsorted = Set<String>()
        var unlottedUnsorted = false
        var acks = self.acks
        var corrections = self.corrections
        try store.log.scanRaw(from: from) { seq, bytes in
            last = seq
            // The type code is peeked from the record's first bytes: only the records the ledger
            // needs are decoded. A sealed record (encrypted store) is opened once for both.
            let rec: Recorded
            let code: UInt16
            if let cipher = store.log.cipher {
                // The type peeked from the first ciphertext block picks; the record is then
                // opened (authenticated) and its type and stream read from it.
                guard let peeked = store.log.typeCode(of: bytes) else {
                    throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
                }
                if peeked != ack && (Int(peeked) >= wanted.count || !wanted[Int(peeked)]) { return true }
                let view = try EventMapping.decodeView(bytes, sequence: seq, cipher: cipher)
                code = view.typeCode
                if code == ack {
                    guard view.stream.utf8.starts(with: lotPrefix) else { return true }
                } else if Int(code) >= wanted.count || !wanted[Int(code)] {
                    return true
                }
                rec = try EventMapping.recorded(view)
            } else {
                guard let peeked = RecordView.peekTypeCode(bytes) else {
                    throw StoreError.corrupt(sequence: seq, detail: "unreadable record header")
                }
                code = peeked
                if code == ack {
                    guard let stream = RecordView.peekStream(bytes), stream.starts(with: lotPrefix) else { return true }
                } else if Int(code) >= wanted.count || !wanted[Int(code)] {
                    return true
                }
                rec = try EventMapping.decodeRecorded(bytes, sequence: seq, cipher: nil)
            }
            if code == amended || code == voided {
                guard let c = CorrectionResolution.Correction(rec) else { return true }
                if ids == nil {
                    var set = Set<UUID>(minimumCapacity: lots.values.reduce(unlotted.count) { $0 + $1.count } + acks.count)
                    for list in lots.values { for e in list { set.insert(e.eventId) } }
                    for e in unlotted { set.insert(e.eventId) }
                    for a in acks { set.insert(a.ref.eventId) }
                    for c in corrections { set.insert(c.id) }
                    ids = set
                }
                if ids?.contains(c.target) == true {
                    corrections.append((seq, c.id))
                    ids?.insert(c.id)
                }
                return true
            }
            if let a = LedgerCache.acknowledgement(rec, rec.event) {
                acks.append(a)
                ids?.insert(a.ref.eventId)
            } else if let e = LedgerCache.entry(rec, rec.event) {
                if let lot = e.lot {
                    if let prev = lots[lot]?.last, Ledger.inOrder(e, prev) { unsorted.insert(lot) }
                    lots[lot, default: []].append(e)
                } else {
                    if let prev = unlotted.last, Ledger.inOrder(e, prev) { unlottedUnsorted = true }
                    unlotted.append(e)
                }
                ids?.insert(e.eventId)
            }
            return true
        }
        for lot in unsorted { lots[lot]?.sort(by: Ledger.inOrder) }
        if unlottedUnsorted { unlotted.sort(by: Ledger.inOrder) }
        self.lots = lots
        self.unlotted = unlotted
        self.acks = acks
        self.corrections = corrections
        if last != through {
            through = last
            headHash = try store.log.hash(at: last) ?? ""
        }
    }

    static func entry(_ r: Recorded, _ event: ClinicalEvent) -> LedgerEntry? {
        let patient = LotStream.lot(ofStream: r.patient) == nil ? r.patient : nil
        return LedgerEntry.from(event, at: r.occurredAt, sequence: r.sequence, eventId: r.eventId, patient: patient, actor: r.actor.id)
    }

    static func acknowledgement(_ r: Recorded, _ event: ClinicalEvent) -> LotAcknowledgement? {
        guard case .alertAcknowledged(let a) = event, let lot = a.lot else { return nil }
        return LotAcknowledgement(
            alertId: a.alertId, lot: lot, ref: EventRef(sequence: r.sequence, eventId: r.eventId, day: r.occurredAt.clinicalDay))
    }

    // MARK: Making the ledger

    /// The ledger: corrections applied (a voided entry counts for nothing, an amended one with
    /// its amended data, re-read from the log).
    func resolve(_ store: ClinicStore) throws -> Ledger {
        guard !corrections.isEmpty else { return Ledger(lots: lots, unlotted: unlotted, acknowledgements: acks) }
        var list: [CorrectionResolution.Correction] = []
        var amendedRecords: [UUID: Recorded] = [:]
        try store.log.read { reader in
            for c in corrections {
                guard let view = try reader.record(c.sequence) else {
                    throw StoreError.corrupt(sequence: c.sequence, detail: "a correction of the stored ledger is missing from the log")
                }
                if let k = CorrectionResolution.Correction(try EventMapping.recorded(view)) { list.append(k) }
            }
            let resolution = CorrectionResolution(list)
            for id in resolution.amendedIds.keys where !resolution.isVoided(id) {
                guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(id)), let view = try reader.record(seq) else {
                    continue
                }
                amendedRecords[id] = try EventMapping.recorded(view)
            }
        }
        let resolution = CorrectionResolution(list)
        // Only the lists holding a corrected entry are rebuilt (an amendment may move an entry
        // to another lot); the others are shared as stored.
        var changed = Set<UUID>(resolution.voidedIds)
        for id in amendedRecords.keys { changed.insert(id) }
        var moved: [LedgerEntry] = []
        func strip(_ entries: inout [LedgerEntry]) {
            guard entries.contains(where: { changed.contains($0.eventId) }) else { return }
            entries.removeAll { e in
                guard changed.contains(e.eventId) else { return false }
                if !resolution.isVoided(e.eventId), let r = amendedRecords[e.eventId] {
                    let event = CorrectionResolution.applying(resolution.amendmentsInForce(of: e.eventId), to: r.event)
                    if let x = LedgerCache.entry(r, event) { moved.append(x) }
                }
                return true
            }
        }
        var lots = self.lots
        var unlotted = self.unlotted
        for key in Array(lots.keys) where lots[key]?.contains(where: { changed.contains($0.eventId) }) == true {
            strip(&lots[key, default: []])
        }
        strip(&unlotted)
        var resort = Set<String>()
        for e in moved {
            if let lot = e.lot {
                lots[lot, default: []].append(e)
                resort.insert(lot)
            } else {
                unlotted.append(e)
            }
        }
        for lot in resort { lots[lot]?.sort(by: Ledger.inOrder) }
        if moved.contains(where: { $0.lot == nil }) { unlotted.sort(by: Ledger.inOrder) }
        var outAcks: [LotAcknowledgement] = []
        for a in acks where !resolution.isVoided(a.ref.eventId) {
            if let r = amendedRecords[a.ref.eventId] {
                let event = CorrectionResolution.applying(resolution.amendmentsInForce(of: a.ref.eventId), to: r.event)
                if let x = LedgerCache.acknowledgement(r, event) { outAcks.append(x) }
            } else {
                outAcks.append(a)
            }
        }
        return Ledger(lots: lots, unlotted: unlotted, acknowledgements: outAcks)
    }

    // MARK: Stored form

    /// The stored ledger, or nil when there is none, it is of another version, it does not
    /// decode, or (unless `trusting`) its last record is no longer the log's.
    static func load(_ store: ClinicStore, head: UInt64, trusting: Bool = false) throws -> LedgerCache? {
        guard let meta = store.log.auxiliary["projmeta"] else { return nil }
        let cache: LedgerCache? = try store.log.read { reader in
            guard let bytes = try reader.auxGet(meta, key, keys: .ordered) else { return nil }
            return bytes.withUnsafeBytes { try? decode($0) }
        }
        guard let cache, cache.through <= head else { return nil }
        if !trusting, cache.through > 0, try store.log.hash(at: cache.through) != cache.headHash { return nil }
        return cache
    }

    /// Stores it, unless another process stored one made through a later sequence (`replacing`:
    /// whatever is stored).
    func store(_ store: ClinicStore, replacing: Bool = false) throws {
        guard let meta = store.log.auxiliary["projmeta"] else { return }
        let bytes = encoded()
        try store.log.writeAuxiliary { reader in
            // Another process may have stored a later ledger meanwhile: keep the later one.
            if !replacing, let old = try reader.auxGet(meta, LedgerCache.key, keys: .ordered),
                let other = old.withUnsafeBytes({ try? LedgerCache.header($0) }),
                other > through
            {
                return
            }
            try reader.auxPut(meta, LedgerCache.key, bytes, keys: .ordered)
        }
    }

    static func header(_ raw: UnsafeRawBufferPointer) throws(BinaryError) -> UInt64 {
        var r = BinaryReader(raw)
        guard try r.readByte() == version else { throw BinaryError.invalidValue("stored ledger") }
        return try r.readVarUInt()
    }

    func encoded() -> [UInt8] {
        var strings: [String] = []
        var index: [String: UInt64] = [:]
        func id(_ s: String?) -> UInt64 {
            guard let s else { return 0 }
            if let k = index[s] { return k }
            strings.append(s)
            index[s] = UInt64(strings.count)
            return UInt64(strings.count)
        }
        let total = lots.values.reduce(unlotted.count) { $0 + $1.count }
        var body = BinaryWriter(capacity: 64 * total + 1024)
        // Groups: the lots sorted by name, then the entries naming no lot (group name 0).
        let groups: [(String?, [LedgerEntry])] = lots.keys.sorted().map { ($0, lots[$0] ?? []) } + [(nil, unlotted)]
        body.writeVarUInt(UInt64(groups.count))
        for (name, list) in groups {
            body.writeVarUInt(id(name))
            body.writeVarUInt(UInt64(list.count))
            for e in list {
                body.writeByte(LedgerCache.kindCode(e.kind))
                body.writeVarInt(e.at.epochMillis)
                body.writeVarInt(Int64(e.at.offsetMinutes))
                body.writeVarUInt(e.sequence)
                body.writeRaw(EventMapping.uuidBytes(e.eventId))
                body.writeByte(e.drug.map { $0 == .esketamine ? 2 : 1 } ?? 0)
                if let q = e.quantity {
                    body.writeByte(1)
                    body.writeVarInt(Int64(truncatingIfNeeded: q.scaled >> 64))
                    body.writeUInt64BE(UInt64(truncatingIfNeeded: q.scaled))
                } else {
                    body.writeByte(0)
                }
                body.writeVarUInt(id(e.patient))
                body.writeVarUInt(id(e.actor))
                body.writeVarUInt(id(e.witness))
                body.writeByte(e.countKind.map { $0 == .biennial ? 2 : 1 } ?? 0)
                body.writeVarUInt(id(e.detail))
            }
        }
        body.writeVarUInt(UInt64(acks.count))
        for a in acks {
            body.writeVarUInt(id(a.alertId))
            body.writeVarUInt(id(a.lot))
            body.writeVarUInt(a.ref.sequence)
            body.writeRaw(EventMapping.uuidBytes(a.ref.eventId))
            body.writeVarInt(Int64(a.ref.day.ordinal))
        }
        body.writeVarUInt(UInt64(corrections.count))
        for c in corrections {
            body.writeVarUInt(c.sequence)
            body.writeRaw(EventMapping.uuidBytes(c.id))
        }
        var w = BinaryWriter(capacity: body.bytes.count + 16 * strings.count + 64)
        w.writeByte(LedgerCache.version)
        w.writeVarUInt(through)
        w.writeString(headHash)
        w.writeVarUInt(UInt64(strings.count))
        for s in strings { w.writeString(s) }
        w.writeRaw(body.bytes)
        return w.bytes
    }

    static func decode(_ raw: UnsafeRawBufferPointer) throws(BinaryError) -> LedgerCache {
        var r = BinaryReader(raw)
        guard try r.readByte() == version else { throw BinaryError.invalidValue("stored ledger") }
        var cache = LedgerCache(through: try r.readVarUInt(), headHash: try r.readString())
        let n = try r.readLength()
        var strings: [String] = []
        strings.reserveCapacity(n)
        for _ in 0..<n { strings.append(try r.readString()) }
        func string(_ k: UInt64) throws(BinaryError) -> String? {
            guard k > 0 else { return nil }
            guard k <= UInt64(strings.count) else { throw BinaryError.invalidValue("stored ledger") }
            return strings[Int(k - 1)]
        }
        func uuid() throws(BinaryError) -> UUID { EventMapping.uuid(try r.readRaw(16)) }
        let groups = try r.readLength()
        for _ in 0..<groups {
            let lot = try string(try r.readVarUInt())
            let count = try r.readLength()
            var list: [LedgerEntry] = []
            list.reserveCapacity(count)
            for _ in 0..<count {
                let k = Int(try r.readByte())
                guard k < kinds.count else { throw BinaryError.invalidValue("stored ledger") }
                let kind = kinds[k]
                let millis = try r.readVarInt()
                let offset = Int16(truncatingIfNeeded: try r.readVarInt())
                let sequence = try r.readVarUInt()
                let eventId = try uuid()
                let drugCode = try r.readByte()
                let drug: Drug? = drugCode == 0 ? nil : (drugCode == 2 ? .esketamine : .ketamine)
                var quantity: Milligrams? = nil
                if try r.readBool() {
                    let high = try r.readVarInt()
                    let low = try r.readUInt64BE()
                    quantity = Milligrams(scaled: (Int128(high) << 64) | Int128(low))
                }
                let patient = try string(try r.readVarUInt())
                guard let actor = try string(try r.readVarUInt()) else { throw BinaryError.invalidValue("stored ledger") }
                let witness = try string(try r.readVarUInt())
                let countCode = try r.readByte()
                var e = LedgerEntry(
                    kind: kind, at: Timestamp(epochMillis: millis, offsetMinutes: offset), sequence: sequence, eventId: eventId, lot: lot,
                    drug: drug, quantity: quantity, patient: patient, actor: actor, witness: witness,
                    countKind: countCode == 0 ? nil : (countCode == 2 ? .biennial : .routine))
                e.detail = try string(try r.readVarUInt())
                list.append(e)
            }
            if let lot { cache.lots[lot] = list } else { cache.unlotted = list }
        }
        let ackCount = try r.readLength()
        for _ in 0..<ackCount {
            guard let alertId = try string(try r.readVarUInt()), let lot = try string(try r.readVarUInt()) else {
                throw BinaryError.invalidValue("stored ledger")
            }
            let seq = try r.readVarUInt()
            let id = try uuid()
            let day = Day(ordinal: Int32(truncatingIfNeeded: try r.readVarInt()))
            cache.acks.append(LotAcknowledgement(alertId: alertId, lot: lot, ref: EventRef(sequence: seq, eventId: id, day: day)))
        }
        let corrections = try r.readLength()
        for _ in 0..<corrections {
            let seq = try r.readVarUInt()
            cache.corrections.append((seq, try uuid()))
        }
        return cache
    }

    static let kinds: [LedgerEntry.Kind] = [.received, .given, .wasted, .disposed, .adjusted, .counted]
    static func kindCode(_ k: LedgerEntry.Kind) -> UInt8 { UInt8(kinds.firstIndex(of: k) ?? 0) }
}
