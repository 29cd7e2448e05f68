/// A calendar date (no time, no zone), stored as days since 1970-01-01.
///
/// Clinical dates, evaluation dates and every due date are `Day`s. Arithmetic is integer
/// arithmetic on the proleptic Gregorian calendar (Howard Hinnant's civil-date algorithms), so a
/// projection never touches Foundation's `Calendar` on its hot path.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ordinal: Int32

    @inlinable public init(ordinal: Int32) { self.ordinal = ordinal }

    /// nil when the date does not exist (Feb 30, month 13…).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...Day.daysIn(year: year, month: month)).contains(day),
            (1...9999).contains(year)
        else { return nil }
        self.ordinal = Int32(Day.daysFromCivil(year, month, day))
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso: String) {
        let u = Array(iso.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                let c = u[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func < (a: Day, b: Day) -> Bool { a.ordinal < b.ordinal }

    public var civil: (year: Int, month: Int, day: Int) { Day.civilFromDays(Int(ordinal)) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = civil
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    @inlinable public func adding(days: Int) -> Day { Day(ordinal: ordinal + Int32(days)) }

    /// Calendar months, clamped to the month's end (Jan 31 + 1 month = Feb 28/29).
    public func adding(months: Int) -> Day {
        let (y, m, d) = civil
        let total = y * 12 + (m - 1) + months
        let ny = total >= 0 ? total / 12 : (total - 11) / 12
        let nm = total - ny * 12 + 1
        let nd = min(d, Day.daysIn(year: ny, month: nm))
        return Day(ordinal: Int32(Day.daysFromCivil(ny, nm, nd)))
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    @inlinable public func days(to other: Day) -> Int { Int(other.ordinal - ordinal) }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeap(year) ? 29 : 28
        default: 0
        }
    }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

@usableFromInline
func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
