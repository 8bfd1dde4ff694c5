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

    /// `logistic` with the sigmoid's and tanh's coefficients gives their bits
    /// exactly, in whole vectors and the short last one (width 12 = 8 + 4),
    /// across the whole range, the clamps, infinities and NaN.
    func testLogisticIsTheSigmoidAndTanhBitForBit() {
        let width = 12, rows = 3000
        var x = (0..<(rows * width)).map { Float($0 % 7919) * 0.0251 - 99.3 }
        x[5] = .infinity
        x[17] = -.infinity
        x[29] = .nan
        // Columns 0–3 and 8–11 the sigmoid, 4–7 tanh.
        let isTanh = (0..<width).map { (4..<8).contains($0) }
        let coefficients = isTanh.map { $0 ? Float(2) : -1 } + isTanh.map { $0 ? Float(-2) : 1 } + isTanh.map { $0 ? Float(1) : 0 }
        var y = x, expected = x
        y.withUnsafeMutableBufferPointer { out in
            coefficients.withUnsafeBufferPointer { FastMath.logistic(out.baseAddress!, rows: rows, width: width, coefficients: $0.baseAddress!) }
        }
        expected.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows {
                let row = e.baseAddress! + r * width
                FastMath.sigmoid(row, count: 4)
                FastMath.tanh(row + 4, count: 4)
                FastMath.sigmoid(row + 8, count: 4)
            }
        }
        for i in 0..<y.count {
            XCTAssertEqual(y[i].bitPattern, expected[i].bitPattern, "x = \(x[i]): \(y[i]) against \(expected[i])")
        }
    }
}
