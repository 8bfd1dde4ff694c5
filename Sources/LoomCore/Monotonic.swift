#if canImport(Glibc)
import Glibc
#endif

/// Seconds on a clock that never jumps (for durations, not dates).
public enum Monotonic {
    public static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
