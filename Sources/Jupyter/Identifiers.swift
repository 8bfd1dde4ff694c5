import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// Message ids and header dates in the forms Jupyter clients expect.
public enum Identifiers {
    /// Seeded once from the system: ids need to be unique, not secret, and
    /// a system call per id showed in profiles.
    static let state: Locked<SplitMix64> = {
        var system = SystemRandomNumberGenerator()
        return Locked(SplitMix64(seed: system.next()))
    }()

    /// A random (version 4) UUID, lower-case as Jupyter clients write them.
    public static func uuid() -> String {
        var (high, low) = state.withLock { s -> (UInt64, UInt64) in (s.next(), s.next()) }
        high = (high & ~0xF000) | 0x4000                          // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (n, word) in [high, low].enumerated() {
            for i in 0..<16 {
                let position = n * 16 + i
                if position == 8 || position == 12 || position == 16 || position == 20 { out.append(0x2D) }
                out.append(hex[Int((word >> UInt64(60 - 4 * i)) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Now in UTC, ISO 8601 with microseconds and a `Z`.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2))."
            + "\(pad(Int32(ts.tv_nsec / 1000), 6))Z"
    }
}
