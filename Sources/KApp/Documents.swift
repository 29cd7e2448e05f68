import KClinic

/// The JSON documents that both the command line (`--json`) and the HTTP API (web.md: "every
/// document is the CLI's `--json` document for the same question") print: built once, here.
public enum Documents {
    /// `kstore log --json`: an array of envelopes, one a line.
    public static func log(_ records: [Recorded]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, r) in records.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\n"))
            JSONWriter.write(EventMapping.json(r), into: &out)
        }
        out.append(contentsOf: Array("\n]\n".utf8))
        return out
    }

    /// `kstore audit access --json`.
    public static func access(_ entries: [AccessLog.Entry], broken: [UInt64]) -> JSONValue {
        .object([
            (
                "entries",
                .array(
                    entries.map { e in
                        .object([
                            ("sequence", .int(Int64(e.sequence))), ("at", .string(EventMapping.formatMicros(e.atMicros))),
                            ("osUser", .string(e.osUser)), ("command", .string(e.command)),
                            ("patientCount", .int(Int64(e.patientCount))), ("patients", .array(e.patients.map { .string($0) })),
                        ])
                    })
            ),
            ("chainIntact", .bool(broken.isEmpty)), ("brokenAt", .array(broken.map { .int(Int64($0)) })),
        ])
    }

    /// `kstore audit access` filters: reads by `osUser`, reads that covered `patient` (or more
    /// patients than are listed).
    public static func filterAccess(_ all: [AccessLog.Entry], patient: String?, osUser: String?) -> [AccessLog.Entry] {
        all.filter { e in
            (osUser.map { e.osUser == $0 } ?? true)
                && (patient.map { p in e.patients.contains(p) || e.patientCount > AccessLog.listLimit } ?? true)
        }
    }

    /// `kstore audit unreviewed --json`.
    public static func unreviewed(
        _ u: (ranges: [ClosedRange<UInt64>], head: UInt64, reviewedThrough: UInt64), broken: [(review: Review.Reviewed, now: String?)]
    ) -> JSONValue {
        .object([
            ("head", .int(Int64(u.head))), ("reviewedThrough", .int(Int64(u.reviewedThrough))),
            (
                "ranges",
                .array(
                    u.ranges.map {
                        .object([
                            ("from", .int(Int64($0.lowerBound))), ("through", .int(Int64($0.upperBound))),
                            ("events", .int(Int64($0.count))),
                        ])
                    })
            ),
            (
                "alteredSinceReview",
                .array(
                    broken.map {
                        .object([("review", .int(Int64($0.review.sequence))), ("through", .int(Int64($0.review.through)))])
                    })
            ),
        ])
    }

    /// `kstore audit review --json`; a review signed on the web adds its `signer`.
    public static func review(_ r: Review.Recorded, signature: ElectronicSignature? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("sequence", .int(Int64(r.sequence))), ("throughSequence", .int(Int64(r.through))), ("checkpointHash", .string(r.hash)),
        ]
        if let signature { members.append(("signer", signature.json)) }
        return .object(members)
    }
}
