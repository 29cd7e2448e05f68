import KClinic

/// `/patients/{id}/record`: the forms offered, and after a post the form just posted
/// (`submitted`, its event type), the values posted (refilled), the refusals by form field
/// (`""`: the form as a whole) and a banner for what was recorded.
public struct RecordPage: Sendable {
    public var patient: String
    public var evaluationDay: Day
    public var forms: [RecordForm]
    public var submitted: String?
    public var values: [String: String]
    public var errors: [String: String]
    public var banner: String?
    /// The patient's effective infusions a session form may name, newest first.
    public var infusions: [SessionInfusion]

    /// An infusion a session form may name: its event id, what the nurse recognises it by
    /// ("2026-03-14 09:30, ketamine 0.5 mg/kg IV"), its drug, and whether it is at most 12 hours
    /// old (an observation's and a discharge's window); older esketamine sessions are listed for
    /// the REMS form (its `remsFormDays`).
    public struct SessionInfusion: Sendable, Equatable {
        public var eventId: String
        public var label: String
        public var drug: Drug
        public var withinTwelveHours: Bool

        public init(eventId: String, label: String, drug: Drug, withinTwelveHours: Bool) {
            self.eventId = eventId
            self.label = label
            self.drug = drug
            self.withinTwelveHours = withinTwelveHours
        }
    }

    public init(
        patient: String, evaluationDay: Day, forms: [RecordForm], submitted: String? = nil, values: [String: String] = [:],
        errors: [String: String] = [:], banner: String? = nil, infusions: [SessionInfusion] = []
    ) {
        self.patient = patient
        self.evaluationDay = evaluationDay
        self.forms = forms
        self.submitted = submitted
        self.values = values
        self.errors = errors
        self.banner = banner
        self.infusions = infusions
    }
}
