import KClinic

extension RecordForm {
    private static func names<E: CaseIterable & RawRepresentable>(_: E.Type) -> [String] where E.RawValue == String {
        E.allCases.map(\.rawValue)
    }

    /// The forms of a visit and the clinician's decisions, ranges and values as events.md.
    public static let catalogue: [RecordForm] = [
        RecordForm(
            type: .scoreRecorded, title: "Score (MADRS, PHQ-2, PHQ-9, MoCA)",
            fields: [
                FormField(name: "instrument", label: "Instrument", kind: .select(names(Instrument.self))),
                FormField(
                    name: "value", label: "Score", kind: .integer(min: 0, max: 60), hint: "MADRS 0–60, PHQ2 0–6, PHQ9 0–27, MOCA 0–30"),
            ]),
        RecordForm(
            type: .vitalsRecorded, title: "Vital signs",
            fields: [
                FormField(
                    name: "systolic", label: "Systolic (mmHg)", kind: .integer(min: 50, max: 260), hint: "50–260, above the diastolic"),
                FormField(name: "diastolic", label: "Diastolic (mmHg)", kind: .integer(min: 30, max: 160), hint: "30–160"),
                FormField(
                    name: "heartRate", label: "Heart rate (beats per minute)", kind: .integer(min: 20, max: 250), required: false,
                    hint: "20–250; optional"),
            ]),
        RecordForm(
            type: .infusionAdministered, title: "Infusion given",
            fields: [
                FormField(
                    name: "drug", label: "Drug", kind: .select(names(Drug.self)), required: false,
                    hint: "empty: ketamine; esketamine is intranasal, 28, 56 or 84 mg"),
                FormField(name: "route", label: "Route", kind: .select(names(Route.self))),
                FormField(
                    name: "dose.value", label: "Dose", kind: .number(min: 0.01, max: 1000, step: nil),
                    hint: "at most 5 mg/kg or 1000 mg"),
                FormField(name: "dose.unit", label: "Dose unit", kind: .select(names(DoseUnit.self))),
                FormField(
                    name: "weightKg", label: "Weight (kg)", kind: .number(min: 20, max: 350, step: nil), required: false,
                    hint: "20–350; needed to know the mg given of a mg/kg dose"),
                FormField(name: "series", label: "Series", kind: .select(names(Series.self))),
                FormField(
                    name: "lot", label: "Lot number", kind: .text, required: false,
                    hint: "as printed on the vial: letters, digits, . _ / -, at most 40"),
                FormField(
                    name: "durationMinutes", label: "Duration (minutes)", kind: .integer(min: 1, max: 240), required: false,
                    hint: "1–240; empty: given at once"),
                FormField(
                    name: "justification", label: "Justification", kind: .textarea, required: false,
                    hint: "optional; e.g. why a dose above the limit or an early infusion"),
            ]),
        RecordForm(
            type: .observationRecorded, title: "Observation during the session",
            fields: [
                FormField(
                    name: "infusion", label: "Session (infusion)", kind: .infusion(esketamineOnly: false),
                    hint: "the patient's infusions of the last 12 hours, newest first"),
                FormField(
                    name: "systolic", label: "Systolic (mmHg)", kind: .integer(min: 50, max: 260), required: false,
                    hint: "50–260, above the diastolic"),
                FormField(name: "diastolic", label: "Diastolic (mmHg)", kind: .integer(min: 30, max: 160), required: false, hint: "30–160"),
                FormField(
                    name: "heartRate", label: "Heart rate (beats per minute)", kind: .integer(min: 20, max: 250), required: false,
                    hint: "20–250"),
                FormField(name: "spo2", label: "SpO2 (%)", kind: .number(min: 50, max: 100, step: nil), required: false, hint: "50–100"),
                FormField(
                    name: "moaas", label: "MOAA/S (0–5)", kind: .integer(min: 0, max: 5), required: false,
                    hint: "sedation: 5 responds readily to name, 0 no response to a painful stimulus"),
                FormField(
                    name: "cadss", label: "CADSS (0–92)", kind: .integer(min: 0, max: 92), required: false,
                    hint: "dissociation: the total score"),
                FormField(
                    name: "respiratoryDepression", label: "Respiratory depression", kind: .yesNo, required: false,
                    hint: "fill in at least one reading"),
            ]),
        RecordForm(
            type: .dischargeRecorded, title: "Discharge",
            fields: [
                FormField(
                    name: "infusion", label: "Session (infusion)", kind: .infusion(esketamineOnly: false),
                    hint: "the patient's infusions of the last 12 hours, newest first"),
                FormField(
                    name: "criteriaMet", label: "Discharge criteria met", kind: .checkbox, required: false,
                    hint: "tick when the patient meets the clinic's discharge criteria"),
                FormField(
                    name: "escort", label: "Leaves with an escort", kind: .checkbox, required: false,
                    hint: "tick when someone takes the patient home (no driving after a session)"),
                FormField(
                    name: "transferred", label: "Transferred to emergency or hospital care", kind: .checkbox, required: false,
                    hint: "tick for a transfer (an adverse event to review)"),
                FormField(name: "note", label: "Note", kind: .textarea, required: false, hint: "optional"),
            ]),
        RecordForm(
            type: .remsFormSubmitted, title: "REMS monitoring form sent",
            fields: [
                FormField(
                    name: "infusion", label: "Esketamine session", kind: .infusion(esketamineOnly: true),
                    hint: "the patient's esketamine sessions of the last 7 days (the form is due within 7 days), newest first"),
                FormField(
                    name: "reference", label: "Reference", kind: .text, required: false,
                    hint: "optional; the REMS form's confirmation number, at most 64 characters"),
            ]),
        RecordForm(
            type: .labResulted, title: "Lab result",
            fields: [
                FormField(name: "test", label: "Test", kind: .select(names(LabTest.self))),
                FormField(name: "abnormal", label: "Abnormal result", kind: .checkbox, required: false, hint: "tick when abnormal"),
            ]),
        RecordForm(
            type: .screeningRecorded, title: "Screening",
            fields: [
                FormField(name: "kind", label: "Screening", kind: .select(names(ScreeningKind.self))),
                FormField(name: "positive", label: "Positive", kind: .checkbox, required: false, hint: "tick when positive"),
            ]),
        RecordForm(
            type: .sideEffectReported, title: "Side effect",
            fields: [
                FormField(name: "category", label: "Category", kind: .select(names(SideEffectCategory.self))),
                FormField(name: "severity", label: "Severity", kind: .select(names(Severity.self))),
                FormField(name: "note", label: "Note", kind: .textarea, required: false, hint: "optional"),
            ]),
        RecordForm(
            type: .assessmentRecorded, title: "Assessment",
            fields: [
                FormField(name: "kind", label: "Assessment", kind: .select(names(AssessmentKind.self))),
                FormField(name: "note", label: "Note", kind: .textarea, required: false, hint: "optional"),
            ]),
        RecordForm(
            type: .consentRecorded, title: "Consent",
            fields: [FormField(name: "kind", label: "Consent", kind: .select(names(ConsentKind.self)))]),
        RecordForm(
            type: .pregnancyStatusRecorded, title: "Pregnancy status",
            fields: [FormField(name: "status", label: "Status", kind: .select(names(PregnancyStatus.self)))]),
        RecordForm(
            type: .medicationChanged, title: "Concurrent medication changed",
            fields: [
                FormField(name: "name", label: "Medication", kind: .text, hint: "e.g. lithium"),
                FormField(name: "action", label: "Change", kind: .select(names(MedicationAction.self))),
                FormField(name: "dose", label: "Dose", kind: .text, required: false, hint: "optional, as written, e.g. 300 mg twice daily"),
            ]),
        RecordForm(
            type: .scheduleAdjusted, title: "Adjust the interval",
            fields: [
                FormField(name: "intervalDays", label: "Interval (days)", kind: .integer(min: 1, max: 180), hint: "1–180"),
                FormField(name: "reason", label: "Reason", kind: .textarea),
            ], clinicianDecision: true),
        RecordForm(
            type: .drugHolidayStarted, title: "Start a drug holiday",
            fields: [FormField(name: "plannedWeeks", label: "Planned weeks", kind: .integer(min: 1, max: 26), hint: "1–26")],
            clinicianDecision: true),
        RecordForm(
            type: .drugHolidayEnded, title: "End the drug holiday",
            fields: [
                FormField(
                    name: "resumeIntervalDays", label: "Resume at interval (days)", kind: .integer(min: 1, max: 180), required: false,
                    hint: "1–180; optional")
            ], clinicianDecision: true),
        RecordForm(
            type: .taperStarted, title: "Start the taper", fields: [], clinicianDecision: true),
        RecordForm(
            type: .maintenanceDiscontinued, title: "Discontinue maintenance",
            fields: [FormField(name: "reason", label: "Reason", kind: .textarea)], clinicianDecision: true),
    ]
}
