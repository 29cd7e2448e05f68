import Foundation
import KClinic

/// Baseline (a)'s payload decoding, as a small team writes it: Foundation's `JSONDecoder` with a
/// `Decodable` struct per event type mirroring its `data` (events.md), converted to the domain's
/// `ClinicalEvent` so that the very same projection code folds it.
///
/// Every importable type is covered. A type without a mirror (the system types, which no import
/// writes) or a value outside the domain's vocabulary throws: nothing is skipped silently.
enum MirrorDecoder {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(type: EventType, payload: Data, decoder: JSONDecoder) throws -> ClinicalEvent {
        switch type {
        case .patientEnrolled:
            let d = try decoder.decode(PatientEnrolledData.self, from: payload)
            return .patientEnrolled(
                PatientEnrolled(
                    protocol: try d.protocol.map { try value(TreatmentProtocol(rawValue: $0), "protocol", $0) } ?? .intervalExtension,
                    birthYear: d.birthYear, substanceUseHistory: d.substanceUseHistory))
        case .consentRecorded:
            let d = try decoder.decode(ConsentRecordedData.self, from: payload)
            return .consentRecorded(ConsentRecorded(kind: try value(ConsentKind(rawValue: d.kind), "kind", d.kind)))
        case .infusionAdministered:
            let d = try decoder.decode(InfusionAdministeredData.self, from: payload)
            return .infusionAdministered(
                InfusionAdministered(
                    route: try value(Route(rawValue: d.route), "route", d.route),
                    dose: Dose(value: d.dose.value, unit: try value(DoseUnit(rawValue: d.dose.unit), "dose.unit", d.dose.unit)),
                    series: try value(Series(rawValue: d.series), "series", d.series),
                    justification: d.justification))
        case .scoreRecorded:
            let d = try decoder.decode(ScoreRecordedData.self, from: payload)
            return .scoreRecorded(
                ScoreRecorded(instrument: try value(Instrument(rawValue: d.instrument), "instrument", d.instrument), value: d.value))
        case .labResulted:
            let d = try decoder.decode(LabResultedData.self, from: payload)
            // A [String: Double] forgets the input order of the results; sorted by name so that it
            // is at least deterministic (no projection reads lab values).
            return .labResulted(
                LabResulted(
                    test: try value(LabTest(rawValue: d.test), "test", d.test), abnormal: d.abnormal,
                    values: d.values.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }))
        case .vitalsRecorded:
            let d = try decoder.decode(VitalsRecordedData.self, from: payload)
            return .vitalsRecorded(VitalsRecorded(systolic: d.systolic, diastolic: d.diastolic, heartRate: d.heartRate))
        case .sideEffectReported:
            let d = try decoder.decode(SideEffectReportedData.self, from: payload)
            return .sideEffectReported(
                SideEffectReported(
                    category: try value(SideEffectCategory(rawValue: d.category), "category", d.category),
                    severity: try value(Severity(rawValue: d.severity), "severity", d.severity), note: d.note))
        case .screeningRecorded:
            let d = try decoder.decode(ScreeningRecordedData.self, from: payload)
            return .screeningRecorded(
                ScreeningRecorded(kind: try value(ScreeningKind(rawValue: d.kind), "kind", d.kind), positive: d.positive))
        case .assessmentRecorded:
            let d = try decoder.decode(AssessmentRecordedData.self, from: payload)
            return .assessmentRecorded(AssessmentRecorded(kind: try value(AssessmentKind(rawValue: d.kind), "kind", d.kind), note: d.note))
        case .medicationChanged:
            let d = try decoder.decode(MedicationChangedData.self, from: payload)
            return .medicationChanged(
                MedicationChanged(
                    name: d.name, action: try value(MedicationAction(rawValue: d.action), "action", d.action), dose: d.dose))
        case .scheduleAdjusted:
            let d = try decoder.decode(ScheduleAdjustedData.self, from: payload)
            return .scheduleAdjusted(ScheduleAdjusted(intervalDays: d.intervalDays, reason: d.reason))
        case .drugHolidayStarted:
            let d = try decoder.decode(DrugHolidayStartedData.self, from: payload)
            return .drugHolidayStarted(DrugHolidayStarted(plannedWeeks: d.plannedWeeks))
        case .drugHolidayEnded:
            let d = try decoder.decode(DrugHolidayEndedData.self, from: payload)
            return .drugHolidayEnded(DrugHolidayEnded(resumeIntervalDays: d.resumeIntervalDays))
        case .taperStarted:
            let d = try decoder.decode(TaperStartedData.self, from: payload)
            return .taperStarted(TaperStarted(steps: d.steps?.map { TaperStep(intervalDays: $0.intervalDays, months: $0.months) }))
        case .maintenanceDiscontinued:
            let d = try decoder.decode(MaintenanceDiscontinuedData.self, from: payload)
            return .maintenanceDiscontinued(MaintenanceDiscontinued(reason: d.reason))
        case .pregnancyStatusRecorded:
            let d = try decoder.decode(PregnancyStatusRecordedData.self, from: payload)
            return .pregnancyStatusRecorded(
                PregnancyStatusRecorded(status: try value(PregnancyStatus(rawValue: d.status), "status", d.status)))
        case .alertAcknowledged:
            let d = try decoder.decode(AlertAcknowledgedData.self, from: payload)
            return .alertAcknowledged(AlertAcknowledged(alertId: d.alertId, note: d.note))
        case .auditReviewed:
            let d = try decoder.decode(AuditReviewedData.self, from: payload)
            return .auditReviewed(AuditReviewed(throughSequence: d.throughSequence, checkpointHash: d.checkpointHash, note: d.note))
        case .eventAmended:
            let d = try decoder.decode(EventAmendedData.self, from: payload)
            guard case .object(let fields) = d.data.value else { throw Unsupported(description: "EventAmended data.data is not an object") }
            return .eventAmended(EventAmended(target: d.target, reason: d.reason, data: fields))
        case .eventVoided:
            let d = try decoder.decode(EventVoidedData.self, from: payload)
            return .eventVoided(EventVoided(target: d.target, reason: d.reason))
        case .ruleSetAdopted, .actorRegistered, .actorRetired, .actorCredentialChanged, .observationRecorded, .dischargeRecorded,
            .remsFormSubmitted, .stockReceived, .stockWasted, .stockDisposed, .stockAdjusted, .inventoryCounted:
            throw Unsupported(description: "no Decodable mirror for \(type.rawValue) (the benchmark clinic has none)")
        }
    }

    static func value<T>(_ v: T?, _ field: String, _ raw: String) throws -> T {
        guard let v else { throw Unsupported(description: "data.\(field): unknown value \"\(raw)\"") }
        return v
    }
}

