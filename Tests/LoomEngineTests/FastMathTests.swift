import Foundation
import LoomEngine
import XCTest

final class FastMathTests: XCTestCase {
    func testAgainstLibm() {
        var worstExp: Float = 0, worstTanh: Float = 0, worstSigmoid: Float = 0
        var x: Float = -90
        while x < 90 {
            let e = FastMath.exp(x), reference = Foundation.exp(x)
            if x < 88, reference > 1e-37 { worstExp = max(worstExp, abs(e - reference) / reference) }
            worstTanh = max(worstTanh, abs(FastMath.tanh(x) - Foundation.tanh(x)))
            worstSigmoid = max(worstSigmoid, abs(FastMath.sigmoid(x) - 1 / (1 + Foundation.exp(-x))))
            x += 0.001_37
        }
        XCTAssertLessThan(worstExp, 3e-7, "relative error of exp")
        XCTAssertLessThan(worstTanh, 3e-7, "absolute error of tanh")
        XCTAssertLessThan(worstSigmoid, 2e-7, "absolute error of the sigmoid")
        XCTAssertEqual(FastMath.tanh(100), 1)
        XCTAssertEqual(FastMath.tanh(-100), -1)
        XCTAssertEqual(FastMath.sigmoid(-200), 0, accuracy: 1e-30)
        XCTAssertEqual(FastMath.exp(0), 1)
    }
}
