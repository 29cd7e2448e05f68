extension PhaseProjection {
    /// `query phase` on `day`, for a state folded through `day` (events of later clinical
    /// dates must not have been applied). nil: the patient has no event dated on or before `day`.
    ///
    /// `explain`: also list the events and rules behind the interval and the due date.
    public static func view(_ state: PhaseState, on day: Day, rules: RuleSet, explain: Bool = false) -> PhaseView? {
        guard let first = state.firstEventDay, first <= day else { return nil }
        let underlying = state.underlyingStatus(on: day, rules)
        let response = state.responseStatus(rules)
        var steps: [ExplainStep]? = explain ? [] : nil

        var interval: PhaseView.Interval?
        if underlying == .maintenance && state.treatmentProtocol == .intervalExtension {
            let ladder = state.series.ladder
            interval = PhaseView.Interval(
                days: ladder.intervalDays(rules), treatmentsAtInterval: ladder.count,
                requiredBeforeExtension: ladder.requiredBeforeExtension(rules))
            if explain { steps?.append(contentsOf: state.explainInterval(rules)) }
        }

        var due: Day?
        if let hold = state.hold {
            // R9: hold removes due dates.
            if explain { steps?.append(ExplainStep(hold, rule: "R9", "Pregnant: on hold, nothing is due while it lasts.")) }
        } else {
            let (d, why) = state.nextDue(on: day, underlying: underlying, response: response, rules, explain: explain)
            due = d
            if explain { steps?.append(contentsOf: why) }
        }
        let overdue = due.map { max(0, $0.days(to: day)) } ?? 0

        var week: Int?
        if let t0 = state.t0, t0 <= day { week = t0.days(to: day) / 7 + 1 }

        return PhaseView(
            patient: state.patient,
            treatmentProtocol: state.treatmentProtocol,
            phase: state.phase(week: week, response: response, rules),
            status: state.hold != nil ? .hold : underlying,
            weekOfTreatment: week,
            responseStatus: response,
            baselineMadrs: state.t0 == nil ? nil : state.series.baseline?.value,
            nadirMadrs: state.series.hasNadir ? state.series.nadir : nil,
            latestMadrs: state.latestMadrs?.value,
            interval: interval,
            nextInfusionDue: due,
            infusionOverdueDays: overdue,
            explain: steps)
    }

    /// R7: the alerts raised on or before `day` and not acknowledged by then (`all`: with the
    /// acknowledged ones), in the order raised.
    public static func alerts(_ state: PhaseState, on day: Day, all: Bool = false) -> [ProtocolAlert] {
        state.alerts.filter { all ? $0.raisedOn <= day : $0.isActive(on: day) }
    }
}

extension PhaseState {
    /// R9: the underlying status on `day` (hold not applied).
    public func underlyingStatus(on day: Day, _ rules: RuleSet) -> PatientStatus {
        guard t0 != nil else { return .preTreatment }
        switch mode {
        case .holiday: return .drugHoliday
        case .taper:
            if let t = taper, day >= t.completeOn { return .taperComplete }
            return .taper
        case .taperComplete: return .taperComplete
        case .discontinued: return .discontinued
        case .relapsed: return .relapsed
        case .active:
            guard series.isClosed(rules) else { return .acuteSeries }
            if series.firstMaintenance != nil { return .maintenance }
            switch responseStatus(rules) {
            case .responder: return .maintenance
            case .nonResponder: return .nonResponder
            default: return .awaitingResponse
            }
        }
    }

    /// R3.
    func phase(week: Int?, response: ResponseStatus?, _ rules: RuleSet) -> TreatmentPhase {
        guard let week else { return .preTreatment }
        // R3: a maintenance infusion (which closes the series, R9), or a complete series that responded.
        let gate = series.firstMaintenance != nil || (series.acuteCount >= rules.acuteSeriesLength && response == .responder)
        guard gate else { return .stabilization }
        let ends = rules.phaseEndWeeks.count >= 2 ? rules.phaseEndWeeks : RuleSet.default.phaseEndWeeks
        if week <= ends[0] { return .frequencyFinding }
        if week <= ends[1] { return .optimization }
        return .longTerm
    }

