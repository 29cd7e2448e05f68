import Foundation
import KClinic
import Testing

/// Fold throughput on a synthetic two-year patient (~500 events). Opt-in, meant for release:
/// `KCLINIC_PERF=1 swift test -c release --filter ProtocolPerformanceTests`.
@Suite struct ProtocolPerformanceTests {
    /// Acute series, then visits on the ladder's due dates for two years, each visit with a
    /// MADRS, vitals, three screenings, an assessment and the infusion; weekly symptom tracking
    /// (MADRS and PHQ-9) between visits, labs and consent now and then.
    static func twoYearPatient() -> [Recorded] {
        var h = History("PERF")
        h.acuteSeries()
        var visit = day("2026-01-23")
        let end = day("2028-01-05")
        let gaps = [7, 7, 7, 7, 10, 10, 10, 14, 14, 14, 14, 21, 21, 21]
        var i = 0
        while visit < end {
            let d = visit.description
            h.madrs(d + "T08:30", i % 9 == 8 ? 9 : 5)
            h.add(d + "T08:40", .vitalsRecorded(VitalsRecorded(systolic: 124, diastolic: 78)))
            h.add(d + "T08:45", .screeningRecorded(ScreeningRecorded(kind: .substanceUse, positive: false)))
            h.add(d + "T08:46", .screeningRecorded(ScreeningRecorded(kind: .urologicalSymptoms, positive: false)))
            h.infusion(d, .maintenance)
            h.add(d + "T10:30", .screeningRecorded(ScreeningRecorded(kind: .sideEffectsReview, positive: false)))
            h.add(d + "T10:35", .assessmentRecorded(AssessmentRecorded(kind: .treatmentResponse)))
            if i % 4 == 0 {
                h.add(d + "T11:00", .labResulted(LabResulted(test: .lft, abnormal: false)))
                h.add(d + "T11:05", .consentRecorded(ConsentRecorded(kind: .reaffirmation)))
            }
            let next = visit.adding(days: i < gaps.count ? gaps[i] : 28)
            var track = visit.adding(days: 3)
            while track < next.adding(days: -1) {
                h.madrs(track.description + "T19:00", 6)
                h.add(track.description + "T19:05", .scoreRecorded(ScoreRecorded(instrument: .phq9, value: 4)))
                track = track.adding(days: 4)
            }
            visit = next
            i += 1
        }
        return h.events
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["KCLINIC_PERF"] != nil))
    func foldThroughput() {
        let events = Self.twoYearPatient()
        let rounds = 2000
        var checksum = 0
        // Warm up.
        for _ in 0..<50 { checksum &+= PhaseProjection.fold(patient: "PERF", events: events, rules: .default).series.ladder.count }

        let clock = ContinuousClock()
        let foldTime = clock.measure {
            for _ in 0..<rounds {
                checksum &+= PhaseProjection.fold(patient: "PERF", events: events, rules: .default).series.ladder.count
            }
        }
        let evolveTime = clock.measure {
            for _ in 0..<rounds {
                var s = PhaseState(patient: "PERF")
                for e in events { PhaseProjection.evolve(&s, e, rules: .default) }
                checksum &+= s.series.ladder.count
            }
        }
        let n = Double(events.count * rounds)
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let foldRate = n / seconds(foldTime)
        let evolveRate = n / seconds(evolveTime)
        print(
            "protocol fold: \(events.count) events × \(rounds) = \(Int(n)) events; fold \(Int(foldRate)) events/s (\(String(format: "%.0f", 1e9 / foldRate)) ns/event), evolve only \(Int(evolveRate)) events/s (\(String(format: "%.0f", 1e9 / evolveRate)) ns/event) [checksum \(checksum)]"
        )
        #expect(events.count >= 450)
    }
}
