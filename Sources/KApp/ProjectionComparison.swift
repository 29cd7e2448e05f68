/// What `audit verify` did with the stored projections.
public enum ProjectionComparison: Sendable, Equatable {
    /// None are stored yet (no query or replay has run): nothing to compare.
    case noneStored
    /// Every stored projection was compared with a fresh replay through their checkpoint.
    case compared(checkpoint: UInt64, patients: Int)
    /// Not compared, and why.
    case skipped(String)
}
