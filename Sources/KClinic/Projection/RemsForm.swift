import struct Foundation.UUID

/// R14's `kstore report rems`: what the esketamine REMS patient monitoring form asks, taken from
/// one session's effective events (corrections applied, voided ones left out), ready to
/// transcribe. Pure: the caller passes the patient's recorded events.
public struct RemsForm: Sendable, Equatable {
    public struct Reading: Sendable, Equatable {
        public var at: Timestamp
        public var systolic: Int
        public var diastolic: Int
        public var heartRate: Int?
        /// `VitalsRecorded` (true) or an observation of the session (false).
        public var fromVitals: Bool
        public var text: String { "\(systolic)/\(diastolic) mmHg" + (heartRate.map { ", HR \($0)/min" } ?? "") }
    }

    public struct SideEffect: Sendable, Equatable {
        public var at: Timestamp
        public var category: SideEffectCategory
        public var note: String?
    }

    public struct Discharge: Sendable, Equatable {
        public var at: Timestamp
        public var criteriaMet: Bool
        public var escort: Bool
        public var transferred: Bool
        public var note: String?
    }

    public struct Submission: Sendable, Equatable {
        public var day: Day
        public var reference: String?
        public var sequence: UInt64
    }

    public var patient: String
    public var infusion: UUID
    public var sequence: UInt64
    /// t0, the start of administration; t1 its end (t0 without `durationMinutes`).
    public var start: Timestamp
    public var end: Timestamp
    public var recordedBy: String
    public var drug: Drug
    public var dose: Dose
    public var amount: Milligrams?
    public var lot: String?
    public var weightKg: Double?
    /// R13's pre-dose reading: the latest `VitalsRecorded` in [t0 − preDoseBpMinutes, t0].
    public var preDose: Reading?
    /// R13's post-dose BP: the first observation with both values in [t1 + from, t1 + to].
    public var postDose: Reading?
    /// The last reading with both values at or before the discharge (in the session), and
    /// whether it falls in R13's discharge window.
    public var lastBeforeDischarge: Reading?
    public var lastBeforeDischargeInWindow: Bool
    public var observations: Int
    public var lowestSpo2: Double?
    public var lowestMoaas: Int?
    public var highestCadss: Int?
    public var respiratoryDepression: Bool
    public var discharge: Discharge?
    /// Whole minutes from t1 to the discharge, and the drug's minimum (R13).
    public var observationMinutes: Int?
    public var minimumMinutes: Int
    /// `SideEffectReported` of severity severe dated the infusion's clinical date.
    public var severeSideEffects: [SideEffect]
    /// Other (mild, moderate) side effects of that date, counted.
    public var otherSideEffects: Int
    public var submitted: Submission?
    public var formDueBy: Day
    public var session: SessionRules

    public var day: Day { start.clinicalDay }

    /// What the form still lacks, in the words of R13's session findings.
    public var missing: [String] {
        var m: [String] = []
        if preDose == nil { m.append("pre-dose-bp") }
        if postDose == nil { m.append("post-dose-bp") }
        if discharge == nil { m.append("discharge") }
        if let d = discharge, !d.transferred, !(lastBeforeDischargeInWindow) { m.append("discharge-bp") }
        if amount == nil { m.append("amount") }
        if lot == nil { m.append("lot") }
        if lowestMoaas == nil { m.append("sedation") }
        if highestCadss == nil { m.append("dissociation") }
        if lowestSpo2 == nil { m.append("spo2") }
        return m
    }

    public enum Problem: Error, Equatable {
        case notFound
        case voided
        case notEsketamine(Drug)
    }

