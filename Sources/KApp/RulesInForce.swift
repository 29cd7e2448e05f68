import KClinic
import KStore

/// The rule set in force and where it came from.
public struct RulesInForce: Sendable, Equatable {
    public var rules: RuleSet
    /// SHA-256 (hex) of the canonical JSON of the full rule set.
    public var hash: String
    /// The sequence of the `RuleSetAdopted` that put it in force; nil for the built-in defaults.
    public var adoptedAt: UInt64?

    public init(rules: RuleSet, adoptedAt: UInt64?) {
        self.rules = rules
        self.hash = RuleSetJSON.canonical(rules).hash
        self.adoptedAt = adoptedAt
    }

    /// The latest adopted rule set in `reader`'s transaction (the `$rules` stream), else the
    /// built-in defaults. With `recordedAtOrBefore`, the one in force at that knowledge time.
    static func load(_ reader: LogReader, recordedAtOrBefore asOf: Int64? = nil) throws -> RulesInForce {
        var chosen: RecordView?
        for seq in try reader.streamSequences(SystemStream.rules).reversed() {
            guard let view = try reader.record(seq) else { continue }
            if let asOf, view.recordedAtMicros > asOf { continue }
            chosen = view
            break
        }
        guard let view = chosen else { return RulesInForce(rules: .default, adoptedAt: nil) }
        let seq = view.sequence
        let r = try EventMapping.recorded(view)
        guard case .ruleSetAdopted(let adopted) = r.event else {
            throw StoreError.corrupt(sequence: seq, detail: "the rules stream holds a \(r.type.rawValue)")
        }
        do {
            let rules = try RuleSet.load(json: Array(adopted.content.utf8))
            return RulesInForce(rules: rules, adoptedAt: seq)
        } catch {
            throw StoreError.corrupt(sequence: seq, detail: "the adopted rule set no longer loads: \(error)")
        }
    }
}
