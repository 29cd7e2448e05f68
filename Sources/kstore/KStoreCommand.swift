import ArgumentParser
import Glibc
import KApp

@main
struct KStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kstore",
        abstract: "An event-sourced patient record store for ketamine maintenance therapy.",
        discussion: """
            Every infusion, score, lab, vital sign and side-effect report is an immutable event in an \
            append-only log; schedules, due dates and audits are computed from it.
            """,
        subcommands: [
            Init.self, Import.self, Append.self, Amend.self, VoidCommand.self, Log.self, Query.self, Replay.self, Rules.self,
            ActorCommand.self, Audit.self, BackupCommand.self, Report.self, Serve.self, Ship.self, KeyCommand.self, Encrypt.self,
        ]
    )
}

/// Options every subcommand takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store directory (default: $KSTORE_PATH, else ./kstore-data).")
    var store: String?
    @Option(
        name: .customLong("key-file"),
        help: "The master key file of an encrypted store (default: $KSTORE_KEY_FILE); kept outside the store, owner-only.")
    var keyFile: String?

    var path: String { ClinicStore.resolvePath(store) }

    /// `--key-file` is handed on as `KSTORE_KEY_FILE`, so the children a command starts (verify's
    /// walk, backup's copy check) open the store with the same key. The path, never the key.
    mutating func validate() throws {
        if let keyFile {
            guard !keyFile.isEmpty else { throw ValidationError("--key-file needs a file name") }
            setenv("KSTORE_KEY_FILE", keyFile, 1)
        }
    }
}

/// A subcommand that works on an existing store: `run()` opens it (`--store`) and hands it to
/// `run(_:)`, and every failure becomes the sentence and exit code of cli.md (`guarded`).
protocol StoreCommand: ParsableCommand {
    var options: StoreOptions { get }
    func run(_ store: ClinicStore) throws
}

extension StoreCommand {
    mutating func run() throws {
        try guarded { try run(try ClinicStore.open(at: options.path)) }
    }
}

/// A `StoreCommand` whose body is asynchronous (`ship`: PostgreSQL through postgres-nio): the
/// same opening of the store and the same mapping of failures to cli.md's exit codes.
protocol AsyncStoreCommand: AsyncParsableCommand {
    var options: StoreOptions { get }
    func run(_ store: ClinicStore) async throws
}

extension AsyncStoreCommand {
    mutating func run() async throws {
        let store: ClinicStore
        do { store = try ClinicStore.open(at: options.path) } catch {
            Output.error(error.description)
            throw ExitCode(error.exitCode)
        }
        do {
            try await run(store)
        } catch let e as AppError {
            Output.error(e.description)
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
}

/// A store command that first reads and checks what its options name outside the store (a key,
/// a checkpoint, a rule file), so that a bad file is reported before the store is opened.
protocol PreparedStoreCommand: ParsableCommand {
    associatedtype Prepared
    var options: StoreOptions { get }
    func prepare() throws -> Prepared
    func run(_ store: ClinicStore, _ prepared: Prepared) throws
}

extension PreparedStoreCommand {
    mutating func run() throws {
        try guarded {
            let prepared = try prepare()
            try run(try ClinicStore.open(at: options.path), prepared)
        }
    }
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
