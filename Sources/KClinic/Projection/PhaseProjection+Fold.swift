import struct Foundation.UUID

extension PhaseProjection {
    /// How an amendment's fields merge into the event it corrects: the corrected event, or nil
    /// to leave it as it was (protocol.md, Conventions: top-level fields replace the original's).
    public typealias Amend = (_ original: ClinicalEvent, _ fields: [(String, JSONValue)]) -> ClinicalEvent?

    /// Replays one patient from its events, given in any order and with their corrections.
    ///
    /// - Events of other patients are ignored.
    /// - `recordedAtOrBefore` (knowledge time, `--as-of`): events recorded after it (corrections
    ///   included) are left out.
    /// - Corrections take effect whatever their own date: a voided event is ignored, voiding a
    ///   correction undoes it, amendments apply in log order (the latest wins) through `amend`.
    ///   Without `amend`, amendments are ignored (pass e.g. `{ try? $0.amended(with: $1) }`).
    ///   An amendment of a correction is ignored.
    /// - `through` (evaluation date): events of a later clinical date are left out.
    /// - The rest are applied in (occurredAt instant, sequence) order.
    public static func fold(
        patient: String, events: [Recorded], rules: RuleSet, through day: Day? = nil,
        recordedAtOrBefore: Int64? = nil, amend: Amend? = nil
    ) -> PatientState {
        var state = PatientState(patient: patient)
        forEachEffectiveEvent(patient: patient, events: events, through: day, recordedAtOrBefore: recordedAtOrBefore, amend: amend) {
            state.apply($0, rules: rules)
        }
        return state
    }

    /// The preprocessing of `fold`, shared with `ClinicProjection.fold` so that every projection
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

        var voided = Set<UUID>()
        var amended: [Int: ClinicalEvent] = [:]
        if hasCorrections {
            // Log order (sequence); a correction can only name an earlier event, so walking
            // backwards settles every void before the event it names.
            let bySequence = known.sorted { events[$0].sequence < events[$1].sequence }
            for i in bySequence.reversed() {
                let e = events[i]
                if voided.contains(e.eventId) { continue }
                if case .eventVoided(let v) = e.event { voided.insert(v.target) }
            }
            var indexById: [UUID: Int] = [:]
            for i in known { indexById[events[i].eventId] = i }
            for i in bySequence {
                let e = events[i]
                guard case .eventAmended(let a) = e.event, !voided.contains(e.eventId),
                    let target = indexById[a.target]
                else { continue }
                let current = amended[target] ?? events[target].event
                switch current {
                case .eventAmended, .eventVoided: continue
                default: break
                }
                if let amend, let next = amend(current, a.data) { amended[target] = next }
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
            if hasCorrections && voided.contains(e.eventId) { continue }
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
