import struct Foundation.UUID

/// The protocol engine (protocol.md R1–R9, R12's due dates, and the R7 alerts they raise) as a
/// pure fold: `evolve` applies one effective event, `fold` replays a patient's events (with
/// corrections, evaluation date and knowledge time), `view` answers `query phase` on a date.
public enum PhaseProjection {
    /// Applies ONE effective event (corrections already applied by the caller) to the state.
    ///
    /// Events must come in protocol order: `occurredAt` instant, then log sequence. Check
    /// `state.isInOrder(event)` first; when it is false, refold the patient with `fold`.
    /// Corrections (`EventAmended`, `EventVoided`) and system events are ignored here.
    public static func evolve(_ state: inout PhaseState, _ event: Recorded, rules: RuleSet) {
        state.evolve(event, rules: rules)
    }
}

extension PhaseState {
    mutating func evolve(_ e: Recorded, rules: RuleSet) {
        switch e.event {
        case .eventAmended, .eventVoided, .auditReviewed, .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged:
            return
        default:
            break
        }
        let day = e.occurredAt.clinicalDay
        let key = OrderKey(epochMillis: e.occurredAt.epochMillis, sequence: e.sequence)
        if let last = lastOrderKey {
            if last < key { lastOrderKey = key }
        } else {
            lastOrderKey = key
        }
        if let first = firstEventDay {
            if day < first { firstEventDay = day }
        } else {
            firstEventDay = day
        }
        let ref = EventRef(sequence: e.sequence, eventId: e.eventId, day: day)

        // R8: a taper has run its course from its complete day on, whatever event comes next
        // (taper-complete counts as discontinued from that day, for relapse and a new series).
        if mode == .taper, let t = taper, day >= t.completeOn {
            mode = .taperComplete
            discontinuedOn = t.completeOn
            discontinuedBy = t.start
            infusedSinceDiscontinuation = false
        }
        // R5: the judgement of the last maintenance infusion can only be revised by a MADRS of
        // the very same instant.
        if let j = series.judgement, j.epochMillis != key.epochMillis { series.judgement = nil }

        switch e.event {
        case .patientEnrolled(let p):
            treatmentProtocol = p.protocol
        case .infusionAdministered(let inf):
            infusion(inf, ref, key, rules)
            sessionInfusion(inf, ref, key.epochMillis, rules)
        case .scoreRecorded(let s):
            switch s.instrument {
            case .madrs: madrs(s.value, ref, key, rules)
            case .phq2: phq2(s.value, ref, key, rules)
            case .phq9, .moca: break
            }
        case .labResulted(let lab):
            if lab.test == .lft && lab.abnormal { raise(.lftAbnormal, ref, facts: .none) }
        case .vitalsRecorded(let v):
            if v.systolic > rules.bpSystolicMax || v.diastolic > rules.bpDiastolicMax {
                raise(.bpHigh, ref, facts: .bloodPressure(systolic: v.systolic, diastolic: v.diastolic))
            }
            sessionVitals(v, key.epochMillis, rules)
        case .observationRecorded(let o):
            sessionObservation(o, ref, key.epochMillis, rules)
        case .dischargeRecorded(let d):
            sessionDischarge(d, ref, key.epochMillis, rules)
        case .remsFormSubmitted(let f):
            sessionForm(f, ref)
        case .stockReceived, .stockWasted, .stockDisposed, .stockAdjusted, .inventoryCounted:
            break
        case .sideEffectReported(let se):
            switch se.category {
            case .urological: raise(.urologyReferral, ref, facts: .finding(screening: false))
            case .psychotic: raise(.psychoticSymptoms, ref, facts: .finding(screening: false))
            default: break
            }
        case .screeningRecorded(let sc):
            guard sc.positive else { break }
            switch sc.kind {
            case .urologicalSymptoms: raise(.urologyReferral, ref, facts: .finding(screening: true))
            case .substanceUse: raise(.substanceUse, ref, facts: .none)
            case .psychoticSymptoms: raise(.psychoticSymptoms, ref, facts: .finding(screening: true))
            case .sideEffectsReview, .dissociativeSymptoms: break
            }
        case .scheduleAdjusted(let a):
            scheduleAdjusted(a.intervalDays, ref, rules)
        case .drugHolidayStarted(let h):
            holidayStarted(h.plannedWeeks, ref, rules)
        case .drugHolidayEnded(let h):
            holidayEnded(h.resumeIntervalDays, ref, rules)
        case .taperStarted(let t):
            taperStarted(t.steps, ref, rules)
        case .maintenanceDiscontinued:
            discontinued(ref)
        case .pregnancyStatusRecorded(let p):
            switch p.status {
            case .planning: raise(.pregnancyPlanning, ref, facts: .none)
            case .pregnant: if hold == nil { hold = ref }
            case .notPregnant, .postpartum: hold = nil
            }
        case .alertAcknowledged(let a):
            acknowledge(a.alertId, ref)
        case .consentRecorded, .assessmentRecorded, .medicationChanged:
            break
        case .eventAmended, .eventVoided, .auditReviewed, .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged:
            break
        }
    }

