import ArgumentParser
import KApp
import KClinic

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify and review the log.",
        subcommands: [
            Verify.self, TakeCheckpoint.self, Keygen.self, AuditTrailCommand.self, ReviewCommand.self, Unreviewed.self, Access.self,
            Export.self,
        ]
    )

    struct Export: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evidence for auditors: what was recorded between two dates, as NDJSON.",
            discussion: """
                --format ndjson writes the envelopes. --format fhir writes FHIR R4 resources, one a line: \
                an AuditEvent per event recorded (action C, U for an amendment, D for a void) and per \
                audited read in the range (action R), and a Provenance per amendment or void.
                """)
        @OptionGroup var options: StoreOptions
        @Option(help: "First day (YYYY-MM-DD, UTC date of recordedAt), inclusive.") var from: Day
        @Option(help: "Last day (YYYY-MM-DD, UTC date of recordedAt), inclusive.") var to: Day
        @Option(
            help:
                "ndjson (one envelope a line, as `kstore log --json` prints them) or fhir (FHIR R4 AuditEvent and Provenance resources, one a line)."
        ) var format: ExportFormat = .ndjson

        func run(_ store: ClinicStore) throws {
            if format == .fhir {
                let resources = try FHIRExport.resources(store, from: from, to: to)
                try recordAccess(store, patients: FHIRExport.patients(in: resources))
                var out: [UInt8] = []
                for r in resources { JSONWriter.writeLine(r, into: &out) }
                Output.writeBytes(out, to: 1)
                Output.error("exported \(resources.count) FHIR resources for \(from) … \(to)")
                return
            }
            let selected = try LogReading.recorded(store, from: from, through: to)
            try recordAccess(store, patients: selected.map(\.patient))
            var out: [UInt8] = []
            for r in selected { JSONWriter.writeLine(EventMapping.json(r), into: &out) }
            Output.writeBytes(out, to: 1)
            Output.error("exported \(selected.count) events recorded \(from) … \(to)")
        }
    }

    struct Access: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who read which patients' data, with which command, when (the read-access log).")
        @OptionGroup var options: StoreOptions
        @Option(help: "Only reads that covered this patient (or all patients).") var patient: String?
        @Option(name: .customLong("os-user"), help: "Only reads by this OS user.") var osUser: String?
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let (all, broken) = try AccessLog.entries(store)
            let entries = Documents.filterAccess(all, patient: patient, osUser: osUser)
            if json {
                Output.json(Documents.access(entries, broken: broken))
            } else {
                var t = Table(["SEQ", "AT", "OS USER", "PATIENTS", "COMMAND"])
                for e in entries {
                    let who =
                        e.patients.isEmpty
                        ? "all \(e.patientCount) patients"
                        : e.patients.prefix(5).joined(separator: ", ") + (e.patients.count > 5 ? " (+\(e.patients.count - 5))" : "")
                    t.add([String(e.sequence), EventMapping.formatMicros(e.atMicros), e.osUser, who, e.command])
                }
                Output.writeBytes(Array(t.render().utf8), to: 1)
                Output.line(
                    broken.isEmpty
                        ? "access log chain intact (\(all.count) reads)"
                        : "access log chain BROKEN at \(broken.map(String.init).joined(separator: ", "))")
            }
            if !broken.isEmpty { throw ExitCode(1) }
        }
    }

    struct ReviewCommand: StoreCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "Record that the log was reviewed through a sequence (a compliance actor).")
        @OptionGroup var options: StoreOptions
        @Option(help: "The last sequence reviewed (everything from 1 through it).") var through: UInt64
        @Option(help: "The compliance actor recording the review.") var actor: String
        @Option(help: "A note for the record.") var note: String?
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let r = try Review.record(store, through: through, actorId: actor, note: note)
            if json {
                Output.json(Documents.review(r))
            } else {
                Output.line(
                    "recorded review by \(actor) through sequence \(r.through) (hash \(r.hash.prefix(16))…) as sequence \(r.sequence)")
            }
        }
    }

    struct Unreviewed: StoreCommand {
        static let configuration = CommandConfiguration(abstract: "List the ranges of the log nobody has reviewed yet.")
        @OptionGroup var options: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let u = try Review.unreviewed(store)
            let broken = try Review.brokenAttestations(store)
            if json {
                Output.json(Documents.unreviewed(u, broken: broken))
            } else {
                Output.line(u.reviewedThrough == 0 ? "nothing has been reviewed yet" : "reviewed through sequence \(u.reviewedThrough)")
                if u.ranges.isEmpty {
                    Output.line("no unreviewed events (head \(u.head))")
                } else {
                    var t = Table(["FROM", "THROUGH", "EVENTS"])
                    for r in u.ranges { t.add([String(r.lowerBound), String(r.upperBound), String(r.count)]) }
                    Output.writeBytes(Array(t.render().utf8), to: 1)
                }
                for b in broken {
                    Output.line(
                        "WARNING: the log through \(b.review.through), reviewed by \(b.review.actor) at sequence \(b.review.sequence), has changed since; run `kstore audit verify`"
                    )
                }
            }
            if !broken.isEmpty { throw ExitCode(1) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain and every index; exit 1 naming each broken sequence.",
            discussion: """
                Also checks that every payload decodes and that the stored projections equal a fresh \
                replay through their checkpoint. With --checkpoint FILE --public-key FILE, also that the \
                log still extends that signed checkpoint (same store, its length, the same hashes).
                """)
        @OptionGroup var options: StoreOptions
        @Option(help: "A checkpoint (the output of `kstore audit checkpoint`) the log must still extend.")
        var checkpoint: String?
        @Option(
            name: .customLong("public-key"), help: "The public key file (PREFIX.pub of `kstore audit keygen`) that signed the checkpoint.")
        var publicKey: String?
        @Flag(help: "Print the result as JSON.") var json = false
        /// Internal: this process is the child that reads the store (see `run()`).
        @Flag(name: .customLong("walk-child"), help: .hidden) var walkChild = false

        func validate() throws {
            if checkpoint != nil && publicKey == nil {
                throw ValidationError("--checkpoint needs --public-key FILE (the .pub file of the key that signed it)")
            }
            if publicKey != nil && checkpoint == nil {
                throw ValidationError("--public-key is used only with --checkpoint FILE")
            }
        }

        /// The signed checkpoint the log must extend, read and checked before the store is opened.
        func prepare() throws -> Checkpoint? {
            guard let checkpoint, let publicKey else { return nil }
            return try Checkpoint.load(path: checkpoint, publicKeyPath: publicKey)
        }

        /// The walk runs in a child process (this executable again, with `--walk-child`): a
        /// damaged page that makes LMDB follow a bad pointer or fail an assertion kills the
        /// child, and this process reports it as damage (exit 1, a sentence, valid JSON). The
        /// verdict is kept in the store directory (`VerifyVerdict`) so that writes warn.
        mutating func run() throws {
            let path = options.path
            if walkChild {
                ChildProcess.enterChild()
                try guarded {
                    let signed = try prepare()
                    // Read-only: an archive on read-only media or another user's copy verifies too.
                    let opened: Result<ClinicStore, AppError>
                    do throws(AppError) {
                        // Keyless allowed: without the master key an encrypted store's chain,
                        // indexes and checkpoint are still checked (and the rest said unchecked).
                        opened = .success(try ClinicStore.open(at: path, readOnly: true, keyless: true))
                    } catch {
                        opened = .failure(error)
                    }
                    let store: ClinicStore
                    switch opened {
                    case .success(let s): store = s
                    case .failure(.damaged(let sentence)): try damaged(sentence)
                    case .failure(let e) where StoreDamage.openFailureIsDamage(store: path, e):
                        try damaged(StoreDamage.sentence("verify could not open data.mdb", "(\(e))"))
                    case .failure(let e): throw e
                    }
                    let result: AuditResult
                    do {
                        try LogAudit.checkPages(store)
                        result = try LogAudit.audit(store, checkpoint: signed)
                    } catch  where StoreDamage.isDamage(error) {
                        try damaged(StoreDamage.sentence("verify's walk of data.mdb", "failed (\(error))"))
                    }
                    try render(result)
                }
                return
            }
            var arguments = ["audit", "verify", "--store", path, "--walk-child"]
            if let checkpoint, let publicKey { arguments += ["--checkpoint", checkpoint, "--public-key", publicKey] }
            if json { arguments.append("--json") }
            let json = json
            try guarded {
                let outcome = try ChildProcess.run(ChildProcess.executable, arguments)
                let now = SystemClock.now().rfc3339
                switch outcome.ending {
                case .exited(let code):
                    Output.writeBytes(outcome.stdout, to: 1)
                    if code == 0 {
                        VerifyVerdict.record(store: path, ok: true, summary: "ok", at: now)
                    } else if code == 1 {
                        VerifyVerdict.record(store: path, ok: false, summary: Self.summary(outcome.stdout, json: json), at: now)
                    }
                    if code != 0 { throw ExitCode(code) }
                case .signaled(let signal):
                    let sentence = StoreDamage.sentence("verify's walk of data.mdb", "died of \(ChildProcess.signalName(signal))")
                    VerifyVerdict.record(store: path, ok: false, summary: sentence, at: now)
                    try damaged(sentence)
                }
            }
        }

        /// Reports a damaged store as verify reports any failure: `FAILED: ` and the sentence on
        /// standard output, with --json a report with `ok` false and the sentence as its one
        /// problem; exit 1.
        func damaged(_ sentence: String) throws -> Never {
            if json {
                Output.json(
                    .object([
                        ("ok", .bool(false)), ("events", .int(0)), ("head", .string("")),
                        (
                            "problems",
                            .array([.object([("sequence", .int(0)), ("kind", .string("damaged")), ("detail", .string(sentence))])])
                        ),
                        ("damaged", .bool(true)),
                    ]))
            } else {
                Output.line("FAILED: \(sentence)")
            }
            throw ExitCode(1)
        }

        /// One line saying what the failed verify found (for the verdict file).
        static func summary(_ stdout: [UInt8], json: Bool) -> String {
            let text = String(decoding: stdout, as: UTF8.self)
            if json, let doc = try? JSONParser.parse(stdout),
                case .array(let problems)? = doc["problems"]
            {
                let first = problems.first.flatMap { p -> String? in
                    guard case .int(let seq)? = p["sequence"], case .string(let kind)? = p["kind"] else { return nil }
                    return "first bad sequence \(seq): \(kind)"
                }
                return "\(problems.count) problem(s)" + (first.map { "; " + $0 } ?? "")
            }
            return text.split(separator: "\n").last(where: { $0.hasPrefix("FAILED") }).map(String.init) ?? "problems found"
        }

        func render(_ result: AuditResult) throws {
            let report = result.report
            if json {
                var members: [(String, JSONValue)] = [
                    ("ok", .bool(report.ok)), ("events", .int(Int64(report.events))), ("head", .string(report.headHash)),
                    (
                        "problems",
                        .array(
                            report.problems.map { p in
                                .object([
                                    ("sequence", .int(Int64(p.sequence))), ("kind", .string(p.kind.rawValue)),
                                    ("detail", .string(p.detail)),
                                ])
                            })
                    ),
                ]
                switch result.projections {
                case .noneStored:
                    members.append(("projections", .object([("compared", .bool(false)), ("note", .string("none stored"))])))
                case .compared(let checkpoint, let patients):
                    members.append(
                        (
                            "projections",
                            .object([
                                ("compared", .bool(true)), ("checkpoint", .int(Int64(checkpoint))), ("patients", .int(Int64(patients))),
                            ])
                        ))
                case .skipped(let why):
                    members.append(("projections", .object([("compared", .bool(false)), ("note", .string(why))])))
                }
                members.append(("encrypted", .bool(result.encrypted)))
                if !result.unchecked.isEmpty {
                    members.append(("unchecked", .array(result.unchecked.map { .string($0) })))
                }
                if let cp = result.checkpoint {
                    members.append(
                        (
                            "checkpoint",
                            .object([
                                ("storeId", .string(cp.storeId)), ("sequence", .int(Int64(cp.sequence))),
                                ("headHash", .string(cp.headHash)),
                                ("createdAt", .string(cp.createdAt)), ("stride", .int(Int64(cp.stride))),
                                ("extended", .bool(result.extendsCheckpoint ?? false)),
                            ])
                        ))
                }
                Output.json(.object(members))
            } else {
                if report.ok {
                    Output.line("ok: \(report.events) events, hash chain and indexes intact; head \(report.headHash)")
                }
                switch result.projections {
                case .noneStored:
                    Output.line("projections: none stored")
                case .compared(let checkpoint, let patients):
                    if !report.problems.contains(where: { $0.kind == .content && $0.sequence == checkpoint }) {
                        Output.line("projections: all \(patients) equal a fresh replay through sequence \(checkpoint)")
                    }
                case .skipped(let why):
                    Output.line("projections: not compared (\(why))")
                }
                if !result.unchecked.isEmpty {
                    Output.line(
                        "not checked without the master key (encrypted store; give --key-file to check them): "
                            + result.unchecked.joined(separator: "; "))
                }
                if let cp = result.checkpoint, result.extendsCheckpoint == true {
                    Output.line(
                        "checkpoint: the log extends the checkpoint of \(cp.createdAt) at sequence \(cp.sequence) (head \(cp.headHash))")
                }
                if !report.ok {
                    for p in report.problems { Output.line("sequence \(p.sequence): \(p.kind.rawValue): \(p.detail)") }
                    Output.line(
                        "FAILED: \(report.problems.count) problem(s) in \(report.events) events; first bad sequence \(report.problems.first?.sequence ?? 0)"
                    )
                }
            }
            if !report.ok { throw ExitCode(1) }
        }
    }

    struct TakeCheckpoint: PreparedStoreCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Print a signed statement of the log's length and head hash, to keep outside the store.",
            discussion: """
                The log must pass its own checks first (chain, indexes, payloads; exit 1 otherwise). \
                Prints one JSON line: {"createdAt","format","headHash","marks","publicKey","sequence", \
                "signature","storeId","stride"}. Keep it, with the public key, where the store's users \
                cannot write; `kstore audit verify --checkpoint FILE --public-key FILE` then proves the \
                log still extends it.
                """)
        @OptionGroup var options: StoreOptions
        @Option(help: "The private key file (PREFIX of `kstore audit keygen`).") var key: String
        @Option(
            help: """
                Pin the hash of every Nth record, so a rewritten log is located to within N records \
                (default: the smallest power of two giving at most 1,024 marks, so 1 up to 1,024 events).
                """)
        var stride: UInt64?

        func validate() throws {
            if let stride, stride < 1 { throw ValidationError("--stride must be 1 or more") }
        }

        /// The signing key, read before the store is opened.
        func prepare() throws -> SigningKeys.PrivateKey {
            try SigningKeys.loadPrivate(key)
        }

        func run(_ store: ClinicStore, _ privateKey: SigningKeys.PrivateKey) throws {
            // Vouch only for a log that verifies, and for exactly the part that was verified.
            let result = try LogAudit.audit(store, projections: false)
            guard result.report.ok else {
                for p in result.report.problems.prefix(20) { Output.error("sequence \(p.sequence): \(p.kind.rawValue): \(p.detail)") }
                throw AppError.checkFailed(
                    "the log fails audit verify (first bad sequence \(result.report.problems.first?.sequence ?? 0)); no checkpoint signed")
            }
            let cp = try Checkpoint.take(store, through: result.report.events, key: privateKey, stride: stride)
            Output.json(cp.json)
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new Ed25519 key pair for signing checkpoints: PREFIX (private, owner-only) and PREFIX.pub.",
            discussion:
                "Each file is one line, `ed25519-private:` or `ed25519-public:` and the raw 32-byte key in hex. Existing files are never overwritten."
        )
        @Option(help: "Where to write the keys: PREFIX and PREFIX.pub.") var out: String

        func run() throws {
            try guarded {
                let keys = try SigningKeys.generate(prefix: out)
                Output.line("private key: \(keys.privatePath) (owner-only; keep it away from the store)")
                Output.line("public key:  \(keys.publicPath) \(keys.publicKey)")
            }
        }
    }
}
