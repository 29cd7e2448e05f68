import struct Foundation.UUID

/// The drug of an infusion or a lot (session.md). An infusion recorded before the field existed
/// carries none and is ketamine until amended.
public enum Drug: String, CaseIterable, Sendable { case ketamine, esketamine }

/// A reading during the session of `infusion` (session.md): at least one value.
public struct ObservationRecorded: Sendable, Equatable {
    public var infusion: UUID
    public var systolic: Int?
    public var diastolic: Int?
    public var heartRate: Int?
    public var spo2: Double?
    public var moaas: Int?
    public var cadss: Int?
    public var respiratoryDepression: Bool?
    public init(
        infusion: UUID, systolic: Int? = nil, diastolic: Int? = nil, heartRate: Int? = nil, spo2: Double? = nil, moaas: Int? = nil,
        cadss: Int? = nil, respiratoryDepression: Bool? = nil
    ) {
        self.infusion = infusion
        self.systolic = systolic
        self.diastolic = diastolic
        self.heartRate = heartRate
        self.spo2 = spo2
        self.moaas = moaas
        self.cadss = cadss
        self.respiratoryDepression = respiratoryDepression
    }

    /// Both blood pressure values.
    public var hasBloodPressure: Bool { systolic != nil && diastolic != nil }
}

/// The moment the patient of `infusion` leaves.
public struct DischargeRecorded: Sendable, Equatable {
    public var infusion: UUID
    public var criteriaMet: Bool
    public var escort: Bool
    public var transferred: Bool?
    public var note: String?
    public init(infusion: UUID, criteriaMet: Bool, escort: Bool, transferred: Bool? = nil, note: String? = nil) {
        self.infusion = infusion
        self.criteriaMet = criteriaMet
        self.escort = escort
        self.transferred = transferred
        self.note = note
    }
    public var isTransfer: Bool { transferred == true }
}

/// The esketamine REMS patient monitoring form of `infusion` was sent (R14).
public struct RemsFormSubmitted: Sendable, Equatable {
    public var infusion: UUID
    public var reference: String?
    public init(infusion: UUID, reference: String? = nil) {
        self.infusion = infusion
        self.reference = reference
    }
}

public struct StockReceived: Sendable, Equatable {
    public var drug: Drug
    public var lot: String
    public var quantityMg: Double
    public var supplier: String
    public var invoice: String?
    public var concentrationMgPerMl: Double?
    public init(drug: Drug, lot: String, quantityMg: Double, supplier: String, invoice: String? = nil, concentrationMgPerMl: Double? = nil)
    {
        self.drug = drug
        self.lot = lot
        self.quantityMg = quantityMg
        self.supplier = supplier
        self.invoice = invoice
        self.concentrationMgPerMl = concentrationMgPerMl
    }
}

public struct StockWasted: Sendable, Equatable {
    public var lot: String
    public var quantityMg: Double
    public var witness: String
    public var reason: String
    public var infusion: UUID?
    public init(lot: String, quantityMg: Double, witness: String, reason: String, infusion: UUID? = nil) {
        self.lot = lot
        self.quantityMg = quantityMg
        self.witness = witness
        self.reason = reason
        self.infusion = infusion
    }
}

public enum DisposalMethod: String, CaseIterable, Sendable {
    case reverseDistributor = "reverse-distributor"
    case destroyed, returned
}

public struct StockDisposed: Sendable, Equatable {
    public var lot: String
    public var quantityMg: Double
    public var method: DisposalMethod
    public var witness: String
    public var reference: String?
    public init(lot: String, quantityMg: Double, method: DisposalMethod, witness: String, reference: String? = nil) {
        self.lot = lot
        self.quantityMg = quantityMg
        self.method = method
        self.witness = witness
        self.reference = reference
    }
}

public enum AdjustmentReason: String, CaseIterable, Sendable {
    case loss, theft, breakage
    case countCorrection = "count-correction"
    /// Loss, theft and breakage take stock away: their quantity must be negative.
    public var isLoss: Bool { self != .countCorrection }
}

public struct StockAdjusted: Sendable, Equatable {
    public var lot: String
    /// Negative for a loss, theft or breakage.
    public var quantityMg: Double
    public var reason: AdjustmentReason
    public var witness: String
    public var reference: String?
    public init(lot: String, quantityMg: Double, reason: AdjustmentReason, witness: String, reference: String? = nil) {
        self.lot = lot
        self.quantityMg = quantityMg
        self.reason = reason
        self.witness = witness
        self.reference = reference
    }
}

public enum CountKind: String, CaseIterable, Sendable { case routine, biennial }

public struct InventoryCounted: Sendable, Equatable {
    public var lot: String
    public var onHandMg: Double
    public var kind: CountKind
    public init(lot: String, onHandMg: Double, kind: CountKind) {
        self.lot = lot
        self.onHandMg = onHandMg
        self.kind = kind
    }
}

extension ClinicalEvent {
    /// The lot a stock event (or a lot alert's acknowledgement) belongs to: its stream is
    /// `$lot:` + the lot, and it carries no patient.
    public var stockLot: String? {
        switch self {
        case .stockReceived(let e): e.lot
        case .stockWasted(let e): e.lot
        case .stockDisposed(let e): e.lot
        case .stockAdjusted(let e): e.lot
        case .inventoryCounted(let e): e.lot
        case .alertAcknowledged(let a): a.lot
        default: nil
        }
    }

    /// The infusion a session event (observation, discharge, REMS form) belongs to.
    public var sessionInfusion: UUID? {
        switch self {
        case .observationRecorded(let o): o.infusion
        case .dischargeRecorded(let d): d.infusion
        case .remsFormSubmitted(let f): f.infusion
        default: nil
        }
    }

    /// The witness of a waste, disposal or adjustment.
    public var witness: String? {
        switch self {
        case .stockWasted(let e): e.witness
        case .stockDisposed(let e): e.witness
        case .stockAdjusted(let e): e.witness
        default: nil
        }
    }
}

extension EventType {
    /// The stock types of session.md: their stream is the lot's, they carry no patient.
    public var isStock: Bool {
        switch self {
        case .stockReceived, .stockWasted, .stockDisposed, .stockAdjusted, .inventoryCounted: true
        default: false
        }
    }
}

/// The stream of a lot's stock events: `$lot:` + the lot (no patient id starts with `$`).
public enum LotStream {
    public static let prefix = "$lot:"
    public static func stream(_ lot: String) -> String { prefix + lot }
    public static func lot(ofStream stream: String) -> String? {
        stream.hasPrefix(prefix) ? String(stream.dropFirst(prefix.count)) : nil
    }
    /// `^[A-Za-z0-9._/-]{1,40}$`
    public static func isValidLot(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 40 else { return false }
        return u.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2F
                || c == 0x2D
        }
    }
}