    // MARK: - Derived (state only, no date)

    /// R2: the response status of the current series (nil before the first infusion).
    func responseStatus(_ rules: RuleSet) -> ResponseStatus? {
        guard t0 != nil else { return nil }
        // R9 (revision 4): a maintenance infusion closed the series before it was complete.
        if series.closedAtMillis != nil { return .notAssessed }
        guard series.acuteCount >= rules.acuteSeriesLength else { return .inProgress }
        guard let baseline = series.baseline else { return .unknown }
        guard let a = series.assessment else { return .pending }
        return rules.isResponse(score: a.value, baseline: baseline.value) ? .responder : .nonResponder
    }

    /// R9: the underlying status is `maintenance` (as of the last event applied).
    func isUnderlyingMaintenance(_ rules: RuleSet) -> Bool {
        mode == .active && (series.isClosed(rules) && (series.firstMaintenance != nil || responseStatus(rules) == .responder))
    }

    // MARK: - Infusions (R1, R2, R4, R5, R7, R8, R9)

    private mutating func infusion(_ inf: InfusionAdministered, _ ref: EventRef, _ key: OrderKey, _ rules: RuleSet) {
        if t0 == nil {
            // R1: T0, and the baseline is the latest MADRS at or before the first infusion.
            t0 = ref.day
            series.anchorMillis = key.epochMillis
            series.baseline = latestMadrs
        }
        // R7 dose-above-limit: mg/kg only, a justification of only blanks is none.
        if inf.dose.unit == .mgPerKg, inf.dose.value > rules.maxDoseMgPerKg, PhaseState.isBlank(inf.justification) {
            raise(.doseAboveLimit, ref, facts: .dose(mgPerKg: inf.dose.value, limit: rules.maxDoseMgPerKg))
        }
        // R7 infusion-during-pregnancy (hold is an overlay: the infusion still moves the state).
        if hold != nil { raise(.infusionDuringPregnancy, ref, facts: .none) }

        switch inf.series {
        case .acute:
            // R9: a series begins with an acute infusion before any series, or while discontinued,
            // relapsed or taper-complete; any other acute infusion joins the current series.
            if series.number == 0 || mode == .discontinued || mode == .relapsed || mode == .taperComplete {
                if series.number == 0 {
                    // The first series keeps R1's baseline and where a ScheduleAdjusted given
                    // before its first maintenance infusion put the ladder (R4).
                    series.number = 1
                } else {
                    // R8: a new series, its baseline the latest MADRS at or before it, its
                    // ladder at rung 0, its own response, nadir and maintenance infusions.
                    var next = CurrentSeries()
                    next.number = series.number + 1
                    next.anchorMillis = key.epochMillis
                    next.baseline = latestMadrs
                    series = next
                }
                mode = .active
                holiday = nil
                taper = nil
                discontinuedOn = nil
                discontinuedBy = nil
                resumeDue = nil
                pauseAdjusted = nil
            }
            series.acuteCount += 1
            series.lastAcute = ref
            // R9 (revision 4): acute infusions after a maintenance infusion closed the series
            // change nothing of R2 (no completion, no assessment score).
            if series.acuteCount == rules.acuteSeriesLength && series.closedAtMillis == nil { series.completedOn = ref.day }
            lastNonBooster = ref
            if treatmentProtocol != .intervalExtension { resumeDue = nil }
        case .maintenance:
            // R7 more-frequent-than-weekly, against the series' previous maintenance infusion.
            if let prev = series.lastMaintenance {
                let gap = prev.day.days(to: ref.day)
                if gap < rules.minMaintenanceIntervalDays {
                    raise(.moreFrequentThanWeekly, ref, facts: .interval(days: gap, minimum: rules.minMaintenanceIntervalDays))
                }
            }
            var counts = false
            switch mode {
            case .active:
                counts = true
            case .discontinued, .relapsed:
                // R8: resumes the ladder at the interval held before the taper or
                // discontinuation, count 0, then this infusion counts as usual; the nadir
                // restarts at the latest MADRS.
                // R8 (revision 4): at the interval of the latest ScheduleAdjusted since the taper or
                // discontinuation began (already on the ladder), else the interval held before.
                mode = .active
                discontinuedOn = nil
                discontinuedBy = nil
                series.ladder.count = 0
                series.ladder.cause = pauseAdjusted.map { .adjusted(by: $0) } ?? .resumed(by: ref)
                pauseAdjusted = nil
                series.judgement = nil
                if series.hasNadir, let m = latestMadrs { series.nadir = m.value }
                counts = true
            case .holiday, .taper, .taperComplete:
                // R9: does not count on the ladder; still the last maintenance infusion.
                counts = false
            }
            // R9 (revision 4): a maintenance infusion before the acute series is complete (or
            // with no series at all: a patient transferred in on maintenance) closes it as the
            // clinician's decision: not-assessed, maintenance, the ladder counts from it, the
            // nadir starts at the latest MADRS at or before it (else the first one after).
            if !series.isClosed(rules) {
                if series.number == 0 {
                    series.number = 1
                    if series.anchorMillis == nil { series.anchorMillis = key.epochMillis }
                }
                series.closedAtMillis = key.epochMillis
                series.nadir = latestMadrs?.value
                if mode != .active { mode = .active }
                counts = true
            }
            if counts { countMaintenance(ref, key.epochMillis, score: latestMadrs?.value, rules) }
            if series.firstMaintenance == nil { series.firstMaintenance = ref }
            series.lastMaintenance = ref
            lastNonBooster = ref
            resumeDue = nil
        case .booster:
            // R4: boosters neither count nor move the schedule (R8/R12: any infusion ends the
            // holiday-end due date for symptom-triggered and hybrid).
            if treatmentProtocol != .intervalExtension { resumeDue = nil }
        }
        // R12: an infusion applied after the triggering PHQ-2 ends the trigger's due date.
        trigger = nil
        lastInfusionKey = key
        // R8 (revision 4): the discontinuation date belongs to the spell since the last infusion.
        if discontinuedOn != nil { infusedSinceDiscontinuation = true }
    }

