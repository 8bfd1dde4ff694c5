import Foundation
import LoomEngine
import XCTest

/// FastMath against libm. The references are libm's double-precision `exp`
/// and `tanh` (the sigmoid as 1 / (1 + exp(−x))), so an error measured here
/// is FastMath's own: `expf` and `tanhf` are off by up to an ulp themselves.
///
/// The bounds were measured over every finite float (4.28 billion) and
/// rounded up a little:
/// - exp: 0.992 ulps on [−87.33, 88]: the reduction x − n·ln 2 and the
///   polynomial leave eʳ within half an ulp, scaling by 2ⁿ is exact, and the
///   last product rounds once more. Outside, it saturates (below).
/// - the sigmoid: 2.48 ulps for x ≥ −88: exp's error, then the sum's and the
///   quotient's roundings; where 1 + e⁻ˣ and the result lie at opposite ends
///   of their binades, an ulp of one is two of the other. Below −88, e⁻ˣ
///   saturates and the result stays at σ(−88) ≈ 6.05e-39, within 6.1e-39 of
///   the exact value.
/// - tanh: 2.997 ulps where |x| ≥ 0.55 (|tanh x| ≥ 0.5): 1 − 2/(e²ˣ + 1)
///   turns the quotient's error, an ulp of a number near 1, into up to three
///   of the result. Nearer 0 the subtraction keeps only the absolute accuracy
///   of numbers near 1: 1.48e-7 (tanh of a tiny x is 0).
final class FastMathTests: XCTestCase {
    static let expUlps = 1.0, sigmoidUlps = 2.5, tanhUlps = 3.0
    static let sigmoidFloor = 6.1e-39, tanhNearZero = 1.5e-7

    /// Every 1021st finite float of each sign, from ±0 through the subnormals
    /// to the largest (about 8,200 in each binade), and the edges; 4.2
    /// million values, not a whole number of vectors.
    static let inputs: [Float] = {
        var x: [Float] = []
        for bits in stride(from: UInt32(0), to: Float.infinity.bitPattern, by: 1021) {
            x.append(Float(bitPattern: bits))
            x.append(-Float(bitPattern: bits))
        }
        let edges: [Float] = [0, .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-30, 1e-7, 0.55, 1, 16.6, 17,
                              43.6, 44, 87.33, 87.34, 88, 88.7, 89, 100, .greatestFiniteMagnitude, .infinity]
        return x + edges + edges.map { -$0 }
    }()

    /// The distance from `value` to `exact` in units in the last place of the
    /// Float nearest `exact`.
    static func ulps(_ value: Float, from exact: Double) -> Double {
        let nearest = Float(exact)
        if value == nearest { return 0 }
        guard nearest.isFinite, value.isFinite else { return .infinity }
        return abs(Double(value) - exact) / Double(nearest.ulp)
    }

    /// exp's error at `x` as a share of its bound (≤ 1 passes): within an
    /// ulp on [−87.33, 88]; below, e^−87.33 (about the smallest normal
    /// float, where libm goes on into the subnormals); above, e^88 (never
    /// infinite). exp is only used inside the sigmoid and tanh, whose limits
    /// these give.
    static func expError(_ y: Float, at x: Float) -> Double {
        if x < -87.33 { return y == FastMath.exp(-87.33) ? 0 : .infinity }
        if x > 88 { return y == FastMath.exp(88) ? 0 : .infinity }
        return ulps(y, from: Foundation.exp(Double(x))) / expUlps
    }

    static func sigmoidError(_ y: Float, at x: Float) -> Double {
        let exact = 1 / (1 + Foundation.exp(-Double(x)))
        return x >= -88 ? ulps(y, from: exact) / sigmoidUlps : abs(Double(y) - exact) / sigmoidFloor
    }

    static func tanhError(_ y: Float, at x: Float) -> Double {
        let exact = Foundation.tanh(Double(x))
        return abs(x) >= 0.55 ? ulps(y, from: exact) / tanhUlps : abs(Double(y) - exact) / tanhNearZero
    }

