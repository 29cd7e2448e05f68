import Foundation
import KApp
import KClinic
import KStore
import Testing

@Suite struct ReviewTests {
    @Test func unreviewedRangesBeforeAndAfterAReview() throws {
        try withStore { (store: ClinicStore) throws in
            try Actors.add(store, id: "cmp.ross", role: .compliance, osUser: "ross")
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let head = try store.log.count()
            // Nothing reviewed: everything is unreviewed.
            let before = try Review.unreviewed(store)
            #expect(before.reviewedThrough == 0)
            #expect(before.ranges == [1...head])
            // The reviewer (as her own OS user) reviews through the current head minus 10.
            let ross = try ClinicStore.open(at: store.path, osUser: "ross")
            let r = try Review.record(ross, through: head - 10, actorId: "cmp.ross", note: "first quarterly review")
            #expect(r.sequence == head + 1)
            #expect(r.hash == (try store.log.hash(at: head - 10)))
            // The last ten events remain; the review record itself is not something to review.
            #expect(try Review.unreviewed(store).ranges == [(head - 9)...head])
            _ = try Importer(store: store).importNDJSON(
                Array(
                    line("ScoreRecorded", patient: "W1", at: "2026-11-20T09:00:00-05:00", data: #"{"instrument":"MADRS","value":5}"#).utf8),
                source: "more")
            #expect(try Review.unreviewed(store).ranges == [(head - 9)...head, (head + 2)...(head + 2)])
            // Reviewed through the new head: nothing left.
            _ = try Review.record(ross, through: head + 2, actorId: "cmp.ross", note: nil)
            #expect(try Review.unreviewed(store).ranges.isEmpty)
            #expect(try Review.brokenAttestations(store).isEmpty)
            #expect(try LogAudit.verify(store).ok)
        }
    }

    @Test func onlyARegisteredComplianceActorMayRecordAReview() throws {
        try withStore { (store: ClinicStore) throws in
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let before = try store.log.count()
            for (actor, os) in [("dr.hale", "hale"), ("nobody", "root"), ("cmp.ross", "mallory")] {
                if actor == "cmp.ross" { _ = try? Actors.add(store, id: "cmp.ross", role: .compliance, osUser: "ross") }
                let s = try ClinicStore.open(at: store.path, osUser: os)
                do {
                    _ = try Review.record(s, through: 5, actorId: actor, note: nil)
                    Issue.record("\(actor) as \(os) recorded a review")
                } catch let e as AppError {
                    #expect(e.exitCode == 77, "\(e)")
                }
            }
            #expect(try store.log.count() == before + 1)  // only cmp.ross's registration
            #expect(throws: AppError.self) { _ = try Review.record(store, through: 999_999, actorId: "cmp.ross", note: nil) }
        }
    }

    /// events.md: an interface account runs import, append, amend and void only; a review is the
    /// compliance actor's signature, by their own OS user.
    @Test func anInterfaceAccountMayNotSignAReviewAsAComplianceActor() throws {
        try withStore { (store: ClinicStore) throws in
            try Actors.add(store, id: "cmp.ross", role: .compliance, osUser: "ross")
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let before = try store.log.count()
            // This test's OS user is the store's registered import-job interface.
            #expect(try Actors.list(store).contains { $0.role == .interface && $0.osUser == store.osUser })
            do {
                _ = try Review.record(store, through: 5, actorId: "cmp.ross", note: nil)
                Issue.record("the interface account signed a review as cmp.ross")
            } catch let e as AppError {
                #expect(e.exitCode == 77)
                #expect(e.description.contains("may not sign a review as cmp.ross"), "\(e.description)")
                #expect(e.description.contains("(ross)"))
            }
            #expect(try store.log.count() == before)
            // Ross herself may.
            let ross = try ClinicStore.open(at: store.path, osUser: "ross")
            #expect(try Review.record(ross, through: 5, actorId: "cmp.ross", note: nil).through == 5)
        }
    }

    /// issue 11: a review note has the limits of every other text field.
    @Test func aReviewNoteIsBoundedAndFreeOfControlCharacters() throws {
        try withStore { (store: ClinicStore) throws in
            try Actors.add(store, id: "cmp.ross", role: .compliance, osUser: "ross")
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            let ross = try ClinicStore.open(at: store.path, osUser: "ross")
            let before = try store.log.count()
            for (note, needle) in [
                (String(repeating: "x", count: 100_000), "--note: is 100000 characters long"),
                ("reviewed\u{1B}]0;owned\u{07}", "--note: contains the control character U+001B"),
            ] {
                do {
                    _ = try Review.record(ross, through: 5, actorId: "cmp.ross", note: note)
                    Issue.record("a note was accepted: \(needle)")
                } catch let e as AppError {
                    #expect(e.exitCode == 65)
                    #expect(e.description.hasPrefix(needle), "\(e.description)")
                }
            }
            #expect(try store.log.count() == before)
            #expect(try Review.record(ross, through: 5, actorId: "cmp.ross", note: "Q1 review:\n\tall clear").through == 5)
        }
    }
}