    /// R8: the taper step in force on `day`: its index and interval (nil once complete).
    func taperStep(on day: Day, _ rules: RuleSet) -> (index: Int, intervalDays: Int, from: Day)? {
        guard let t = taper else { return nil }
        let steps = t.steps ?? rules.taperSteps
        var months = 0
        for (i, step) in steps.enumerated() {
            let start = t.start.day.adding(months: months)
            months += min(max(step.months, 0), 1200)
            if day < t.start.day.adding(months: months) { return (i, RuleSet.boundedDays(step.intervalDays), start) }
        }
        return nil
    }

    /// R2, R4, R8, R12: the next infusion due (hold aside), with the reasons when asked.
    func nextDue(
        on day: Day, underlying: PatientStatus, response: ResponseStatus?, _ rules: RuleSet, explain: Bool
    ) -> (Day?, [ExplainStep]) {
        var why: [ExplainStep] = []
        func note(_ ref: EventRef?, _ rule: String, _ text: @autoclosure () -> String) {
            if explain { why.append(ExplainStep(ref, rule: rule, text())) }
        }
        switch underlying {
        case .preTreatment:
            return (nil, why)
        case .acuteSeries:
            guard let last = series.lastAcute else {
                note(nil, "R2", "No acute infusion in the series yet: nothing is due.")
                return (nil, why)
            }
            let due = last.day.adding(days: rules.acuteIntervalDays)
            note(
                last, "R2",
                "Acute infusion \(series.acuteCount) of \(rules.acuteSeriesLength) on \(last.day): the next is due \(rules.acuteIntervalDays) days later, \(due)."
            )
            return (due, why)
        case .awaitingResponse:
            if response == .unknown {
                note(series.lastAcute, "R2", "Acute series complete with no baseline MADRS: response unknown, nothing is due.")
            } else {
                note(series.lastAcute, "R2", "Acute series complete: awaiting the response-assessment MADRS, nothing is due.")
            }
            return (nil, why)
        case .nonResponder:
            note(series.assessment?.ref, "R2", "The response-assessment MADRS is not a response: nothing is due.")
            return (nil, why)
        case .drugHoliday:
            note(holiday?.start, "R8", "Drug holiday: nothing is due.")
            return (nil, why)
        case .taperComplete:
            note(taper?.start ?? discontinuedBy, "R8", "The taper has run its course: nothing is due.")
            return (nil, why)
        case .discontinued:
            note(discontinuedBy, "R8", "Maintenance discontinued: nothing is due.")
            return (nil, why)
        case .relapsed:
            note(
                alerts.last(where: { $0.kind == .relapse })?.source, "R8",
                "Relapsed after discontinuation: nothing is due until treatment restarts.")
            return (nil, why)
        case .hold:
            return (nil, why)
        case .taper:
            guard let step = taperStep(on: day, rules), let last = lastNonBooster else { return (nil, why) }
            let due = last.day.adding(days: step.intervalDays)
            note(taper?.start, "R8", "Taper step \(step.index + 1) from \(step.from): every \(step.intervalDays) days.")
            note(last, "R8", "Last infusion \(last.day) + \(step.intervalDays) days = \(due).")
            return (due, why)
        case .maintenance:
            // R8: after a holiday, its end date is due until the next maintenance infusion (any
            // infusion for symptom-triggered and hybrid), for every protocol.
            if let r = resumeDue {
                let what = treatmentProtocol == .intervalExtension ? "maintenance infusion" : "infusion"
                note(r, "R8", "Drug holiday ended \(r.day): due that day until the next \(what).")
                return (r.day, why)
            }
            var candidates: [Day] = []
            switch treatmentProtocol {
            case .intervalExtension:
                let days = series.ladder.intervalDays(rules)
                if let last = series.lastMaintenance {
                    let due = last.day.adding(days: days)
                    candidates.append(due)
                    note(last, "R4", "Last maintenance infusion \(last.day) + \(days) days = \(due).")
                } else if response == .responder, let last = series.lastAcute {
                    let due = last.day.adding(days: days)
                    candidates.append(due)
                    note(series.assessment?.ref, "R2", "Responder on the response-assessment MADRS: maintenance begins.")
                    note(last, "R4", "No maintenance infusion yet: last acute infusion \(last.day) + \(days) days = \(due).")
                }
            case .hybrid:
                if let last = series.lastMaintenance ?? series.lastAcute {
                    let due = last.day.adding(days: rules.hybridBaseDays)
                    candidates.append(due)
                    let kind = series.lastMaintenance != nil ? "maintenance" : "acute"
                    note(last, "R12", "Hybrid base: last \(kind) infusion \(last.day) + \(rules.hybridBaseDays) days = \(due).")
                }
            case .symptomTriggered:
                if trigger == nil { note(nil, "R12", "Symptom-triggered: no trigger, nothing is due.") }
            }
            // R12: a trigger makes an infusion due that day (hybrid: if sooner than the base).
            if treatmentProtocol != .intervalExtension, let t = trigger {
                candidates.append(t.day)
                note(t.phq2.ref, "R12", "PHQ-2 raised \(rules.triggerDays) days running: an infusion is due \(t.day).")
            }
            return (candidates.min(), why)
        }
    }

