import KBinary

/// Binary persistence of the monitoring fold state (a stored projection checkpoint). Layout
/// version 1: a leading version byte, then the fields in declaration order with KBinary's
/// primitives (zig-zag varints for days and instants, presence bytes for optionals, a count
/// before each list).
extension MonitoringState {
    public static let binaryFormatVersion: UInt8 = 1

    public func encode(into w: inout BinaryWriter) {
        w.writeByte(MonitoringState.binaryFormatVersion)
        w.writeString(patient)
        w.writeOptionalDayM(latestEventDay)
        w.writeOptionalDayM(t0)
        w.writeBool(t0Millis != nil)
        if let t = t0Millis { w.writeVarInt(t) }
        w.writeByte(baseline)
        w.writeVarUInt(UInt64(tracks.count))
        for t in tracks {
            w.writeOptionalDayM(t.last)
            let recent = t.recent
            w.writeVarUInt(UInt64(recent.count))
            for d in recent { w.writeDayM(d) }
        }
        w.writeVarUInt(UInt64(visits.count))
        for v in visits {
            w.writeDayM(v.day)
            w.writeByte(v.have)
        }
        for marks in [quarters, years] {
            w.writeVarUInt(UInt64(marks.count))
            for mark in marks {
                w.writeVarUInt(UInt64(mark.index))
                w.writeByte(mark.mask)
            }
        }
        w.writeVarUInt(UInt64(discontinued.count))
        for s in discontinued {
            w.writeDayM(s.from)
            w.writeOptionalDayM(s.until)
        }
    }

    public static func decode(from r: inout BinaryReader) throws(BinaryError) -> MonitoringState {
        let version = try r.readByte()
        guard version == binaryFormatVersion else {
            throw .invalidValue("monitoring state format version \(version) (expected \(binaryFormatVersion))")
        }
        var s = MonitoringState(patient: try r.readString())
        s.latestEventDay = try r.readOptionalDayM()
        s.t0 = try r.readOptionalDayM()
        if try r.readBool() { s.t0Millis = try r.readVarInt() }
        s.baseline = try r.readMask(MonitoringDoc.baselineComplete, "baseline")
        let n = try r.readLength()
        guard n == MonitoringDoc.count else {
            throw .invalidValue("monitoring state has \(n) documentation classes (expected \(MonitoringDoc.count))")
        }
        for i in 0..<n {
            let last = try r.readOptionalDayM()
            let count = try r.readLength()
            guard count <= 3 else { throw .invalidValue("monitoring state: \(count) recent dates (at most 3)") }
            var t = Track()
            var previous = Int32.max
            for _ in 0..<count {
                let d = try r.readDayM()
                guard d.ordinal < previous else { throw .invalidValue("monitoring state: recent dates not newest first") }
                previous = d.ordinal
                t.note(d)
            }
            t.last = last
            s.tracks[i] = t
        }
        var count = try r.readLength()
        s.visits.reserveCapacity(count)
        for _ in 0..<count {
            let day = try r.readDayM()
            let have = try r.readMask(MonitoringDoc.visitComplete, "visit")
            guard s.visits.last.map({ $0.day < day }) ?? true else { throw .invalidValue("monitoring state: visits not in date order") }
            s.visits.append(Visit(day: day, have: have))
        }
        for year in [false, true] {
            count = try r.readLength()
            var marks: [WindowMark] = []
            marks.reserveCapacity(count)
            for _ in 0..<count {
                let at = r.offset
                let index = try r.readVarUInt()
                guard index <= 10_000_000 else { throw .invalidValue("window index \(index) out of range at byte \(at)") }
                let mask = try r.readMask(year ? MonitoringDoc.yearComplete : MonitoringDoc.quarterComplete, "window")
                guard marks.last.map({ $0.index < Int(index) }) ?? true else {
                    throw .invalidValue("monitoring state: windows not in order")
                }
                marks.append(WindowMark(index: Int(index), mask: mask))
            }
            if year { s.years = marks } else { s.quarters = marks }
        }
        count = try r.readLength()
        for _ in 0..<count {
            let from = try r.readDayM()
            let until = try r.readOptionalDayM()
            if let previous = s.discontinued.last {
                guard let end = previous.until, end < from else { throw .invalidValue("monitoring state: discontinued spans overlap") }
            }
            if let until, until <= from { throw .invalidValue("monitoring state: empty discontinued span") }
            s.discontinued.append(DaySpan(from: from, until: until))
        }
        return s
    }

    /// Convenience: the state as bytes.
    public var binaryEncoded: [UInt8] {
        var w = BinaryWriter(capacity: 128)
        encode(into: &w)
        return w.bytes
    }

    /// Convenience: a state from bytes (all of them must be used).
    public static func decode(bytes: [UInt8]) throws(BinaryError) -> MonitoringState {
        let result: Result<MonitoringState, BinaryError> = bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            do throws(BinaryError) {
                let s = try MonitoringState.decode(from: &r)
                guard r.isAtEnd else { return .failure(.invalidValue("\(r.remaining) bytes after the monitoring state")) }
                return .success(s)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension BinaryWriter {
    fileprivate mutating func writeDayM(_ d: Day) { writeVarInt(Int64(d.ordinal)) }
    fileprivate mutating func writeOptionalDayM(_ d: Day?) {
        writeBool(d != nil)
        if let d { writeDayM(d) }
    }
}

extension BinaryReader {
    fileprivate mutating func readDayM() throws(BinaryError) -> Day {
        let at = offset
        let v = try readVarInt()
        // Years about -770 to 10180: day arithmetic stays far from Int32's limits.
        guard v >= -1_000_000 && v <= 3_000_000 else { throw .invalidValue("date ordinal \(v) out of range at byte \(at)") }
        return Day(ordinal: Int32(v))
    }
    fileprivate mutating func readOptionalDayM() throws(BinaryError) -> Day? {
        try readBool() ? try readDayM() : nil
    }
    fileprivate mutating func readMask(_ all: UInt8, _ what: String) throws(BinaryError) -> UInt8 {
        let b = try readByte()
        guard b & ~all == 0 else { throw .invalidValue("\(what) mask \(b)") }
        return b
    }
}
