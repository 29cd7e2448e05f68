import Glibc
import KClinic

/// The store's clock: the system's real time. recordedAt is always this, never an input.
public enum SystemClock {
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// The current instant as a Timestamp written in UTC (the domain reads no clock: this is
    /// what callers pass it as "now").
    public static func now() -> Timestamp {
        Timestamp(epochMillis: nowMicros() / 1000, offsetMinutes: 0)
    }

    /// Today's date in the machine's local time zone (the default evaluation date).
    /// Today in local time as a `Day`: every query's default evaluation date (CLI and server).
    public static func today() -> Day {
        let t = localToday()
        return Day(year: t.year, month: t.month, day: t.day) ?? Day(ordinal: 0)
    }

    public static func localToday() -> (year: Int, month: Int, day: Int) {
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return (Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday))
    }

    /// The name of the OS user running this process (from the password database, not $USER).
    public static func osUser() -> String {
        let uid = geteuid()
        if let pw = getpwuid(uid), let name = pw.pointee.pw_name {
            return String(cString: name)
        }
        return "uid-\(uid)"
    }
}
