/// Why a rule file was refused: the key path at fault and what is wrong with it
/// (`ladder[2].intervalDays: must be at least 1`).
public enum RuleSetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not a JSON object.
    case notJSON(String)
    /// `key` (a path such as `ladder[2].intervalDays`) is missing, unknown or has a bad value.
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case .notJSON(let why): "rule file: not a JSON object (\(why))"
        case .invalid(let key, let reason): "\(key): \(reason)"
        }
    }
}
