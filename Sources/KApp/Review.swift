import Foundation
import KClinic
import KStore

/// A compliance reviewer's record of what was reviewed (`AuditReviewed` in the `$reviews`
/// stream) and what nobody has reviewed yet.
public enum Review {
    public struct Recorded: Sendable {
        public var sequence: UInt64
        public var through: UInt64
        public var hash: String
    }

    public struct Reviewed: Sendable {
        public var sequence: UInt64
        public var through: UInt64
        public var actor: String
        public var recordedAtMicros: Int64
        public var checkpointHash: String?
        public var note: String?
        public var signature: ElectronicSignature? = nil
    }

    /// Appends `AuditReviewed {throughSequence, checkpointHash}` by compliance actor `actorId`:
    /// the reviewer attests the log from sequence 1 through `through`, whose hash is kept, so a
    /// later change to what was reviewed cannot go unnoticed (`audit verify` recomputes it).
    ///
    /// `signature`: a review signed on the web with the reviewer's password (21 CFR 11.50); the
    /// caller has checked the password. Then the OS user is the server's interface account, and
    /// the signature, not the OS user, is the reviewer's mark.
    public static func record(
        _ store: ClinicStore, through: UInt64, actorId: String, note: String?, signature: ElectronicSignature? = nil
    ) throws -> Recorded {
        if let note {
            // The limits of every other free-text field: at most 2,000 characters, no control
            // characters but tab and line breaks (the note is printed in the audit trail).
            do throws(InputError) { try InputLimits.checkText(note, field: "--note") } catch {
                throw AppError.badInput([LineError(file: nil, line: nil, error)])
            }
        }
        let head = try store.log.count()
        guard through >= 1, through <= head else {
            throw AppError.badInput([.option("--through", "\(through) is not a sequence of this log", expected: "1 to \(head)")])
        }
        guard let hash = try store.log.hash(at: through) else {
            throw AppError.internal("no record at sequence \(through)")
        }
        let actor = Actor(id: actorId, role: .compliance)
        let event = EventMapping.newEvent(
            eventId: UUID(), patient: SystemStream.reviews, occurredAt: store.now, actor: actor, osUser: store.osUser,
            event: .auditReviewed(AuditReviewed(throughSequence: through, checkpointHash: hash, note: note, signature: signature)))
        let outcomes = try store.log.append([event], clockMicros: store.clockMicros) { reader, _, _ in
            let registry = try ActorRegistry.load(reader)
            if let refusal = registry.check(
                actor: actor, type: .auditReviewed, osUser: store.osUser, originalActor: nil, signedWithPassword: signature != nil)
            {
                throw AppError.notPermitted(.review(refusal))
            }
        }
        guard case .appended(let seq, _)? = outcomes.first else { throw AppError.internal("the review was not appended") }
        return Recorded(sequence: seq, through: through, hash: hash)
    }

    /// Every review recorded, in log order.
    public static func reviews(_ store: ClinicStore) throws -> [Reviewed] {
        try store.log.read { reader in
            var out: [Reviewed] = []
            try reader.forEachInStream(SystemStream.reviews) { view in
                let r = try EventMapping.recorded(view)
                if case .auditReviewed(let a) = r.event {
                    out.append(
                        Reviewed(
                            sequence: r.sequence, through: a.throughSequence, actor: r.actor.id,
                            recordedAtMicros: r.recordedAtMicros, checkpointHash: a.checkpointHash, note: a.note,
                            signature: a.signature))
                }
            }
            return out
        }
    }

    /// The ranges of sequences after the furthest review that nobody has reviewed (the review
    /// records themselves left out), and the head.
    public static func unreviewed(_ store: ClinicStore) throws -> (ranges: [ClosedRange<UInt64>], head: UInt64, reviewedThrough: UInt64) {
        let all = try reviews(store)
        let through = all.map(\.through).max() ?? 0
        let reviewSeqs = Set(all.map(\.sequence))
        let head = try store.log.count()
        var ranges: [ClosedRange<UInt64>] = []
        var start: UInt64?
        var seq = through + 1
        while seq <= head {
            if reviewSeqs.contains(seq) {
                if let s = start { ranges.append(s...(seq - 1)) }
                start = nil
            } else if start == nil {
                start = seq
            }
            seq += 1
        }
        if let s = start, s <= head { ranges.append(s...head) }
        return (ranges, head, through)
    }

    /// Reviews whose attested hash no longer matches the log (what was reviewed was changed).
    public static func brokenAttestations(_ store: ClinicStore) throws -> [(review: Reviewed, now: String?)] {
        try reviews(store).compactMap { r in
            guard let attested = r.checkpointHash else { return nil }
            let now = try store.log.hash(at: r.through)
            return now == attested ? nil : (r, now)
        }
    }
}
