import Foundation
import KClinic
import KStore

/// A store opened by a command: the log plus who is running the command.
public final class ClinicStore {
    public let log: EventLog
    public let path: String
    /// The OS user running this process (recorded in every envelope it writes).
    public let osUser: String
    /// The store's clock; injectable for tests only (commands always use the real one).
    public let clockMicros: () -> Int64

    /// Auxiliary named databases the application keeps beside the log.
    public static let auxiliaryDatabases = ["projections", "projmeta", "access", "credentials"]

    /// `--store`, else `$KSTORE_PATH`, else `./kstore-data`.
    public static func resolvePath(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["KSTORE_PATH"], !env.isEmpty { return env }
        return "./kstore-data"
    }

    init(log: EventLog, path: String, osUser: String, clockMicros: @escaping () -> Int64) {
        self.log = log
        self.path = path
        self.osUser = osUser
        self.clockMicros = clockMicros
    }

    /// With `masterKeyFile`, the store is encrypted under a data key that key wraps.
    public static func create(
        at path: String, mapSize: Int = EventLog.defaultMapSize, osUser: String = SystemClock.osUser(),
        clockMicros: @escaping () -> Int64 = SystemClock.nowMicros, masterKeyFile: String? = nil
    ) throws(AppError) -> ClinicStore {
        do {
            let master = try masterKeyFile.map { file throws(KeyError) in try MasterKey.load(path: file, store: path) }
            let log = try EventLog.create(
                at: path, mapSize: mapSize, auxiliary: auxiliaryDatabases, clockMicros: clockMicros(), masterKey: master)
            return ClinicStore(log: log, path: path, osUser: osUser, clockMicros: clockMicros)
        } catch let e as KeyError {
            throw AppError(e)
        } catch let e as StoreError {
            if case .alreadyExists = e { throw .usage(e.description) }
            throw .noStore(e.description)
        } catch {
            throw .noStore("cannot create a store at \(path): \(error)")
        }
    }

    /// Opens an existing store; with `readOnly` nothing can be written through it, and it may be
    /// an archive this OS user may not write (`EventLog.open`).
    ///
    /// An encrypted store is opened with the master key in `keyFile`, else in the file
    /// `$KSTORE_KEY_FILE` names (`--key-file` sets it, so the children a command starts inherit
    /// it); without one it is refused (exit 77) unless `keyless` (verify: chain and indexes only).
    public static func open(
        at path: String, mapSize: Int = EventLog.defaultMapSize, osUser: String = SystemClock.osUser(),
        clockMicros: @escaping () -> Int64 = SystemClock.nowMicros, readOnly: Bool = false, keyFile: String? = nil,
        keyless: Bool = false
    ) throws(AppError) -> ClinicStore {
        do {
            let file = keyFile ?? keyFileFromEnvironment()
            let master = try file.map { file throws(KeyError) in try MasterKey.load(path: file, store: path) }
            let log = try EventLog.open(
                at: path, mapSize: mapSize, auxiliary: auxiliaryDatabases, readOnly: readOnly, masterKey: master, keyPath: file ?? "",
                keyless: keyless)
            return ClinicStore(log: log, path: path, osUser: osUser, clockMicros: clockMicros)
        } catch let e as KeyError {
            throw AppError(e)
        } catch let e as StoreError {
            switch e {
            case .truncated, .notAStore: throw .damaged(e.description)
            default: throw .noStore(e.description)
            }
        } catch {
            throw .noStore("cannot open the store at \(path): \(error)")
        }
    }

    /// `$KSTORE_KEY_FILE`, when set and not empty.
    public static func keyFileFromEnvironment() -> String? {
        guard let file = ProcessInfo.processInfo.environment["KSTORE_KEY_FILE"], !file.isEmpty else { return nil }
        return file
    }

    /// The store's clock as a Timestamp (UTC).
    public var now: Timestamp {
        Timestamp(epochMillis: clockMicros() / 1000, offsetMinutes: 0)
    }
}

@available(*, unavailable)
extension ClinicStore: Sendable {}