    /// R4/R5: one more maintenance infusion at the current interval; extend when the rung's
    /// treatments are reached, the rung is not the last and the latest MADRS is stable.
    private mutating func countMaintenance(_ ref: EventRef, _ millis: Int64, score: Int?, _ rules: RuleSet) {
        let before = series.ladder
        series.ladder.count += 1
        if let required = series.ladder.requiredBeforeExtension(rules), series.ladder.count >= required,
            rules.isStable(score: score, baseline: series.baseline?.value)
        {
            let from = series.ladder.intervalDays(rules)
            series.ladder.extend(rules)
            series.ladder.count = 0
            series.ladder.cause = .extended(by: ref, fromDays: from, score: score ?? 0)
        }
        series.judgement = Judgement(infusion: ref, epochMillis: millis, ladderBefore: before)
    }

    // MARK: - MADRS (R1, R2, R5, R6, R8)

    private mutating func madrs(_ value: Int, _ ref: EventRef, _ key: OrderKey, _ rules: RuleSet) {
        let note = Score(value: value, ref: ref, epochMillis: key.epochMillis)
        // R1/R8: a MADRS of the same instant as the baseline's infusion, later in the log, is
        // still "at or before" it, and the latest such.
        if let anchor = series.anchorMillis, anchor == key.epochMillis { series.baseline = note }
        // R5: likewise the latest MADRS at or before the last maintenance infusion: judge again.
        if let j = series.judgement, j.epochMillis == key.epochMillis {
            series.ladder = j.ladderBefore
            countMaintenance(j.infusion, j.epochMillis, score: value, rules)
        }
        latestMadrs = note

        // R2: the response-assessment score is the first MADRS (applied order) of the earliest
        // clinical date after the completing acute infusion's date. A later-applied score of an
        // earlier date (possible only with mixed UTC offsets) replaces it.
        var isAssessment = false
        if series.acuteCount >= rules.acuteSeriesLength, let done = series.completedOn, ref.day > done {
            if let current = series.assessment {
                if ref.day < current.ref.day {
                    removeAlert(.nonResponse, source: current.ref)
                    isAssessment = true
                }
            } else {
                isAssessment = true
            }
            if isAssessment {
                series.assessment = note
                series.nadir = value  // R6: the nadir runs from the assessment score on
                if let b = series.baseline, !rules.isResponse(score: value, baseline: b.value) {
                    raise(.nonResponse, ref, facts: .score(value: value, baseline: b.value))
                }
            }
        }

        // R9 (revision 4): a series closed by a maintenance infusion with no MADRS at or before
        // it takes its nadir from the first MADRS after it; a MADRS of the very same instant,
        // applied after it, is still "at or before" it.
        if series.closedAtMillis != nil, series.assessment == nil,
            series.nadir == nil || series.closedAtMillis == key.epochMillis
        {
            series.nadir = value
            isAssessment = true  // sets the nadir; no step back against itself
        }

        // R6: step back on a rise over the nadir (interval-extension, underlying maintenance,
        // after the first maintenance infusion); else the nadir follows the lowest score.
        if !isAssessment, series.hasNadir, let nadir = series.nadir {
            if treatmentProtocol == .intervalExtension, series.firstMaintenance != nil, isUnderlyingMaintenance(rules),
                rules.isSymptomRise(score: value, nadir: nadir)
            {
                stepBack(by: ref, score: value, nadir: nadir, rules)
                series.nadir = value  // R6 (choice): the nadir restarts from the score that caused it
            } else if value < nadir {
                series.nadir = value
            }
        }

        // R8: the series has been in response (responder, or a MADRS in response since its
        // first maintenance infusion).
        if series.firstMaintenance != nil, let b = series.baseline, rules.isResponse(score: value, baseline: b.value) {
            series.remitted = true
        }

        // R8 relapse: while discontinued (taper-complete counts, dated its first day), the first
        // MADRS above the response threshold of a series that has been in response.
        if mode == .discontinued || mode == .taperComplete, let since = discontinuedOn, let b = series.baseline,
            series.remitted || responseStatus(rules) == .responder,
            !rules.isResponse(score: value, baseline: b.value),
            !relapsed(since: since)
        {
            let days = since.days(to: ref.day)
            let cls: RelapseClass =
                days < rules.relapseEarlyDays ? .early : (days > rules.relapseLateDays ? .late : .intermediate)
            mode = .relapsed
            raise(.relapse, ref, facts: .relapse(cls, days: days, score: value, baseline: b.value, discontinuedOn: since))
        }
    }

