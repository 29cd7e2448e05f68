import struct Foundation.UUID

/// R13/R14 (session.md) inside one patient's fold: the recent sessions the alerts need, the
/// blood pressure readings of the last hours, each audited session's facts (when the rule set
/// sets `sessionAuditFrom`) and the esketamine sessions still waiting for their REMS form.
///
/// Bounded by time, not by count: the fold is in instant order and an observation or a discharge
/// is at most 12 hours after its infusion (a transfer's discharge at most 72 hours), so a
/// session is kept while a later event may still belong to it: every session whose infusion
/// began within 12 hours of the newest infusion, and a session without a discharge for 72 hours
/// (`keepOpenMillis`); at most `maxRecent` (a safety bound no real chair reaches: 64 infusions
/// in 72 hours). The 16 latest readings (the windows are at most a day), one `Audit` per audited
/// session, one `PendingForm` per esketamine session without a form.
public struct SessionState: Sendable, Equatable {
    /// A session recent enough to take observations and its discharge.
    public struct Recent: Sendable, Equatable {
        public var infusion: EventRef
        public var t0: Int64
        public var t1: Int64
        public var drug: Drug
        /// Dated on or after `sessionAuditFrom`.
        public var audited: Bool
        /// No non-blank justification (for `dosed-above-bp-limit`).
        public var unjustified: Bool
        /// The first effective discharge's instant.
        public var discharge: Int64?
    }

    /// A reading with both blood pressure values: a `VitalsRecorded` (infusion nil) or an
    /// observation of `infusion`.
    public struct Reading: Sendable, Equatable {
        public var millis: Int64
        public var systolic: Int
        public var diastolic: Int
        public var infusion: UUID?
    }

    /// What an audited session has (R13's items; `Item` bits).
    public struct Audit: Sendable, Equatable {
        public var infusion: UUID
        public var day: Day
        public var have: UInt16
        public var esketamine: Bool
        public var formDay: Day?
    }

    public struct PendingForm: Sendable, Equatable {
        public var infusion: UUID
        public var day: Day
    }

    public enum Item: UInt16, CaseIterable, Sendable {
        case preDose = 1
        case postDose = 2
        case discharged = 4
        case dischargeBp = 8
        case amount = 16
        case lot = 32
        case sedation = 64
        case dissociation = 128
        case spo2 = 256
        case transfer = 512
    }

    public internal(set) var recent: [Recent] = []
    public internal(set) var readings: [Reading] = []
    public internal(set) var audits: [Audit] = []
    public internal(set) var pendingForms: [PendingForm] = []

    static let maxRecent = 64
    /// An observation or a discharge at most 12 hours after its infusion (session.md).
    static let sessionMillis: Int64 = 12 * 3_600_000
    /// A transfer's discharge at most 72 hours after its infusion (a reading: see ARCHITECTURE).
    public static let transferMillis: Int64 = 72 * 3_600_000

    /// Forgets the sessions no event at or after `millis` can belong to.
    mutating func prune(before millis: Int64) {
        recent.removeAll { r in
            let age = millis - r.t0
            return age > SessionState.transferMillis || (age > SessionState.sessionMillis && r.discharge != nil)
        }
        if recent.count > SessionState.maxRecent { recent.removeFirst(recent.count - SessionState.maxRecent) }
    }
    static let maxReadings = 16

    public init() {}

    func recentIndex(_ id: UUID) -> Int? { recent.lastIndex(where: { $0.infusion.eventId == id }) }
    func auditIndex(_ id: UUID) -> Int? { audits.lastIndex(where: { $0.infusion == id }) }

    mutating func mark(_ id: UUID, _ item: Item) {
        if let a = auditIndex(id) { audits[a].have |= item.rawValue }
    }

    /// The latest `VitalsRecorded` in [t0 − minutes, t0] among the readings.
    func preDoseReading(t0: Int64, minutes: Int) -> Reading? {
        readings.last(where: { $0.infusion == nil && $0.millis <= t0 && $0.millis >= t0 - Int64(minutes) * 60_000 })
    }

    mutating func addReading(_ r: Reading) {
        readings.append(r)
        if readings.count > SessionState.maxReadings { readings.removeFirst(readings.count - SessionState.maxReadings) }
    }
}

