import Dispatch
import Foundation
import Synchronization

/// SIGTERM and SIGINT, caught: `isSet` turns true and the shipper stops after its batch.
public final class StopSignal: Sendable {
    private let flag = Mutex(false)

    public init() {}

    public var isSet: Bool { flag.withLock { $0 } }

    public func set() { flag.withLock { $0 = true } }

    /// Catches SIGTERM and SIGINT for the rest of the process.
    private static let kept = Mutex(0)

    private static func keep(_ source: any DispatchSourceSignal) {
        // An unbalanced retain: the source lives as long as the process.
        _ = Unmanaged.passRetained(source as AnyObject)
        kept.withLock { $0 += 1 }
    }

    public func install() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.set() }
            source.resume()
            // Kept for the life of the process (a signal source cancelled on release stops catching).
            Self.keep(source)
        }
    }
}
