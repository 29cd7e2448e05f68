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

    public init(
        patient: String, evaluationDay: Day, forms: [RecordForm], submitted: String? = nil, values: [String: String] = [:],
        errors: [String: String] = [:], banner: String? = nil
    ) {
        self.patient = patient
        self.evaluationDay = evaluationDay
        self.forms = forms
        self.submitted = submitted
        self.values = values
        self.errors = errors
        self.banner = banner
    }
}