    /// R6 step back, R7 symptom-rise and tolerance-review.
    private mutating func stepBack(by ref: EventRef, score: Int, nadir: Int, _ rules: RuleSet) {
        let from = series.ladder.intervalDays(rules)
        series.ladder.stepBack(rules)
        series.ladder.count = 0
        series.ladder.cause = .steppedBack(by: ref, score: score, nadir: nadir, fromDays: from)
        series.judgement = nil
        raise(
            .symptomRise, ref,
            facts: .symptomRise(score: score, nadir: nadir, fromDays: from, toDays: series.ladder.intervalDays(rules)))

        // R7 tolerance-review: step backs dated within the window up to this one's date (one
        // exactly `toleranceWindowDays` earlier counts; itself included).
        let windowStart = ref.day.adding(days: -rules.toleranceWindowDays)
        var inWindow = 1
        for d in stepBackDays where d >= windowStart && d <= ref.day { inWindow += 1 }
        stepBackDays.removeAll(where: { $0 < windowStart })
        stepBackDays.append(ref.day)
        let keep = max(rules.toleranceStepBacks, 1)
        if stepBackDays.count > keep { stepBackDays.removeFirst(stepBackDays.count - keep) }
        if inWindow >= rules.toleranceStepBacks {
            raise(.toleranceReview, ref, facts: .stepBacks(count: inWindow, windowDays: rules.toleranceWindowDays))
        }
    }

    // MARK: - Schedule, holiday, taper, discontinuation (R6, R8)

