import Foundation
import KClinic
import KReport
import KStore

/// The data of `kstore report rems` and `kstore report dispensing` (session.md R14, R15),
/// gathered from the log and handed to `KReport` to render.
extension ProjectionEngine {
    /// The REMS form's content of the esketamine session `infusion`, and the patient it names.
    public func remsPage(infusion: UUID, today: Day) throws -> RemsPage {
        let rules = try rulesInForce()
        let idText = infusion.uuidString.lowercased()
        let patient: String? = try store.log.read { reader in
            guard let seq = try reader.sequence(forEventId: EventMapping.uuidBytes(infusion)), let view = try reader.record(seq) else {
                return nil
            }
            return try EventMapping.recorded(view).patient
        }
        guard let patient, !patient.isEmpty, LotStream.lot(ofStream: patient) == nil else {
            throw AppError.badInput([
                .option(
                    "--infusion", "no InfusionAdministered with event id \(idText)",
                    expected: "an infusion's eventId from `kstore log --type InfusionAdministered`")
            ])
        }
        var events: [Recorded] = []
        try store.log.read { reader in
            try reader.forEachInStream(patient) { view in events.append(try EventMapping.recorded(view)) }
        }
        switch RemsForm.build(patient: patient, infusion: infusion, events: events, rules: rules.rules, amend: ProjectionEngine.amend) {
        case .success(let form):
            return RemsPage(form: form, storeId: store.storeIdHex, rulesVersion: rules.rules.version, today: today)
        case .failure(.notFound):
            throw AppError.badInput([
                .option(
                    "--infusion", "event \(idText) is not an InfusionAdministered",
                    expected: "an infusion's eventId from `kstore log --type InfusionAdministered`")
            ])
        case .failure(.voided):
            throw AppError.badInput([
                .option("--infusion", "infusion \(idText) was voided: it belongs to no session", expected: "an effective infusion")
            ])
        case .failure(.notEsketamine(let drug)):
            throw AppError.badInput([
                .option(
                    "--infusion", "infusion \(idText) is \(drug.rawValue)",
                    expected: "an esketamine infusion (the REMS form is esketamine's)")
            ])
        }
    }

    /// The controlled-substance record of [from, to] (`lot`: that lot's only).
    public func dispensingPage(from: Day, to: Day, lot: String?) throws -> DispensingPage {
        let rules = try rulesInForce().rules
        let ledger = try LedgerReader.ledger(store)
        let entries = ledger.dispensing(from: from, to: to, lot: lot)
        let rows = entries.map { e in DispensingPage.Row(entry: e, drug: e.lot.flatMap { ledger.drug(of: $0) } ?? e.drug) }
        let lotNames = lot.map { [$0] } ?? ledger.lots.keys.sorted()
        let periods = lotNames.compactMap { ledger.period($0, from: from, to: to) }
        let alerts = ledger.alerts(on: to, tolerance: rules.session.inventoryToleranceMg, lot: lot).filter { $0.raisedOn >= from }
        let events = try store.log.count()
        let head = events == 0 ? "" : (try store.log.hash(at: events) ?? "")
        return DispensingPage(
            from: from, to: to, lot: lot, storeId: store.storeIdHex, headHash: head, events: events, rows: rows, lots: periods,
            alerts: alerts,
            biennial: ledger.biennial(on: to, months: rules.session.inventoryMonths))
    }
}
