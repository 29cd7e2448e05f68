/// An instant with the UTC offset it was written in.
///
/// `Date` keeps only the instant; the protocol's clinical date is the calendar date in the
/// timestamp's *own* offset (protocol.md, Conventions), so the offset is kept beside it.
public struct Timestamp: Hashable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var epochMillis: Int64
    /// The offset the timestamp was written with, in minutes east of UTC.
    public var offsetMinutes: Int16

    @inlinable
    public init(epochMillis: Int64, offsetMinutes: Int16) {
        self.epochMillis = epochMillis
        self.offsetMinutes = offsetMinutes
    }

    /// The calendar date in the timestamp's own offset.
    @inlinable
    public var clinicalDay: Day {
        let localMillis = epochMillis + Int64(offsetMinutes) * 60_000
        let days = localMillis >= 0 ? localMillis / 86_400_000 : (localMillis - 86_399_999) / 86_400_000
        return Day(ordinal: Int32(days))
    }

    /// RFC 3339 in the original offset, milliseconds only when present.
    public var description: String { rfc3339 }

    public var rfc3339: String {
        let localMillis = epochMillis + Int64(offsetMinutes) * 60_000
        let day = clinicalDay
        let msOfDay = Int(localMillis - Int64(day.ordinal) * 86_400_000)
        let h = msOfDay / 3_600_000
        let mi = (msOfDay / 60_000) % 60
        let s = (msOfDay / 1000) % 60
        let ms = msOfDay % 1000
        var out = day.description + "T" + pad(h, 2) + ":" + pad(mi, 2) + ":" + pad(s, 2)
        if ms != 0 { out += "." + pad(ms, 3) }
        if offsetMinutes == 0 {
            out += "Z"
        } else {
            let o = Int(offsetMinutes)
            out += (o < 0 ? "-" : "+") + pad(abs(o) / 60, 2) + ":" + pad(abs(o) % 60, 2)
        }
        return out
    }
}
