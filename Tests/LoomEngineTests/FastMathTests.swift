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
    /// exactly, in whole sixteen-lane vectors and short last ones (width 12
    /// is one short vector, 8 + 4 lanes; width 36 two whole and one of 4),
    /// across the whole range, the clamps, infinities and NaN.
    func testLogisticIsTheSigmoidAndTanhBitForBit() {
        for width in [12, 36] {
            let rows = 1000
            var x = (0..<(rows * width)).map { Float($0 % 7919) * 0.0251 - 99.3 }
            x[5] = .infinity
            x[17] = -.infinity
            x[29] = .nan
            // Groups of four columns: sigmoid, tanh, sigmoid, sigmoid, tanh, …
            let isTanh = (0..<width).map { ($0 / 4) % 3 == 1 }
            let coefficients = isTanh.map { $0 ? Float(2) : -1 } + isTanh.map { $0 ? Float(-2) : 1 } + isTanh.map { $0 ? Float(1) : 0 }
            var y = x, expected = x
            y.withUnsafeMutableBufferPointer { out in
                coefficients.withUnsafeBufferPointer { FastMath.logistic(out.baseAddress!, rows: rows, width: width, coefficients: $0.baseAddress!) }
            }
            expected.withUnsafeMutableBufferPointer { e in
                for r in 0..<rows {
                    for group in stride(from: 0, to: width, by: 4) {
                        let values = e.baseAddress! + r * width + group
                        if isTanh[group] { FastMath.tanh(values, count: 4) } else { FastMath.sigmoid(values, count: 4) }
                    }
                }
            }
            for i in 0..<y.count {
                XCTAssertEqual(y[i].bitPattern, expected[i].bitPattern, "x = \(x[i]): \(y[i]) against \(expected[i])")
            }
        }
    }

    /// The in-place loops give the scalar functions' bits at every count
    /// around the vector width (whole vectors, a short last one of 8 to 15
    /// values, one of fewer than 8).
    func testVectorLoopsMatchTheScalarFunctions() {
        for count in [1, 7, 8, 9, 15, 16, 17, 24, 31, 33] {
            let x = (0..<count).map { Float($0) * 0.37 - 3.1 }
            var s = x, t = x
            s.withUnsafeMutableBufferPointer { FastMath.sigmoid($0.baseAddress!, count: count) }
            t.withUnsafeMutableBufferPointer { FastMath.tanh($0.baseAddress!, count: count) }
            for i in 0..<count {
                XCTAssertEqual(s[i].bitPattern, FastMath.sigmoid(x[i]).bitPattern, "sigmoid, count \(count), value \(i)")
                XCTAssertEqual(t[i].bitPattern, FastMath.tanh(x[i]).bitPattern, "tanh, count \(count), value \(i)")
            }
        }
    }
}