    /// The form of `infusion` among `patient`'s `events` (every recorded event of the stream, in
    /// log order). `amend` applies an amendment's fields (the store's JSON mapping).
    public static func build(
        patient: String, infusion: UUID, events: [Recorded], rules: RuleSet, amend: PhaseProjection.Amend?
    ) -> Result<RemsForm, Problem> {
        var effective: [Recorded] = []
        PhaseProjection.forEachEffectiveEvent(patient: patient, events: events, through: nil, recordedAtOrBefore: nil, amend: amend) {
            effective.append($0)
        }
        guard let inf = effective.first(where: { $0.eventId == infusion }), case .infusionAdministered(let given) = inf.event else {
            let recorded = events.first(where: { $0.eventId == infusion })
            if let r = recorded, case .infusionAdministered = r.event { return .failure(.voided) }
            return .failure(.notFound)
        }
        guard given.givenDrug == .esketamine else { return .failure(.notEsketamine(given.givenDrug)) }
        let s = rules.session
        let t0 = inf.occurredAt.epochMillis
        let t1 = t0 + Int64(given.durationMinutes ?? 0) * 60_000
        var form = RemsForm(
            patient: patient, infusion: infusion, sequence: inf.sequence, start: inf.occurredAt,
            end: Timestamp(epochMillis: t1, offsetMinutes: inf.occurredAt.offsetMinutes), recordedBy: inf.actor.id, drug: given.givenDrug,
            dose: given.dose, amount: given.amountGiven, lot: given.lot, weightKg: given.weightKg, preDose: nil, postDose: nil,
            lastBeforeDischarge: nil, lastBeforeDischargeInWindow: false, observations: 0, lowestSpo2: nil, lowestMoaas: nil,
            highestCadss: nil, respiratoryDepression: false, discharge: nil, observationMinutes: nil,
            minimumMinutes: s.minObservation(given.givenDrug), severeSideEffects: [], otherSideEffects: 0, submitted: nil,
            formDueBy: inf.occurredAt.clinicalDay.adding(days: s.remsFormDays), session: s)
        // Every reading with both values that may belong to the session: the patient's vitals and
        // this infusion's observations, in instant order.
        var readings: [Reading] = []
        for e in effective {
            let ms = e.occurredAt.epochMillis
            switch e.event {
            case .vitalsRecorded(let v):
                readings.append(
                    Reading(at: e.occurredAt, systolic: v.systolic, diastolic: v.diastolic, heartRate: v.heartRate, fromVitals: true))
                if ms <= t0 && ms >= t0 - Int64(s.preDoseBpMinutes) * 60_000, let r = readings.last { form.preDose = r }
            case .observationRecorded(let o) where o.infusion == infusion:
                form.observations += 1
                if let v = o.spo2 { form.lowestSpo2 = min(form.lowestSpo2 ?? v, v) }
                if let v = o.moaas { form.lowestMoaas = min(form.lowestMoaas ?? v, v) }
                if let v = o.cadss { form.highestCadss = max(form.highestCadss ?? v, v) }
                if o.respiratoryDepression == true { form.respiratoryDepression = true }
                if let sys = o.systolic, let dia = o.diastolic {
                    let r = Reading(at: e.occurredAt, systolic: sys, diastolic: dia, heartRate: o.heartRate, fromVitals: false)
                    readings.append(r)
                    let from = t1 + Int64(s.postDoseBpFromMinutes) * 60_000
                    let to = t1 + Int64(s.postDoseBpToMinutes) * 60_000
                    if form.postDose == nil && ms >= from && ms <= to { form.postDose = r }
                }
            case .dischargeRecorded(let d) where d.infusion == infusion && form.discharge == nil:
                form.discharge = Discharge(
                    at: e.occurredAt, criteriaMet: d.criteriaMet, escort: d.escort, transferred: d.isTransfer, note: d.note)
                form.observationMinutes = Int((ms - t1) / 60_000)
            case .sideEffectReported(let x) where e.occurredAt.clinicalDay == inf.occurredAt.clinicalDay:
                if x.severity == .severe {
                    form.severeSideEffects.append(SideEffect(at: e.occurredAt, category: x.category, note: x.note))
                } else {
                    form.otherSideEffects += 1
                }
            case .remsFormSubmitted(let f) where f.infusion == infusion && form.submitted == nil:
                form.submitted = Submission(day: e.occurredAt.clinicalDay, reference: f.reference, sequence: e.sequence)
            default:
                break
            }
        }
        if let d = form.discharge {
            let at = d.at.epochMillis
            if let r = readings.last(where: { $0.at.epochMillis <= at && $0.at.epochMillis >= t0 - Int64(s.preDoseBpMinutes) * 60_000 }) {
                form.lastBeforeDischarge = r
                form.lastBeforeDischargeInWindow = r.at.epochMillis >= at - Int64(s.dischargeBpMinutes) * 60_000
            }
        }
        return .success(form)
    }
}