    /// R6: the rung with exactly that interval, else a custom interval; count 0. It takes effect
    /// in any status (choice): during a holiday, a taper or after discontinuation it sets the
    /// interval the ladder resumes at.
    private mutating func scheduleAdjusted(_ days: Int, _ ref: EventRef, _ rules: RuleSet) {
        // R8 (revision 4): during a holiday, a taper or after discontinuation the latest
        // clinician decision sets the interval the resumption uses.
        switch mode {
        case .holiday, .taper, .taperComplete, .discontinued, .relapsed: pauseAdjusted = ref
        case .active: pauseAdjusted = nil
        }
        series.ladder.set(intervalDays: days, rules)
        series.ladder.count = 0
        series.ladder.cause = .adjusted(by: ref)
        series.judgement = nil
    }

    private mutating func holidayStarted(_ weeks: Int, _ ref: EventRef, _ rules: RuleSet) {
        guard isUnderlyingMaintenance(rules) else { return }  // R9: takes effect only in maintenance
        let h = Holiday(start: ref, plannedWeeks: weeks)
        pauseAdjusted = nil
        mode = .holiday
        holiday = h
        resumeDue = nil
        trigger = nil
        // R7 holiday-overrun: kept with the day it would be raised; removed if the holiday ends
        // (DrugHolidayEnded, or a discontinuation) before that day.
        raise(
            .holidayOverrun, ref, raisedOn: h.overrunOn,
            facts: .holiday(plannedWeeks: weeks, plannedEnd: h.overrunOn.adding(days: -1)))
    }

    private mutating func holidayEnded(_ resume: Int?, _ ref: EventRef, _ rules: RuleSet) {
        guard mode == .holiday, let h = holiday else { return }  // R9: only during a holiday
        if ref.day < h.overrunOn { removeAlert(.holidayOverrun, source: h.start) }
        mode = .active
        holiday = nil
        // R8: resume at its interval (as ScheduleAdjusted), else the interval held; count 0.
        // R8 (revision 4): its own resume interval, else the latest ScheduleAdjusted during the
        // holiday (already on the ladder), else the interval held when it began.
        if let resume { series.ladder.set(intervalDays: resume, rules) }
        series.ladder.count = 0
        if resume == nil, let adjusted = pauseAdjusted {
            series.ladder.cause = .adjusted(by: adjusted)
        } else {
            series.ladder.cause = .holidayEnded(by: ref, resumeGiven: resume != nil)
        }
        pauseAdjusted = nil
        series.judgement = nil
        resumeDue = ref
    }

    private mutating func taperStarted(_ steps: [TaperStep]?, _ ref: EventRef, _ rules: RuleSet) {
        guard isUnderlyingMaintenance(rules) else { return }  // R9: takes effect only in maintenance
        let all = steps ?? rules.taperSteps
        let months = RuleSet.monthsBefore(step: all.count, of: all)
        let complete = ref.day.adding(months: months)  // one addition from the taper start
        pauseAdjusted = nil
        mode = .taper
        taper = Taper(start: ref, steps: steps, completeOn: complete)
        resumeDue = nil
        trigger = nil
        // R7 discontinuation-eligible: raised on the complete day by the TaperStarted.
        raise(.discontinuationEligible, ref, raisedOn: complete, facts: .taper(start: ref.day))
    }

    /// R8: status `discontinued`. The discontinuation date (revision 4) is the first day, since
    /// the patient's last infusion, on which the status became `discontinued`: this event's
    /// date, or the day a taper ran its course, whichever came first; a later
    /// MaintenanceDiscontinued of the same spell (no infusion between) does not move it.
    private mutating func discontinued(_ ref: EventRef) {
        guard t0 != nil else { return }  // R9: at any time after T0
        let sameSpell = discontinuedOn != nil && !infusedSinceDiscontinuation
        switch mode {
        case .discontinued:
            // Already discontinued: no new spell began (an infusion that ends a spell, acute or
            // maintenance, leaves `discontinued`), so the first date stays.
            return
        case .taperComplete:
            // Counted as discontinued since the taper's complete day (R8): that date stays.
            mode = .discontinued
        case .taper:
            if let t = taper, ref.day < t.completeOn { removeAlert(.discontinuationEligible, source: t.start) }
            setDiscontinued(ref)
        case .holiday:
            // R8 (revision 4): a discontinuation ends the holiday: no overrun after it.
            if let h = holiday, ref.day < h.overrunOn { removeAlert(.holidayOverrun, source: h.start) }
            setDiscontinued(ref)
        case .relapsed where sameSpell:
            // Relapsed and discontinued again with no infusion between: the same spell.
            mode = .discontinued
        case .active, .relapsed:
            setDiscontinued(ref)
        }
        holiday = nil
        taper = nil
        resumeDue = nil
        trigger = nil
    }

