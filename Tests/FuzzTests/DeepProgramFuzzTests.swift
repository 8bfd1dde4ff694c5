import LoomFuzz
import XCTest

/// Long chains and deep or self-sharing values, drawn at random: each
/// program ends in a result or a clear error, never a crash or a hang.
final class DeepProgramFuzzTests: XCTestCase {
    func testDeepProgramsEndInAResultOrAnErrorNeverAHang() {
        let report = FuzzRunner.programs(count: 40, seed: 24, kind: .deep)
        XCTAssertEqual(report.cases, 40)
        XCTAssertEqual(report.hangs, [])
        // The limits are reached (errors) and not every program reaches one.
        XCTAssertTrue(report.errorKinds.keys.contains { $0.hasPrefix("lists nest at most") }, "\(report.errorKinds)")
        XCTAssertTrue(report.errorKinds.keys.contains { $0.hasPrefix("a list holds at most") }, "\(report.errorKinds)")
        XCTAssertLessThan(report.errors, 40)
    }

    /// The pieces reach their sizes: a chain past 200,000 terms, a loop of
    /// 100,000 nestings.
    func testBytesAskForChainsAndNestingPastTheOldLimits() {
        let chain = DeepPrograms.program(from: [0, 0, 255, 255, 0, 0, 1, 0])
        XCTAssertGreaterThan(chain.filter { $0 == "+" }.count, 200_000)
        let nesting = DeepPrograms.program(from: [0, 1, 255, 255])
        XCTAssertEqual(nesting.filter { $0 == "1" }.count, 100_000)
        XCTAssertTrue(FuzzTarget.deep.run([0, 0, 255, 255, 0, 0, 1, 0]))
        XCTAssertFalse(FuzzTarget.deep.run([0, 1, 255, 255]))
    }
}
