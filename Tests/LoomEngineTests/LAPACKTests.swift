import LoomEngine
import XCTest

final class LAPACKTests: XCTestCase {
    /// A = MᵀM + I for a random M: symmetric positive definite.
    func spd(_ n: Int, seed: UInt64) -> [Float] {
        var random = RandomGenerator(seed: seed)
        let m = (0..<(n * n)).map { _ in random.nextUnitFloat() * 2 - 1 }
        var a = GEMM.product(m, m, m: n, n: n, k: n, transposeA: true)
        for i in 0..<n { a[i * n + i] += 1 }
        return a
    }

    func testTheFactorTimesItsTransposeGivesTheMatrix() {
        let n = 7
        let a = spd(n, seed: 3)
        var l = a
        XCTAssertTrue(LAPACK.choleskyFactor(&l, n: n))
        for i in 0..<n {
            for j in 0..<n {
                var sum: Float = 0
                for k in 0...min(i, j) { sum += l[i * n + k] * l[j * n + k] }
                XCTAssertEqual(sum, a[i * n + j], accuracy: 1e-4, "(\(i), \(j))")
            }
        }
    }

    func testSolvesEachRightHandSide() {
        let n = 5, count = 3
        let a = spd(n, seed: 9)
        var random = RandomGenerator(seed: 4)
        let x = (0..<(n * count)).map { _ in random.nextUnitFloat() - 0.5 }
        // b_c = A·x_c, each right-hand side contiguous.
        var b = [Float](repeating: 0, count: n * count)
        for c in 0..<count { for i in 0..<n { for j in 0..<n { b[c * n + i] += a[i * n + j] * x[c * n + j] } } }
        var factor = a
        XCTAssertTrue(LAPACK.choleskyFactor(&factor, n: n))
        LAPACK.choleskySolve(factor: factor, n: n, &b, count: count)
        for (got, want) in zip(b, x) { XCTAssertEqual(got, want, accuracy: 1e-4) }
    }

    func testAMatrixThatIsNotPositiveDefiniteIsReported() {
        // Two equal atoms: their Gram matrix [[1, 1], [1, 1]] is singular.
        var gram: [Float] = [1, 1, 1, 1]
        XCTAssertFalse(LAPACK.choleskyFactor(&gram, n: 2))
        var negative: [Float] = [-1]
        XCTAssertFalse(LAPACK.choleskyFactor(&negative, n: 1))
    }
}
