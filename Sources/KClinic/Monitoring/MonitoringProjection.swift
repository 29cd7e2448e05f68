/// Monitoring due dates (protocol.md R10) and the documentation audit (R11) as a pure fold:
/// `evolve` applies one effective event, `due` and `audit` answer on a date.
///
/// The fold runs beside the phase projection's (`PatientProjection.fold` runs both over the same
/// effective events in the same order); it reads the phase state for what R9 decides (whether
/// the underlying status is `discontinued`).
public enum MonitoringProjection {
    /// Applies ONE effective event (corrections already applied) in protocol order, AFTER the
    /// same event was applied to `phase` (so `phase` reflects it).
    ///
    /// Events must come in protocol order (`occurredAt` instant, then log sequence), as for
    /// `PhaseProjection.evolve`: when `phase.isInOrder(event)` is false before applying, refold
    /// both with `PatientProjection.fold`. Corrections and system events are ignored here.
    public static func evolve(_ m: inout MonitoringState, _ event: Recorded, phase: PhaseState, rules: RuleSet) {
        m.evolve(event, phase: phase, rules: rules)
    }
}

extension MonitoringState {
    mutating func evolve(_ e: Recorded, phase: PhaseState, rules: RuleSet) {
        var isInfusion = false
        var doc: (MonitoringDoc, isMadrs: Bool)?
        switch e.event {
        case .eventAmended, .eventVoided, .auditReviewed, .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged:
            return
        case .infusionAdministered:
            isInfusion = true
        default:
            doc = MonitoringDoc.of(e.event)
        }
        let day = e.occurredAt.clinicalDay
        if let latest = latestEventDay {
            if day > latest { latestEventDay = day }
        } else {
            latestEventDay = day
        }

        if isInfusion {
            if t0 == nil {
                // T0: the first infusion of any series (it stays, R8).
                t0 = day
                t0Millis = e.occurredAt.epochMillis
                placeEarlierDocumentation(rules)
            }
            visit(day, rules)
        } else if let (doc, isMadrs) = doc {
            document(doc, isMadrs: isMadrs, day, millis: e.occurredAt.epochMillis, rules)
        }
        trackDiscontinuation(day, phase)
    }

    /// One documenting event of class `doc` on `day`.
    private mutating func document(_ doc: MonitoringDoc, isMadrs: Bool, _ day: Day, millis: Int64, _ rules: RuleSet) {
        tracks[doc.rawValue].note(day)

        // R11 baseline: an event whose occurredAt ≤ the first infusion's (one applied after it
        // can only have the very same instant).
        if t0Millis.map({ millis <= $0 }) ?? true {
            baseline |= isMadrs ? MonitoringDoc.baselineMadrs : doc.baselineBit
        }

        // R11 visits already seen whose window this event falls in.
        if doc.rawValue < MonitoringDoc.visitItems.count, !visits.isEmpty {
            let bit = UInt8(1) << UInt8(doc.rawValue)
            var i = visits.count - 1
            if doc == .consent {
                // A consent on day c covers the visits v with v − visitConsentMonths ≤ c ≤ v.
                let months = MonitoringState.consentMonths(rules)
                while i >= 0, visits[i].day >= day {
                    if visits[i].have & bit == 0, visits[i].day.adding(months: -months) <= day {
                        fill(at: i, bit)
                    }
                    i -= 1
                }
            } else {
                let w = MonitoringState.windowDays(rules)
                let lo = day.adding(days: -w)
                let hi = day.adding(days: w)
                while i >= 0, visits[i].day >= lo {
                    if visits[i].day <= hi, visits[i].have & bit == 0 { fill(at: i, bit) }
                    i -= 1
                }
            }
        }

        // R10 period items, R11 quarter and year windows: the window holding its clinical date.
        if let t0, day >= t0 { mark(doc, day, t0: t0, rules) }
    }

    private mutating func fill(at i: Int, _ bit: UInt8) {
        visits[i].have |= bit
        if visits[i].have == MonitoringDoc.visitComplete { visits.remove(at: i) }
    }

    /// R11 visit: an infusion on `day`.
    private mutating func visit(_ day: Day, _ rules: RuleSet) {
        // Already kept (a second infusion that day)?
        var at = visits.count
        while at > 0, visits[at - 1].day >= day {
            if visits[at - 1].day == day { return }
            at -= 1
        }
        // Documentation applied so far within the visit's window. A visit dropped as complete
        // and seen again is recomputed complete: every date it used is still among the three.
        let w = MonitoringState.windowDays(rules)
        let lo = day.adding(days: -w)
        let hi = day.adding(days: w)
        var have: UInt8 = 0
        for c in 0..<(MonitoringDoc.visitItems.count - 1) where tracks[c].has(from: lo, through: hi) {
            have |= UInt8(1) << UInt8(c)
        }
        let months = MonitoringState.consentMonths(rules)
        if tracks[MonitoringDoc.consent.rawValue].has(from: day.adding(months: -months), through: day) {
            have |= UInt8(1) << UInt8(MonitoringDoc.consent.rawValue)
        }
        guard have != MonitoringDoc.visitComplete else { return }
        visits.insert(Visit(day: day, have: have), at: at)
    }

