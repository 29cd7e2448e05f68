import ArgumentParser
import KApp

@main
struct KStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kstore",
        abstract: "An event-sourced patient record store for ketamine maintenance therapy.",
        discussion: """
            Every infusion, score, lab, vital sign and side-effect report is an immutable event in an \
            append-only log; schedules, due dates and audits are computed from it.
            """,
        subcommands: [
            Init.self, Import.self, Append.self, Amend.self, VoidCommand.self, Log.self, Query.self, Replay.self, Rules.self, ActorCommand.self, Audit.self, BackupCommand.self,
        ]
    )
}

/// Options every subcommand takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store directory (default: $KSTORE_PATH, else ./kstore-data).")
    var store: String?

    var path: String { ClinicStore.resolvePath(store) }
}

/// Runs a command body, turning failures into the sentence and exit code of cli.md.
func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as AppError {
        if case .badInput = e {
            // One line per refusal, `FILE:LINE: field: what is wrong (what was expected)`.
            Output.write(e.description + "\n", to: 2)
        } else {
            Output.error(e.description)
        }
        throw ExitCode(e.exitCode)
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        Output.error("internal error: \(error)")
        throw ExitCode(70)
    }
}
