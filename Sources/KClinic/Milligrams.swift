/// An exact decimal quantity of drug in milligrams (session.md: "Milligrams are exact decimals
/// computed from the JSON literals (0.45 × 72.3 = 32.535, no binary rounding)").
///
/// Held as an integer count of 10⁻¹² mg in an `Int128`, so sums and differences are exact and
/// cheap. A number from the JSON becomes its decimal digits as the shortest text that reads back
/// as the same double (Swift's `description`, the digits of the JSON literal for any literal of at
/// most 15 significant digits), so 0.45 is 0.45, not 0.450000000000000011…. A product is exact
/// when the two factors' decimal places add up to at most 12 (any dose and weight a chart holds).
public struct Milligrams: Sendable, Hashable, Comparable {
    /// Units of 10⁻¹² mg.
    public var scaled: Int128
    public static let scale: Int128 = 1_000_000_000_000
    static let places = 12

    public init(scaled: Int128) { self.scaled = scaled }
    public static let zero = Milligrams(scaled: 0)

    /// The decimal of a finite double's shortest text; nil for NaN/infinity or beyond ±10²⁴ mg.
    public init?(_ d: Double) {
        guard d.isFinite, abs(d) < 1e24 else { return nil }
        self.init(decimalText: d.description)
    }

    /// "32.535", "-12", "1e-05", "2.5e+20": digits, a point, an exponent (ASCII bytes).
    public init?(decimalText text: String) {
        var mantissa: Int128 = 0
        var exponent = 0
        var negative = false
        var afterPoint = false
        var digits = 0
        var expSign = 1
        var expValue = 0
        var inExponent = false
        var expDigits = 0
        var first = true
        for c in text.utf8 {
            defer { first = false }
            if inExponent {
                if c == 0x2D && expDigits == 0 && expSign == 1 {
                    expSign = -1
                    continue
                }
                if c == 0x2B && expDigits == 0 { continue }
                guard c >= 0x30 && c <= 0x39, expDigits < 4 else { return nil }
                expValue = expValue * 10 + Int(c - 0x30)
                expDigits += 1
                continue
            }
            switch c {
            case 0x2D where first: negative = true
            case 0x2E:
                guard !afterPoint else { return nil }
                afterPoint = true
            case 0x65, 0x45:
                inExponent = true
            case 0x30...0x39:
                digits += 1
                guard digits <= 36 else { return nil }
                mantissa = mantissa * 10 + Int128(c - 0x30)
                if afterPoint { exponent -= 1 }
            default:
                return nil
            }
        }
        guard digits > 0, !inExponent || expDigits > 0, expValue < 60 else { return nil }
        exponent += expSign * expValue
        // mantissa × 10^exponent in units of 10^-12.
        var shift = exponent + Milligrams.places
        while shift > 0 {
            let (m, o) = mantissa.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            mantissa = m
            shift -= 1
        }
        while shift < 0 {
            // More places than kept: round half to even.
            let (q, r) = mantissa.quotientAndRemainder(dividingBy: 10)
            mantissa = q + ((r > 5 || (r == 5 && q % 2 == 1)) ? 1 : 0)
            shift += 1
        }
        scaled = negative ? -mantissa : mantissa
    }

    /// The exact product (rounded half to even at 10⁻¹² mg); nil on overflow.
    public func times(_ other: Milligrams) -> Milligrams? {
        let (p, o) = scaled.multipliedReportingOverflow(by: other.scaled)
        guard !o else { return nil }
        let (q, r) = p.quotientAndRemainder(dividingBy: Milligrams.scale)
        let twice = abs(r) * 2
        var v = q
        if twice > Milligrams.scale || (twice == Milligrams.scale && q % 2 != 0) { v += p < 0 ? -1 : 1 }
        return Milligrams(scaled: v)
    }

    public static func + (a: Milligrams, b: Milligrams) -> Milligrams { Milligrams(scaled: a.scaled &+ b.scaled) }
    public static func - (a: Milligrams, b: Milligrams) -> Milligrams { Milligrams(scaled: a.scaled &- b.scaled) }
    public static prefix func - (a: Milligrams) -> Milligrams { Milligrams(scaled: -a.scaled) }
    public static func += (a: inout Milligrams, b: Milligrams) { a.scaled &+= b.scaled }
    public static func -= (a: inout Milligrams, b: Milligrams) { a.scaled &-= b.scaled }
    public static func < (a: Milligrams, b: Milligrams) -> Bool { a.scaled < b.scaled }

    public var magnitude: Milligrams { Milligrams(scaled: scaled < 0 ? -scaled : scaled) }
    public var isNegative: Bool { scaled < 0 }

    /// The exact decimal text, no exponent, trailing zeros dropped: "32.535", "-4", "0.5".
    public var text: String {
        let negative = scaled < 0
        let m = negative ? -scaled : scaled
        let (whole, frac) = m.quotientAndRemainder(dividingBy: Milligrams.scale)
        var s = (negative ? "-" : "") + String(whole)
        if frac != 0 {
            var f = String(frac)
            f = String(repeating: "0", count: Milligrams.places - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return s
    }

    /// The nearest double (for JSON: it prints back as `text` when that has at most 15
    /// significant digits).
    public var double: Double { Double(text) ?? 0 }
}
