import Foundation
import KClinic
import Testing

/// R10 and R11 against a naive reference written straight from protocol.md (every query
/// re-reads the whole list of effective events; the status on a day is a phase fold through
/// that day), on seeded random histories with mixed UTC offsets, random rule parameters,
/// discontinuations, resumptions, tapers and holds.
@Suite struct MonitoringReferenceTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    // MARK: - Random histories

    static func stamp(_ d: Day, _ minutes: Int, offset: Int) -> String {
        let sign = offset < 0 ? "-" : "+"
        return d.description + String(format: "T%02d:%02d:00", minutes / 60, minutes % 60) + sign
            + String(format: "%02d:%02d", abs(offset) / 60, abs(offset) % 60)
    }

    static let documentation: [ClinicalEvent] =
        [
            .scoreRecorded(ScoreRecorded(instrument: .phq9, value: 5)),
            .scoreRecorded(ScoreRecorded(instrument: .phq2, value: 1)),
            .scoreRecorded(ScoreRecorded(instrument: .moca, value: 27)),
            .labResulted(LabResulted(test: .urinalysis, abnormal: false)),
            .labResulted(LabResulted(test: .lft, abnormal: false)),
            .labResulted(LabResulted(test: .ecg, abnormal: false)),
            .vitalsRecorded(VitalsRecorded(systolic: 120, diastolic: 80)),
            .sideEffectReported(SideEffectReported(category: .nausea, severity: .mild)),
            .consentRecorded(ConsentRecorded(kind: .initial)),
            .consentRecorded(ConsentRecorded(kind: .reaffirmation)),
        ] + ScreeningKind.allCases.map { .screeningRecorded(ScreeningRecorded(kind: $0, positive: false)) }
        + AssessmentKind.allCases.map { .assessmentRecorded(AssessmentRecorded(kind: $0)) }

    static let visitDocumentation: [ClinicalEvent] = [
        .scoreRecorded(ScoreRecorded(instrument: .phq9, value: 5)),
        .vitalsRecorded(VitalsRecorded(systolic: 120, diastolic: 80)),
        .screeningRecorded(ScreeningRecorded(kind: .substanceUse, positive: false)),
        .screeningRecorded(ScreeningRecorded(kind: .urologicalSymptoms, positive: false)),
        .screeningRecorded(ScreeningRecorded(kind: .sideEffectsReview, positive: false)),
        .assessmentRecorded(AssessmentRecorded(kind: .treatmentResponse)),
        .consentRecorded(ConsentRecorded(kind: .reaffirmation)),
    ]

    /// Documentation carries any offset; events that move the status (infusions, MADRS,
    /// discontinuation, taper, pregnancy) stay at −05:00 so that "the status on a day" is
    /// unambiguous for the reference.
    static func randomHistory(seed: UInt64) -> (History, RuleSet) {
        var rng = SplitMix64(seed)
        var rules = RuleSet.default
        rules.visitWindowDays = [0, 0, 1, 2].randomElement(using: &rng) ?? 0
        rules.quarterMonths = [3, 3, 2].randomElement(using: &rng) ?? 3
        rules.yearMonths = [12, 12, 6].randomElement(using: &rng) ?? 12
        rules.visitConsentMonths = [12, 12, 4].randomElement(using: &rng) ?? 12
        if Bool.random(using: &rng) {
            rules.monitoring[1].dueFrom = .days(20)
            rules.monitoring[1].dueBy = .days(40)
        }
        let offsets = [-300, -300, 840, -720, 0, 330, 765]
        var h = History("R\(seed)")
        let protocols: [TreatmentProtocol] = [.intervalExtension, .hybrid, .symptomTriggered]
        h.enrolled(protocols.randomElement(using: &rng) ?? .hybrid, "2025-12-20T08:00")

        func doc(_ d: Day, _ rng: inout SplitMix64) {
            guard let e = documentation.randomElement(using: &rng), let o = offsets.randomElement(using: &rng) else { return }
            h.add(stamp(d, Int.random(in: 0..<1440, using: &rng), offset: o), e)
        }
        func status(_ d: Day, _ minutes: Int, _ e: ClinicalEvent) { h.add(stamp(d, minutes, offset: -300), e) }
        func infusion(_ d: Day, _ s: Series, _ rng: inout SplitMix64) {
            if Bool.random(using: &rng) {
                // A mostly documented visit: each item likely, some a day or two off.
                for e in visitDocumentation where Int.random(in: 0..<8, using: &rng) > 0 {
                    let shift = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: -2...2, using: &rng) : 0
                    let o = offsets.randomElement(using: &rng) ?? -300
                    h.add(stamp(d.adding(days: shift), Int.random(in: 0..<1440, using: &rng), offset: o), e)
                }
            } else {
                for _ in 0..<Int.random(in: 0...8, using: &rng) { doc(d.adding(days: Int.random(in: -1...1, using: &rng)), &rng) }
            }
            status(d, 570, .infusionAdministered(InfusionAdministered(route: .iv, dose: Dose(value: 0.5, unit: .mgPerKg), series: s)))
        }
        func madrs(_ d: Day, _ v: Int) { status(d, 510, .scoreRecorded(ScoreRecorded(instrument: .madrs, value: v))) }

        let t0 = day("2026-01-05")
        for _ in 0..<Int.random(in: 0...10, using: &rng) { doc(t0.adding(days: Int.random(in: -16...1, using: &rng)), &rng) }
        if Int.random(in: 0..<4, using: &rng) > 0 { madrs(t0.adding(days: -1), 32) }
        for k in [0, 2, 4, 7, 9, 11] { infusion(t0.adding(days: k), .acute, &rng) }
        madrs(t0.adding(days: 14), 4)

        var d = t0.adding(days: 15)
        let end = day("2027-07-01")
        var discontinued = false
        var pregnant = false
        while d < end {
            let r = Double.random(in: 0..<1, using: &rng)
            if discontinued {
                if r < 0.02 {
                    infusion(d, Bool.random(using: &rng) ? .maintenance : .acute, &rng)
                    discontinued = false
                    if r < 0.005 {
                        // Resumed and discontinued again the same day.
                        status(d, 900, .maintenanceDiscontinued(MaintenanceDiscontinued(reason: "r")))
                        discontinued = true
                    }
                } else if r < 0.05 {
                    doc(d, &rng)
                }
            } else if r < 0.10 {
                madrs(d, Int.random(in: 3...7, using: &rng))
                infusion(d, Int.random(in: 0..<10, using: &rng) == 0 ? .booster : .maintenance, &rng)
            } else if r < 0.18 {
                doc(d, &rng)
            } else if r < 0.187 {
                status(d, 600, .maintenanceDiscontinued(MaintenanceDiscontinued(reason: "r")))
                discontinued = true
                if r < 0.182 {
                    // Discontinued and resumed the same day.
                    status(
                        d, 900,
                        .infusionAdministered(
                            InfusionAdministered(route: .iv, dose: Dose(value: 0.5, unit: .mgPerKg), series: .maintenance)))
                    discontinued = false
                }
            } else if r < 0.19 {
                status(d, 600, .taperStarted(TaperStarted(steps: [TaperStep(intervalDays: 14, months: 1)])))
            } else if r < 0.195 {
                pregnant.toggle()
                status(d, 620, .pregnancyStatusRecorded(PregnancyStatusRecorded(status: pregnant ? .pregnant : .notPregnant)))
            } else if r < 0.198 {
                madrs(d, 25)
            }
            d = d.adding(days: 1)
        }
        return (h, rules)
    }

    // MARK: - The reference

    static func satisfies(_ item: String, _ e: ClinicalEvent) -> Bool {
        switch (item, e) {
        case ("cognitive-screening", .scoreRecorded(let s)), ("moca", .scoreRecorded(let s)): s.instrument == .moca
        case ("madrs", .scoreRecorded(let s)): s.instrument == .madrs
        case ("symptom-tracking", .scoreRecorded(let s)), ("symptom-scale", .scoreRecorded(let s)): s.instrument != .moca
        case ("urinalysis", .labResulted(let l)): l.test == .urinalysis
        case ("liver-function", .labResulted(let l)): l.test == .lft
        case ("ecg", .labResulted(let l)): l.test == .ecg
        case ("consent", .consentRecorded): true
        case ("vital-signs", .vitalsRecorded): true
        case ("side-effects-review", .sideEffectReported): true
        case ("side-effects-review", .screeningRecorded(let s)): s.kind == .sideEffectsReview
        case ("substance-use-screening", .screeningRecorded(let s)): s.kind == .substanceUse
        case ("urological-inquiry", .screeningRecorded(let s)): s.kind == .urologicalSymptoms
        case ("response-assessment", .assessmentRecorded(let a)): a.kind == .treatmentResponse
        case ("psychiatric-assessment", .assessmentRecorded(let a)): a.kind == .comprehensivePsychiatric
        case ("treatment-plan-review", .assessmentRecorded(let a)): a.kind == .treatmentPlanReview
        case ("goal-setting", .assessmentRecorded(let a)): a.kind == .goalSetting
        case ("safety-assessment", .assessmentRecorded(let a)): a.kind == .fullSafety
        case ("continuation-discussion", .assessmentRecorded(let a)): a.kind == .continuationDiscussion
        default: false
        }
    }

    struct Reference {
        let patient: String
        let all: [Recorded]
        let rules: RuleSet
        let on: Day
        /// Effective events dated ≤ D, in protocol order.
        let events: [Recorded]
        var statusCache: [Day: Bool] = [:]

        init(patient: String, all: [Recorded], rules: RuleSet, on: Day) {
            self.patient = patient
            self.all = all
            self.rules = rules
            self.on = on
            events = all.filter { $0.occurredAt.clinicalDay <= on }.sorted { OrderKey($0) < OrderKey($1) }
        }

        var firstInfusion: Recorded? {
            events.first { if case .infusionAdministered = $0.event { true } else { false } }
        }

        func window(_ k: Int, _ n: Int, _ t0: Day) -> (Day, Day) {
            (t0.adding(months: k * n), t0.adding(months: (k + 1) * n).adding(days: -1))
        }

        func documented(_ item: String, _ from: Day, _ to: Day) -> Bool {
            events.contains { satisfies(item, $0.event) && $0.occurredAt.clinicalDay >= from && $0.occurredAt.clinicalDay <= to }
        }

        mutating func discontinued(on d: Day) -> Bool {
            if let v = statusCache[d] { return v }
            let s = PhaseProjection.fold(patient: patient, events: all, rules: rules, through: d)
            let v = s.underlyingStatus(on: d, rules) == .discontinued
            statusCache[d] = v
            return v
        }

        func due(_ phase: PhaseState) -> [DueItem] {
            guard !events.isEmpty, phase.underlyingStatus(on: on, rules) != .discontinued else { return [] }
            let t0 = firstInfusion?.occurredAt.clinicalDay
            var out: [DueItem] = []
            for item in rules.monitoring {
                if item.name == "symptom-tracking" && phase.treatmentProtocol != .hybrid { continue }
                if t0 == nil && !item.baseline { continue }
                let last = events.last { satisfies(item.name, $0.event) }?.occurredAt.clinicalDay
                if last == nil && item.baseline {
                    out.append(DueItem(patient: patient, item: item.name, lastDone: nil, dueFrom: nil, dueBy: t0, status: .missing))
                    continue
                }
                guard let anchor = last ?? t0 else { continue }
                let from = item.dueFrom.added(to: anchor)
                let by = item.dueBy.added(to: anchor)
                out.append(
                    DueItem(
                        patient: patient, item: item.name, lastDone: last, dueFrom: from, dueBy: by,
                        status: on < from ? .ok : on <= by ? .due : .overdue))
            }
            if let t0 {
                for (name, year) in [
                    ("psychiatric-assessment", false), ("treatment-plan-review", false), ("goal-setting", false),
                    ("safety-assessment", true), ("continuation-discussion", true),
                ] {
                    let n = year ? rules.yearMonths : rules.quarterMonths
                    var k = 0
                    while window(k, n, t0).1 < on { k += 1 }
                    let (s, e) = window(k, n, t0)
                    let last = events.last { satisfies(name, $0.event) }?.occurredAt.clinicalDay
                    if documented(name, s, e) {
                        let next = window(k + 1, n, t0)
                        out.append(DueItem(patient: patient, item: name, lastDone: last, dueFrom: next.0, dueBy: next.1, status: .ok))
                    } else {
                        let missedBefore = k > 0 && !documented(name, window(k - 1, n, t0).0, window(k - 1, n, t0).1)
                        out.append(
                            DueItem(
                                patient: patient, item: name, lastDone: last, dueFrom: s, dueBy: e, status: missedBefore ? .overdue : .due))
                    }
                }
            }
            return out.sorted { $0.item < $1.item }
        }

        mutating func audit() -> [AuditFinding] {
            guard let first = firstInfusion else { return [] }
            let t0 = first.occurredAt.clinicalDay
            var out: [AuditFinding] = []
            let baseline = ["madrs", "moca", "urinalysis", "liver-function", "consent"].filter { item in
                !events.contains { satisfies(item, $0.event) && $0.occurredAt.epochMillis <= first.occurredAt.epochMillis }
            }
            if !baseline.isEmpty { out.append(AuditFinding(patient: patient, scope: .baseline, date: t0, missing: baseline.sorted())) }

            var visitDays = Set<Day>()
            for e in events { if case .infusionAdministered = e.event { visitDays.insert(e.occurredAt.clinicalDay) } }
            let w = rules.visitWindowDays
            for v in visitDays {
                var missing = [
                    "symptom-scale", "side-effects-review", "vital-signs", "substance-use-screening", "urological-inquiry",
                    "response-assessment",
                ].filter { !documented($0, v.adding(days: -w), v.adding(days: w)) }
                if !documented("consent", v.adding(months: -rules.visitConsentMonths), v) { missing.append("consent") }
                if !missing.isEmpty { out.append(AuditFinding(patient: patient, scope: .visit, date: v, missing: missing.sorted())) }
            }

            for (scope, n, items) in [
                (AuditScope.quarter, rules.quarterMonths, ["psychiatric-assessment", "treatment-plan-review", "goal-setting"]),
                (AuditScope.year, rules.yearMonths, ["safety-assessment", "continuation-discussion", "cognitive-screening", "consent"]),
            ] {
                var k = 0
                while true {
                    let (s, e) = window(k, n, t0)
                    guard e < on else { break }
                    var d = s
                    var every = true
                    while d <= e {
                        if !discontinued(on: d) {
                            every = false
                            break
                        }
                        d = d.adding(days: 1)
                    }
                    let missing = items.filter { !documented($0 == "cognitive-screening" ? "moca" : $0, s, e) }
                    if !every && !missing.isEmpty {
                        out.append(AuditFinding(patient: patient, scope: scope, periodStart: s, periodEnd: e, missing: missing.sorted()))
                    }
                    k += 1
                }
            }
            let rank: [AuditScope: Int] = [.baseline: 0, .visit: 1, .quarter: 2, .year: 3]
            return out.sorted {
                let a = $0.date ?? $0.periodStart ?? t0
                let b = $1.date ?? $1.periodStart ?? t0
                return a != b ? a < b : (rank[$0.scope] ?? 0) < (rank[$1.scope] ?? 0)
            }
        }
    }

    @Test(arguments: 1...24 as ClosedRange<UInt64>)
    func R10_R11_matchTheNaiveReferenceOnRandomHistories(seed: UInt64) {
        let (h, rules) = Self.randomHistory(seed: seed)
        var rng = SplitMix64(seed &* 7919)
        var dates = ["2026-01-04", "2026-01-05", "2026-01-20", "2026-04-06", "2027-01-05", "2027-07-02", "2028-02-01"].map(day)
        for _ in 0..<6 { dates.append(day("2026-01-01").adding(days: Int.random(in: 0...560, using: &rng))) }
        for d in dates {
            let (phase, m) = PatientProjection.fold(patient: h.patient, events: h.events, rules: rules, through: d)
            var reference = Reference(patient: h.patient, all: h.events, rules: rules, on: d)
            #expect(MonitoringProjection.due(m, phase: phase, on: d, rules: rules) == reference.due(phase), "seed \(seed) on \(d)")
            #expect(MonitoringProjection.audit(m, phase: phase, on: d, rules: rules) == reference.audit(), "seed \(seed) on \(d)")
            #expect((try? MonitoringState.decode(bytes: m.binaryEncoded)) == m)
        }
        // Incremental evolve over the whole history equals the fold.
        var phase = PhaseState(patient: h.patient)
        var m = MonitoringState(patient: h.patient)
        for e in h.events.sorted(by: { OrderKey($0) < OrderKey($1) }) { PatientProjection.evolve(&phase, &m, e, rules: rules) }
        #expect(m == PatientProjection.fold(patient: h.patient, events: h.events, rules: rules).monitoring)
    }
}
