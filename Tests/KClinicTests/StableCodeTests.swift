import Testing

@testable import KClinic

/// The stable codes stored on disk: the envelope's event type code and actor role code, and the
/// one-byte payload codes of the domain's enums. Each enum has one case → code table; the reverse
/// is derived from it. Pinned here value by value, with the names they pair with: a changed or
/// reused code would misread every stored event that carries it.
@Suite struct StableCodeTests {
    @Test func eventTypeCodes() {
        checkTable(
            EventType.self, code: \.code, decode: EventType.init(code:), range: 0...UInt16.max,
            [
                ("PatientEnrolled", 1), ("ConsentRecorded", 2), ("InfusionAdministered", 3), ("ScoreRecorded", 4),
                ("LabResulted", 5), ("VitalsRecorded", 6), ("SideEffectReported", 7), ("ScreeningRecorded", 8),
                ("AssessmentRecorded", 9), ("MedicationChanged", 10), ("ScheduleAdjusted", 11),
                ("DrugHolidayStarted", 12), ("DrugHolidayEnded", 13), ("TaperStarted", 14),
                ("MaintenanceDiscontinued", 15), ("PregnancyStatusRecorded", 16), ("AlertAcknowledged", 17),
                ("AuditReviewed", 18), ("EventAmended", 19), ("EventVoided", 20),
                ("ObservationRecorded", 21), ("DischargeRecorded", 22), ("RemsFormSubmitted", 23), ("StockReceived", 24),
                ("StockWasted", 25), ("StockDisposed", 26), ("StockAdjusted", 27), ("InventoryCounted", 28),
                ("RuleSetAdopted", 100), ("ActorRegistered", 101), ("ActorRetired", 102), ("ActorCredentialChanged", 103),
            ])
    }

    @Test func roleCodes() {
        checkTable(
            Role.self, code: \.code, decode: Role.init(code:), range: 0...UInt8.max,
            [("clinician", 1), ("nurse", 2), ("compliance", 3), ("admin", 4), ("interface", 5)])
    }

    @Test func payloadCodes() {
        checkPayload(TreatmentProtocol.self, [("interval-extension", 1), ("symptom-triggered", 2), ("hybrid", 3)])
        checkPayload(ConsentKind.self, [("initial", 1), ("reaffirmation", 2)])
        checkPayload(Route.self, [("IV", 1), ("IM", 2), ("intranasal", 3), ("sublingual", 4), ("oral", 5)])
        checkPayload(DoseUnit.self, [("mg/kg", 1), ("mg", 2)])
        checkPayload(Series.self, [("acute", 1), ("maintenance", 2), ("booster", 3)])
        checkPayload(Instrument.self, [("MADRS", 1), ("PHQ2", 2), ("PHQ9", 3), ("MOCA", 4)])
        checkPayload(LabTest.self, [("urinalysis", 1), ("LFT", 2), ("ECG", 3)])
        checkPayload(
            SideEffectCategory.self,
            [
                ("urological", 1), ("hepatic", 2), ("cognitive", 3), ("dissociative", 4), ("cardiovascular", 5),
                ("psychotic", 6), ("nausea", 7), ("other", 8),
            ])
        checkPayload(Severity.self, [("mild", 1), ("moderate", 2), ("severe", 3)])
        checkPayload(
            ScreeningKind.self,
            [
                ("substance-use", 1), ("urological-symptoms", 2), ("side-effects-review", 3),
                ("dissociative-symptoms", 4), ("psychotic-symptoms", 5),
            ])
        checkPayload(
            AssessmentKind.self,
            [
                ("treatment-response", 1), ("comprehensive-psychiatric", 2), ("treatment-plan-review", 3),
                ("goal-setting", 4), ("full-safety", 5), ("continuation-discussion", 6),
            ])
        checkPayload(MedicationAction.self, [("start", 1), ("stop", 2), ("change", 3)])
        checkPayload(PregnancyStatus.self, [("planning", 1), ("pregnant", 2), ("not-pregnant", 3), ("postpartum", 4)])
        checkPayload(SignatureMeaning.self, [("reviewed", 1), ("approved", 2), ("responsibility", 3)])
        checkPayload(CredentialChange.self, [("password-set", 1), ("token-issued", 2), ("token-revoked", 3)])
        checkPayload(Drug.self, [("ketamine", 1), ("esketamine", 2)])
        checkPayload(DisposalMethod.self, [("reverse-distributor", 1), ("destroyed", 2), ("returned", 3)])
        checkPayload(AdjustmentReason.self, [("loss", 1), ("theft", 2), ("breakage", 3), ("count-correction", 4)])
        checkPayload(CountKind.self, [("routine", 1), ("biennial", 2)])
    }

