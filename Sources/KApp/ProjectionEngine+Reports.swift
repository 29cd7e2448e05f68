import KClinic
import KReport
import KStore

/// The data of `kstore report` (and, later, the server's pages): gathered from the log and the
/// projections, handed to `KReport` to render. No rendering here.
extension ProjectionEngine {
    /// The patient page on `day`: one replay of the patient's events through `day` gives the
    /// chart's history and both fold states (the same effective events `query phase` folds), the
    /// trail of its events gives the event list. nil: no event of the patient dated on or before
    /// `day`.
    public func patientPage(_ patient: String, on day: Day) throws -> PatientPage? {
        let rules = try rulesInForce()
        var events: [Recorded] = []
        try store.log.read { reader in
            try reader.forEachInStream(patient) { view in events.append(try EventMapping.recorded(view)) }
        }
        let (history, state, monitoring) = CourseHistory.build(
            patient: patient, events: events, rules: rules.rules, through: day, amend: ProjectionEngine.amend)
        guard let view = PhaseProjection.view(state, on: day, rules: rules.rules, explain: true) else { return nil }
        let alerts = PhaseProjection.alerts(state, on: day, all: true).sorted {
            ($0.raisedOn, $0.source.sequence, $0.kind.rawValue) < ($1.raisedOn, $1.source.sequence, $1.kind.rawValue)
        }
        let trail = try AuditTrail.build(store, filter: AuditTrail.Filter(patient: patient, to: day, dates: .occurred))
        return PatientPage(
            patient: patient, evaluationDay: day, rulesVersion: rules.rules.version, rulesHash: rules.hash,
            responseReduction: rules.rules.responseReduction, remissionMax: rules.rules.remissionMax, phase: view, history: history,
            due: MonitoringProjection.due(monitoring, phase: state, on: day, rules: rules.rules),
            audit: MonitoringProjection.audit(monitoring, phase: state, on: day, rules: rules.rules), alerts: alerts,
            events: trail.entries.map(ReportRows.row))
    }

    /// The clinic's day on `day`, from one pass over the stored projections.
    public func todayPage(on day: Day) throws -> TodayPage {
        let (ps, rules) = try projections(patient: nil, on: day, asOf: nil)
        var infusions: [PhaseView] = []
        var monitoring: [DueItem] = []
        var alerts: [(patient: String, alert: ProtocolAlert)] = []
        var gaps: [AuditFinding] = []
        var patients = 0
        for p in ps {
            guard let v = PhaseProjection.view(p.state, on: day, rules: rules.rules) else { continue }
            patients += 1
            if let due = v.nextInfusionDue, due <= day { infusions.append(v) }
            monitoring += MonitoringProjection.due(p.monitoring, phase: p.state, on: day, rules: rules.rules).filter { $0.status != .ok }
            alerts += PhaseProjection.alerts(p.state, on: day).map { (p.state.patient, $0) }
            gaps += MonitoringProjection.audit(p.monitoring, phase: p.state, on: day, rules: rules.rules)
        }
        return TodayPage(
            evaluationDay: day, rulesVersion: rules.rules.version, patients: patients, infusions: infusions, monitoring: monitoring,
            alerts: alerts, gaps: gaps)
    }
}

extension AuditTrail {
    /// The trail as a document: its entries, and verify's result and head over the whole log.
    /// `verified`: verify's result when the caller has it already (the server runs verify in a
    /// child process, as the CLI does, rather than in its own).
    public static func page(
        _ store: ClinicStore, filter: Filter, verified: (ok: Bool, events: UInt64, head: String, problems: [String])? = nil
    ) throws -> (page: TrailPage, trail: AuditTrail) {
        let trail = try build(store, filter: filter)
        let report =
            try verified
            ?? {
                let r = try LogAudit.verify(store)
                return (r.ok, r.events, r.headHash, r.problems.map(\.description))
            }()
        var filters: [(String, String)] = []
        if let p = filter.patient { filters.append(("patient", p)) }
        if let a = filter.actor { filters.append(("actor", a)) }
        if let t = filter.type { filters.append(("type", t.rawValue)) }
        if let f = filter.from { filters.append(("from", f.description)) }
        if let t = filter.to { filters.append(("to", t.description)) }
        if filter.from != nil || filter.to != nil { filters.append(("dates by", filter.dates.rawValue)) }
        let page = TrailPage(
            filters: filters, storeId: store.storeIdHex, verifyOK: report.ok, verifiedEvents: report.events, headHash: report.head,
            problems: report.problems, lateEntryHours: trail.lateEntryHours, rulesVersion: trail.rulesVersion,
            entries: trail.entries.map(ReportRows.row),
            actors: trail.actors.map { a in
                TrailPage.ActorRow(
                    id: a.id, roles: a.roles.map(\.rawValue).joined(separator: ", "), events: a.events, corrections: a.corrections,
                    correctedByOthers: a.correctedByOthers, lateEntries: a.lateEntries)
            })
        return (page, trail)
    }
}

/// Trail entries as the report rows (values as text).
enum ReportRows {
    static func row(_ e: AuditTrail.Entry) -> EventRow {
        let r = e.record
        let data = JSONWriter.string(r.event.dataJSON)
        var inForce: String?
        if !e.corrections.isEmpty, e.voidedBy == nil, let d = e.effectiveData, d != r.event.dataJSON { inForce = JSONWriter.string(d) }
        var reason: String?
        switch r.event {
        case .eventAmended(let a): reason = a.reason
        case .eventVoided(let v): reason = v.reason
        default: break
        }
        return EventRow(
            sequence: r.sequence, eventId: r.eventId.uuidString.lowercased(), patient: r.patient, type: r.type.rawValue,
            occurredAt: r.occurredAt.rfc3339, clinicalDay: r.occurredAt.clinicalDay,
            recordedAt: EventMapping.formatMicros(r.recordedAtMicros),
            actor: r.actor.id, role: r.actor.role.rawValue, osUser: r.osUser, data: data, late: e.late,
            lateBy: e.late ? AuditTrail.describeDelay(micros: e.delayMicros) : nil, voidedBy: e.voidedBy, inForce: inForce,
            corrects: e.corrects.map { c in
                EventRow.Target(
                    eventId: c.eventId.uuidString.lowercased(), sequence: c.record?.sequence, type: c.record?.type.rawValue,
                    data: c.record.map { JSONWriter.string($0.event.dataJSON) })
            }, reason: reason,
            corrections: e.corrections.map { c in
                EventRow.Correction(
                    voids: c.kind == .voided, sequence: c.record.sequence, actor: c.record.actor.id, role: c.record.actor.role.rawValue,
                    osUser: c.record.osUser, recordedAt: EventMapping.formatMicros(c.record.recordedAtMicros), reason: c.reason,
                    changes: c.changes.map { ch in
                        EventRow.Change(field: ch.field, before: ch.before.map(JSONWriter.string), after: JSONWriter.string(ch.after))
                    }, undoneBy: c.voidedBy,
                    ofCorrection: c.targetEventId == e.record.eventId ? nil : c.targetSequence)
            })
    }
}
