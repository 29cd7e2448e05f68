import Foundation

extension RuleSet {
    /// Reads a rule file (protocol.md, "Rule set"): every key optional but `version`; absent keys
    /// keep `base`'s values. Refused with the offending key named: unknown keys, wrong types,
    /// intervals below 1 day, an empty ladder, a rung other than the last without `treatments`,
    /// ladder intervals not strictly increasing, ratios outside their range, `phaseEndWeeks` not
    /// two increasing positive weeks, and so on.
    ///
    /// `permissions` (who may record what) maps roles to the event type names they may record;
    /// each role is optional (an absent role keeps `base`'s row; a present one replaces it).
    /// Refused: an unknown role or type, a type listed twice, an `interface` row that is not
    /// empty, and `EventAmended`/`EventVoided` (corrections follow a fixed rule).
    ///
    /// The ladder's last rung may be open-ended (`"treatments": null`, as the defaults) or carry
    /// a number; either way the ladder never extends past it, and `requiredBeforeExtension` is
    /// null on it.
    ///
    /// JSONSerialization is used on purpose: rule files are small and rare, this is not a hot path.
    public static func load(json: Data, base: RuleSet = .default) throws(RuleSetError) -> RuleSet {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [])
        } catch {
            throw .notJSON(String(describing: error))
        }
        guard let dict = object as? [String: Any] else { throw .notJSON("the top level is not an object") }
        return try load(object: dict, base: base)
    }

    public static func load(json: [UInt8], base: RuleSet = .default) throws(RuleSetError) -> RuleSet {
        try load(json: Data(json), base: base)
    }

    static func load(object dict: [String: Any], base: RuleSet) throws(RuleSetError) -> RuleSet {
        var r = base
        guard let versionValue = dict["version"] else { throw .invalid(key: "version", reason: "is required") }
        r.version = try string(versionValue, "version")
        for key in dict.keys.sorted() {
            guard let v = dict[key] else { continue }
            switch key {
            case "version": break
            case "acuteSeriesLength": r.acuteSeriesLength = try int(v, key, min: 1)
            case "acuteIntervalDays": r.acuteIntervalDays = try int(v, key, min: 1)
            case "responseReduction": r.responseReduction = try ratio(v, key, openUnit: true)
            case "remissionMax": r.remissionMax = try int(v, key, min: 0, max: 60)
            case "ladder": r.ladder = try ladder(v)
            case "stepBackRise": r.stepBackRise = try ratio(v, key, openUnit: false)
            case "stepBackMinPoints": r.stepBackMinPoints = try int(v, key, min: 0, max: 60)
            case "maxDoseMgPerKg":
                let d = try number(v, key)
                guard d > 0 else { throw .invalid(key: key, reason: "must be greater than 0") }
                r.maxDoseMgPerKg = d
            case "minMaintenanceIntervalDays": r.minMaintenanceIntervalDays = try int(v, key, min: 1)
            case "toleranceStepBacks": r.toleranceStepBacks = try int(v, key, min: 1)
            case "toleranceWindowDays": r.toleranceWindowDays = try int(v, key, min: 1)
            case "bpSystolicMax": r.bpSystolicMax = try int(v, key, min: 1, max: 400)
            case "bpDiastolicMax": r.bpDiastolicMax = try int(v, key, min: 1, max: 400)
            case "taperSteps": r.taperSteps = try taperSteps(v, key)
            case "relapseEarlyDays": r.relapseEarlyDays = try int(v, key, min: 1)
            case "relapseLateDays": r.relapseLateDays = try int(v, key, min: 1)
            case "monitoring": r.monitoring = try monitoring(v, base: r.monitoring)
            case "quarterMonths": r.quarterMonths = try int(v, key, min: 1)
            case "yearMonths": r.yearMonths = try int(v, key, min: 1)
            case "visitWindowDays": r.visitWindowDays = try int(v, key, min: 0)
            case "visitConsentMonths": r.visitConsentMonths = try int(v, key, min: 1)
            case "triggerRise": r.triggerRise = try ratio(v, key, openUnit: false)
            case "triggerMinPoints": r.triggerMinPoints = try int(v, key, min: 0, max: 6)
            case "phq2BaselineDays": r.phq2BaselineDays = try int(v, key, min: 1)
            case "triggerDays": r.triggerDays = try int(v, key, min: 1)
            case "hybridBaseDays": r.hybridBaseDays = try int(v, key, min: 1)
            case "phaseEndWeeks":
                guard let a = v as? [Any], a.count == 2 else {
                    throw .invalid(key: key, reason: "must be two weeks, e.g. [12, 24]")
                }
                let first = try int(a[0], "phaseEndWeeks[0]", min: 1)
                let second = try int(a[1], "phaseEndWeeks[1]", min: 1)
                guard second > first else {
                    throw .invalid(key: "phaseEndWeeks[1]", reason: "must be greater than phaseEndWeeks[0] (\(first))")
                }
                r.phaseEndWeeks = [first, second]
            case "lateEntryHours": r.lateEntryHours = try int(v, key, min: 1, max: 8760)
            case "permissions": r.permissions = try permissions(v, base: r.permissions)
            case "preDoseBpMinutes": r.session.preDoseBpMinutes = try int(v, key, min: 0, max: 1440)
            case "postDoseBpFromMinutes": r.session.postDoseBpFromMinutes = try int(v, key, min: 0, max: 1440)
            case "postDoseBpToMinutes": r.session.postDoseBpToMinutes = try int(v, key, min: 0, max: 1440)
            case "dischargeBpMinutes": r.session.dischargeBpMinutes = try int(v, key, min: 0, max: 1440)
            case "minObservationMinutes":
                guard let d = v as? [String: Any] else { throw .invalid(key: key, reason: "must be an object of drug → minutes") }
                for (name, minutes) in d {
                    guard let drug = Drug(rawValue: name) else {
                        throw .invalid(key: key + "." + name, reason: "unknown drug (ketamine, esketamine)")
                    }
                    r.session.minObservationMinutes[drug] = try int(minutes, key + "." + name, min: 0, max: 1440)
                }
            case "sessionBpSystolicMax": r.session.sessionBpSystolicMax = try int(v, key, min: 1, max: 400)
            case "sessionBpDiastolicMax": r.session.sessionBpDiastolicMax = try int(v, key, min: 1, max: 400)
            case "spo2Min":
                let d = try number(v, key)
                guard d > 0, d <= 100 else { throw .invalid(key: key, reason: "must be a percentage above 0, at most 100") }
                r.session.spo2Min = d
            case "sedationAlertMax": r.session.sedationAlertMax = try int(v, key, min: 0, max: 5)
            case "sessionAuditFrom":
                if v is NSNull {
                    r.session.sessionAuditFrom = nil
                } else {
                    guard let text = v as? String, let day = Day(iso: text) else {
                        throw .invalid(key: key, reason: "must be a date (YYYY-MM-DD) or null")
                    }
                    r.session.sessionAuditFrom = day
                }
            case "remsFormDays": r.session.remsFormDays = try int(v, key, min: 0, max: 365)
            case "inventoryToleranceMg":
                let d = try number(v, key)
                guard d >= 0, d <= 100_000, let mg = Milligrams(d) else { throw .invalid(key: key, reason: "must be from 0 to 100000 mg") }
                r.session.inventoryToleranceMg = mg
            case "inventoryMonths": r.session.inventoryMonths = try int(v, key, min: 1, max: 120)
            default:
                throw .invalid(key: key, reason: "unknown key")
            }
        }
        guard r.relapseLateDays >= r.relapseEarlyDays else {
            throw .invalid(key: "relapseLateDays", reason: "must be at least relapseEarlyDays (\(r.relapseEarlyDays))")
        }
        return r
    }

    // MARK: - Values

    /// Largest value any day or month count may take (about 270 years); keeps day arithmetic in range.
    static let maxCount = 100_000

    private static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        // JSONSerialization gives booleans as NSNumber of ObjC type "c" (char), numbers otherwise.
        return String(cString: n.objCType) == "c"
    }

    private static func string(_ v: Any, _ key: String) throws(RuleSetError) -> String {
        guard let s = v as? String, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid(key: key, reason: "must be a non-empty string")
        }
        return s
    }

    private static func bool(_ v: Any, _ key: String) throws(RuleSetError) -> Bool {
        guard isBool(v), let b = v as? Bool else { throw .invalid(key: key, reason: "must be true or false") }
        return b
    }

    private static func number(_ v: Any, _ key: String) throws(RuleSetError) -> Double {
        guard !isBool(v), let n = v as? NSNumber else { throw .invalid(key: key, reason: "must be a number") }
        let d = n.doubleValue
        guard d.isFinite else { throw .invalid(key: key, reason: "must be a finite number") }
        return d
    }

    private static func int(_ v: Any, _ key: String, min: Int, max: Int = maxCount) throws(RuleSetError) -> Int {
        guard !isBool(v), let n = v as? NSNumber else { throw .invalid(key: key, reason: "must be an integer") }
        let d = n.doubleValue
        guard d.isFinite, d.rounded() == d, abs(d) < 1e15 else { throw .invalid(key: key, reason: "must be an integer") }
        let i = Int(d)
        guard i >= min else { throw .invalid(key: key, reason: "must be at least \(min)") }
        guard i <= max else { throw .invalid(key: key, reason: "must be at most \(max)") }
        return i
    }

    /// `openUnit`: strictly between 0 and 1 (responseReduction); else from 0 up to 10.
    private static func ratio(_ v: Any, _ key: String, openUnit: Bool) throws(RuleSetError) -> Double {
        let d = try number(v, key)
        if openUnit {
            guard d > 0, d < 1 else { throw .invalid(key: key, reason: "must be between 0 and 1, both excluded") }
        } else {
            guard d >= 0, d <= 10 else { throw .invalid(key: key, reason: "must be between 0 and 10") }
        }
        return d
    }

    private static func object(_ v: Any, _ key: String, allowed: [String]) throws(RuleSetError) -> [String: Any] {
        guard let o = v as? [String: Any] else { throw .invalid(key: key, reason: "must be an object") }
        for k in o.keys.sorted() where !allowed.contains(k) {
            throw .invalid(key: "\(key).\(k)", reason: "unknown key")
        }
        return o
    }

    private static func ladder(_ v: Any) throws(RuleSetError) -> [Rung] {
        guard let a = v as? [Any] else { throw .invalid(key: "ladder", reason: "must be an array of rungs") }
        guard !a.isEmpty else { throw .invalid(key: "ladder", reason: "must have at least one rung") }
        var rungs: [Rung] = []
        for (i, item) in a.enumerated() {
            let path = "ladder[\(i)]"
            let o = try object(item, path, allowed: ["intervalDays", "treatments"])
            guard let iv = o["intervalDays"] else { throw .invalid(key: "\(path).intervalDays", reason: "is required") }
            let interval = try int(iv, "\(path).intervalDays", min: 1, max: 3650)
            var treatments: Int?
            if let t = o["treatments"], !(t is NSNull) {
                treatments = try int(t, "\(path).treatments", min: 1)
            } else if i != a.count - 1 {
                throw .invalid(
                    key: "\(path).treatments",
                    reason: "must be a number of treatments (only the last rung may be open-ended, null)")
            }
            if let prev = rungs.last, interval <= prev.intervalDays {
                throw .invalid(
                    key: "\(path).intervalDays",
                    reason: "must be greater than the rung before (\(prev.intervalDays)): intervals strictly increase")
            }
            rungs.append(Rung(intervalDays: interval, treatments: treatments))
        }
        return rungs
    }

    private static func taperSteps(_ v: Any, _ key: String) throws(RuleSetError) -> [TaperStep] {
        guard let a = v as? [Any] else { throw .invalid(key: key, reason: "must be an array of steps") }
        guard !a.isEmpty else { throw .invalid(key: key, reason: "must have at least one step") }
        var steps: [TaperStep] = []
        for (i, item) in a.enumerated() {
            let path = "\(key)[\(i)]"
            let o = try object(item, path, allowed: ["intervalDays", "months"])
            guard let iv = o["intervalDays"] else { throw .invalid(key: "\(path).intervalDays", reason: "is required") }
            guard let mv = o["months"] else { throw .invalid(key: "\(path).months", reason: "is required") }
            steps.append(
                TaperStep(
                    intervalDays: try int(iv, "\(path).intervalDays", min: 1, max: 3650),
                    months: try int(mv, "\(path).months", min: 1, max: 1200)))
        }
        return steps
    }

    private static func monitoring(_ v: Any, base: [MonitoringItem]) throws(RuleSetError) -> [MonitoringItem] {
        let o = try object(v, "monitoring", allowed: monitoringItemNames)
        var items = base
        for name in o.keys.sorted() {
            guard let raw = o[name] else { continue }
            let path = "monitoring.\(name)"
            let fields = try object(
                raw, path, allowed: ["dueFromMonths", "dueFromDays", "dueByMonths", "dueByDays", "baseline"])
            guard let index = items.firstIndex(where: { $0.name == name }) else {
                throw .invalid(key: path, reason: "unknown monitoring item")
            }
            var item = items[index]
            item.dueFrom = try span(fields, path, "dueFrom") ?? item.dueFrom
            item.dueBy = try span(fields, path, "dueBy") ?? item.dueBy
            if let b = fields["baseline"] { item.baseline = try bool(b, "\(path).baseline") }
            if case .months(let from) = item.dueFrom, case .months(let by) = item.dueBy, by < from {
                throw .invalid(key: "\(path).dueByMonths", reason: "must be at least dueFromMonths (\(from))")
            }
            if case .days(let from) = item.dueFrom, case .days(let by) = item.dueBy, by < from {
                throw .invalid(key: "\(path).dueByDays", reason: "must be at least dueFromDays (\(from))")
            }
            items[index] = item
        }
        return items
    }

    /// `{"clinician": [...], "nurse": [...], …}`: each listed role's row replaced, the others kept.
    private static func permissions(_ v: Any, base: PermissionTable) throws(RuleSetError) -> PermissionTable {
        let key = "permissions"
        guard let o = v as? [String: Any] else {
            throw .invalid(key: key, reason: #"must be an object of roles, e.g. {"nurse": ["ScoreRecorded"]}"#)
        }
        var table = base
        for name in o.keys.sorted() {
            guard let raw = o[name] else { continue }
            let path = "\(key).\(name)"
            guard let role = Role(rawValue: name) else {
                throw .invalid(
                    key: path, reason: "unknown role (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let items = raw as? [Any] else { throw .invalid(key: path, reason: "must be an array of event type names") }
            if role == .interface, !items.isEmpty {
                throw .invalid(
                    key: path,
                    reason: "must be empty: an interface never records in its own name (it imports on behalf of registered actors)")
            }
            var types: Set<EventType> = []
            for (i, item) in items.enumerated() {
                let at = "\(path)[\(i)]"
                guard let s = item as? String else { throw .invalid(key: at, reason: "must be an event type name") }
                guard let type = EventType(rawValue: s) else { throw .invalid(key: at, reason: "unknown event type \"\(s)\"") }
                guard !type.isCorrection else {
                    throw .invalid(
                        key: at,
                        reason:
                            "\(s) may not be listed: corrections follow a fixed rule, a clinician or the actor who recorded the original")
                }
                guard types.insert(type).inserted else { throw .invalid(key: at, reason: "\(s) is listed twice") }
            }
            table.allowed[role] = types
        }
        return table
    }

    private static func span(_ fields: [String: Any], _ path: String, _ stem: String) throws(RuleSetError) -> Span? {
        let m = fields["\(stem)Months"]
        let d = fields["\(stem)Days"]
        switch (m, d) {
        case (nil, nil): return nil
        case (.some, .some):
            throw .invalid(key: "\(path).\(stem)Days", reason: "give \(stem)Months or \(stem)Days, not both")
        case (.some(let mv), nil): return .months(try int(mv, "\(path).\(stem)Months", min: 1, max: 1200))
        case (nil, .some(let dv)): return .days(try int(dv, "\(path).\(stem)Days", min: 1, max: 36500))
        }
    }
}
