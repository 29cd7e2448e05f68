import KBinary

import struct Foundation.UUID

/// Binary persistence of the fold state (a stored projection checkpoint). Layout version 2
/// (protocol revision 4: a series closed early, the PHQ-2 dates' `counts`, the last infusion,
/// the pause's ScheduleAdjusted, the relapse's discontinuation date); a state of version 1 is
/// not read (the engine rebuilds projections made by an older fold from the log):
/// a leading version byte, then the fields in declaration order with KBinary's primitives
/// (varints, zig-zag varints for signed values, raw 16-byte UUIDs, presence bytes for optionals).
extension PhaseState {
    public static let binaryFormatVersion: UInt8 = 3

    public func encode(into w: inout BinaryWriter) {
        w.writeByte(PhaseState.binaryFormatVersion)
        w.writeString(patient)
        w.writeBool(lastOrderKey != nil)
        if let k = lastOrderKey {
            w.writeVarInt(k.epochMillis)
            w.writeVarUInt(k.sequence)
        }
        w.writeOptionalDay(firstEventDay)
        w.writeByte(PhaseState.protocolCode(treatmentProtocol))
        w.writeOptionalDay(t0)
        w.writeOptionalScore(latestMadrs)
        // Series
        w.writeInt(series.number)
        w.writeBool(series.anchorMillis != nil)
        if let a = series.anchorMillis { w.writeVarInt(a) }
        w.writeInt(series.acuteCount)
        w.writeOptionalRef(series.lastAcute)
        w.writeOptionalDay(series.completedOn)
        w.writeOptionalScore(series.baseline)
        w.writeOptionalScore(series.assessment)
        w.writeOptionalRef(series.firstMaintenance)
        w.writeOptionalRef(series.lastMaintenance)
        w.writeBool(series.nadir != nil)
        if let n = series.nadir { w.writeInt(n) }
        w.writeBool(series.remitted)
        w.writeBool(series.closedAtMillis != nil)
        if let c = series.closedAtMillis { w.writeVarInt(c) }
        w.writeLadder(series.ladder)
        w.writeBool(series.judgement != nil)
        if let j = series.judgement {
            w.writeRef(j.infusion)
            w.writeVarInt(j.epochMillis)
            w.writeLadder(j.ladderBefore)
        }
        // Course
        w.writeByte(mode.rawValue)
        w.writeBool(holiday != nil)
        if let h = holiday {
            w.writeRef(h.start)
            w.writeInt(h.plannedWeeks)
        }
        w.writeBool(taper != nil)
        if let t = taper {
            w.writeRef(t.start)
            w.writeBool(t.steps != nil)
            if let steps = t.steps {
                w.writeVarUInt(UInt64(steps.count))
                for s in steps {
                    w.writeInt(s.intervalDays)
                    w.writeInt(s.months)
                }
            }
            w.writeDay(t.completeOn)
        }
        w.writeOptionalDay(discontinuedOn)
        w.writeOptionalRef(discontinuedBy)
        w.writeOptionalRef(resumeDue)
        w.writeOptionalRef(hold)
        w.writeOptionalRef(lastNonBooster)
        w.writeBool(lastInfusionKey != nil)
        if let k = lastInfusionKey {
            w.writeVarInt(k.epochMillis)
            w.writeVarUInt(k.sequence)
        }
        w.writeOptionalRef(pauseAdjusted)
        w.writeBool(infusedSinceDiscontinuation)
        w.writeVarUInt(UInt64(stepBackDays.count))
        for d in stepBackDays { w.writeDay(d) }
        w.writeVarUInt(UInt64(phq2Days.count))
        for p in phq2Days {
            w.writeDay(p.day)
            w.writeInt(p.lowest)
            w.writeScore(p.latest)
            w.writeInt(p.run)
            w.writeBool(p.counts)
        }
        w.writeOptionalScore(trigger?.phq2)
        w.writeVarUInt(UInt64(alerts.count))
        for a in alerts { w.writeAlert(a) }
        w.writeVarUInt(UInt64(pendingAcks.count))
        for p in pendingAcks {
            w.writeByte(p.kind.code)
            w.writeUUID(p.source)
            w.writeRef(p.ack)
        }
        // Format 3: the sessions (R13, R14).
        w.writeSessions(sessions)
    }

