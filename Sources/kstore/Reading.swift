import ArgumentParser
import KApp
import KClinic
import KStore

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List events in log order.")
    @OptionGroup var options: StoreOptions
    @Option(help: "Only this patient's events.") var patient: String?
    @Option(help: "Only events of this type, e.g. InfusionAdministered.") var type: String?
    @Option(help: "Start at this sequence.") var from: UInt64 = 1
    @Option(help: "At most this many events.") var limit: Int?
    @Flag(help: "Print a JSON array of envelopes.") var json = false

    func validate() throws {
        if let type, EventType(rawValue: type) == nil {
            throw ValidationError("unknown event type \(type); one of: \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        try guarded {
            let store = try ClinicStore.open(at: options.path)
            let typeCode = type.flatMap(EventType.init(rawValue:))?.code
            var selected: [Recorded] = []
            let max = limit ?? Int.max
            if let patient {
                try store.log.read { reader in
                    for seq in try reader.streamSequences(patient) where seq >= from {
                        guard selected.count < max else { break }
                        guard let view = try reader.record(seq) else { continue }
                        if let typeCode, view.typeCode != typeCode { continue }
                        selected.append(try EventMapping.recorded(view))
                    }
                }
            } else if max > 0 {
                try store.log.scan(from: from) { view in
                    if let typeCode, view.typeCode != typeCode { return true }
                    selected.append(try EventMapping.recorded(view))
                    return selected.count < max
                }
            }
            try recordAccess(store, patients: selected.map(\.patient))
            if json {
                var out: [UInt8] = [UInt8(ascii: "[")]
                for (i, r) in selected.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(UInt8(ascii: "\n"))
                    JSONWriter.write(EventMapping.json(r), into: &out)
                }
                out.append(contentsOf: Array("\n]\n".utf8))
                Output.writeBytes(out, to: 1)
                return
            }
            var table = Table(["SEQ", "PATIENT", "V", "OCCURRED", "TYPE", "ACTOR", "DATA"])
            for r in selected {
                table.add([
                    String(r.sequence), r.patient, String(r.streamVersion), r.occurredAt.rfc3339, r.type.rawValue,
                    "\(r.actor.id) (\(r.actor.role.rawValue))", JSONWriter.string(r.event.dataJSON),
                ])
            }
            Output.writeBytes(Array(table.render().utf8), to: 1)
            if selected.isEmpty { Output.error("no events match") }
        }
    }
}
