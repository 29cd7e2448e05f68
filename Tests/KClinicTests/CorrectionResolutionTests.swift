import Foundation
import KClinic
import Testing

/// protocol.md, Conventions, "Corrections": the one resolution every reader uses.
@Suite struct CorrectionResolutionTests {
    static func id(_ n: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012x", n)) ?? UUID() }

    enum Step {
        /// correction `n` voids `target`
        case void(Int, Int, Role = .nurse)
        /// correction `n` amends `target` to `value`
        case amend(Int, Int, Int, Role = .nurse)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: [Step]
        /// Ids (numbers) voided by a void in force, with that void's number.
        var voided: [Int: Int]
        /// Event number → the amended values in force, in log order.
        var amended: [Int: [Int]]
        var clinicianCorrected: Set<Int> = []
        var testDescription: String { name }
    }

    static func corrections(_ steps: [Step]) -> [CorrectionResolution.Correction] {
        steps.map { step in
            switch step {
            case .void(let n, let t, let role):
                CorrectionResolution.Correction(
                    id: id(n), sequence: UInt64(n), target: id(t), action: .void, role: role,
                    recordedAt: Timestamp(epochMillis: Int64(n) * 1000, offsetMinutes: 0))
            case .amend(let n, let t, let v, let role):
                CorrectionResolution.Correction(
                    id: id(n), sequence: UInt64(n), target: id(t), action: .amend([("value", .int(Int64(v)))]), role: role,
                    recordedAt: Timestamp(epochMillis: Int64(n) * 1000, offsetMinutes: 0))
            }
        }
    }

    static let cases: [Case] = [
        Case(name: "nothing", steps: [], voided: [:], amended: [:]),
        Case(name: "a void", steps: [.void(10, 1)], voided: [1: 10], amended: [:]),
        Case(name: "a void of a void restores the event", steps: [.void(10, 1), .void(11, 10)], voided: [10: 11], amended: [:]),
        Case(
            name: "three voids in a chain: the event is voided again", steps: [.void(10, 1), .void(11, 10), .void(12, 11)],
            voided: [1: 10, 11: 12], amended: [:]),
        Case(name: "amendments in log order", steps: [.amend(10, 1, 5), .amend(11, 1, 6)], voided: [:], amended: [1: [5, 6]]),
        Case(
            name: "a voided amendment is undone", steps: [.amend(10, 1, 5), .amend(11, 1, 6), .void(12, 10)], voided: [10: 12],
            amended: [1: [6]]),
        Case(name: "a voided event keeps no amendment", steps: [.amend(10, 1, 5), .void(11, 1)], voided: [1: 11], amended: [:]),
        Case(
            name: "two voids of one event: the latest in force is named", steps: [.void(10, 1), .void(11, 1)],
            voided: [1: 11], amended: [:]),
        Case(
            name: "the latest void is itself voided: the earlier still holds", steps: [.void(10, 1), .void(11, 1), .void(12, 11)],
            voided: [1: 10, 11: 12], amended: [:]),
        Case(
            name: "a clinician's correction is remembered even when undone",
            steps: [.amend(10, 1, 5, .clinician), .void(11, 10, .clinician), .amend(12, 2, 7)], voided: [10: 11], amended: [2: [7]],
            clinicianCorrected: [1, 10]),
        Case(
            name: "given out of log order", steps: [.void(11, 10), .amend(12, 2, 3), .void(10, 1)], voided: [10: 11],
            amended: [2: [3]]),
    ]

    @Test(arguments: cases)
    func resolvesAsTheConventionsSay(_ c: Case) {
        let r = CorrectionResolution(Self.corrections(c.steps))
        for n in 1...20 {
            #expect(r.voidInForce(naming: Self.id(n)) == c.voided[n].map(UInt64.init), "voidInForce(\(n))")
            #expect(r.isVoided(Self.id(n)) == (c.voided[n] != nil))
            let values = r.amendmentsInForce(of: Self.id(n)).map { a -> Int in
                if case .int(let v)? = a.fields.first?.1 { return Int(v) }
                return -1
            }
            #expect(values == (c.amended[n] ?? []), "amendments(\(n))")
            #expect(r.correctedByClinician(Self.id(n)) == c.clinicianCorrected.contains(n))
        }
        #expect(Set(r.voidedIds) == Set(c.voided.keys.map(Self.id)))
        #expect(Set(r.amendedIds.keys) == Set(c.amended.keys.map(Self.id)))
        #expect(r.corrections.map(\.sequence) == r.corrections.map(\.sequence).sorted())
    }

    @Test func amendmentsApplyInLogOrderAndOneThatNoLongerFitsIsSkipped() {
        let original = ClinicalEvent.scoreRecorded(ScoreRecorded(instrument: .madrs, value: 20))
        let at = Timestamp(epochMillis: 1_780_000_000_000, offsetMinutes: 0)
        let list = [
            CorrectionResolution.Amendment(fields: [("value", .int(12))], recordedAt: at),
            CorrectionResolution.Amendment(fields: [("value", .int(99))], recordedAt: at),  // > 60: does not fit
            CorrectionResolution.Amendment(fields: [("value", .int(14))], recordedAt: at),
        ]
        #expect(CorrectionResolution.applying(list, to: original) == .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 14)))
        #expect(
            CorrectionResolution.applying(Array(list.prefix(2)), to: original)
                == .scoreRecorded(ScoreRecorded(instrument: .madrs, value: 12)))
    }
}
