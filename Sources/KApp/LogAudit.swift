import KClinic
import KStore

/// Whole-store checks behind `kstore audit verify`.
public enum LogAudit {
    /// The store's own invariants (chain, sequences, indexes) plus the domain's: every payload
    /// decodes as its type, every role code is known.
    public static func verify(_ store: ClinicStore) throws -> VerifyReport {
        try store.log.verify { view in
            do {
                _ = try EventMapping.recorded(view)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }
}