    /// `values` through one of the in-place loops.
    func applying(_ loop: (UnsafeMutablePointer<Float>, Int) -> Void, to values: [Float]) -> [Float] {
        var y = values
        y.withUnsafeMutableBufferPointer { loop($0.baseAddress!, $0.count) }
        return y
    }

    /// Asserts `error(y[i], x[i]) ≤ 1` for every value, naming the worst.
    func assertWithinBound(_ name: String, _ x: [Float], _ y: [Float], _ error: (Float, Float) -> Double,
                           file: StaticString = #filePath, line: UInt = #line) {
        var worst = 0.0, at = 0
        for i in x.indices where !x[i].isNaN {
            let e = error(y[i], x[i])
            if !(e <= worst) { worst = e.isNaN ? .infinity : e; at = i }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(name)(\(x[at])) = \(y[at]): \(worst) of its bound", file: file, line: line)
    }

    func testExpSigmoidAndTanhAreWithinTheirBoundsOfLibm() {
        let x = Self.inputs
        assertWithinBound("exp", x, x.map { FastMath.exp($0) }, Self.expError)
        assertWithinBound("sigmoid", x, applying({ FastMath.sigmoid($0, count: $1) }, to: x), Self.sigmoidError)
        assertWithinBound("tanh", x, applying({ FastMath.tanh($0, count: $1) }, to: x), Self.tanhError)
    }

    /// Exact values at the edges: ±0, the saturated ends, infinities and NaN.
    func testExactValuesAtZeroTheSaturatedEndsInfinitiesAndNaN() {
        for zero: Float in [0, -0] {
            XCTAssertEqual(FastMath.exp(zero), 1)
            XCTAssertEqual(FastMath.sigmoid(zero), 0.5)
            XCTAssertEqual(FastMath.tanh(zero), 0, "tanh(−0) is +0: the sign of a zero is not kept")
        }
        XCTAssertEqual(FastMath.tanh(.leastNonzeroMagnitude), 0)
        XCTAssertEqual(FastMath.exp(-.infinity), FastMath.exp(-87.33))
        XCTAssertEqual(FastMath.exp(-87.33), 1.183_210_7e-38)
        XCTAssertEqual(FastMath.exp(.infinity), FastMath.exp(88))
        XCTAssertEqual(FastMath.exp(88), 1.651_636_3e38)
        XCTAssertEqual(FastMath.sigmoid(17), 1, "σ(17) rounds to 1")
        XCTAssertEqual(FastMath.sigmoid(.infinity), 1)
        XCTAssertEqual(FastMath.sigmoid(-.infinity), FastMath.sigmoid(-88))
        XCTAssertEqual(FastMath.tanh(44), 1)
        XCTAssertEqual(FastMath.tanh(.infinity), 1)
        XCTAssertEqual(FastMath.tanh(-.infinity), -1)
        XCTAssertTrue(FastMath.exp(.nan).isNaN)
        XCTAssertTrue(FastMath.sigmoid(.nan).isNaN)
        XCTAssertTrue(FastMath.tanh(.nan).isNaN)
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

    /// At every count around the vector width (whole vectors, a short last
    /// one of 8 to 15 values, one of fewer than 8) the in-place loops are
    /// within their bounds of libm, and each value's bits do not depend on
    /// where it lies in a vector: they are those of the one-value functions.
    func testVectorLoopsAtEveryWidthAreWithinTheirBoundsAndTheSameBits() {
        for count in [1, 7, 8, 9, 15, 16, 17, 24, 31, 33] {
            let x = (0..<count).map { Float($0) * 0.37 - 3.1 }
            let s = applying({ FastMath.sigmoid($0, count: $1) }, to: x)
            let t = applying({ FastMath.tanh($0, count: $1) }, to: x)
            assertWithinBound("sigmoid, count \(count),", x, s, Self.sigmoidError)
            assertWithinBound("tanh, count \(count),", x, t, Self.tanhError)
            for i in 0..<count {
                XCTAssertEqual(s[i].bitPattern, FastMath.sigmoid(x[i]).bitPattern, "sigmoid, count \(count), value \(i)")
                XCTAssertEqual(t[i].bitPattern, FastMath.tanh(x[i]).bitPattern, "tanh, count \(count), value \(i)")
            }
        }
    }
}
