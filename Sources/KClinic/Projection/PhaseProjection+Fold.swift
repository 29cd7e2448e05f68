import struct Foundation.UUID

extension PhaseProjection {
    /// How an amendment's fields merge into the event it corrects: the corrected event, or nil
    /// to leave it as it was (protocol.md, Conventions: top-level fields replace the original's).
    /// `recordedAt` is when the amendment was recorded (its merge is validated as of then).
    public typealias Amend = (_ original: ClinicalEvent, _ fields: [(String, JSONValue)], _ recordedAt: Timestamp) -> ClinicalEvent?

    /// The merge of protocol.md's Conventions (`ClinicalEvent.amended(with:now:)`).
    public static func standardAmend(_ original: ClinicalEvent, _ fields: [(String, JSONValue)], _ recordedAt: Timestamp)
        -> ClinicalEvent?
    {
        try? original.amended(with: fields, now: recordedAt)
    }

    /// Replays one patient from its events, given in any order and with their corrections.
    ///
    /// - Events of other patients are ignored.
    /// - `recordedAtOrBefore` (knowledge time, `--as-of`): events recorded after it (corrections
    ///   included) are left out.
    /// - Corrections take effect whatever their own date: a voided event is ignored, voiding a
    ///   correction undoes it, amendments apply in log order (the latest wins) through `amend`.
    ///   Without `amend`, amendments are ignored (pass `PhaseProjection.standardAmend`).
    ///   An amendment of a correction is ignored.
    /// - `through` (evaluation date): events of a later clinical date are left out.
    /// - The rest are applied in (occurredAt instant, sequence) order.
    public static func fold(
        patient: String, events: [Recorded], rules: RuleSet, through day: Day? = nil,
        recordedAtOrBefore: Int64? = nil, amend: Amend? = nil
    ) -> PhaseState {
        var state = PhaseState(patient: patient)
        forEachEffectiveEvent(patient: patient, events: events, through: day, recordedAtOrBefore: recordedAtOrBefore, amend: amend) {
            state.evolve($0, rules: rules)
        }
        return state
    }

    /// The preprocessing of `fold`, shared with `PatientProjection.fold` so that every projection
    /// sees exactly the same effective events in the same order: calls `body` with each of
    /// `patient`'s effective events (known at `recordedAtOrBefore`, corrections applied, no
    /// correction itself, dated on or before `day`) in (occurredAt instant, sequence) order.
    @inline(__always)
    static func forEachEffectiveEvent(
        patient: String, events: [Recorded], through day: Day?, recordedAtOrBefore: Int64?, amend: Amend?,
        _ body: (Recorded) -> Void
    ) {
        // Indices of this patient's events known at the knowledge time.
        var known: [Int] = []
        known.reserveCapacity(events.count)
        var hasCorrections = false
        for i in events.indices {
            let e = events[i]
            guard e.patient == patient else { continue }
            if let t = recordedAtOrBefore, e.recordedAtMicros > t { continue }
            switch e.event {
            case .eventAmended, .eventVoided: hasCorrections = true
            default: break
            }
            known.append(i)
        }

        // protocol.md, Conventions: corrections resolved once (CorrectionResolution).
        var resolution: CorrectionResolution?
        var amended: [Int: ClinicalEvent] = [:]
        if hasCorrections {
            let r = CorrectionResolution(known.compactMap { CorrectionResolution.Correction(events[$0]) })
            resolution = r
            if let amend, !r.amendedIds.isEmpty {
                var indexById: [UUID: Int] = [:]
                for i in known { indexById[events[i].eventId] = i }
                for (id, list) in r.amendedIds {
                    guard let target = indexById[id] else { continue }
                    // An amendment of a correction is ignored: a correction is not a clinical event.
                    switch events[target].event {
                    case .eventAmended, .eventVoided: continue
                    default: break
                    }
                    var current = events[target].event
                    var changed = false
                    for a in list {
                        if let next = amend(current, a.fields, a.recordedAt) {
                            current = next
                            changed = true
                        }
                    }
                    if changed { amended[target] = current }
                }
            }
        }

        // Effective events, dated on or before `day`, in protocol order.
        var order: [(key: OrderKey, index: Int)] = []
        order.reserveCapacity(known.count)
        var sorted = true
        for i in known {
            let e = events[i]
            switch e.event {
            case .eventAmended, .eventVoided: continue
            default: break
            }
            if let resolution, resolution.isVoided(e.eventId) { continue }
            if let day, e.occurredAt.clinicalDay > day { continue }
            let key = OrderKey(epochMillis: e.occurredAt.epochMillis, sequence: e.sequence)
            if let last = order.last, key < last.key { sorted = false }
            order.append((key, i))
        }
        if !sorted { order.sort { $0.key < $1.key } }

        if amended.isEmpty {
            for (_, i) in order { body(events[i]) }
        } else {
            for (_, i) in order {
                if let data = amended[i] {
                    var e = events[i]
                    e.event = data
                    body(e)
                } else {
                    body(events[i])
                }
            }
        }
    }
}
