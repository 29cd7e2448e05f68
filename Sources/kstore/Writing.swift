import ArgumentParser
import Foundation
import Glibc
import KApp
import KClinic

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an empty store (owner-only permissions).")
    @OptionGroup var options: StoreOptions
    @Flag(
        help:
            "Encrypt the store at rest under a new data key wrapped by the master key of --key-file (or $KSTORE_KEY_FILE; `kstore key generate` makes one)."
    )
    var encrypt = false
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if encrypt && options.keyFile == nil && ClinicStore.keyFileFromEnvironment() == nil {
            throw ValidationError(
                "--encrypt needs the master key: --key-file FILE or KSTORE_KEY_FILE (make one with `kstore key generate --out FILE`)")
        }
    }

    func run() throws {
        try guarded {
            let keyFile = encrypt ? (options.keyFile ?? ClinicStore.keyFileFromEnvironment()) : nil
            let store = try ClinicStore.create(at: options.path, masterKeyFile: keyFile)
            try Actors.bootstrap(store)
            if json {
                var members: [(String, JSONValue)] = [("store", .string(store.path)), ("storeId", .string(store.storeIdHex))]
                members.append(("encrypted", .bool(store.log.isEncrypted)))
                if let id = store.log.masterKeyId { members.append(("masterKeyId", .string(id))) }
                Output.json(.object(members))
            } else {
                let how = store.log.masterKeyId.map { ", encrypted under master key \($0)" } ?? ""
                Output.line(
                    "created an empty store at \(store.path) (store id \(store.storeIdHex)\(how)); OS user \(store.osUser) is its first admin"
                )
            }
        }
    }
}

struct Import: StoreCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append NDJSON events, atomically per file (`-` reads standard input).")
    @OptionGroup var options: StoreOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Argument(help: "NDJSON files (one event a line); `-` for standard input.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file to import, or - for standard input") }
    }

    func run(_ store: ClinicStore) throws {
        warnIfLastVerifyFailed(store)
        var importer = Importer(store: store)
        if let n = ProcessInfo.processInfo.environment["KSTORE_DRILL_KILL_AFTER"].flatMap(Int.init) {
            // tools/import-kill-drill.sh and DrillTests: die mid-transaction, after n lines appended.
            importer.onAppended = { if $0 >= n { Glibc.kill(getpid(), SIGKILL) } }
        }
        var total = ImportSummary(imported: 0, duplicates: 0)
        for file in files {
            let s = try importer.importNDJSON(file: file)
            total.imported += s.imported
            total.duplicates += s.duplicates
            if total.firstSequence == nil { total.firstSequence = s.firstSequence }
            if let last = s.lastSequence { total.lastSequence = last }
            if !json && files.count > 1 {
                Output.line("\(file): imported \(s.imported), duplicates \(s.duplicates)")
            }
        }
        if json {
            Output.json(total.json)
        } else {
            var text = "imported \(total.imported) events, skipped \(total.duplicates) duplicates"
            if let f = total.firstSequence, let l = total.lastSequence { text += " (sequences \(f)–\(l))" }
            Output.line(text)
        }
    }
}

/// Options naming who records an event.
struct ActorOptions: ParsableArguments {
    @Option(help: "The actor recording the event (a registered actor id).") var actor: String
    @Option(help: "The actor's role: clinician, nurse, compliance or admin.") var role: Role

    var asActor: Actor { Actor(id: actor, role: role) }
}

struct Append: StoreCommand {
    static let configuration = CommandConfiguration(abstract: "Append one event; prints its sequence and event id.")
    @OptionGroup var options: StoreOptions
    @Option(help: "Patient id.") var patient: String
    @Option(help: "Event type, e.g. ScoreRecorded.") var type: EventType
    @Option(help: "When it happened: RFC 3339 with offset, e.g. 2026-01-05T09:30:00-05:00.") var at: Timestamp
    @OptionGroup var who: ActorOptions
    @Option(help: "The event's data as a JSON object.") var data: String
    @Option(help: "The patient's stream version you last saw; refused (exit 3) if it moved.") var expectedVersion: UInt64?
    @Option(help: "An event id (UUID) for idempotent retries; generated when absent.") var eventId: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run(_ store: ClinicStore) throws {
        warnIfLastVerifyFailed(store)
        let result = try SingleEvent.append(
            store, type: type, patient: patient, occurredAt: at, actor: who.asActor, data: data, expectedVersion: expectedVersion,
            eventId: eventId)
        report(result, json: json)
    }
}

/// Prints what a one-event write did.
func report(_ result: SingleEventResult, json: Bool) {
    guard let seq = result.summary.lastSequence else {
        if json {
            Output.json(result.summary.json)
        } else {
            Output.line("already recorded (duplicate event id): nothing appended")
        }
        return
    }
    let r = result.recorded
    let id = r?.eventId.uuidString.lowercased() ?? ""
    if json {
        Output.json(
            .object([
                ("sequence", .int(Int64(seq))), ("eventId", .string(id)),
                ("streamVersion", .int(Int64(r?.streamVersion ?? 0))),
            ]))
    } else {
        Output.line("appended sequence \(seq), event \(id)")
    }
}

struct Amend: StoreCommand {
    static let configuration = CommandConfiguration(
        abstract: "Correct fields of an earlier event; the original stays in the log and the audit trail.")
    @OptionGroup var options: StoreOptions
    @Option(help: "The event id to correct.") var event: String
    @Option(help: "Why it is corrected.") var reason: String
    @Option(help: "The corrected fields as a JSON object (top-level fields replace the original's).") var data: String
    @OptionGroup var who: ActorOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run(_ store: ClinicStore) throws {
        warnIfLastVerifyFailed(store)
        report(try SingleEvent.amend(store, event: event, reason: reason, data: data, actor: who.asActor), json: json)
    }
}

struct VoidCommand: StoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Void an earlier event recorded in error; it stays in the log and the audit trail.")
    @OptionGroup var options: StoreOptions
    @Option(help: "The event id to void.") var event: String
    @Option(help: "Why it is voided.") var reason: String
    @OptionGroup var who: ActorOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run(_ store: ClinicStore) throws {
        warnIfLastVerifyFailed(store)
        report(try SingleEvent.void(store, event: event, reason: reason, actor: who.asActor), json: json)
    }
}
