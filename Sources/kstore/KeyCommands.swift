import ArgumentParser
import KApp
import KClinic

/// `kstore key generate|rotate|rekey`: the master key that wraps an encrypted store's data key.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Master keys of encrypted stores: make one, rotate it, re-encrypt under a new data key.",
        subcommands: [Generate.self, Rotate.self, Rekey.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new random 256-bit master key to a new owner-only file (never overwritten).")
        @Option(help: "The key file to create (keep it outside every store directory and apart from the store's backups).")
        var out: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            try guarded {
                let id = try MasterKeys.generate(out: out)
                if json {
                    Output.json(.object([("keyFile", .string(out)), ("keyId", .string(id))]))
                } else {
                    Output.line(
                        "wrote a new master key to \(out) (key id \(id), mode 600); keep it outside the store and back it up apart from the store's backups: without it an encrypted store cannot be read"
                    )
                }
            }
        }
    }

    struct Rotate: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wrap the store's data key with a new master key (seconds, whatever the store's size); the old key stops opening it.")
        @OptionGroup var options: StoreOptions
        @Option(name: .customLong("new-key-file"), help: "The new master key (`kstore key generate --out FILE`).")
        var newKeyFile: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let oldFile = options.keyFile ?? ClinicStore.keyFileFromEnvironment() ?? ""
            let (old, new) = try MasterKeys.rotate(store, oldFile: oldFile, newFile: newKeyFile)
            if json {
                Output.json(.object([("store", .string(store.path)), ("oldKeyId", .string(old)), ("keyId", .string(new))]))
            } else {
                Output.line(
                    "the store's data key is now wrapped by master key \(new) (\(newKeyFile)); master key \(old) no longer opens it. "
                        + "Backups made before stay wrapped by \(old): keep that key as long as they are kept")
            }
        }
    }

    struct Rekey: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-encrypt every record under a new data key into a new store file, verified, swapped in atomically (when the data key may have leaked)."
        )
        @OptionGroup var options: StoreOptions
        @Option(
            name: .customLong("new-key-file"),
            help: "Wrap the new data key with this master key instead of the current one (rotate both at once).")
        var newKeyFile: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            guard store.log.isEncrypted else {
                throw AppError.usage("the store at \(store.path) is not encrypted; `kstore encrypt --key-file FILE` encrypts it")
            }
            let file = newKeyFile ?? options.keyFile ?? ClinicStore.keyFileFromEnvironment() ?? ""
            let outcome = try StoreConversion.convert(store, masterKeyFile: file, verb: "rekey")
            Converted.report(outcome, store: store.path, verb: "re-encrypted", json: json)
        }
    }
}

/// `kstore encrypt`: a plain store into an encrypted one.
struct Encrypt: StoreCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Encrypt an existing plain store: a new encrypted store file is written, verified and swapped in atomically; the old one is removed only after."
    )
    @OptionGroup var options: StoreOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if options.keyFile == nil && ClinicStore.keyFileFromEnvironment() == nil {
            throw ValidationError(
                "give the master key: --key-file FILE or KSTORE_KEY_FILE (make one with `kstore key generate --out FILE`)")
        }
    }

    func run(_ store: ClinicStore) throws {
        guard !store.log.isEncrypted else {
            throw AppError.usage("the store at \(store.path) is already encrypted; `kstore key rekey` re-encrypts it under a new data key")
        }
        let file = options.keyFile ?? ClinicStore.keyFileFromEnvironment() ?? ""
        let outcome = try StoreConversion.convert(store, masterKeyFile: file, verb: "encrypt")
        Converted.report(outcome, store: store.path, verb: "encrypted", json: json)
    }
}

enum Converted {
    static func report(_ o: StoreConversion.Outcome, store: String, verb: String, json: Bool) {
        if json {
            var members: [(String, JSONValue)] = [
                ("store", .string(store)), ("events", .int(Int64(o.events))), ("keyId", .string(o.masterKeyId)),
                ("oldHead", .string(o.oldHead)), ("head", .string(o.newHead)), ("seconds", .double(o.seconds)),
            ]
            if let left = o.leftOver { members.append(("leftOver", .string(left))) }
            Output.json(.object(members))
        } else {
            Output.line(
                "\(verb) \(o.events) events in \(String(format: "%.1f", o.seconds)) s under master key \(o.masterKeyId); verified, and swapped in. "
                    + "The chain's head is now \(o.newHead) (was \(o.oldHead)): take a new checkpoint (`kstore audit checkpoint`), "
                    + "and ship to a new site name (the network's copy holds the old hashes)")
            if let left = o.leftOver {
                Output.error("the old store's files are left at \(left); remove them once the new store is checked")
            }
        }
    }
}
