import KClinic

/// One event with everything its stored record holds: the envelope fields (including what the
/// store assigns: sequence, stream version, recordedAt, hash) and the domain payload.
struct SourceEvent: Sendable {
    var sequence: UInt64
    var eventId: [UInt8]
    var stream: String
    var streamVersion: UInt64
    var occurredAtMillis: Int64
    var offsetMinutes: Int16
    var recordedAtMicros: Int64
    var actor: Actor
    var osUser: String
    var event: ClinicalEvent
    /// Filled from the real store (see `StoreCheck`); 32 bytes.
    var hash: [UInt8]

    var typeCode: UInt16 { event.type.code }
    var schemaVersion: UInt8 { PayloadCodec.currentSchemaVersion(event.type) }
}

/// Deterministic generator (SplitMix64): every run measures the same corpus.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Corpus {
    static let patients = 2000
    /// Events share a recordedAt per import batch, as the store assigns it.
    static let batchSize = 1000

    /// `count` events: ≈40% scores, 20% screenings, 20% vitals, 20% infusions, over patients
    /// P-0001…P-2000, in occurredAt order, actors rn.kim (nurse) and dr.hale (clinician), osUser
    /// root. Hashes are left empty (the store computes them).
    static func make(count: Int, seed: UInt64 = 0x6B73_746F_7265) -> [SourceEvent] {
        var rng = SplitMix64(state: seed)
        let nurse = Actor(id: "rn.kim", role: .nurse)
        let clinician = Actor(id: "dr.hale", role: .clinician)
        let offsets: [Int16] = [-300, -240, -360, 0, 60]
        var versions = [UInt64](repeating: 0, count: patients + 1)
        var occurred: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z
        var events: [SourceEvent] = []
        events.reserveCapacity(count)
        for i in 0..<count {
            let p = Int.random(in: 1...patients, using: &rng)
            versions[p] += 1
            occurred += Int64.random(in: 30_000...300_000, using: &rng)
            var id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            id[6] = (id[6] & 0x0F) | 0x40  // UUID v4 shape
            id[8] = (id[8] & 0x3F) | 0x80
            let roll = Int.random(in: 0..<100, using: &rng)
            let event: ClinicalEvent
            var actor = Int.random(in: 0..<10, using: &rng) < 7 ? nurse : clinician
            switch roll {
            case 0..<40: event = .scoreRecorded(score(&rng))
            case 40..<60: event = .screeningRecorded(screening(&rng))
            case 60..<80: event = .vitalsRecorded(vitals(&rng))
            default:
                event = .infusionAdministered(infusion(&rng))
                actor = clinician
            }
            events.append(
                SourceEvent(
                    sequence: UInt64(i + 1), eventId: id, stream: patientId(p), streamVersion: versions[p],
                    occurredAtMillis: occurred, offsetMinutes: offsets[p % offsets.count], recordedAtMicros: 0,
                    actor: actor, osUser: "root", event: event, hash: []))
        }
        // recordedAt: the import of each batch happens a few minutes after its last event.
        var start = 0
        while start < events.count {
            let end = min(start + batchSize, events.count)
            let recorded = (events[end - 1].occurredAtMillis + 300_000) * 1000 + Int64(start % 997)
            for j in start..<end { events[j].recordedAtMicros = recorded }
            start = end
        }
        return events
    }

    static func patientId(_ n: Int) -> String {
        let digits = String(n)
        return "P-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func score(_ rng: inout SplitMix64) -> ScoreRecorded {
        let r = Int.random(in: 0..<100, using: &rng)
        let instrument: Instrument = r < 35 ? .madrs : r < 70 ? .phq9 : r < 85 ? .phq2 : .moca
        return ScoreRecorded(instrument: instrument, value: Int.random(in: instrument.range, using: &rng))
    }

    static func screening(_ rng: inout SplitMix64) -> ScreeningRecorded {
        let kind = ScreeningKind.allCases[Int.random(in: 0..<ScreeningKind.allCases.count, using: &rng)]
        return ScreeningRecorded(kind: kind, positive: Int.random(in: 0..<100, using: &rng) < 8)
    }

    static func vitals(_ rng: inout SplitMix64) -> VitalsRecorded {
        let systolic = Int.random(in: 100...165, using: &rng)
        let diastolic = Int.random(in: 60...100, using: &rng)
        let hr: Int? = Int.random(in: 0..<100, using: &rng) < 85 ? Int.random(in: 55...110, using: &rng) : nil
        return VitalsRecorded(systolic: systolic, diastolic: diastolic, heartRate: hr)
    }

    static func infusion(_ rng: inout SplitMix64) -> InfusionAdministered {
        let r = Int.random(in: 0..<100, using: &rng)
        let route: Route
        let dose: Dose
        if r < 70 {
            route = .iv
            dose = Dose(value: [0.5, 0.75, 1.0][Int.random(in: 0..<3, using: &rng)], unit: .mgPerKg)
        } else if r < 90 {
            route = .intranasal
            dose = Dose(value: [56, 84][Int.random(in: 0..<2, using: &rng)], unit: .mg)
        } else {
            route = .im
            dose = Dose(value: 0.5, unit: .mgPerKg)
        }
        let s = Int.random(in: 0..<100, using: &rng)
        let series: Series = s < 40 ? .acute : s < 90 ? .maintenance : .booster
        let justification: String? =
            Int.random(in: 0..<100, using: &rng) < 5 ? "dose escalated after partial response at week 4" : nil
        return InfusionAdministered(route: route, dose: dose, series: series, justification: justification)
    }
}
