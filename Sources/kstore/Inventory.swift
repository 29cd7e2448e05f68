import ArgumentParser
import KApp
import KClinic

extension Query {
    /// `kstore query inventory` (session.md R15).
    struct Inventory: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "The controlled-substance stock (R15): each lot's balance, last count, lot alerts, the biennial inventory.")
        @OptionGroup var options: StoreOptions
        @Option(help: "One lot.") var lot: String?
        @Option(help: "Evaluation date YYYY-MM-DD (default: today, local time).") var on: Day?
        @Flag(help: "Print JSON.") var json = false

        func run(_ store: ClinicStore) throws {
            let day = on ?? today()
            let rules = try ProjectionEngine(store: store).rulesInForce().rules
            let ledger = try LedgerReader.ledger(store)
            let doc = Views.inventory(ledger, on: day, lot: lot, rules: rules)
            if json {
                Output.json(doc)
                return
            }
            var t = Table([
                "LOT", "DRUG", "RECEIVED", "GIVEN", "WASTED", "DISPOSED", "ADJUSTED", "BALANCE", "GIVEN×", "UNKNOWN", "LAST COUNT",
            ])
            let lots = lot.map { l in ledger.summary(l, on: day).map { [$0] } ?? [] } ?? ledger.summaries(on: day)
            for s in lots {
                let count =
                    s.lastCount.map { "\($0.on): \($0.onHand.text) mg (\($0.discrepancy.isNegative ? "" : "+")\($0.discrepancy.text))" }
                    ?? "never"
                t.add([
                    s.lot, s.drug?.rawValue ?? "-", s.received.text, s.given.text, s.wasted.text, s.disposed.text, s.adjusted.text,
                    s.balance.text, String(s.administrations), String(s.unknownAmounts), count,
                ])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            let b = ledger.biennial(on: day, months: rules.session.inventoryMonths)
            if let status = b.status, let from = b.dueFrom, let by = b.dueBy {
                Output.line(
                    "biennial inventory: last done \(b.lastDone?.description ?? "never"), due from \(from), due by \(by): \(status.rawValue)"
                )
            } else {
                Output.line("biennial inventory: nothing ever received")
            }
            let alerts = ledger.alerts(on: day, tolerance: rules.session.inventoryToleranceMg, lot: lot)
            for a in alerts {
                Output.line(
                    "\(a.acknowledged == nil ? "ACTIVE" : "acknowledged") \(a.kind.severity.rawValue) \(a.id) (\(a.raisedOn)): \(a.detail)")
            }
            Output.line("\(lots.count) lot(s) on \(day); \(alerts.filter { $0.acknowledged == nil }.count) active lot alert(s)")
        }
    }

    /// `kstore query dispensing` (session.md R15): the record a DEA inspector asks for.
    struct Dispensing: StoreCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every receipt, administration, waste, disposal, adjustment and count in a date range (R15).")
        @OptionGroup var options: StoreOptions
        @Option(help: "First date YYYY-MM-DD.") var from: Day
        @Option(help: "Last date YYYY-MM-DD.") var to: Day
        @Option(help: "One lot.") var lot: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard from <= to else { throw ValidationError("--from \(from) is after --to \(to)") }
        }

        func run(_ store: ClinicStore) throws {
            let ledger = try LedgerReader.ledger(store)
            let rows = ledger.dispensing(from: from, to: to, lot: lot)
            // A read of every patient named.
            try recordAccess(store, patients: Array(Set(rows.compactMap(\.patient))).sorted())
            if json {
                Output.json(.array(rows.map { Views.dispensingRow($0, ledger: ledger) }))
                return
            }
            var t = Table(["AT", "LOT", "DRUG", "KIND", "MG", "PATIENT", "ACTOR", "WITNESS"])
            for e in rows {
                let drug = e.lot.flatMap { ledger.drug(of: $0) } ?? e.drug
                t.add([
                    e.at.rfc3339, e.lot ?? "(none)", drug?.rawValue ?? "-", e.kind.rawValue, e.quantity?.text ?? "unknown",
                    e.patient ?? "-",
                    e.actor, e.witness ?? "-",
                ])
            }
            Output.writeBytes(Array(t.render().utf8), to: 1)
            Output.line("\(rows.count) row(s) from \(from) to \(to)")
        }
    }
}