    /// The reasons behind the current ladder interval and count (R4, R5, R6, R8).
    func explainInterval(_ rules: RuleSet) -> [ExplainStep] {
        let ladder = series.ladder
        let days = ladder.intervalDays(rules)
        var out: [ExplainStep] = []
        if series.closedAtMillis != nil, let first = series.firstMaintenance {
            out.append(
                ExplainStep(
                    first, rule: "R9",
                    "Maintenance infusion on \(first.day) before the acute series was complete: the series is closed as the clinician's decision, response not assessed, and the ladder counts from it."
                ))
        }
        switch ladder.cause {
        case .start:
            out.append(ExplainStep(nil, rule: "R4", "The ladder starts at its first rung, \(days) days."))
        case .extended(let by, let from, let score):
            out.append(
                ExplainStep(
                    by, rule: "R5",
                    "Maintenance infusion completed the treatments at \(from) days, stable with MADRS \(score): the interval extended to \(days) days."
                ))
        case .steppedBack(let by, let score, let nadir, let from):
            out.append(
                ExplainStep(
                    by, rule: "R6",
                    "MADRS \(score) rose over the maintenance nadir \(nadir): stepped back from \(from) to \(days) days."))
        case .adjusted(let by):
            out.append(
                ExplainStep(
                    by, rule: "R6",
                    "Schedule adjusted by a clinician to \(days) days\(ladder.customDays != nil ? " (a custom interval)" : "")."))
        case .holidayEnded(let by, let given):
            out.append(
                ExplainStep(
                    by, rule: "R8",
                    given
                        ? "Drug holiday ended: the ladder resumes at its resume interval, \(days) days."
                        : "Drug holiday ended: the ladder resumes at the interval held when it began, \(days) days."))
        case .resumed(let by):
            out.append(
                ExplainStep(by, rule: "R8", "Maintenance resumed after discontinuation at the interval held before, \(days) days."))
        }
        if let required = ladder.requiredBeforeExtension(rules) {
            out.append(
                ExplainStep(
                    series.lastMaintenance, rule: "R4",
                    "\(ladder.count) of \(required) maintenance infusions counted at \(days) days before the ladder may extend."))
        } else {
            out.append(
                ExplainStep(
                    series.lastMaintenance, rule: "R4",
                    "\(ladder.count) maintenance infusions counted at \(days) days; the ladder does not extend past it."))
        }
        return out
    }
}
