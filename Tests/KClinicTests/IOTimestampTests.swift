import Foundation
import Testing

@testable import KClinic

private func ts(_ text: String) -> Result<Timestamp, TimestampParseError> {
    do throws(TimestampParseError) { return .success(try Timestamp(rfc3339: text)) } catch { return .failure(error) }
}

struct IOTimestampTests {
    /// text, epoch milliseconds, offset minutes
    static let accepted: [(String, Int64, Int16)] = [
        ("2026-01-05T14:30:00Z", 1_767_623_400_000, 0),
        ("2026-01-05T09:30:00-05:00", 1_767_623_400_000, -300),
        ("2026-01-05T20:00:00+05:30", 1_767_623_400_000, 330),
        ("2026-01-05t14:30:00z", 1_767_623_400_000, 0),
        ("2026-01-05T14:30:00+00:00", 1_767_623_400_000, 0),
        ("2026-01-05T14:30:00-00:00", 1_767_623_400_000, 0),
        ("2026-01-05T14:30:00.5Z", 1_767_623_400_500, 0),
        ("2026-01-05T14:30:00.12Z", 1_767_623_400_120, 0),
        ("2026-01-05T14:30:00.123Z", 1_767_623_400_123, 0),
        ("2026-01-05T14:30:00.123999999Z", 1_767_623_400_123, 0),
        ("2026-01-05T14:30:00.000-05:00", 1_767_641_400_000, -300),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000, 0),
        ("2000-02-29T12:00:00Z", 951_825_600_000, 0),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1969-12-31T23:59:59.999Z", -1, 0),
        ("9999-12-31T23:59:59Z", 253_402_300_799_000, 0),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000, 0),
        ("2026-12-31T23:59:59+23:59", 1_798_675_259_000, 1439),
    ]

    @Test("parses RFC 3339", arguments: 0..<accepted.count)
    func parses(_ k: Int) throws {
        let (text, millis, offset) = Self.accepted[k]
        let t = try ts(text).get()
        #expect(t.epochMillis == millis, "\(text)")
        #expect(t.offsetMinutes == offset, "\(text)")
    }

    /// Cross-check instants against Foundation (which drops the offset, hence not used in the code).
    @Test func agreesWithFoundationOnTheInstant() throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let y = Int.random(in: 1900...2100, using: &rng)
            let mo = Int.random(in: 1...12, using: &rng)
            let d = Int.random(in: 1...Day.daysIn(year: y, month: mo), using: &rng)
            let h = Int.random(in: 0...23, using: &rng)
            let mi = Int.random(in: 0...59, using: &rng)
            let s = Int.random(in: 0...59, using: &rng)
            let off = Int.random(in: -(14 * 60)...(14 * 60), using: &rng)
            func p(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
            let offText = off == 0 ? "Z" : (off < 0 ? "-" : "+") + p(abs(off) / 60, 2) + ":" + p(abs(off) % 60, 2)
            let text = "\(p(y, 4))-\(p(mo, 2))-\(p(d, 2))T\(p(h, 2)):\(p(mi, 2)):\(p(s, 2))\(offText)"
            let t = try ts(text).get()
            let date = try #require(f.date(from: text), "\(text)")
            #expect(t.epochMillis == Int64((date.timeIntervalSince1970 * 1000).rounded()), "\(text)")
            #expect(Int(t.offsetMinutes) == off)
            #expect(t.rfc3339 == text)
        }
    }

    static let refused: [(String, String)] = [
        ("2026-01-05T09:30:00", "offset is missing"),
        ("2026-01-05", "time and an offset are missing"),
        ("2026-01-05 09:30:00Z", "separated by 'T'"),
        ("2026-01-05T09:30Z", "HH:MM:SS"),
        ("2026-01-05T9:30:00Z", "HH:MM:SS"),
        ("2023-02-29T00:00:00Z", "day 29 does not exist"),
        ("1900-02-29T00:00:00Z", "day 29 does not exist"),
        ("2026-04-31T00:00:00Z", "day 31 does not exist"),
        ("2026-01-00T00:00:00Z", "day 0 does not exist"),
        ("2026-13-01T00:00:00Z", "month 13"),
        ("2026-00-01T00:00:00Z", "month 0"),
        ("0000-01-01T00:00:00Z", "year 0000"),
        ("2026-01-05T24:00:00Z", "hour 24"),
        ("2026-01-05T23:60:00Z", "minute 60"),
        ("2026-01-05T23:59:60Z", "leap second"),
        ("2026-01-05T23:59:61Z", "second 61"),
        ("2026-01-05T09:30:00.Z", "digit must follow"),
        ("2026-01-05T09:30:00+0500", "±HH:MM"),
        ("2026-01-05T09:30:00+05", "±HH:MM"),
        ("2026-01-05T09:30:00+24:00", "offset out of range"),
        ("2026-01-05T09:30:00+05:60", "offset out of range"),
        ("2026-01-05T09:30:00Zjunk", "after the offset"),
        ("2026-01-05T09:30:00-05:00 ", "after the offset"),
        ("2026-01-05T09:30:00UTC", "expected 'Z'"),
        ("26-01-05T09:30:00Z", "YYYY-MM-DD"),
        ("2026/01/05T09:30:00Z", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("２０２６-01-05T09:30:00Z", "YYYY-MM-DD"),
    ]

    @Test("refuses bad timestamps", arguments: 0..<refused.count)
    func refuses(_ k: Int) {
        let (text, fragment) = Self.refused[k]
        switch ts(text) {
        case .success(let t): Issue.record("accepted \(text) as \(t)")
        case .failure(let e): #expect(e.message.contains(fragment), "\(text): \(e)")
        }
    }

    @Test func clinicalDayIsTheDateInTheWrittenOffset() throws {
        let t = try Timestamp(rfc3339: "2026-01-05T23:30:00-05:00")
        #expect(t.clinicalDay == Day(year: 2026, month: 1, day: 5))
        #expect(t.clinicalDay.description == "2026-01-05")
        // The same instant written in UTC is on the 6th.
        let utc = try Timestamp(rfc3339: "2026-01-06T04:30:00Z")
        #expect(utc.epochMillis == t.epochMillis)
        #expect(utc.clinicalDay.description == "2026-01-06")
        #expect(try Timestamp(rfc3339: "2026-01-06T00:30:00+14:00").clinicalDay.description == "2026-01-06")
        #expect(try Timestamp(rfc3339: "1969-12-31T23:59:59Z").clinicalDay.description == "1969-12-31")
    }

    @Test func formatsBack() throws {
        for text in [
            "2026-01-05T09:30:00-05:00", "2026-01-05T14:30:00Z", "2026-01-05T14:30:00.123Z", "2026-01-05T14:30:00.500+05:30",
            "2024-02-29T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999-23:59",
        ] {
            #expect(try Timestamp(rfc3339: text).rfc3339 == text)
        }
        #expect(try Timestamp(rfc3339: "2026-01-05T14:30:00.5z").rfc3339 == "2026-01-05T14:30:00.500Z")
        #expect(try Timestamp(rfc3339: "2026-01-05T14:30:00-00:00").rfc3339 == "2026-01-05T14:30:00Z")
    }
}
