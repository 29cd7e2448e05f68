import ArgumentParser
import KApp
import KClinic

struct Log: StoreCommand {
    static let configuration = CommandConfiguration(abstract: "List events in log order.")
    @OptionGroup var options: StoreOptions
    @Option(help: "Only this patient's events.") var patient: String?
    @Option(help: "Only events of this type, e.g. InfusionAdministered.") var type: EventType?
    @Option(help: "Start at this sequence.") var from: UInt64 = 1
    @Option(help: "At most this many events.") var limit: Int?
    @Flag(help: "Print a JSON array of envelopes.") var json = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run(_ store: ClinicStore) throws {
        let selected = try LogReading.events(store, patient: patient, type: type, from: from, limit: limit)
        try recordAccess(store, patients: selected.map(\.patient))
        if json {
            Output.writeBytes(Documents.log(selected), to: 1)
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
