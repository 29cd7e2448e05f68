import Foundation
import KClinic
import Testing

/// Who may record what as a rule-set parameter (`permissions`): overrides, refusals naming the
/// key, and the defaults of the issue's table.
@Suite struct ProtocolPermissionRulesTests {
    func load(_ json: String) throws(RuleSetError) -> RuleSet {
        try RuleSet.load(json: Array(json.utf8))
    }

    @Test func Permissions_defaultIsTheIssuesTable() {
        let p = RuleSet.default.permissions
        #expect(p == PermissionTable.default)
        #expect(
            p.names(.nurse) == [
                "DischargeRecorded", "InfusionAdministered", "LabResulted", "ObservationRecorded", "RemsFormSubmitted", "ScoreRecorded",
                "ScreeningRecorded", "SideEffectReported", "StockWasted", "VitalsRecorded",
            ])
        #expect(p.names(.compliance) == ["AuditReviewed"])
        #expect(
            p.names(.admin) == [
                "ActorRegistered", "ActorRetired", "InventoryCounted", "PatientEnrolled", "RemsFormSubmitted", "RuleSetAdopted",
                "StockAdjusted", "StockDisposed", "StockReceived",
            ])
        #expect(p.names(.interface) == [])
        // A clinician: every clinical event, no corrections (those follow mayCorrect), no system events.
        let clinical = EventType.allCases.filter { !$0.isSystem && !$0.isCorrection }
        #expect(Set(p.allowed[.clinician] ?? []) == Set(clinical))
        for role in Role.allCases {
            let corrections = (p.allowed[role] ?? []).filter { $0.isCorrection }
            #expect(corrections.isEmpty)
        }
    }

    @Test func Permissions_aListedRoleIsReplacedTheOthersKept() throws {
        let r = try load(
            #"""
            {"version": "v", "permissions": {"nurse": ["ScoreRecorded", "AssessmentRecorded"], "compliance": []}}
            """#)
        #expect(r.permissions.allowed[.nurse] == [.scoreRecorded, .assessmentRecorded])
        #expect(r.permissions.may(.nurse, record: .assessmentRecorded))
        #expect(!r.permissions.may(.nurse, record: .infusionAdministered))
        #expect(r.permissions.allowed[.compliance] == [])
        #expect(r.permissions.allowed[.clinician] == PermissionTable.default.allowed[.clinician])
        #expect(r.permissions.allowed[.admin] == PermissionTable.default.allowed[.admin])
        #expect(r.permissions.allowed[.interface] == [])
        var expected = RuleSet.default
        expected.version = "v"
        expected.permissions.allowed[.nurse] = [.scoreRecorded, .assessmentRecorded]
        expected.permissions.allowed[.compliance] = []
        #expect(r == expected)
        // Absent, or an empty object: every row the default.
        #expect(try load(#"{"version": "v", "permissions": {}}"#).permissions == .default)
        #expect(try load(#"{"version": "v", "permissions": {"interface": []}}"#).permissions == .default)
    }

    @Test func Permissions_absentRolesKeepTheBasesRows() throws {
        var base = RuleSet.default
        base.permissions.allowed[.nurse] = [.assessmentRecorded]
        let r = try RuleSet.load(json: Array(#"{"version": "v", "permissions": {"admin": ["PatientEnrolled"]}}"#.utf8), base: base)
        #expect(r.permissions.allowed[.nurse] == [.assessmentRecorded])
        #expect(r.permissions.allowed[.admin] == [.patientEnrolled])
    }

    @Test(arguments: [
        (#"{"version": "v", "permissions": []}"#, #"permissions: must be an object of roles, e.g. {"nurse": ["ScoreRecorded"]}"#),
        (
            #"{"version": "v", "permissions": {"doctor": []}}"#,
            "permissions.doctor: unknown role (roles: clinician, nurse, compliance, admin, interface)"
        ),
        (#"{"version": "v", "permissions": {"nurse": "ScoreRecorded"}}"#, "permissions.nurse: must be an array of event type names"),
        (
            #"{"version": "v", "permissions": {"nurse": ["ScoreRecorded", "VitalsRecorded", "Foo"]}}"#,
            #"permissions.nurse[2]: unknown event type "Foo""#
        ),
        (#"{"version": "v", "permissions": {"nurse": ["scoreRecorded"]}}"#, #"permissions.nurse[0]: unknown event type "scoreRecorded""#),
        (#"{"version": "v", "permissions": {"nurse": [3]}}"#, "permissions.nurse[0]: must be an event type name"),
        (
            #"{"version": "v", "permissions": {"nurse": ["ScoreRecorded", "ScoreRecorded"]}}"#,
            "permissions.nurse[1]: ScoreRecorded is listed twice"
        ),
        (
            #"{"version": "v", "permissions": {"interface": ["ScoreRecorded"]}}"#,
            "permissions.interface: must be empty: an interface never records in its own name (it imports on behalf of registered actors)"
        ),
        (
            #"{"version": "v", "permissions": {"nurse": ["ScoreRecorded", "EventAmended"]}}"#,
            "permissions.nurse[1]: EventAmended may not be listed: corrections follow a fixed rule, a clinician or the actor who recorded the original"
        ),
        (
            #"{"version": "v", "permissions": {"clinician": ["EventVoided"]}}"#,
            "permissions.clinician[0]: EventVoided may not be listed: corrections follow a fixed rule, a clinician or the actor who recorded the original"
        ),
    ])
    func Permissions_refusedNamingTheKey(json: String, message: String) {
        #expect(throws: RuleSetError.self) { try load(json) }
        do {
            _ = try load(json)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func Permissions_defaultJSONNamesEveryRole() throws {
        // rules/default.json is checked against RuleSet.default (ProtocolRuleSetTests); loaded
        // over a base whose table differs everywhere, it still gives the default table.
        let data = try Data(contentsOf: ProtocolRuleSetTests.defaultFile)
        var other = RuleSet.default
        for role in Role.allCases where role != .interface { other.permissions.allowed[role] = [] }
        other.permissions.allowed[.interface] = [.scoreRecorded]
        #expect(try RuleSet.load(json: data, base: other).permissions == .default)
    }
}