extension PhaseState {
    // MARK: R13: sessions

    mutating func sessionInfusion(_ inf: InfusionAdministered, _ ref: EventRef, _ millis: Int64, _ rules: RuleSet) {
        let s = rules.session
        let t1 = millis + Int64(inf.durationMinutes ?? 0) * 60_000
        let audited = s.audits(ref.day)
        let unjustified = PhaseState.isBlank(inf.justification)
        sessions.prune(before: millis)
        sessions.recent.append(
            SessionState.Recent(
                infusion: ref, t0: millis, t1: t1, drug: inf.givenDrug, audited: audited, unjustified: unjustified, discharge: nil))
        let reading = sessions.preDoseReading(t0: millis, minutes: s.preDoseBpMinutes)
        if audited {
            var have: UInt16 = 0
            if reading != nil { have |= SessionState.Item.preDose.rawValue }
            if inf.amountGiven != nil { have |= SessionState.Item.amount.rawValue }
            if inf.lot != nil { have |= SessionState.Item.lot.rawValue }
            sessions.audits.append(
                SessionState.Audit(infusion: ref.eventId, day: ref.day, have: have, esketamine: inf.givenDrug == .esketamine, formDay: nil))
        }
        if inf.givenDrug == .esketamine {
            sessions.pendingForms.append(SessionState.PendingForm(infusion: ref.eventId, day: ref.day))
        }
        if audited && unjustified, let r = reading, isAboveDoseLimit(r, rules) {
            raise(.dosedAboveBpLimit, ref, facts: .bloodPressure(systolic: r.systolic, diastolic: r.diastolic))
        }
    }

    func isAboveDoseLimit(_ r: SessionState.Reading, _ rules: RuleSet) -> Bool {
        r.systolic > rules.bpSystolicMax || r.diastolic > rules.bpDiastolicMax
    }

    /// A VitalsRecorded: a pre-dose reading of an infusion of the same instant folded before it
    /// (equal instants in log order), a discharge BP of a discharge of the same instant.
    mutating func sessionVitals(_ v: VitalsRecorded, _ millis: Int64, _ rules: RuleSet) {
        let reading = SessionState.Reading(millis: millis, systolic: v.systolic, diastolic: v.diastolic, infusion: nil)
        sessions.addReading(reading)
        for k in sessions.recent.indices {
            let r = sessions.recent[k]
            if r.t0 == millis {
                // The latest reading in the window is now this one.
                sessions.mark(r.infusion.eventId, .preDose)
                if r.audited && r.unjustified {
                    let above = isAboveDoseLimit(reading, rules)
                    let raised = alerts.contains(where: { $0.kind == .dosedAboveBpLimit && $0.source.eventId == r.infusion.eventId })
                    if raised { alerts.removeAll(where: { $0.kind == .dosedAboveBpLimit && $0.source.eventId == r.infusion.eventId }) }
                    if above {
                        raise(.dosedAboveBpLimit, r.infusion, facts: .bloodPressure(systolic: v.systolic, diastolic: v.diastolic))
                    }
                }
            }
            if r.discharge == millis { sessions.mark(r.infusion.eventId, .dischargeBp) }
        }
    }

    mutating func sessionObservation(_ o: ObservationRecorded, _ ref: EventRef, _ millis: Int64, _ rules: RuleSet) {
        guard let k = sessions.recentIndex(o.infusion) else { return }  // a voided infusion: no session
        let s = rules.session
        let r = sessions.recent[k]
        if let sys = o.systolic, let dia = o.diastolic {
            sessions.addReading(SessionState.Reading(millis: millis, systolic: sys, diastolic: dia, infusion: o.infusion))
            if millis >= r.t1 + Int64(s.postDoseBpFromMinutes) * 60_000 && millis <= r.t1 + Int64(s.postDoseBpToMinutes) * 60_000 {
                sessions.mark(o.infusion, .postDose)
            }
            if r.discharge == millis { sessions.mark(o.infusion, .dischargeBp) }
        }
        if o.moaas != nil { sessions.mark(o.infusion, .sedation) }
        if o.cadss != nil { sessions.mark(o.infusion, .dissociation) }
        if o.spo2 != nil { sessions.mark(o.infusion, .spo2) }
        if (o.systolic.map { $0 > s.sessionBpSystolicMax } ?? false) || (o.diastolic.map { $0 > s.sessionBpDiastolicMax } ?? false) {
            raise(.sessionBpHigh, ref, facts: .bloodPressure(systolic: o.systolic ?? 0, diastolic: o.diastolic ?? 0))
        }
        if (o.spo2.map { $0 < s.spo2Min } ?? false) || o.respiratoryDepression == true {
            raise(.desaturation, ref, facts: .saturation(spo2: o.spo2, respiratoryDepression: o.respiratoryDepression == true))
        }
        if let m = o.moaas, m <= s.sedationAlertMax {
            raise(.deepSedation, ref, facts: .sedation(moaas: m))
        }
    }

