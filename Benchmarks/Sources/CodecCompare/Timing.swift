import Foundation

/// ns/event of each run of a pass over the corpus.
struct Sample {
    var perRun: [Double]
    var median: Double { perRun.sorted()[perRun.count / 2] }
    var min: Double { perRun.min() ?? .nan }
    var max: Double { perRun.max() ?? .nan }
}

enum Timing {
    nonisolated(unsafe) static var sink = 0

    /// One warm-up pass of each, then `runs` timed passes of `hand` and `proto`, interleaved
    /// (hand, proto, hand, …) so that load from elsewhere on the machine hits both alike. Each
    /// body handles `events` events and returns a value folded into `sink`, so the work cannot
    /// be optimised away.
    static func measure(
        runs: Int = 7, events: Int, hand: () throws -> Int, proto: () throws -> Int
    ) rethrows -> (hand: Sample, proto: Sample) {
        sink &+= try hand()
        sink &+= try proto()
        var h: [Double] = []
        var p: [Double] = []
        for _ in 0..<runs {
            h.append(try time(events, hand))
            p.append(try time(events, proto))
        }
        return (Sample(perRun: h), Sample(perRun: p))
    }

    private static func time(_ events: Int, _ body: () throws -> Int) rethrows -> Double {
        let start = ContinuousClock.now
        let r = try body()
        let d = ContinuousClock.now - start
        sink &+= r
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        return seconds * 1e9 / Double(events)
    }
}

func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return right ? fill + s : s + fill
}

func fmt(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }
