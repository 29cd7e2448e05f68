import ArgumentParser
import Glibc
import KApp
import KClinic

struct ActorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actor",
        abstract: "Who may record: register, retire and list actors (admin only for changes).",
        subcommands: [Add.self, Retire.self, List.self, Passwd.self, Token.self]
    )

    struct Add: StoreCommand {
        static let configuration = CommandConfiguration(abstract: "Register an actor (admin only).")
        @OptionGroup var options: StoreOptions
        @Option(help: "The actor id used in events, e.g. dr.lee.") var id: String
        @Option(help: "clinician, nurse, compliance, admin, or interface (an EHR feed or import job).") var role: Role
        @Option(name: .customLong("os-user"), help: "The OS user this actor runs kstore as.") var osUser: String
        @Option(help: "The printed name electronic signatures show, e.g. \"Dana Ruiz, RN\".") var name: String?
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let seq = try Actors.add(store, id: id, role: role, osUser: osUser, name: name)
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
                                ("name", a.name.map { .string($0) } ?? .null),
                            ])
                        }))
                return
            }
            var t = Table(["ID", "NAME", "ROLE", "OS USER", "STATE", "REGISTERED AT"])
            for a in actors {
                t.add([a.id, a.name ?? "-", a.role.rawValue, a.osUser, a.active ? "active" : "retired", "#\(a.registeredAt)"])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
        }
    }

    struct Passwd: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an actor's password for the web interface (admin for anyone, an actor for itself).",
            discussion: """
                Read from the terminal without echo (twice), or from standard input when it is not a \
                terminal (the first line). At least 12 characters. The hash (bcrypt, cost 12) is kept \
                beside the log, never in it; the change is recorded in the log.
                """)
        @OptionGroup var options: StoreOptions
        @Option(help: "The actor id.") var id: String

        func run(_ store: ClinicStore) throws {
            let password: String
            if isatty(0) != 0 {
                guard let first = getpass("web password for \(id): ").map({ String(cString: $0) }),
                    let again = getpass("again: ").map({ String(cString: $0) })
                else { throw AppError.usage("could not read the password from the terminal") }
                guard first == again else { throw AppError.usage("the two passwords differ; nothing was changed") }
                password = first
            } else {
                guard let line = readLine(strippingNewline: true) else {
                    throw AppError.usage("no password on standard input (give it as the first line)")
                }
                password = line
            }
            let seq = try Credentials.setPassword(store, actorId: id, password: password)
            Output.line("web password of \(id) set (sequence \(seq)); the hash is kept outside the log")
        }
    }

    struct Token: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue (or --revoke) an actor's bearer token for scripts and EHR feeds; printed once.")
        @OptionGroup var options: StoreOptions
        @Option(help: "The actor id.") var id: String
        @Flag(help: "Revoke the actor's token instead.") var revoke = false

        func run(_ store: ClinicStore) throws {
            if revoke {
                let seq = try Credentials.revokeToken(store, actorId: id)
                Output.line("token of \(id) revoked (sequence \(seq))")
                return
            }
            let issued = try Credentials.issueToken(store, actorId: id)
            Output.line(issued.token)
            Output.error(
                "token for \(id) issued (sequence \(issued.sequence)): shown once, only its hash is kept; send it as `Authorization: Bearer TOKEN`"
            )
        }
    }
}
