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

extension Monotonic {
    /// Runs `pass` up to `runs` times, stopping early once the passes have
    /// taken `budget` seconds in all; the last result and the shortest pass.
    /// On a busy machine a slower pass lost the processor for a while, so the
    /// fastest says most about the work itself (as Python's `timeit` advises).
    public static func fastest<T>(runs: Int = 3, budget: Double = 1, clock: () -> Double = { now },
                                  _ pass: () -> T) -> (result: T, seconds: Double) {
        var best = Double.infinity, spent = 0.0, done = 0
        var result: T
        repeat {
            let started = clock()
            result = pass()
            let seconds = clock() - started
            best = min(best, seconds)
            spent += seconds
            done += 1
        } while done < runs && spent < budget
        return (result, best)
    }
}