// MARK: - The mirrors (events.md, "Types and their data")

struct PatientEnrolledData: Decodable {
    var `protocol`: String?
    var birthYear: Int?
    var substanceUseHistory: Bool?
}

struct ConsentRecordedData: Decodable { var kind: String }

struct DoseData: Decodable {
    var value: Double
    var unit: String
}

struct InfusionAdministeredData: Decodable {
    var route: String
    var dose: DoseData
    var series: String
    var justification: String?
}

struct ScoreRecordedData: Decodable {
    var instrument: String
    var value: Int
}

struct LabResultedData: Decodable {
    var test: String
    var abnormal: Bool
    var values: [String: Double]?
}

struct VitalsRecordedData: Decodable {
    var systolic: Int
    var diastolic: Int
    var heartRate: Int?
}

struct SideEffectReportedData: Decodable {
    var category: String
    var severity: String
    var note: String?
}

struct ScreeningRecordedData: Decodable {
    var kind: String
    var positive: Bool
}

struct AssessmentRecordedData: Decodable {
    var kind: String
    var note: String?
}

struct MedicationChangedData: Decodable {
    var name: String
    var action: String
    var dose: String?
}

struct ScheduleAdjustedData: Decodable {
    var intervalDays: Int
    var reason: String
}

struct DrugHolidayStartedData: Decodable { var plannedWeeks: Int }

struct DrugHolidayEndedData: Decodable { var resumeIntervalDays: Int? }

struct TaperStepData: Decodable {
    var intervalDays: Int
    var months: Int
}

struct TaperStartedData: Decodable { var steps: [TaperStepData]? }

struct MaintenanceDiscontinuedData: Decodable { var reason: String }

struct PregnancyStatusRecordedData: Decodable { var status: String }

struct AlertAcknowledgedData: Decodable {
    var alertId: String
    var note: String?
}

struct AuditReviewedData: Decodable {
    var throughSequence: UInt64
    var checkpointHash: String?
    var note: String?
}

struct EventAmendedData: Decodable {
    var target: UUID
    var reason: String
    /// The corrected fields: any JSON, merged into the original by the domain's own rule.
    var data: AnyJSON
}

struct EventVoidedData: Decodable {
    var target: UUID
    var reason: String
}

/// Any JSON value through `Decodable` (for an amendment's corrected fields). Object keys come
/// back sorted: a `[String: AnyJSON]` has no order.
struct AnyJSON: Decodable {
    var value: JSONValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            value = .int(i)
        } else if let d = try? c.decode(Double.self) {
            value = .double(d)
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let a = try? c.decode([AnyJSON].self) {
            value = .array(a.map(\.value))
        } else {
            let o = try c.decode([String: AnyJSON].self)
            value = .object(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value.value) })
        }
    }
}
