import Foundation
import KApp
import KClinic
import NIOCore
import PostgresNIO

/// `kstore ship --verify`: the copy against the local log, event by event (sequence, event id,
/// hash), and the copy's own chain (each row's hash = SHA-256(previous row's hash ‖ its
/// `record`), computed by PostgreSQL, sequences gapless from 1).
public struct ShipVerifyReport: Sendable {
    public struct Problem: Sendable {
        public var sequence: UInt64
        public var kind: String
        public var detail: String
    }

    public var site: String
    public var copyEvents: UInt64
    public var localEvents: UInt64
    public var shippedThrough: UInt64
    public var problems: [Problem]

    public var ok: Bool { problems.isEmpty }
    public var firstDifference: UInt64? { problems.map(\.sequence).min() }

    public var json: JSONValue {
        .object([
            ("site", .string(site)), ("ok", .bool(ok)), ("copyEvents", .int(Int64(copyEvents))),
            ("localEvents", .int(Int64(localEvents))), ("throughSequence", .int(Int64(shippedThrough))),
            ("firstDifference", firstDifference.map { .int(Int64($0)) } ?? .null),
            (
                "problems",
                .array(
                    problems.sorted { $0.sequence < $1.sequence }.map {
                        .object([("sequence", .int(Int64($0.sequence))), ("kind", .string($0.kind)), ("detail", .string($0.detail))])
                    })
            ),
        ])
    }
}

extension Shipper {
    public func verify() async throws(ShipError) -> ShipVerifyReport {
        do {
            let c = try await Link.connect(url)
            connection = c
            let report = try await verify(c)
            await close()
            return report
        } catch {
            await close()
            throw classify(error)
        }
    }

    func verify(_ c: PostgresConnection) async throws -> ShipVerifyReport {
        guard let found = try await Schema.currentVersion(c) else {
            throw ShipError.diverged("the database \(url.description) holds no kstore schema, so no copy of site \(site)")
        }
        guard found == Schema.version else { throw Schema.mismatch(found) }
        guard let row = try await siteRow(c, lock: false) else {
            throw ShipError.diverged("the database \(url.description) holds no copy of site \(site)")
        }
        let id = store.storeIdHex
        guard row.storeId == id else {
            throw ShipError.refused("site \(site) is bound to store \(row.storeId), not to this store (\(id))")
        }
        let localHead = try ShipSource.head(store)
        var problems: [ShipVerifyReport.Problem] = []

        // The copy's own chain, computed where it is kept.
        let chain = try await c.run(
            """
            SELECT sequence, kind FROM (
                SELECT sequence,
                    CASE WHEN sequence <> coalesce(lag(sequence) OVER w, 0) + 1 THEN 'copy-gap'
                         WHEN sha256(coalesce(lag(hash) OVER w, decode(repeat('00', 32), 'hex')) || record) <> hash
                         THEN 'copy-chain' END AS kind
                FROM kstore.events WHERE site = \(site) WINDOW w AS (ORDER BY sequence)) AS t
            WHERE kind IS NOT NULL ORDER BY sequence LIMIT 1
            """)
        for try await (seq, kind) in chain.decode((Int64, String).self) {
            let detail =
                kind == "copy-gap"
                ? "the copy's sequences are not gapless here"
                : "the copy's hash is not SHA-256 of the previous row's hash and this row's record"
            problems.append(.init(sequence: UInt64(seq), kind: kind, detail: detail))
        }

        // Event by event against the local log.
        let rows = try await c.run(
            "SELECT sequence, event_id, hash FROM kstore.events WHERE site = \(site) ORDER BY sequence")
        var local: [ShipIdentity] = []
        var index = 0
        var nextLocal: UInt64 = 1
        var copyCount: UInt64 = 0
        var lastCopy: (UInt64, [UInt8])?
        var firstMismatch: ShipVerifyReport.Problem?
        for try await (seq64, eventId, hashBuffer) in rows.decode((Int64, UUID, ByteBuffer).self) {
            copyCount += 1
            let seq = UInt64(max(0, seq64))
            let hash = Array(hashBuffer.readableBytesView)
            lastCopy = (seq, hash)
            guard firstMismatch == nil else { continue }
            if index >= local.count {
                local = try ShipSource.identities(store, from: nextLocal, limit: 10_000)
                index = 0
                if let last = local.last { nextLocal = last.sequence + 1 }
            }
            guard index < local.count else {
                firstMismatch = .init(
                    sequence: seq, kind: "missing-locally", detail: "the copy has this event; the local log ends at \(localHead)")
                continue
            }
            let l = local[index]
            if l.sequence != seq {
                firstMismatch = .init(
                    sequence: min(l.sequence, seq), kind: "sequence",
                    detail: "the copy's next event is \(seq), the local log's \(l.sequence)")
            } else if l.eventId != eventId {
                firstMismatch = .init(
                    sequence: seq, kind: "event-id",
                    detail: "the copy has event \(eventId.uuidString.lowercased()), the local log \(l.eventId.uuidString.lowercased())")
            } else if l.hash != hash {
                firstMismatch = .init(
                    sequence: seq, kind: "hash",
                    detail: "the copy's hash \(hexString(hash).prefix(16))… is not the local \(hexString(l.hash).prefix(16))…")
            }
            index += 1
        }
        if let firstMismatch { problems.append(firstMismatch) }
        // The site's row must end where the copy ends.
        if let (seq, hash) = lastCopy {
            if row.shippedThrough != seq || row.headHash != hash {
                problems.append(
                    .init(
                        sequence: min(seq, row.shippedThrough), kind: "site-head",
                        detail: "kstore.sites says shipped through \(row.shippedThrough); the copy's last event is \(seq)"))
            }
        } else if row.shippedThrough != 0 {
            problems.append(
                .init(sequence: 1, kind: "site-head", detail: "kstore.sites says shipped through \(row.shippedThrough); the copy is empty"))
        }
        return ShipVerifyReport(
            site: site, copyEvents: copyCount, localEvents: localHead, shippedThrough: row.shippedThrough, problems: problems)
    }
}
