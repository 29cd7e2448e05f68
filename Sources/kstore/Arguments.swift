import ArgumentParser
import Foundation
import KApp
import KClinic

// Option values parsed as the domain's types: a value that does not parse is a usage error
// (exit 64) with ArgumentParser's message naming the option and the value. KClinic and KApp
// know nothing of ArgumentParser; the conformances live here.

/// `YYYY-MM-DD`.
extension Day: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(iso: argument)
    }
}

/// RFC 3339 with an offset, e.g. `2026-01-05T09:30:00-05:00`.
extension Timestamp: ExpressibleByArgument {
    public init?(argument: String) {
        guard let t = try? Timestamp(rfc3339: argument) else { return nil }
        self = t
    }
}

extension Role: ExpressibleByArgument {}
extension EventType: ExpressibleByArgument {}
extension DueStatus: ExpressibleByArgument {}
extension AuditTrail.DateBasis: ExpressibleByArgument {}

/// `--status due,overdue,missing`: statuses separated by commas (blanks around them ignored).
struct DueStatuses: ExpressibleByArgument {
    var statuses: Set<DueStatus>

    init?(argument: String) {
        var statuses: Set<DueStatus> = []
        for name in argument.split(separator: ",") {
            guard let s = DueStatus(rawValue: name.trimmingCharacters(in: .whitespaces)) else { return nil }
            statuses.insert(s)
        }
        self.statuses = statuses
    }
}

/// `audit export --format`.
enum ExportFormat: String, CaseIterable, ExpressibleByArgument {
    case ndjson, fhir
}
