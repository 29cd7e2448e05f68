/// The rule-set keys of session.md (R13–R15), with its defaults.
public struct SessionRules: Sendable, Equatable {
    public var preDoseBpMinutes = 60
    public var postDoseBpFromMinutes = 30
    public var postDoseBpToMinutes = 60
    public var dischargeBpMinutes = 30
    /// Per drug; a rule set naming one drug keeps the other's default.
    public var minObservationMinutes: [Drug: Int] = [.ketamine: 60, .esketamine: 120]
    public var sessionBpSystolicMax = 180
    public var sessionBpDiastolicMax = 110
    public var spo2Min: Double = 93
    public var sedationAlertMax = 3
    /// Sessions are audited (R13 findings, `dosed-above-bp-limit`) from this date; nil: never.
    public var sessionAuditFrom: Day? = nil
    public var remsFormDays = 7
    /// Millionths of a mg would be finer than any count; kept exact as `Milligrams`.
    public var inventoryToleranceMg = Milligrams(scaled: Milligrams.scale / 2)
    public var inventoryMonths = 24

    public init() {}
    public static let `default` = SessionRules()

    public func minObservation(_ drug: Drug) -> Int {
        minObservationMinutes[drug] ?? SessionRules.default.minObservationMinutes[drug] ?? 60
    }

    /// Whether sessions of `day` are audited.
    public func audits(_ day: Day) -> Bool { sessionAuditFrom.map { day >= $0 } ?? false }
}

extension RuleSet {
    /// The keys this struct reads from a rule file.
    static let sessionKeys: Set<String> = [
        "preDoseBpMinutes", "postDoseBpFromMinutes", "postDoseBpToMinutes", "dischargeBpMinutes", "minObservationMinutes",
        "sessionBpSystolicMax", "sessionBpDiastolicMax", "spo2Min", "sedationAlertMax", "sessionAuditFrom", "remsFormDays",
        "inventoryToleranceMg", "inventoryMonths",
    ]
}