    mutating func sessionDischarge(_ d: DischargeRecorded, _ ref: EventRef, _ millis: Int64, _ rules: RuleSet) {
        guard let k = sessions.recentIndex(d.infusion), sessions.recent[k].discharge == nil else { return }
        let s = rules.session
        sessions.recent[k].discharge = millis
        let r = sessions.recent[k]
        sessions.mark(d.infusion, .discharged)
        if d.isTransfer { sessions.mark(d.infusion, .transfer) }
        let from = millis - Int64(s.dischargeBpMinutes) * 60_000
        if sessions.readings.contains(where: {
            $0.millis >= from && $0.millis <= millis && ($0.infusion == nil || $0.infusion == d.infusion)
        }) {
            sessions.mark(d.infusion, .dischargeBp)
        }
        if d.isTransfer {
            raise(.transferred, ref, facts: .none)
            return
        }
        let minutes = Int((millis - r.t1) / 60_000)
        let minimum = s.minObservation(r.drug)
        if minutes < minimum { raise(.earlyDischarge, ref, facts: .observationTime(minutes: minutes, minimum: minimum)) }
        if !d.criteriaMet { raise(.dischargedWithoutCriteria, ref, facts: .none) }
        if !d.escort { raise(.dischargedWithoutEscort, ref, facts: .none) }
    }

    /// R14: a form of an effective esketamine session.
    mutating func sessionForm(_ f: RemsFormSubmitted, _ ref: EventRef) {
        sessions.pendingForms.removeAll(where: { $0.infusion == f.infusion })
        if let a = sessions.auditIndex(f.infusion), sessions.audits[a].formDay == nil { sessions.audits[a].formDay = ref.day }
    }
}

extension SessionState {
    /// R13's session findings of one patient on `day`: only sessions missing something, by date.
    public func findings(patient: String, on day: Day, rules: RuleSet) -> [AuditFinding] {
        var out: [AuditFinding] = []
        for a in audits where a.day <= day {
            var missing: [String] = []
            func has(_ i: Item) -> Bool { a.have & i.rawValue != 0 }
            if !has(.preDose) { missing.append("pre-dose-bp") }
            if !has(.postDose) { missing.append("post-dose-bp") }
            if !has(.discharged) && day > a.day { missing.append("discharge") }
            if has(.discharged) && !has(.transfer) && !has(.dischargeBp) { missing.append("discharge-bp") }
            if !has(.amount) { missing.append("amount") }
            if !has(.lot) { missing.append("lot") }
            if a.esketamine {
                if !has(.sedation) { missing.append("sedation") }
                if !has(.dissociation) { missing.append("dissociation") }
                if !has(.spo2) { missing.append("spo2") }
                let last = a.day.adding(days: rules.session.remsFormDays)
                if day > last && (a.formDay.map { $0 > last } ?? true) { missing.append("rems-form") }
            }
            guard !missing.isEmpty else { continue }
            out.append(AuditFinding(patient: patient, scope: .session, date: a.day, infusion: a.infusion, missing: missing.sorted()))
        }
        return out
    }

    /// R14's `rems-form` rows of `query due` on `day`.
    public func remsDue(patient: String, on day: Day, rules: RuleSet) -> [DueItem] {
        pendingForms.filter { $0.day <= day }.map { p in
            let by = p.day.adding(days: rules.session.remsFormDays)
            return DueItem(
                patient: patient, item: "rems-form", lastDone: nil, dueFrom: p.day, dueBy: by, status: day <= by ? .due : .overdue,
                session: p.infusion)
        }
    }
}