    private func checkPayload<E: _PayloadCoded & RawRepresentable & Equatable>(
        _ type: E.Type, _ expected: [(String, UInt8)], sourceLocation: SourceLocation = #_sourceLocation
    ) where E.RawValue == String {
        checkTable(
            type, code: \.payloadCode, decode: E.init(payloadCode:), range: 0...UInt8.max, expected,
            sourceLocation: sourceLocation)
    }

    /// Every case, in declaration order, has the pinned name and code; names and codes are unique;
    /// every code of `range` decodes to its case, and only those codes decode at all.
    private func checkTable<E: CaseIterable & RawRepresentable & Equatable, Code: FixedWidthInteger>(
        _ type: E.Type, code: (E) -> Code, decode: (Code) -> E?, range: ClosedRange<Code>, _ expected: [(String, Code)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) where E.RawValue == String {
        let actual = E.allCases.map { ($0.rawValue, code($0)) }
        #expect(actual.map(\.0) == expected.map(\.0), "\(E.self) names", sourceLocation: sourceLocation)
        #expect(actual.map(\.1) == expected.map(\.1), "\(E.self) codes", sourceLocation: sourceLocation)
        #expect(Set(actual.map(\.0)).count == actual.count, "\(E.self) names are unique", sourceLocation: sourceLocation)
        #expect(Set(actual.map(\.1)).count == actual.count, "\(E.self) codes are unique", sourceLocation: sourceLocation)
        for e in E.allCases {
            #expect(decode(code(e)) == e, "\(E.self).\(e)", sourceLocation: sourceLocation)
        }
        let codes = Set(actual.map(\.1))
        var decoded = 0
        for c in range {
            if let e = decode(c) {
                decoded += 1
                #expect(code(e) == c, "\(E.self) code \(c)", sourceLocation: sourceLocation)
            } else {
                #expect(!codes.contains(c), "\(E.self) code \(c) does not decode", sourceLocation: sourceLocation)
            }
        }
        #expect(decoded == actual.count, "\(E.self): only its codes decode", sourceLocation: sourceLocation)
    }
}

/// The alert kinds' codes in the stored phase state (R7).
@Suite struct AlertKindCodeTests {
    @Test func alertKindCodes() {
        let expected: [(String, UInt8)] = [
            ("dose-above-limit", 1), ("more-frequent-than-weekly", 2), ("symptom-rise", 3), ("tolerance-review", 4),
            ("non-response", 5), ("lft-abnormal", 6), ("urology-referral", 7), ("substance-use", 8),
            ("psychotic-symptoms", 9), ("bp-high", 10), ("pregnancy-planning", 11), ("infusion-during-pregnancy", 12),
            ("holiday-overrun", 13), ("booster-indicated", 14), ("relapse", 15), ("discontinuation-eligible", 16),
            ("dosed-above-bp-limit", 17), ("session-bp-high", 18), ("desaturation", 19), ("deep-sedation", 20),
            ("early-discharge", 21), ("discharged-without-criteria", 22), ("discharged-without-escort", 23), ("transferred", 24),
            ("inventory-discrepancy", 25), ("lot-overdrawn", 26),
        ]
        #expect(AlertKind.allCases.map { ($0.rawValue, $0.code) }.elementsEqual(expected, by: { $0 == $1 }))
        for code in 0...UInt8.max {
            #expect(AlertKind(code: code)?.rawValue == expected.first { $0.1 == code }?.0)
        }
    }
}