    /// Marks the quarter and year windows holding `day` for a windowed class.
    private mutating func mark(_ doc: MonitoringDoc, _ day: Day, t0: Day, _ rules: RuleSet) {
        let q = doc.quarterBit
        if q != 0 {
            MonitoringState.mark(&quarters, MonitoringState.windowIndex(of: day, t0: t0, months: MonitoringState.quarterMonths(rules)), q)
        }
        let y = doc.yearBit
        if y != 0 {
            MonitoringState.mark(&years, MonitoringState.windowIndex(of: day, t0: t0, months: MonitoringState.yearMonths(rules)), y)
        }
    }

    private static func mark(_ marks: inout [WindowMark], _ index: Int, _ bit: UInt8) {
        var at = marks.count
        while at > 0, marks[at - 1].index >= index {
            if marks[at - 1].index == index {
                marks[at - 1].mask |= bit
                return
            }
            at -= 1
        }
        marks.insert(WindowMark(index: index, mask: bit), at: at)
    }

    /// When T0 is set: events applied before the first infusion whose clinical date is on or
    /// after T0 (possible only with mixed UTC offsets) count in window 0 (or the one holding them).
    private mutating func placeEarlierDocumentation(_ rules: RuleSet) {
        guard let t0 else { return }
        for doc in MonitoringDoc.windowed {
            for d in tracks[doc.rawValue].recent where d >= t0 { mark(doc, d, t0: t0, rules) }
        }
    }

    /// R11: the spans of days on which the underlying status is `discontinued` (the status on a
    /// day is the one after its events).
    private mutating func trackDiscontinuation(_ day: Day, _ phase: PhaseState) {
        let now = phase.t0 != nil && phase.mode == .discontinued
        let open = discontinued.last.map { $0.until == nil } ?? false
        if now == open { return }
        let last = discontinued.count - 1
        if now {
            if last >= 0, let until = discontinued[last].until, until >= day {
                discontinued[last].until = nil  // resumed and discontinued again the same day
            } else {
                discontinued.append(DaySpan(from: day, until: nil))
            }
        } else if discontinued[last].from >= day {
            discontinued.removeLast()  // discontinued and resumed the same day: not a day of it
        } else {
            discontinued[last].until = day
        }
    }

    // MARK: - Parameters, bounded so that day arithmetic stays in range

    static func windowDays(_ rules: RuleSet) -> Int { min(max(rules.visitWindowDays, 0), 36_500) }
    static func consentMonths(_ rules: RuleSet) -> Int { min(max(rules.visitConsentMonths, 0), 1200) }
    static func quarterMonths(_ rules: RuleSet) -> Int { min(max(rules.quarterMonths, 1), 1200) }
    static func yearMonths(_ rules: RuleSet) -> Int { min(max(rules.yearMonths, 1), 1200) }

    // MARK: - Windows (R11: window k runs from T0 + k·n months to the day before T0 + (k+1)·n)

    /// The index of the window holding `day` (≥ t0).
    static func windowIndex(of day: Day, t0: Day, months n: Int) -> Int {
        guard day > t0 else { return 0 }
        let a = t0.civil
        let b = day.civil
        let diff = (b.year - a.year) * 12 + (b.month - a.month)
        var k = max(diff / n, 0)
        while k > 0, t0.adding(months: k * n) > day { k -= 1 }
        while t0.adding(months: (k + 1) * n) <= day { k += 1 }
        return k
    }

    static func windowStart(_ k: Int, t0: Day, months n: Int) -> Day { t0.adding(months: k * n) }
    static func windowEnd(_ k: Int, t0: Day, months n: Int) -> Day { t0.adding(months: (k + 1) * n).adding(days: -1) }

    static func mask(_ marks: [WindowMark], _ index: Int) -> UInt8 {
        var lo = 0
        var hi = marks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if marks[mid].index < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < marks.count && marks[lo].index == index ? marks[lo].mask : 0
    }

    /// R11: whether every day of `start...end` was discontinued (one span covers it: spans are
    /// disjoint and do not touch).
    func whollyDiscontinued(_ start: Day, _ end: Day) -> Bool {
        discontinued.contains { $0.from <= start && ($0.until.map { $0 > end } ?? true) }
    }
}