    /// R8: the spell that began on `since` already had its relapse (the first MADRS above the
    /// threshold after the discontinuation; a MaintenanceDiscontinued after it in the same spell
    /// makes the status discontinued again, not a second relapse).
    private func relapsed(since: Day) -> Bool {
        alerts.contains {
            if case .relapse(_, _, _, _, let d) = $0.facts { return d == since }
            return false
        }
    }

    private mutating func setDiscontinued(_ ref: EventRef) {
        mode = .discontinued
        discontinuedOn = ref.day
        discontinuedBy = ref
        infusedSinceDiscontinuation = false
    }

    // MARK: - PHQ-2 trigger (R12)

    private mutating func phq2(_ value: Int, _ ref: EventRef, _ key: OrderKey, _ rules: RuleSet) {
        guard treatmentProtocol != .intervalExtension else { return }
        let note = Score(value: value, ref: ref, epochMillis: key.epochMillis)
        let day = ref.day
        // `phq2Days` is sorted by date. Find this date from the newest end (a PHQ-2 almost always
        // belongs to the newest date or a new one after it).
        var index: Int?
        var insertAt = phq2Days.count
        var i = phq2Days.count - 1
        while i >= 0 {
            let d = phq2Days[i].day
            if d == day {
                index = i
                break
            }
            if d < day { break }
            insertAt = i
            i -= 1
        }
        // Only dates on which the underlying status is maintenance count (judged when the
        // date's latest PHQ-2 is applied).
        let counts = isUnderlyingMaintenance(rules)
        let previousLatest = index.map { phq2Days[$0].latest.ref }
        let at: Int
        if let index {
            phq2Days[index].lowest = min(phq2Days[index].lowest, value)
            phq2Days[index].latest = note
            phq2Days[index].counts = counts
            at = index
        } else {
            phq2Days.insert(PHQ2Day(day: day, lowest: value, latest: note, run: 0, counts: counts), at: insertAt)
            at = insertAt
        }
        // R12 (revision 4): raised days, baselines, runs and the trigger are by clinical date, so
        // this date and every later one it can reach (their baselines, their runs) are worked out
        // again; applied in date order that is this date alone.
        var changedTrigger = false
        var k = at
        while k < phq2Days.count {
            let entry = phq2Days[k]
            let (run, baseline) = phq2Run(at: k, rules)
            let wasTrigger = entry.run == rules.triggerDays
            let isTrigger = run == rules.triggerDays
            let sourceChanged = k == at && index != nil
            if wasTrigger && (!isTrigger || sourceChanged) {
                removeAlert(.boosterIndicated, source: k == at ? (previousLatest ?? entry.latest.ref) : entry.latest.ref)
                changedTrigger = true
            }
            phq2Days[k].run = run
            if isTrigger && (!wasTrigger || sourceChanged) {
                raise(.boosterIndicated, entry.latest.ref, facts: .trigger(value: entry.latest.value, baseline: baseline ?? 0, days: run))
                changedTrigger = true
            }
            // A later date depends on this one through its baseline (the dates within
            // `phq2BaselineDays` before it) and its run (the day before it).
            if k > at, entry.run == run, entry.day > day.adding(days: rules.phq2BaselineDays) { break }
            k += 1
        }
        if changedTrigger {
            // The trigger whose due date stands: the newest trigger date whose PHQ-2 no infusion
            // has been applied after.
            if let t = phq2Days.last(where: { $0.run == rules.triggerDays }),
                lastInfusionKey.map({ $0 < OrderKey(epochMillis: t.latest.epochMillis, sequence: t.latest.ref.sequence) }) ?? true,
                counts
            {
                trigger = Trigger(phq2: t.latest)
            } else if let t = trigger, !phq2Days.contains(where: { $0.run == rules.triggerDays && $0.latest == t.phq2 }) {
                trigger = nil
            }
        }
        // Keep the dates a later date's baseline can reach, and a week more for a date applied
        // out of date order (mixed UTC offsets put a clinical date at most two days out of
        // instant order); drop the rest in bulk once they are many (shifting the list each day
        // cost ~10% of a full replay: PHQ-2 diaries are the commonest event of these protocols).
        let keepDays = rules.phq2BaselineDays + PhaseState.phq2OutOfOrderDays
        if phq2Days.count >= max(64, 2 * keepDays), let newest = phq2Days.last?.day {
            let from = newest.adding(days: -keepDays)
            let stale = phq2Days.firstIndex(where: { $0.day >= from }) ?? phq2Days.count
            phq2Days.removeFirst(stale)
        }
    }

