import XCTest
import LoomEngine

/// The exact finish's Cholesky factor, updated atom by atom, against one computed afresh.
final class SupportCholeskyTests: XCTestCase {
    /// The Gram matrix of `count` random vectors of length `length`, in double.
    func gram(count: Int, length: Int, seed: UInt64) -> [[Double]] {
        var state = seed
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let vectors = (0..<count).map { _ in (0..<length).map { _ in next() } }
        return vectors.map { u in vectors.map { v in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } } }
    }

    /// The textbook Cholesky factor of the block of `g` on `atoms`, row by row.
    func freshFactor(_ g: [[Double]], _ atoms: [Int]) -> [[Double]] {
        let m = atoms.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        for i in 0..<m {
            for k in 0...i {
                let sum = g[atoms[i]][atoms[k]] - (0..<k).reduce(0) { $0 + l[i][$1] * l[k][$1] }
                l[i][k] = i == k ? sum.squareRoot() : sum / l[k][k]
            }
        }
        return l
    }

    func append(_ atom: Int, to factor: SupportCholesky, held: inout [Int], _ g: [[Double]]) -> Bool {
        let cross = held.map { g[atom][$0] }
        let added = cross.withUnsafeBufferPointer { factor.append(cross: $0.baseAddress!, diagonal: g[atom][atom]) }
        if added { held.append(atom) }
        return added
    }

    func assertFactor(_ factor: SupportCholesky, equalsFreshOn held: [Int], _ g: [[Double]], _ message: String) {
        XCTAssertEqual(factor.size, held.count, message)
        let fresh = freshFactor(g, held)
        for i in held.indices {
            for k in 0...i { XCTAssertEqual(factor.entry(i, k), fresh[i][k], accuracy: 1e-12, "\(message): L[\(i), \(k)]") }
        }
    }

    /// Atoms appended, removed from the front, middle and end, and appended
    /// again: the factor equals a fresh Cholesky of the block on the atoms
    /// held, in their order, to rounding, and solves G_SS·z = b.
    func testUpdatedFactorEqualsAFreshCholesky() {
        let g = gram(count: 14, length: 24, seed: 7)
        let factor = SupportCholesky(capacity: 12)
        var held: [Int] = []
        for atom in [3, 0, 9, 4, 11, 7, 1, 12] { XCTAssertTrue(append(atom, to: factor, held: &held, g)) }
        assertFactor(factor, equalsFreshOn: held, g, "appended")
        for index in [3, 0, 5] {
            factor.remove(at: index)
            held.remove(at: index)
            assertFactor(factor, equalsFreshOn: held, g, "without position \(index)")
        }
        for atom in [2, 13, 5] { XCTAssertTrue(append(atom, to: factor, held: &held, g)) }
        factor.remove(at: 2)
        held.remove(at: 2)
        assertFactor(factor, equalsFreshOn: held, g, "appended again")

        let b = held.indices.map { Double($0) - 2.5 }
        var z = b
        z.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
        for (i, atom) in held.enumerated() {
            let product = held.indices.reduce(0.0) { $0 + g[atom][held[$1]] * z[$1] }
            XCTAssertEqual(product, b[i], accuracy: 1e-10, "row \(i) of G_SS·z")
        }
    }

    /// An atom in the span of those held, or one past the capacity, is refused and leaves the factor as it was.
    func testADependentAtomOrAFullFactorIsRefused() {
        let g = gram(count: 4, length: 3, seed: 8)  // four vectors in three dimensions: the fourth is in the others' span
        let factor = SupportCholesky(capacity: 4)
        var held: [Int] = []
        for atom in 0..<3 { XCTAssertTrue(append(atom, to: factor, held: &held, g)) }
        XCTAssertFalse(append(3, to: factor, held: &held, g))
        assertFactor(factor, equalsFreshOn: [0, 1, 2], g, "after the refusal")
        let small = SupportCholesky(capacity: 2)
        held = []
        for atom in 0..<2 { XCTAssertTrue(append(atom, to: small, held: &held, g)) }
        XCTAssertFalse(append(2, to: small, held: &held, g))
        XCTAssertEqual(small.size, 2)
    }
}