    public static func decode(from r: inout BinaryReader) throws(BinaryError) -> PhaseState {
        let version = try r.readByte()
        guard version == binaryFormatVersion else {
            throw .invalidValue("patient state format version \(version) (expected \(binaryFormatVersion))")
        }
        var s = PhaseState(patient: try r.readString())
        if try r.readBool() {
            s.lastOrderKey = OrderKey(epochMillis: try r.readVarInt(), sequence: try r.readVarUInt())
        }
        s.firstEventDay = try r.readOptionalDay()
        s.treatmentProtocol = try protocolFrom(code: try r.readByte())
        s.t0 = try r.readOptionalDay()
        s.latestMadrs = try r.readOptionalScore()
        var series = CurrentSeries()
        series.number = try r.readSmallInt()
        if try r.readBool() { series.anchorMillis = try r.readVarInt() }
        series.acuteCount = try r.readSmallInt()
        series.lastAcute = try r.readOptionalRef()
        series.completedOn = try r.readOptionalDay()
        series.baseline = try r.readOptionalScore()
        series.assessment = try r.readOptionalScore()
        series.firstMaintenance = try r.readOptionalRef()
        series.lastMaintenance = try r.readOptionalRef()
        if try r.readBool() { series.nadir = try r.readSmallInt() }
        series.remitted = try r.readBool()
        if try r.readBool() { series.closedAtMillis = try r.readVarInt() }
        series.ladder = try r.readLadder()
        if try r.readBool() {
            let ref = try r.readRef()
            let millis = try r.readVarInt()
            series.judgement = Judgement(infusion: ref, epochMillis: millis, ladderBefore: try r.readLadder())
        }
        s.series = series
        let modeByte = try r.readByte()
        guard let mode = Mode(rawValue: modeByte) else { throw .invalidValue("patient state mode \(modeByte)") }
        s.mode = mode
        if try r.readBool() {
            let start = try r.readRef()
            s.holiday = Holiday(start: start, plannedWeeks: try r.readSmallInt())
        }
        if try r.readBool() {
            let start = try r.readRef()
            var steps: [TaperStep]?
            if try r.readBool() {
                let n = try r.readLength()
                var list: [TaperStep] = []
                list.reserveCapacity(n)
                for _ in 0..<n {
                    let interval = try r.readSmallInt()
                    list.append(TaperStep(intervalDays: interval, months: try r.readSmallInt()))
                }
                steps = list
            }
            s.taper = Taper(start: start, steps: steps, completeOn: try r.readDay())
        }
        s.discontinuedOn = try r.readOptionalDay()
        s.discontinuedBy = try r.readOptionalRef()
        s.resumeDue = try r.readOptionalRef()
        s.hold = try r.readOptionalRef()
        s.lastNonBooster = try r.readOptionalRef()
        if try r.readBool() {
            s.lastInfusionKey = OrderKey(epochMillis: try r.readVarInt(), sequence: try r.readVarUInt())
        }
        s.pauseAdjusted = try r.readOptionalRef()
        s.infusedSinceDiscontinuation = try r.readBool()
        var n = try r.readLength()
        for _ in 0..<n { s.stepBackDays.append(try r.readDay()) }
        n = try r.readLength()
        for _ in 0..<n {
            let day = try r.readDay()
            // The fold keeps these sorted by date (see `phq2`); anything else is not its state.
            if let last = s.phq2Days.last, last.day >= day { throw .invalidValue("PHQ-2 dates out of order") }
            let lowest = try r.readSmallInt()
            let latest = try r.readScore()
            let run = try r.readSmallInt()
            s.phq2Days.append(PHQ2Day(day: day, lowest: lowest, latest: latest, run: run, counts: try r.readBool()))
        }
        if let t = try r.readOptionalScore() { s.trigger = Trigger(phq2: t) }
        n = try r.readLength()
        s.alerts.reserveCapacity(n)
        for _ in 0..<n { s.alerts.append(try r.readAlert()) }
        n = try r.readLength()
        for _ in 0..<n {
            let kind = try r.readAlertKind()
            let source = try r.readUUID()
            s.pendingAcks.append(PendingAck(kind: kind, source: source, ack: try r.readRef()))
        }
        s.sessions = try r.readSessions()
        return s
    }

    /// Convenience: the state as bytes.
    public var binaryEncoded: [UInt8] {
        var w = BinaryWriter(capacity: 256)
        encode(into: &w)
        return w.bytes
    }

