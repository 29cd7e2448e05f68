import Foundation
import KClinic
import Testing

/// Fold throughput of phase + monitoring on the synthetic two-year patient of
/// ProtocolPerformanceTests (~580 events). Opt-in, meant for release:
/// `KCLINIC_PERF=1 swift test -c release --filter MonitoringPerformanceTests`.
@Suite struct MonitoringPerformanceTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["KCLINIC_PERF"] != nil))
    func combinedFoldThroughput() {
        let events = ProtocolPerformanceTests.twoYearPatient()
        let sorted = events.sorted { OrderKey($0) < OrderKey($1) }
        let rounds = 1000
        let rules = RuleSet.default
        var checksum = 0
        for _ in 0..<50 {
            checksum &+= PatientProjection.fold(patient: "PERF", events: events, rules: rules).monitoring.visitCountForTesting
        }

        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let clock = ContinuousClock()
        var best: [String: Double] = [:]
        for _ in 0..<5 {
            let phaseOnly = clock.measure {
                for _ in 0..<rounds { checksum &+= PhaseProjection.fold(patient: "PERF", events: events, rules: rules).series.ladder.count }
            }
            let combined = clock.measure {
                for _ in 0..<rounds {
                    let (p, m) = PatientProjection.fold(patient: "PERF", events: events, rules: rules)
                    checksum &+= p.series.ladder.count &+ m.visitCountForTesting
                }
            }
            let evolve = clock.measure {
                for _ in 0..<rounds {
                    var p = PhaseState(patient: "PERF")
                    var m = MonitoringState(patient: "PERF")
                    for e in sorted { PatientProjection.evolve(&p, &m, e, rules: rules) }
                    checksum &+= p.series.ladder.count &+ m.visitCountForTesting
                }
            }
            let n = Double(events.count * rounds)
            for (k, v) in [("phase fold", phaseOnly), ("phase+monitoring fold", combined), ("phase+monitoring evolve", evolve)] {
                best[k] = max(best[k] ?? 0, n / seconds(v))
            }
        }
        for k in ["phase fold", "phase+monitoring fold", "phase+monitoring evolve"] {
            let rate = best[k] ?? 0
            print("\(k): \(events.count) events × \(rounds): \(Int(rate)) events/s (\(String(format: "%.1f", 1e9 / rate)) ns/event)")
        }
        // Due and audit on a date two years in.
        let (p, m) = PatientProjection.fold(patient: "PERF", events: events, rules: rules)
        let queries = clock.measure {
            for _ in 0..<rounds {
                checksum &+= MonitoringProjection.due(m, phase: p, on: day("2028-01-10"), rules: rules).count
                checksum &+= MonitoringProjection.audit(m, phase: p, on: day("2028-01-10"), rules: rules).count
            }
        }
        print("due + audit on one patient: \(String(format: "%.1f", seconds(queries) / Double(rounds) * 1e6)) µs [checksum \(checksum)]")
        print("monitoring state: \(m.binaryEncoded.count) bytes; phase state: \(p.binaryEncoded.count) bytes")
        #expect(events.count >= 450)
    }
}

extension MonitoringState {
    /// Something cheap to read, so the optimizer keeps the fold.
    var visitCountForTesting: Int { latestEventDay.map { Int($0.ordinal) } ?? 0 }
}
