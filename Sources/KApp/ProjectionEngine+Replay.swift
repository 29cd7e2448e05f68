import Foundation
import KClinic
import KStore

extension ProjectionEngine {
    /// Rebuilds every projection from the log. With `newRules`, computes under them beside the
    /// rules in force and reports the changes on `day`; `apply` adopts them (a `RuleSetAdopted`
    /// in the `$rules` stream) and stores the new projections in the same transaction. Without
    /// `newRules`, the rebuilt projections replace the stored ones (the report then lists what a
    /// rebuild changed, normally nothing).
    ///
    /// The log is folded once under each rule set: when no projections are stored (or they were
    /// built under other rules), bringing them up to date is itself the full replay under the
    /// rules in force, and without `newRules` that replay is the result (already stored).
    ///
    /// `signature`: an adoption signed on the web by an admin with the password (checked by the
    /// caller); the adopter is then the signer, who must be an active admin.
    public func replay(newRules: RuleSet?, apply: Bool, on day: Day, signature: ElectronicSignature? = nil) throws -> ReplayReport {
        // Adopting a rule set is an admin's act (events.md, "Who may record what").
        var adopter: Actor? = nil
        if newRules != nil && apply {
            if let signature {
                let registry = try store.log.read { try ActorRegistry.load($0) }
                guard let a = registry.actors[signature.actorId], a.active, a.role == .admin else {
                    throw AppError.notPermitted(.web("only an active admin may adopt a rule set"))
                }
                adopter = Actor(id: a.id, role: .admin)
            } else {
                adopter = try Actors.requireAdmin(store, for: "adopt a rule set")
            }
        }
        let before = try current()
        let beforeViews = try views(before.set, rules: before.rules.rules, on: day)
        let target = newRules ?? before.rules.rules
        // `current()` replayed the whole log under `target` (and stored it): that is the rebuild.
        let reused = newRules == nil ? before.rebuilt : nil
        let built =
            try reused.map { (set: before.set, checkpoint: before.checkpoint, events: $0.events, seconds: $0.seconds) }
            ?? rebuild(rules: target)
        let seconds = built.seconds
        let afterViews = reused == nil ? try views(built.set, rules: target, on: day) : beforeViews
        var changes: [FieldChange] = []
        for patient in Set(beforeViews.keys).union(afterViews.keys).sorted() {
            let b = Views.phaseFields(beforeViews[patient]?.phase)
            let a = Views.phaseFields(afterViews[patient]?.phase)
            for (x, y) in zip(b, a) where x.1 != y.1 {
                changes.append(FieldChange(patient: patient, field: x.0, before: x.1, after: y.1))
            }
            let bd = Views.dueFields(beforeViews[patient]?.due ?? [])
            let ad = Views.dueFields(afterViews[patient]?.due ?? [])
            for field in Set(bd.keys).union(ad.keys).sorted() where bd[field] != ad[field] {
                changes.append(FieldChange(patient: patient, field: field, before: bd[field] ?? .null, after: ad[field] ?? .null))
            }
        }
        // R15: the lot alerts and the biennial inventory depend on the rule set (tolerance,
        // months); the ledger itself does not. Plain replay rebuilds the stored ledger too.
        let ledger =
            newRules == nil && persists ? try LedgerReader.rebuildStoring(store) : try LedgerReader.ledger(store, persist: persists)
        if newRules != nil {
            changes += ProjectionEngine.ledgerChanges(ledger, before: before.rules.rules, after: target, on: day)
        }
        var applied = false
        if let newRules {
            if apply {
                let (text, hash) = RuleSetJSON.canonical(newRules)
                let event = EventMapping.newEvent(
                    eventId: UUID(), patient: SystemStream.rules, occurredAt: store.now,
                    actor: adopter ?? Actor(id: store.osUser, role: .admin), osUser: store.osUser,
                    event: .ruleSetAdopted(
                        RuleSetAdopted(version: newRules.version, contentHash: hash, content: text, signature: signature)))
                try store.log.append(
                    [event], clockMicros: store.clockMicros,
                    thenInSameTransaction: { writer, outcomes in
                        guard case .appended(let seq, _) = outcomes.first else { return }
                        try persist(
                            built.set, checkpoint: built.checkpoint, rules: RulesInForce(rules: newRules, adoptedAt: seq),
                            full: true, in: writer)
                    })
                applied = true
            }
        } else {
            if reused == nil && persists {
                try store.log.writeAuxiliary { writer in
                    try persist(built.set, checkpoint: built.checkpoint, rules: before.rules, full: true, in: writer)
                }
            }
            applied = true
        }
        return ReplayReport(
            rulesBefore: before.rules.rules.version, rulesAfter: target.version, eventsReplayed: built.events,
            seconds: seconds, changes: changes, applied: applied)
    }

    /// What a rule change does to the controlled-substance log on `day` (`patient` empty: the
    /// clinic's): the active lot alerts and the biennial inventory's dates and status.
    static func ledgerChanges(_ ledger: Ledger, before: RuleSet, after: RuleSet, on day: Day) -> [FieldChange] {
        func fields(_ rules: RuleSet) -> [(String, JSONValue)] {
            let alerts = ledger.alerts(on: day, tolerance: rules.session.inventoryToleranceMg).filter { $0.acknowledged == nil }
            let b = ledger.biennial(on: day, months: rules.session.inventoryMonths)
            return [
                ("inventory.alerts", .array(alerts.map { .string($0.id) })),
                ("inventory.biennial.dueFrom", b.dueFrom.map { .string($0.description) } ?? .null),
                ("inventory.biennial.dueBy", b.dueBy.map { .string($0.description) } ?? .null),
                ("inventory.biennial.status", b.status.map { .string($0.rawValue) } ?? .null),
            ]
        }
        return zip(fields(before), fields(after)).compactMap { b, a in
            b.1 == a.1 ? nil : FieldChange(patient: "", field: b.0, before: b.1, after: a.1)
        }
    }

    /// Each patient's phase view and monitoring items on `day`. A projection holding events after
    /// `day` is refolded through it.
    func views(_ set: FoldStateSet, rules: RuleSet, on day: Day) throws -> [String: (phase: PhaseView?, due: [DueItem])] {
        var out: [String: (phase: PhaseView?, due: [DueItem])] = [:]
        for p in set.entries {
            let q = p.maxDay > day ? try refold(p.patient, rules: rules, day: day) : p
            let phase = PhaseProjection.view(q.state, on: day, rules: rules)
            let due = MonitoringProjection.due(q.monitoring, phase: q.state, on: day, rules: rules)
            if phase != nil || !due.isEmpty { out[p.patient] = (phase, due) }
        }
        return out
    }
}
