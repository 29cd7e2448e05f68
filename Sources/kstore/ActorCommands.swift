import ArgumentParser
import KApp
import KClinic

struct ActorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actor",
        abstract: "Who may record: register, retire and list actors (admin only for changes).",
        subcommands: [Add.self, Retire.self, List.self]
    )

    struct Add: StoreCommand {
        static let configuration = CommandConfiguration(abstract: "Register an actor (admin only).")
        @OptionGroup var options: StoreOptions
        @Option(help: "The actor id used in events, e.g. dr.lee.") var id: String
        @Option(help: "clinician, nurse, compliance, admin, or interface (an EHR feed or import job).") var role: Role
        @Option(name: .customLong("os-user"), help: "The OS user this actor runs kstore as.") var osUser: String
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let seq = try Actors.add(store, id: id, role: role, osUser: osUser)
            if json {
                Output.json(
                    .object([
                        ("sequence", .int(Int64(seq))), ("id", .string(id)), ("role", .string(role.rawValue)), ("osUser", .string(osUser)),
                    ]))
            } else {
                Output.line("registered \(id) as \(role.rawValue), acting as OS user \(osUser) (sequence \(seq))")
            }
        }
    }

    struct Retire: StoreCommand {
        static let configuration = CommandConfiguration(abstract: "Retire an actor (admin only); their events stay as recorded.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The actor id.") var id: String

        func run(_ store: ClinicStore) throws {
            let seq = try Actors.retire(store, id: id)
            Output.line("retired \(id) (sequence \(seq)); they may no longer record")
        }
    }

    struct List: StoreCommand {
        static let configuration = CommandConfiguration(abstract: "List registered actors.")
        @OptionGroup var options: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let actors = try Actors.list(store)
            if json {
                Output.json(
                    .array(
                        actors.map { a in
                            .object([
                                ("id", .string(a.id)), ("role", .string(a.role.rawValue)), ("osUser", .string(a.osUser)),
                                ("active", .bool(a.active)), ("registeredAt", .int(Int64(a.registeredAt))),
                            ])
                        }))
                return
            }
            var t = Table(["ID", "ROLE", "OS USER", "STATE", "REGISTERED AT"])
            for a in actors { t.add([a.id, a.role.rawValue, a.osUser, a.active ? "active" : "retired", "#\(a.registeredAt)"]) }
            Output.writeBytes(Array(t.render().utf8), to: 1)
        }
    }
}
