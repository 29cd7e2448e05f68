import Foundation
import KApp
import KClinic
import PostgresNIO

extension Shipper {
    /// Writes the `query phase`, `query due` (and, with `ledger`, `query inventory`) documents of
    /// `patients` (every patient when nil) into `kstore.phase`, `kstore.due`, `kstore.inventory`,
    /// in one transaction; columns are taken from the documents by PostgreSQL's jsonb operators,
    /// so the rows say exactly what the commands print.
    func refresh(patients: Set<String>?, ledger: Bool) async throws {
        let c = try live()
        let day = SystemClock.today()
        let docs = try ShipSource.projections(store, patients: patients, on: day)
        let inventory = ledger ? try ShipSource.inventory(store, on: day) : nil
        let phaseJSON = JSONWriter.string(.array(docs.phase))
        let dueJSON = JSONWriter.string(.array(docs.due))
        let on = day.description
        let through = Int64(docs.throughSequence)
        try await c.run("BEGIN")
        do {
            if let patients {
                let names = Array(patients) + docs.patients.filter { !patients.contains($0) }
                try await c.run("DELETE FROM kstore.phase WHERE site = \(site) AND patient = ANY(\(names)::text[])")
                try await c.run("DELETE FROM kstore.due WHERE site = \(site) AND patient = ANY(\(names)::text[])")
            } else {
                try await c.run("DELETE FROM kstore.phase WHERE site = \(site)")
                try await c.run("DELETE FROM kstore.due WHERE site = \(site)")
            }
            try await c.run(
                """
                INSERT INTO kstore.phase (site, patient, protocol, phase, status, week_of_treatment, response_status,
                    baseline_madrs, nadir_madrs, latest_madrs, interval_days, treatments_at_interval, required_before_extension,
                    next_infusion_due, infusion_overdue_days, document, evaluated_on, through_sequence)
                SELECT \(site), d->>'patient', d->>'protocol', d->>'phase', d->>'status', (d->>'weekOfTreatment')::int,
                    d->>'responseStatus', (d->>'baselineMadrs')::int, (d->>'nadirMadrs')::int, (d->>'latestMadrs')::int,
                    (d->'interval'->>'days')::int, (d->'interval'->>'treatmentsAtInterval')::int,
                    (d->'interval'->>'requiredBeforeExtension')::int, (d->>'nextInfusionDue')::date,
                    coalesce((d->>'infusionOverdueDays')::int, 0), d, \(on)::date, \(through)
                FROM jsonb_array_elements(\(phaseJSON)::jsonb) AS d
                """)
            try await c.run(
                """
                INSERT INTO kstore.due (site, patient, item, session, last_done, due_from, due_by, status, evaluated_on,
                    through_sequence, document)
                SELECT \(site), d->>'patient', d->>'item', coalesce(d->>'session', ''), (d->>'lastDone')::date,
                    (d->>'dueFrom')::date, (d->>'dueBy')::date, d->>'status', \(on)::date, \(through), d
                FROM jsonb_array_elements(\(dueJSON)::jsonb) AS d
                """)
            if let inventory {
                let inventoryJSON = JSONWriter.string(inventory)
                try await c.run("DELETE FROM kstore.inventory WHERE site = \(site)")
                try await c.run(
                    """
                    INSERT INTO kstore.inventory (site, lot, drug, balance_mg, received_mg, given_mg, last_count_on,
                        evaluated_on, through_sequence, document)
                    SELECT \(site), d->>'lot', d->>'drug', (d->>'balanceMg')::numeric, (d->>'receivedMg')::numeric,
                        (d->>'givenMg')::numeric, (d->'lastCount'->>'on')::date, \(on)::date, \(through), d
                    FROM jsonb_array_elements(\(inventoryJSON)::jsonb -> 'lots') AS d
                    """)
                try await c.run(
                    """
                    INSERT INTO kstore.inventory (site, lot, last_done, due_from, due_by, status, evaluated_on, through_sequence,
                        document)
                    SELECT \(site), '', (b->>'lastDone')::date, (b->>'dueFrom')::date, (b->>'dueBy')::date, b->>'status',
                        \(on)::date, \(through), doc
                    FROM (SELECT doc, doc -> 'biennialInventory' AS b FROM (SELECT \(inventoryJSON)::jsonb AS doc) AS x) AS y
                    """)
            }
            try await c.run(
                """
                UPDATE kstore.sites SET projections_through = \(through), projections_on = \(on)::date, projections_at = now()
                WHERE site = \(site)
                """)
            try await c.run("COMMIT")
        } catch {
            if !c.isClosed { _ = try? await c.run("ROLLBACK") }
            throw error
        }
        if patients == nil { rulesDirty = false }
        touched.subtract(patients ?? touched)
        if ledger {
            ledgerDirty = false
            lastInventory = .now
        }
    }
}
