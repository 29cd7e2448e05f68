/// Why text is not an RFC 3339 timestamp with offset.
public struct TimestampParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Timestamp {
    /// Parses RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// Hand-written because Foundation's `Date.ISO8601FormatStyle` discards the written offset,
    /// which the clinical date needs. `T`/`Z` may be lower case (RFC 3339 §5.6); the offset is
    /// required; `Z` and `-00:00` are offset 0; fractional seconds are kept to milliseconds
    /// (further digits truncated); day-of-month is checked against the month and leap years;
    /// years 0001–9999. A leap second (`:60`) is refused: an epoch-millisecond instant cannot
    /// hold one.
    public init(rfc3339 text: String) throws(TimestampParseError) {
        var text = text
        let result: Result<Timestamp, TimestampParseError> = text.withUTF8 { buffer in
            do throws(TimestampParseError) {
                return .success(try Timestamp.parseRFC3339(UnsafeRawBufferPointer(buffer)))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// See `init(rfc3339:)`.
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer) throws(TimestampParseError) -> Timestamp {
        let n = bytes.count
        @inline(__always) func digit(_ k: Int) -> Int? {
            guard k < n else { return nil }
            let c = bytes[k]
            return c >= 0x30 && c <= 0x39 ? Int(c - 0x30) : nil
        }
        @inline(__always) func number(_ k: Int, _ width: Int) -> Int? {
            var v = 0
            for j in k..<(k + width) {
                guard let d = digit(j) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        @inline(__always) func byte(_ k: Int) -> UInt8 { k < n ? bytes[k] : 0 }

        guard let year = number(0, 4), byte(4) == 0x2D, let month = number(5, 2), byte(7) == 0x2D,
            let day = number(8, 2)
        else { throw TimestampParseError("not a date of the form YYYY-MM-DD") }
        guard (1...12).contains(month) else { throw TimestampParseError("month \(month) does not exist") }
        guard year >= 1 else { throw TimestampParseError("year 0000 is out of range") }
        guard let date = Day(year: year, month: month, day: day) else {
            throw TimestampParseError("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        guard n > 10 else { throw TimestampParseError("a time and an offset are missing") }
        guard byte(10) == 0x54 || byte(10) == 0x74 else {
            throw TimestampParseError("date and time must be separated by 'T'")
        }
        guard let hour = number(11, 2), byte(13) == 0x3A, let minute = number(14, 2), byte(16) == 0x3A,
            let second = number(17, 2)
        else { throw TimestampParseError("not a time of the form HH:MM:SS") }
        guard hour <= 23 else { throw TimestampParseError("hour \(hour) is out of range") }
        guard minute <= 59 else { throw TimestampParseError("minute \(minute) is out of range") }
        guard second <= 59 else {
            throw TimestampParseError(second == 60 ? "leap seconds are not supported" : "second \(second) is out of range")
        }
        var k = 19
        var millis = 0
        if byte(k) == 0x2E {
            k += 1
            var digits = 0
            while let d = digit(k) {
                if digits < 3 { millis = millis * 10 + d }
                digits += 1
                k += 1
            }
            guard digits > 0 else { throw TimestampParseError("a digit must follow the decimal point") }
            if digits == 1 { millis *= 100 } else if digits == 2 { millis *= 10 }
        }
        var offset = 0
        switch byte(k) {
        case 0x5A, 0x7A:  // Z z
            k += 1
        case 0x2B, 0x2D:  // + -
            let negative = byte(k) == 0x2D
            guard let oh = number(k + 1, 2), byte(k + 3) == 0x3A, let om = number(k + 4, 2) else {
                throw TimestampParseError("not an offset of the form ±HH:MM")
            }
            guard oh <= 23, om <= 59 else { throw TimestampParseError("offset out of range") }
            offset = (oh * 60 + om) * (negative ? -1 : 1)
            k += 6
        default:
            throw TimestampParseError(k >= n ? "the UTC offset is missing" : "expected 'Z' or an offset ±HH:MM")
        }
        guard k == n else { throw TimestampParseError("unexpected characters after the offset") }
        let localSeconds = Int64(date.ordinal) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let epochMillis = (localSeconds - Int64(offset) * 60) * 1000 + Int64(millis)
        return Timestamp(epochMillis: epochMillis, offsetMinutes: Int16(offset))
    }
}
