import Crypto
import KClinic
import KStore

/// Reading the log for the commands (`kstore log`, `audit export`, the patients a query covers),
/// so that the command itself never reads LMDB.
public enum LogReading {
    /// `kstore log`: events in log order from sequence `from`, at most `limit`; only `patient`'s
    /// (its stream, read by its index) and only of `type` when given.
    public static func events(_ store: ClinicStore, patient: String?, type: EventType?, from: UInt64, limit: Int?) throws -> [Recorded] {
        let typeCode = type?.code
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
        return selected
    }

    /// The events recorded (recordedAt's UTC date) from `first` through `last`, in log order.
    public static func recorded(_ store: ClinicStore, from first: Day, through last: Day) throws -> [Recorded] {
        var selected: [Recorded] = []
        try store.log.scan { view in
            let day = Timestamp(epochMillis: view.recordedAtMicros / 1000, offsetMinutes: 0).clinicalDay
            if day >= first && day <= last { selected.append(try EventMapping.recorded(view)) }
            return true
        }
        return selected
    }

    /// Every patient with a stream in the store (system streams left out), in stream order.
    public static func patients(_ store: ClinicStore) throws -> [String] {
        try store.log.read { reader in try reader.streams().map(\.stream).filter { !SystemStream.isSystem($0) } }
    }
}

extension ClinicStore {
    /// The store's id (16 random bytes at creation), as hex.
    public var storeIdHex: String { hex(log.storeId) }
}

extension SigningKeys {
    /// The key `loadPrivate` reads (so that a command can hold one without importing Crypto).
    public typealias PrivateKey = Curve25519.Signing.PrivateKey
}
