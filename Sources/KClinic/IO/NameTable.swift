/// Byte-level lookup of an enum by its raw string, without building a `String` and without the
/// compiler's string-switch (a linear scan of `String ==`). Keys pack the length and the first
/// seven bytes into one integer; only a key match compares the rest.
struct _NameTable<E: Sendable>: Sendable {
    private let keys: [UInt64]
    private let names: [[UInt8]]
    private let values: [E]

    init(_ pairs: [(String, E)]) {
        keys = pairs.map { _NameTable.key(Array($0.0.utf8)) }
        names = pairs.map { Array($0.0.utf8) }
        values = pairs.map(\.1)
    }

    @inline(__always)
    static func key(_ bytes: some Collection<UInt8>) -> UInt64 {
        var k = UInt64(truncatingIfNeeded: bytes.count) << 56
        var shift: UInt64 = 0
        for b in bytes.prefix(7) {
            k |= UInt64(b) << shift
            shift += 8
        }
        return k
    }

    func lookup(_ bytes: UnsafeRawBufferPointer) -> E? {
        let n = bytes.count
        var k = UInt64(truncatingIfNeeded: n) << 56
        var shift: UInt64 = 0
        for j in 0..<min(n, 7) {
            k |= UInt64(bytes[j]) << shift
            shift += 8
        }
        for (idx, candidate) in keys.enumerated() where candidate == k {
            if n <= 7 { return values[idx] }
            let name = names[idx]
            var same = true
            for j in 7..<n where name[j] != bytes[j] {
                same = false
                break
            }
            if same { return values[idx] }
        }
        return nil
    }

    func lookup(_ s: String) -> E? {
        if let found = s.utf8.withContiguousStorageIfAvailable({ lookup(UnsafeRawBufferPointer($0)) }) { return found }
        return Array(s.utf8).withUnsafeBytes { lookup($0) }
    }
}

/// Enums read from JSON by raw value through a `_NameTable`.
protocol _FastNamed: CaseIterable, RawRepresentable, Sendable where RawValue == String {
    static var _names: _NameTable<Self> { get }
}

extension _FastNamed {
    static func _makeNames() -> _NameTable<Self> { _NameTable(allCases.map { ($0.rawValue, $0) }) }
}

extension EventType: _FastNamed { static let _names = _makeNames() }
extension Role: _FastNamed { static let _names = _makeNames() }
extension TreatmentProtocol: _FastNamed { static let _names = _makeNames() }
extension ConsentKind: _FastNamed { static let _names = _makeNames() }
extension Route: _FastNamed { static let _names = _makeNames() }
extension DoseUnit: _FastNamed { static let _names = _makeNames() }
extension Series: _FastNamed { static let _names = _makeNames() }
extension Instrument: _FastNamed { static let _names = _makeNames() }
extension LabTest: _FastNamed { static let _names = _makeNames() }
extension SideEffectCategory: _FastNamed { static let _names = _makeNames() }
extension Severity: _FastNamed { static let _names = _makeNames() }
extension ScreeningKind: _FastNamed { static let _names = _makeNames() }
extension AssessmentKind: _FastNamed { static let _names = _makeNames() }
extension MedicationAction: _FastNamed { static let _names = _makeNames() }
extension PregnancyStatus: _FastNamed { static let _names = _makeNames() }
