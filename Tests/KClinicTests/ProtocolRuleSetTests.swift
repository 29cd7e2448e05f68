import Foundation
import KClinic
import Testing

@Suite struct ProtocolRuleSetTests {
    /// rules/default.json beside the package (the one file this suite reads).
    static var defaultFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("rules/default.json")
    }

    @Test func RuleSet_defaultJSONFileEqualsDefault() throws {
        let data = try Data(contentsOf: Self.defaultFile)
        #expect(try RuleSet.load(json: data) == RuleSet.default)
        // Loaded over a different base, it still gives every default: the file names every key.
        var other = RuleSet.default
        other.remissionMax = 3
        other.ladder = [.init(intervalDays: 5, treatments: nil)]
        other.monitoring = []
        other.monitoring = RuleSet.default.monitoring.map {
            var m = $0
            m.baseline.toggle()
            return m
        }
        other.permissions.allowed[.nurse] = [.assessmentRecorded]
        other.permissions.allowed[.clinician] = []
        #expect(try RuleSet.load(json: data, base: other) == RuleSet.default)
    }

    @Test func RuleSet_defaultsAreProtocolMd() {
        let r = RuleSet.default
        #expect(r.ladder.map(\.intervalDays) == [7, 10, 14, 21, 28])
        #expect(r.ladder.map(\.treatments) == [4, 3, 4, 3, nil])
        #expect(
            r.taperSteps == [
                TaperStep(intervalDays: 21, months: 3), TaperStep(intervalDays: 28, months: 3), TaperStep(intervalDays: 42, months: 3),
            ])
        #expect(r.phaseEndWeeks == [12, 24])
        #expect(
            r.monitoringItem("cognitive-screening")
                == .init(name: "cognitive-screening", dueFrom: .months(6), dueBy: .months(6), baseline: true))
        #expect(r.monitoringItem("urinalysis") == .init(name: "urinalysis", dueFrom: .months(3), dueBy: .months(6), baseline: true))
        #expect(r.monitoringItem("liver-function") == .init(name: "liver-function", dueFrom: .months(3), dueBy: .months(6), baseline: true))
        #expect(r.monitoringItem("ecg") == .init(name: "ecg", dueFrom: .months(12), dueBy: .months(12), baseline: false))
        #expect(r.monitoringItem("consent") == .init(name: "consent", dueFrom: .months(12), dueBy: .months(12), baseline: true))
        #expect(
            r.monitoringItem("symptom-tracking") == .init(name: "symptom-tracking", dueFrom: .days(7), dueBy: .days(7), baseline: false))
    }

    @Test func RuleSet_partialFileKeepsOtherDefaults() throws {
        let r = try RuleSet.load(
            json: Array(
                #"""
                {"version": "clinic-2027-01", "remissionMax": 8, "ladder": [{"intervalDays": 7, "treatments": 2}, {"intervalDays": 14, "treatments": 2}, {"intervalDays": 28, "treatments": 5}],
                 "monitoring": {"urinalysis": {"dueFromDays": 60}}, "responseReduction": 0.3}
                """#.utf8))
        var expected = RuleSet.default
        expected.version = "clinic-2027-01"
        expected.remissionMax = 8
        expected.responseReduction = 0.3
        expected.ladder = [
            .init(intervalDays: 7, treatments: 2), .init(intervalDays: 14, treatments: 2), .init(intervalDays: 28, treatments: 5),
        ]
        expected.monitoring[1].dueFrom = .days(60)
        #expect(r == expected)
    }

    @Test(arguments: [
        (#"{}"#, "version: is required"),
        (#"{"version": ""}"#, "version: must be a non-empty string"),
        (#"{"version": 3}"#, "version: must be a non-empty string"),
        (#"{"version": "v", "colour": 1}"#, "colour: unknown key"),
        (#"{"version": "v", "acuteSeriesLength": 0}"#, "acuteSeriesLength: must be at least 1"),
        (#"{"version": "v", "acuteIntervalDays": -3}"#, "acuteIntervalDays: must be at least 1"),
        (#"{"version": "v", "acuteIntervalDays": 2.5}"#, "acuteIntervalDays: must be an integer"),
        (#"{"version": "v", "acuteIntervalDays": true}"#, "acuteIntervalDays: must be an integer"),
        (#"{"version": "v", "acuteIntervalDays": "3"}"#, "acuteIntervalDays: must be an integer"),
        (#"{"version": "v", "responseReduction": 1}"#, "responseReduction: must be between 0 and 1, both excluded"),
        (#"{"version": "v", "responseReduction": 0}"#, "responseReduction: must be between 0 and 1, both excluded"),
        (#"{"version": "v", "responseReduction": "half"}"#, "responseReduction: must be a number"),
        (#"{"version": "v", "ladder": []}"#, "ladder: must have at least one rung"),
        (#"{"version": "v", "ladder": {}}"#, "ladder: must be an array of rungs"),
        (
            #"{"version": "v", "ladder": [{"intervalDays": 7, "treatments": 4}, {"intervalDays": 10, "treatments": 3}, {"intervalDays": 0, "treatments": null}]}"#,
            "ladder[2].intervalDays: must be at least 1"
        ),
        (
            #"{"version": "v", "ladder": [{"intervalDays": 7, "treatments": null}, {"intervalDays": 10, "treatments": null}]}"#,
            "ladder[0].treatments: must be a number of treatments (only the last rung may be open-ended, null)"
        ),
        (
            #"{"version": "v", "ladder": [{"intervalDays": 7}, {"intervalDays": 10}]}"#,
            "ladder[0].treatments: must be a number of treatments (only the last rung may be open-ended, null)"
        ),
        (
            #"{"version": "v", "ladder": [{"intervalDays": 10, "treatments": 3}, {"intervalDays": 10, "treatments": null}]}"#,
            "ladder[1].intervalDays: must be greater than the rung before (10): intervals strictly increase"
        ),
        (
            #"{"version": "v", "ladder": [{"intervalDays": 7, "treatments": 0}, {"intervalDays": 10, "treatments": null}]}"#,
            "ladder[0].treatments: must be at least 1"
        ),
        (#"{"version": "v", "ladder": [{"intervalDays": 7, "treatments": 2, "weeks": 1}]}"#, "ladder[0].weeks: unknown key"),
        (#"{"version": "v", "ladder": [{"treatments": 2}]}"#, "ladder[0].intervalDays: is required"),
        (#"{"version": "v", "taperSteps": [{"intervalDays": 21, "months": 0}]}"#, "taperSteps[0].months: must be at least 1"),
        (#"{"version": "v", "taperSteps": []}"#, "taperSteps: must have at least one step"),
        (#"{"version": "v", "phaseEndWeeks": [12]}"#, "phaseEndWeeks: must be two weeks, e.g. [12, 24]"),
        (#"{"version": "v", "phaseEndWeeks": [24, 12]}"#, "phaseEndWeeks[1]: must be greater than phaseEndWeeks[0] (24)"),
        (#"{"version": "v", "phaseEndWeeks": [0, 12]}"#, "phaseEndWeeks[0]: must be at least 1"),
        (#"{"version": "v", "monitoring": {"mri": {}}}"#, "monitoring.mri: unknown key"),
        (
            #"{"version": "v", "monitoring": {"ecg": {"dueFromMonths": 3, "dueFromDays": 90}}}"#,
            "monitoring.ecg.dueFromDays: give dueFromMonths or dueFromDays, not both"
        ),
        (
            #"{"version": "v", "monitoring": {"ecg": {"dueFromMonths": 12, "dueByMonths": 6}}}"#,
            "monitoring.ecg.dueByMonths: must be at least dueFromMonths (12)"
        ),
        (#"{"version": "v", "monitoring": {"ecg": {"baseline": 1}}}"#, "monitoring.ecg.baseline: must be true or false"),
        (#"{"version": "v", "relapseEarlyDays": 100}"#, "relapseLateDays: must be at least relapseEarlyDays (100)"),
        (#"{"version": "v", "maxDoseMgPerKg": 0}"#, "maxDoseMgPerKg: must be greater than 0"),
        (#"{"version": "v", "minMaintenanceIntervalDays": 0}"#, "minMaintenanceIntervalDays: must be at least 1"),
    ])
    func RuleSet_refusedNamingTheKey(json: String, message: String) {
        #expect(throws: RuleSetError.self) { try RuleSet.load(json: Array(json.utf8)) }
        do {
            _ = try RuleSet.load(json: Array(json.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func RuleSet_notJSONIsRefused() {
        #expect(throws: RuleSetError.self) { try RuleSet.load(json: Array("[1, 2]".utf8)) }
        #expect(throws: RuleSetError.self) { try RuleSet.load(json: Array("{version".utf8)) }
    }

    @Test func RuleSet_numericLastRungNeverExtends() throws {
        let rules = try RuleSet.load(
            json: Array(#"{"version": "v", "ladder": [{"intervalDays": 7, "treatments": 1}, {"intervalDays": 14, "treatments": 1}]}"#.utf8))
        var h = History()
        h.acuteSeries()
        for d in ["2026-01-23", "2026-01-30", "2026-02-13", "2026-02-27"] { h.visit(d, madrs: 4) }
        #expect(
            h.view(on: "2026-03-01", rules: rules)
                == phaseView(
                    phase: .frequencyFinding, status: .maintenance, week: 8, response: .responder, baseline: 32, nadir: 4,
                    latest: 4, interval: (14, 3, nil), due: "2026-03-13", overdue: 0))
    }

    @Test func Conventions_thresholdsAreExactForDecimalRatios() throws {
        // 30 × (1 − 0.3) = 21 exactly: 21 responds even though 0.7 is not exact in binary.
        let rules = try RuleSet.load(json: Array(#"{"version": "v", "responseReduction": 0.3}"#.utf8))
        var h = History()
        h.acuteSeries(baseline: 30, assessment: 21)
        #expect(h.view(on: "2026-01-20", rules: rules)?.responseStatus == .responder)
        var h2 = History()
        h2.acuteSeries(baseline: 30, assessment: 22)
        #expect(h2.view(on: "2026-01-20", rules: rules)?.responseStatus == .nonResponder)
    }
}