    /// How far before the newest PHQ-2 date a date applied out of date order is still worked out
    /// exactly (R12, revision 4).
    static let phq2OutOfOrderDays = 7

    /// R12: the run of raised maintenance dates ending at `phq2Days[k]` (0 when it is not raised
    /// or does not count) and its baseline (the lowest PHQ-2 on the `phq2BaselineDays` dates
    /// before it; nil: none).
    @inline(__always)
    private func phq2Run(at k: Int, _ rules: RuleSet) -> (run: Int, baseline: Int?) {
        // One pass over the dates before it, read in place (this runs for every PHQ-2, the
        // commonest event of hybrid and symptom-triggered patients).
        phq2Days.withUnsafeBufferPointer { days in
            let day = days[k].day
            let from = day.adding(days: -rules.phq2BaselineDays)
            var lowest = Int.max
            var j = k - 1
            while j >= 0, days[j].day >= from {
                if days[j].lowest < lowest { lowest = days[j].lowest }
                j -= 1
            }
            let baseline: Int? = lowest == Int.max ? nil : lowest
            guard let baseline, days[k].counts, rules.isTriggerRaised(value: days[k].latest.value, baseline: baseline) else {
                return (0, baseline)
            }
            let previous = k > 0 && days[k - 1].day == day.adding(days: -1) ? days[k - 1].run : 0
            return (previous + 1, baseline)
        }
    }

    // MARK: - Alerts (R7)

    mutating func raise(_ kind: AlertKind, _ source: EventRef, raisedOn: Day? = nil, facts: AlertFacts) {
        var alert = ProtocolAlert(kind: kind, source: source, raisedOn: raisedOn ?? source.day, facts: facts)
        if !pendingAcks.isEmpty,
            let i = pendingAcks.firstIndex(where: {
                $0.kind == kind && $0.source == source.eventId && $0.ack.day >= alert.raisedOn
            })
        {
            alert.acknowledged = pendingAcks[i].ack
            pendingAcks.remove(at: i)
        }
        alerts.append(alert)
    }

    private mutating func removeAlert(_ kind: AlertKind, source: EventRef) {
        alerts.removeAll(where: { $0.kind == kind && $0.source.sequence == source.sequence && $0.source.eventId == source.eventId })
    }

    /// Most acknowledgements kept waiting for an alert raised later in protocol order.
    static let maxPendingAcks = 32

    private mutating func acknowledge(_ alertId: String, _ ref: EventRef) {
        guard let (kind, source) = PhaseState.parseAlertId(alertId) else { return }
        if let i = alerts.firstIndex(where: { $0.kind == kind && $0.source.eventId == source }) {
            // R7: an acknowledgement dated on or after the date raised closes it.
            if alerts[i].acknowledged == nil && ref.day >= alerts[i].raisedOn { alerts[i].acknowledged = ref }
            return
        }
        pendingAcks.append(PendingAck(kind: kind, source: source, ack: ref))
        if pendingAcks.count > PhaseState.maxPendingAcks { pendingAcks.removeFirst() }
    }

    /// `<kind>:<uuid>` → its parts (nil when it is not an alert id).
    static func parseAlertId(_ id: String) -> (AlertKind, UUID)? {
        guard let colon = id.firstIndex(of: ":") else { return nil }
        guard let kind = AlertKind(rawValue: String(id[id.startIndex..<colon])),
            let uuid = UUID(uuidString: String(id[id.index(after: colon)...]))
        else { return nil }
        return (kind, uuid)
    }

    static func isBlank(_ s: String?) -> Bool {
        guard let s else { return true }
        return s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }
}
