import Crypto
import KClinic
import KStore

/// The full effective rule set as JSON (every key), the form recorded when a rule set is adopted:
/// the log alone then reproduces every schedule, whatever later kstore versions use as defaults.
public enum RuleSetJSON {
    public static func json(_ r: RuleSet) -> JSONValue {
        func span(_ s: RuleSet.Span, _ key: String) -> (String, JSONValue) {
            switch s {
            case .months(let n): (key + "Months", .int(Int64(n)))
            case .days(let n): (key + "Days", .int(Int64(n)))
            }
        }
        return .object([
            ("version", .string(r.version)),
            ("acuteSeriesLength", .int(Int64(r.acuteSeriesLength))),
            ("acuteIntervalDays", .int(Int64(r.acuteIntervalDays))),
            ("responseReduction", .double(r.responseReduction)),
            ("remissionMax", .int(Int64(r.remissionMax))),
            (
                "ladder",
                .array(
                    r.ladder.map {
                        .object([
                            ("intervalDays", .int(Int64($0.intervalDays))), ("treatments", $0.treatments.map { .int(Int64($0)) } ?? .null),
                        ])
                    })
            ),
            ("stepBackRise", .double(r.stepBackRise)),
            ("stepBackMinPoints", .int(Int64(r.stepBackMinPoints))),
            ("maxDoseMgPerKg", .double(r.maxDoseMgPerKg)),
            ("minMaintenanceIntervalDays", .int(Int64(r.minMaintenanceIntervalDays))),
            ("toleranceStepBacks", .int(Int64(r.toleranceStepBacks))),
            ("toleranceWindowDays", .int(Int64(r.toleranceWindowDays))),
            ("bpSystolicMax", .int(Int64(r.bpSystolicMax))),
            ("bpDiastolicMax", .int(Int64(r.bpDiastolicMax))),
            (
                "taperSteps",
                .array(r.taperSteps.map { .object([("intervalDays", .int(Int64($0.intervalDays))), ("months", .int(Int64($0.months)))]) })
            ),
            ("relapseEarlyDays", .int(Int64(r.relapseEarlyDays))),
            ("relapseLateDays", .int(Int64(r.relapseLateDays))),
            (
                "monitoring",
                .object(
                    r.monitoring.map { m in
                        (m.name, .object([span(m.dueFrom, "dueFrom"), span(m.dueBy, "dueBy"), ("baseline", .bool(m.baseline))]))
                    })
            ),
            ("quarterMonths", .int(Int64(r.quarterMonths))),
            ("yearMonths", .int(Int64(r.yearMonths))),
            ("visitWindowDays", .int(Int64(r.visitWindowDays))),
            ("visitConsentMonths", .int(Int64(r.visitConsentMonths))),
            ("triggerRise", .double(r.triggerRise)),
            ("triggerMinPoints", .int(Int64(r.triggerMinPoints))),
            ("phq2BaselineDays", .int(Int64(r.phq2BaselineDays))),
            ("triggerDays", .int(Int64(r.triggerDays))),
            ("hybridBaseDays", .int(Int64(r.hybridBaseDays))),
            ("phaseEndWeeks", .array(r.phaseEndWeeks.map { .int(Int64($0)) })),
            ("lateEntryHours", .int(Int64(r.lateEntryHours))),
            ("preDoseBpMinutes", .int(Int64(r.session.preDoseBpMinutes))),
            ("postDoseBpFromMinutes", .int(Int64(r.session.postDoseBpFromMinutes))),
            ("postDoseBpToMinutes", .int(Int64(r.session.postDoseBpToMinutes))),
            ("dischargeBpMinutes", .int(Int64(r.session.dischargeBpMinutes))),
            (
                "minObservationMinutes",
                .object(Drug.allCases.map { ($0.rawValue, .int(Int64(r.session.minObservation($0)))) })
            ),
            ("sessionBpSystolicMax", .int(Int64(r.session.sessionBpSystolicMax))),
            ("sessionBpDiastolicMax", .int(Int64(r.session.sessionBpDiastolicMax))),
            ("spo2Min", .double(r.session.spo2Min)),
            ("sedationAlertMax", .int(Int64(r.session.sedationAlertMax))),
            ("sessionAuditFrom", r.session.sessionAuditFrom.map { .string($0.description) } ?? .null),
            ("remsFormDays", .int(Int64(r.session.remsFormDays))),
            ("inventoryToleranceMg", .double(r.session.inventoryToleranceMg.double)),
            ("inventoryMonths", .int(Int64(r.session.inventoryMonths))),
            (
                "permissions",
                .object(
                    Role.allCases.map { role in
                        (role.rawValue, .array(r.permissions.names(role).map { .string($0) }))
                    })
            ),
        ])
    }

    /// Canonical text (sorted keys, compact) and its SHA-256 in hex.
    public static func canonical(_ r: RuleSet) -> (text: String, hash: String) {
        let text = JSONWriter.string(json(r))
        return (text, hex(SHA256.hash(data: Array(text.utf8))))
    }
}
