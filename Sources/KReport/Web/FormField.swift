/// One input of a charting form: its posted name (the data field of events.md, `dose.value` for
/// a nested one), the label a nurse reads, the kind of input, whether it is required, a hint.
public struct FormField: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A decimal number; `step` nil: any.
        case number(min: Double, max: Double, step: Double?)
        case integer(min: Int, max: Int)
        /// One of these values (the stable names of events.md).
        case select([String])
        /// A boolean: posted as "on" when ticked, absent otherwise.
        case checkbox
        /// An optional yes/no answer: a select of "yes" and "no", left out of the event when
        /// neither is chosen (unlike a checkbox, which is false when not ticked).
        case yesNo
        /// One of the patient's infusions (the page's `RecordPage.infusions`, newest first),
        /// posted as its event id: those of the last 12 hours (an observation, a discharge);
        /// `esketamineOnly`: the esketamine sessions of the REMS form's window instead.
        case infusion(esketamineOnly: Bool)
        case text
        case textarea
    }

    public var name: String
    public var label: String
    public var kind: Kind
    public var required: Bool
    public var hint: String?

    public init(name: String, label: String, kind: Kind, required: Bool = true, hint: String? = nil) {
        self.name = name
        self.label = label
        self.kind = kind
        self.required = required
        self.hint = hint
    }
}
