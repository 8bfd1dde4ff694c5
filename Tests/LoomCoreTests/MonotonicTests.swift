import LoomCore
import XCTest

/// `Monotonic.fastest`: the shortest of a few timed passes, on a clock the
/// test drives, so the passes take exactly the times given.
final class MonotonicTests: XCTestCase {
    /// A clock reading `ticks` in turn: each pass is timed by two readings.
    func clock(_ ticks: [Double]) -> () -> Double {
        var next = 0
        return { defer { next += 1 }; return ticks[next] }
    }

    func testTheFastestOfThreePassesIsReportedWithTheLastResult() {
        var passes = 0
        let timed = Monotonic.fastest(clock: clock([0, 0.5, 0.5, 0.7, 0.7, 1.0])) { passes += 1; return passes }
        XCTAssertEqual(passes, 3)
        XCTAssertEqual(timed.result, 3)
        XCTAssertEqual(timed.seconds, 0.2, accuracy: 1e-12)
    }

    func testPassesStopOnceTheBudgetIsSpent() {
        var passes = 0
        let timed = Monotonic.fastest(clock: clock([0, 0.7, 0.7, 1.3])) { passes += 1; return passes }
        XCTAssertEqual(passes, 2, "0.7 s and 0.6 s spend the one-second budget")
        XCTAssertEqual(timed.seconds, 0.6, accuracy: 1e-12)
        passes = 0
        _ = Monotonic.fastest(clock: clock([0, 2])) { passes += 1 }
        XCTAssertEqual(passes, 1, "one slow pass is all there is time for")
    }
}