    /// Convenience: a state from bytes (all of them must be used).
    public static func decode(bytes: [UInt8]) throws(BinaryError) -> PhaseState {
        let result: Result<PhaseState, BinaryError> = bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            do throws(BinaryError) {
                let s = try PhaseState.decode(from: &r)
                guard r.isAtEnd else { return .failure(.invalidValue("\(r.remaining) bytes after the patient state")) }
                return .success(s)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// A protocol is stored by its payload code (PayloadCodec's one table for it; format 2 on).
    static func protocolCode(_ p: TreatmentProtocol) -> UInt8 { p.payloadCode }

    static func protocolFrom(code: UInt8) throws(BinaryError) -> TreatmentProtocol {
        guard let p = TreatmentProtocol(payloadCode: code) else { throw .invalidValue("treatment protocol code \(code)") }
        return p
    }
}

// MARK: - Primitives of the state layout

extension BinaryWriter {
    fileprivate mutating func writeInt(_ v: Int) { writeVarInt(Int64(v)) }
    fileprivate mutating func writeDay(_ d: Day) { writeVarInt(Int64(d.ordinal)) }
    fileprivate mutating func writeOptionalDay(_ d: Day?) {
        writeBool(d != nil)
        if let d { writeDay(d) }
    }
    fileprivate mutating func writeUUID(_ u: UUID) {
        let t = u.uuid
        writeRaw([
            t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8, t.9, t.10, t.11, t.12, t.13, t.14, t.15,
        ])
    }
    fileprivate mutating func writeRef(_ r: EventRef) {
        writeVarUInt(r.sequence)
        writeUUID(r.eventId)
        writeDay(r.day)
    }
    fileprivate mutating func writeOptionalRef(_ r: EventRef?) {
        writeBool(r != nil)
        if let r { writeRef(r) }
    }
    fileprivate mutating func writeScore(_ s: PhaseState.Score) {
        writeInt(s.value)
        writeRef(s.ref)
        writeVarInt(s.epochMillis)
    }
    fileprivate mutating func writeOptionalScore(_ s: PhaseState.Score?) {
        writeBool(s != nil)
        if let s { writeScore(s) }
    }
    fileprivate mutating func writeLadder(_ l: PhaseState.Ladder) {
        writeInt(l.rung)
        writeBool(l.customDays != nil)
        if let c = l.customDays { writeInt(c) }
        writeInt(l.count)
        switch l.cause {
        case .start:
            writeByte(0)
        case .extended(let by, let from, let score):
            writeByte(1)
            writeRef(by)
            writeInt(from)
            writeInt(score)
        case .steppedBack(let by, let score, let nadir, let from):
            writeByte(2)
            writeRef(by)
            writeInt(score)
            writeInt(nadir)
            writeInt(from)
        case .adjusted(let by):
            writeByte(3)
            writeRef(by)
        case .holidayEnded(let by, let given):
            writeByte(4)
            writeRef(by)
            writeBool(given)
        case .resumed(let by):
            writeByte(5)
            writeRef(by)
        }
    }
    fileprivate mutating func writeAlert(_ a: ProtocolAlert) {
        writeByte(a.kind.code)
        writeRef(a.source)
        writeDay(a.raisedOn)
        writeOptionalRef(a.acknowledged)
        switch a.facts {
        case .none:
            writeByte(0)
        case .dose(let v, let limit):
            writeByte(1)
            writeDouble(v)
            writeDouble(limit)
        case .interval(let days, let minimum):
            writeByte(2)
            writeInt(days)
            writeInt(minimum)
        case .symptomRise(let score, let nadir, let from, let to):
            writeByte(3)
            writeInt(score)
            writeInt(nadir)
            writeInt(from)
            writeInt(to)
        case .stepBacks(let count, let window):
            writeByte(4)
            writeInt(count)
            writeInt(window)
        case .score(let value, let baseline):
            writeByte(5)
            writeInt(value)
            writeInt(baseline)
        case .bloodPressure(let s, let d):
            writeByte(6)
            writeInt(s)
            writeInt(d)
        case .finding(let screening):
            writeByte(7)
            writeBool(screening)
        case .relapse(let cls, let days, let score, let baseline, let since):
            writeByte(8)
            writeByte(cls == .early ? 0 : cls == .intermediate ? 1 : 2)
            writeInt(days)
            writeInt(score)
            writeInt(baseline)
            writeDay(since)
        case .holiday(let weeks, let end):
            writeByte(9)
            writeInt(weeks)
            writeDay(end)
        case .taper(let start):
            writeByte(10)
            writeDay(start)
        case .trigger(let value, let baseline, let days):
            writeByte(11)
            writeInt(value)
            writeInt(baseline)
            writeInt(days)
        case .saturation(let spo2, let depression):
            writeByte(12)
            writeBool(spo2 != nil)
            if let spo2 { writeDouble(spo2) }
            writeBool(depression)
        case .sedation(let m):
            writeByte(13)
            writeInt(m)
        case .observationTime(let minutes, let minimum):
            writeByte(14)
            writeInt(minutes)
            writeInt(minimum)
        }
    }
}

extension BinaryReader {
    /// Counts, scores, intervals: anything the state keeps as a small integer.
    fileprivate mutating func readSmallInt() throws(BinaryError) -> Int {
        let at = offset
        let v = try readVarInt()
        guard v >= -10_000_000 && v <= 10_000_000 else { throw .invalidValue("integer \(v) out of range at byte \(at)") }
        return Int(v)
    }
    fileprivate mutating func readDay() throws(BinaryError) -> Day {
        let at = offset
        let v = try readVarInt()
        // Years about -770 to 10180: day arithmetic stays far from Int32's limits.
        guard v >= -1_000_000 && v <= 3_000_000 else { throw .invalidValue("date ordinal \(v) out of range at byte \(at)") }
        return Day(ordinal: Int32(v))
    }
    fileprivate mutating func readOptionalDay() throws(BinaryError) -> Day? {
        try readBool() ? try readDay() : nil
    }
    fileprivate mutating func readUUID() throws(BinaryError) -> UUID {
        let b = try readRaw(16)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
    fileprivate mutating func readRef() throws(BinaryError) -> EventRef {
        let seq = try readVarUInt()
        let id = try readUUID()
        return EventRef(sequence: seq, eventId: id, day: try readDay())
    }
    fileprivate mutating func readOptionalRef() throws(BinaryError) -> EventRef? {
        try readBool() ? try readRef() : nil
    }
    fileprivate mutating func readScore() throws(BinaryError) -> PhaseState.Score {
        let value = try readSmallInt()
        let ref = try readRef()
        return PhaseState.Score(value: value, ref: ref, epochMillis: try readVarInt())
    }
    fileprivate mutating func readOptionalScore() throws(BinaryError) -> PhaseState.Score? {
        try readBool() ? try readScore() : nil
    }
    fileprivate mutating func readLadder() throws(BinaryError) -> PhaseState.Ladder {
        var l = PhaseState.Ladder()
        l.rung = try readSmallInt()
        if try readBool() { l.customDays = try readSmallInt() }
        l.count = try readSmallInt()
        let tag = try readByte()
        switch tag {
        case 0: l.cause = .start
        case 1:
            let by = try readRef()
            let from = try readSmallInt()
            l.cause = .extended(by: by, fromDays: from, score: try readSmallInt())
        case 2:
            let by = try readRef()
            let score = try readSmallInt()
            let nadir = try readSmallInt()
            l.cause = .steppedBack(by: by, score: score, nadir: nadir, fromDays: try readSmallInt())
        case 3: l.cause = .adjusted(by: try readRef())
        case 4:
            let by = try readRef()
            l.cause = .holidayEnded(by: by, resumeGiven: try readBool())
        case 5: l.cause = .resumed(by: try readRef())
        default: throw .invalidValue("ladder cause \(tag)")
        }
        return l
    }
    fileprivate mutating func readAlertKind() throws(BinaryError) -> AlertKind {
        let code = try readByte()
        guard let kind = AlertKind(code: code) else { throw .invalidValue("alert kind \(code)") }
        return kind
    }
    fileprivate mutating func readAlert() throws(BinaryError) -> ProtocolAlert {
        let kind = try readAlertKind()
        let source = try readRef()
        let raisedOn = try readDay()
        let ack = try readOptionalRef()
        let tag = try readByte()
        let facts: AlertFacts
        switch tag {
        case 0: facts = .none
        case 1:
            let v = try readDouble()
            facts = .dose(mgPerKg: v, limit: try readDouble())
        case 2:
            let d = try readSmallInt()
            facts = .interval(days: d, minimum: try readSmallInt())
        case 3:
            let score = try readSmallInt()
            let nadir = try readSmallInt()
            let from = try readSmallInt()
            facts = .symptomRise(score: score, nadir: nadir, fromDays: from, toDays: try readSmallInt())
        case 4:
            let c = try readSmallInt()
            facts = .stepBacks(count: c, windowDays: try readSmallInt())
        case 5:
            let v = try readSmallInt()
            facts = .score(value: v, baseline: try readSmallInt())
        case 6:
            let sys = try readSmallInt()
            facts = .bloodPressure(systolic: sys, diastolic: try readSmallInt())
        case 7: facts = .finding(screening: try readBool())
        case 8:
            let c = try readByte()
            guard c <= 2 else { throw .invalidValue("relapse class \(c)") }
            let cls: RelapseClass = c == 0 ? .early : c == 1 ? .intermediate : .late
            let days = try readSmallInt()
            let score = try readSmallInt()
            let baseline = try readSmallInt()
            facts = .relapse(cls, days: days, score: score, baseline: baseline, discontinuedOn: try readDay())
        case 9:
            let w = try readSmallInt()
            facts = .holiday(plannedWeeks: w, plannedEnd: try readDay())
        case 10: facts = .taper(start: try readDay())
        case 11:
            let v = try readSmallInt()
            let b = try readSmallInt()
            facts = .trigger(value: v, baseline: b, days: try readSmallInt())
        case 12:
            let spo2: Double? = try readBool() ? try readDouble() : nil
            facts = .saturation(spo2: spo2, respiratoryDepression: try readBool())
        case 13: facts = .sedation(moaas: try readSmallInt())
        case 14:
            let minutes = try readSmallInt()
            facts = .observationTime(minutes: minutes, minimum: try readSmallInt())
        default: throw .invalidValue("alert facts \(tag)")
        }
        return ProtocolAlert(kind: kind, source: source, raisedOn: raisedOn, acknowledged: ack, facts: facts)
    }
}

// MARK: - Sessions (format 3)

extension BinaryWriter {
    fileprivate mutating func writeSessions(_ s: SessionState) {
        writeVarUInt(UInt64(s.recent.count))
        for r in s.recent {
            writeRef(r.infusion)
            writeVarInt(r.t0)
            writeVarInt(r.t1)
            writeByte(r.drug == .esketamine ? 2 : 1)
            writeBool(r.audited)
            writeBool(r.unjustified)
            writeBool(r.discharge != nil)
            if let d = r.discharge { writeVarInt(d) }
        }
        writeVarUInt(UInt64(s.readings.count))
        for r in s.readings {
            writeVarInt(r.millis)
            writeInt(r.systolic)
            writeInt(r.diastolic)
            writeBool(r.infusion != nil)
            if let i = r.infusion { writeUUID(i) }
        }
        writeVarUInt(UInt64(s.audits.count))
        for a in s.audits {
            writeUUID(a.infusion)
            writeDay(a.day)
            writeVarUInt(UInt64(a.have))
            writeBool(a.esketamine)
            writeOptionalDay(a.formDay)
        }
        writeVarUInt(UInt64(s.pendingForms.count))
        for p in s.pendingForms {
            writeUUID(p.infusion)
            writeDay(p.day)
        }
    }
}

extension BinaryReader {
    fileprivate mutating func readSessions() throws(BinaryError) -> SessionState {
        var s = SessionState()
        var n = try readLength()
        for _ in 0..<n {
            let ref = try readRef()
            let t0 = try readVarInt()
            let t1 = try readVarInt()
            let drug: Drug = try readByte() == 2 ? .esketamine : .ketamine
            let audited = try readBool()
            let unjustified = try readBool()
            let discharge: Int64? = try readBool() ? try readVarInt() : nil
            s.recent.append(
                SessionState.Recent(
                    infusion: ref, t0: t0, t1: t1, drug: drug, audited: audited, unjustified: unjustified, discharge: discharge))
        }
        n = try readLength()
        for _ in 0..<n {
            let millis = try readVarInt()
            let sys = try readSmallInt()
            let dia = try readSmallInt()
            let infusion: UUID? = try readBool() ? try readUUID() : nil
            s.readings.append(SessionState.Reading(millis: millis, systolic: sys, diastolic: dia, infusion: infusion))
        }
        n = try readLength()
        for _ in 0..<n {
            let id = try readUUID()
            let day = try readDay()
            let have = try readVarUInt()
            guard have <= UInt64(UInt16.max) else { throw .invalidValue("session items \(have)") }
            let esk = try readBool()
            s.audits.append(SessionState.Audit(infusion: id, day: day, have: UInt16(have), esketamine: esk, formDay: try readOptionalDay()))
        }
        n = try readLength()
        for _ in 0..<n {
            let id = try readUUID()
            s.pendingForms.append(SessionState.PendingForm(infusion: id, day: try readDay()))
        }
        return s
    }
}
