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
extension CredentialChange: _FastNamed { static let _names = _makeNames() }
extension SignatureMeaning: _FastNamed { static let _names = _makeNames() }
extension Drug: _FastNamed { static let _names = _makeNames() }
extension DisposalMethod: _FastNamed { static let _names = _makeNames() }
extension AdjustmentReason: _FastNamed { static let _names = _makeNames() }
extension CountKind: _FastNamed { static let _names = _makeNames() }

/// The reverse of an enum's stable storage codes: the case of each code, in an array indexed by
/// the code, built once from the enum's one case → code table (its exhaustive `code` switch,
/// which the compiler checks covers every case). Decoding a code is a bounds check and a load:
/// no hashing, no search, on a replay's hot path. Codes are small (at most a few hundred).
/// A duplicated code keeps its first case; `StableCodeTests` checks there is none.
struct _CodeIndex<E: CaseIterable & Sendable>: Sendable {
    private let cases: [E?]

    init<Code: FixedWidthInteger & UnsignedInteger>(_ type: E.Type, _ code: (E) -> Code) {
        var cases: [E?] = []
        for e in E.allCases {
            let c = Int(code(e))
            if c >= cases.count { cases += [E?](repeating: nil, count: c + 1 - cases.count) }
            if cases[c] == nil { cases[c] = e }
        }
        self.cases = cases
    }

    @inline(__always)
    func lookup<Code: FixedWidthInteger & UnsignedInteger>(_ code: Code) -> E? {
        let i = Int(code)
        return i < cases.count ? cases[i] : nil
    }
}

/// Enums stored as a one-byte payload code (PayloadCodec): `payloadCode` is the one table,
/// `init?(payloadCode:)` its reverse.
protocol _PayloadCoded: CaseIterable, Sendable {
    var payloadCode: UInt8 { get }
    static var _byPayloadCode: _CodeIndex<Self> { get }
}

extension _PayloadCoded {
    static func _makePayloadCodes() -> _CodeIndex<Self> { _CodeIndex(Self.self, \.payloadCode) }

    @inline(__always)
    init?(payloadCode: UInt8) {
        guard let e = Self._byPayloadCode.lookup(payloadCode) else { return nil }
        self = e
    }
}
