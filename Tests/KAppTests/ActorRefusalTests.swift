import Foundation
import KApp
import KClinic
import KStore
import Testing

/// `ActorRegistry.check` names why an event is refused for who records it; each refusal's
/// sentence is what `kstore` prints (exit 77).
@Suite struct ActorRefusalTests {
    @Test func eachRefusalIsATypedValueWithItsSentence() throws {
        try withStore { (store: ClinicStore) throws in
            try Actors.add(store, id: "rn.gone", role: .nurse, osUser: "gone")
            try Actors.retire(store, id: "rn.gone")
            let registry = try store.log.read { try ActorRegistry.load($0) }
            let kim = Actor(id: "rn.kim", role: .nurse)
            func check(_ actor: Actor, _ type: EventType, os: String = "kim", original: String? = nil) -> ActorRefusal? {
                registry.check(actor: actor, type: type, osUser: os, originalActor: original)
            }

            #expect(check(kim, .scoreRecorded) == nil)
            #expect(check(kim, .scoreRecorded, os: store.osUser) == nil)  // a registered interface account

            let unknown = check(Actor(id: "rn.nobody", role: .nurse), .scoreRecorded)
            #expect(unknown == .unregistered(Actor(id: "rn.nobody", role: .nurse)))
            #expect(
                unknown?.description
                    == "actor rn.nobody is not registered in this store; an admin registers actors with `kstore actor add --id rn.nobody --role nurse --os-user NAME`"
            )

            let retired = check(Actor(id: "rn.gone", role: .nurse), .scoreRecorded, os: "gone")
            #expect(retired == .retired(actorId: "rn.gone"))
            #expect(retired?.description == "actor rn.gone was retired and may no longer record")

            let wrongRole = check(Actor(id: "rn.kim", role: .clinician), .scoreRecorded)
            #expect(wrongRole == .wrongRole(actorId: "rn.kim", registered: .nurse, claimed: .clinician))
            #expect(wrongRole?.description == "actor rn.kim is registered as nurse, not clinician")

            let notPermitted = check(kim, .patientEnrolled)
            #expect(notPermitted == .roleMayNotRecord(.nurse, .patientEnrolled))
            #expect(notPermitted?.description == "a nurse may not record PatientEnrolled")

            let correction = check(Actor(id: "rn.silva", role: .nurse), .eventAmended, os: "silva", original: "rn.kim")
            #expect(correction == .mayNotCorrect(Actor(id: "rn.silva", role: .nurse), originalActorId: "rn.kim"))
            #expect(correction?.description == "rn.silva (nurse) may not correct an event recorded by rn.kim; a clinician or rn.kim may")
            #expect(check(kim, .eventVoided, original: "rn.kim") == nil)
            #expect(check(Actor(id: "dr.hale", role: .clinician), .eventVoided, os: "hale", original: "rn.kim") == nil)

            let osUser = check(kim, .scoreRecorded, os: "mallory")
            #expect(osUser == .wrongOSUser(osUser: "mallory", actorId: "rn.kim", registeredOSUser: "kim"))
            #expect(
                osUser?.description
                    == "OS user mallory may not record as rn.kim (registered for OS user kim); run as kim, or from a registered interface account"
            )
        }
    }

    @Test func refusalsAndLineErrorsRenderTheSentencesCommandsPrint() {
        let refusal = ActorRefusal.retired(actorId: "rn.gone")
        #expect(
            AppError.notPermitted(.line(file: "f.ndjson", line: 3, refusal)).description
                == "f.ndjson:3: actor rn.gone was retired and may no longer record; nothing of f.ndjson was written")
        #expect(
            AppError.notPermitted(.review(refusal)).description
                == "actor rn.gone was retired and may no longer record; a review is recorded by a registered compliance actor")
        #expect(
            AppError.notPermitted(.notAdmin(osUser: "kim", task: nil)).description
                == "OS user kim is not a registered admin of this store; only an admin manages actors")
        #expect(
            AppError.notPermitted(.notAdmin(osUser: "kim", task: "adopt a rule set")).description
                == "OS user kim is not a registered admin of this store; only an admin may adopt a rule set")
        #expect(AppError.notPermitted(.review(refusal)).exitCode == 77)

        let bad = AppError.badInput([
            LineError(
                file: "f", line: 2, InputError(field: "data.value", problem: "72 is out of range", expected: "an integer from 0 to 60")),
            LineError(file: "f", problem: "and 3 more bad lines; nothing was imported"),
            .option("--data", "not valid JSON: x", expected: "a JSON object"),
        ])
        #expect(
            bad.description
                == "f:2: data.value: 72 is out of range (an integer from 0 to 60)\nf: and 3 more bad lines; nothing was imported\n--data: not valid JSON: x (a JSON object)"
        )
        #expect(bad.exitCode == 65)
    }
}
