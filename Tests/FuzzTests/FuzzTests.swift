import LoomFuzz
import XCTest

/// The short, seeded fuzz runs of `make test` (`make fuzz` runs 100,000 cases).
final class FuzzTests: XCTestCase {
    func testMutatedProgramsEndInAResultOrAnErrorNeverAHang() {
        let report = FuzzRunner.programs(count: 1500, seed: 2026)
        XCTAssertEqual(report.cases, 1500)
        XCTAssertEqual(report.hangs, [])
        XCTAssertGreaterThan(report.errors, 100)  // mutations do break programs
        XCTAssertLessThan(report.errors, 1500)    // and some still run
    }

    func testRandomAndDamagedFramesAreRejectedNotFatal() {
        let report = FuzzRunner.wire(count: 30_000, seed: 7)
        XCTAssertEqual(report.cases, 30_000)
        XCTAssertGreaterThan(report.errors, 5_000)
    }
}
