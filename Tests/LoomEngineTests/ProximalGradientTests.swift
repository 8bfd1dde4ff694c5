import XCTest
import LoomEngine

/// The lasso by ISTA and FISTA against coordinate descent and scikit-learn.
final class ProximalGradientTests: XCTestCase {
    func ista(_ alpha: Double, positive: Bool = false, iterations: Int, tolerance: Double = 0) -> SparseEncoder {
        .proximalGradient(alpha: alpha, positive: positive, accelerated: false, iterations: iterations, tolerance: tolerance)
    }

    func fista(_ alpha: Double, positive: Bool = false, iterations: Int, tolerance: Double = 0) -> SparseEncoder {
        .proximalGradient(alpha: alpha, positive: positive, accelerated: true, iterations: iterations, tolerance: tolerance)
    }

    /// Σᵢ ½‖xᵢ − αᵢᵀD‖² + alpha‖αᵢ‖₁ from the residuals, written out.
    func objective(_ x: Tensor, _ codes: SparseCodes, _ d: SparseDictionary, alpha: Double) -> Double {
        let residual = SparseCoding.residuals(x, codes, d).squaredNorms.reduce(0, +)
        return 0.5 * residual + alpha * codes.values.reduce(0.0) { $0 + abs(Double($1)) }
    }

    func fixture() throws -> [String: Tensor] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sparse-coding.safetensors")
        return try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "sparse-coding.safetensors").tensors
    }

    /// scikit-learn's `Lasso` codes (stored, solved to 1e-12), free and
    /// positive: ISTA and FISTA give them to 1e-4, the same support, the
    /// same objective to 1e-6 relative, and the KKT conditions hold.
    func testISTAAndFISTAReachScikitLearnsLasso() throws {
        let file = try fixture()
        let d = SparseDictionary(atoms: try XCTUnwrap(file["lasso.dictionary"]).storage, count: 20, length: 10)
        let x = try XCTUnwrap(file["lasso.signals"])
        for positive in [false, true] {
            let reference = SparseCodes(values: try XCTUnwrap(file[positive ? "lasso.positive" : "lasso.codes"]).storage,
                                        samples: 15, atoms: 20)
            let best = objective(x, reference, d, alpha: 0.1)
            for encoder in [ista(0.1, positive: positive, iterations: 20_000), fista(0.1, positive: positive, iterations: 20_000)] {
                let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, encoder))
                for i in 0..<codes.values.count {
                    XCTAssertEqual(codes.values[i], reference.values[i], accuracy: 1e-4, "\(encoder), entry \(i)")
                    XCTAssertEqual(abs(codes.values[i]) > 1e-5, abs(reference.values[i]) > 1e-5, "\(encoder) support, entry \(i)")
                }
                XCTAssertEqual(objective(x, codes, d, alpha: 0.1), best, accuracy: 1e-6 * best, "\(encoder)")
                let reported = try XCTUnwrap(codes.objectiveByIteration?.last)
                XCTAssertEqual(reported, objective(x, codes, d, alpha: 0.1), accuracy: 1e-5 * best, "the objective it reports")
                let residual = SparseCoding.residuals(x, codes, d).values
                for i in 0..<15 {
                    for k in 0..<20 {
                        let correlation = (0..<10).reduce(Float(0)) { $0 + d.atoms[k * 10 + $1] * residual[i * 10 + $1] }
                        let a = codes.values[i * 20 + k]
                        if a != 0 { XCTAssertEqual(correlation, 0.1 * (a > 0 ? 1 : -1), accuracy: 1e-4, "KKT on the support") }
                        else { XCTAssertLessThanOrEqual(positive ? correlation : abs(correlation), 0.1 + 1e-4, "KKT off the support") }
                    }
                }
                if positive { XCTAssertTrue(codes.values.allSatisfy { $0 >= 0 }) }
            }
        }
    }

    /// The first 300 digits (two chunks) over an overcomplete dictionary.
    func digitsProblem() throws -> (x: Tensor, d: SparseDictionary) {
        let all = try digits()
        return (Tensor(shape: [300, 64], storage: Array(all.storage[0..<(300 * 64)])), randomDictionary(atoms: 80, length: 64, seed: 21))
    }

    /// On the digits: ISTA and FISTA land on coordinate descent's objective
    /// to 1e-5 relative and on its support.
    func testISTAAndFISTAReachCoordinateDescentOnTheDigits() throws {
        let (x, d) = try digitsProblem()
        let cd = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 5, positive: false, tolerance: 1e-12)))
        let best = objective(x, cd, d, alpha: 5)
        for encoder in [ista(5, iterations: 20_000), fista(5, iterations: 3000)] {
            let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, encoder))
            XCTAssertEqual(objective(x, codes, d, alpha: 5), best, accuracy: 1e-5 * best, "\(encoder)")
            var differences = 0
            for (a, b) in zip(codes.values, cd.values) where (abs(a) > 1e-3) != (abs(b) > 1e-3) { differences += 1 }
            XCTAssertLessThanOrEqual(differences, codes.values.count / 1000, "\(encoder): support")
        }
    }

    /// ISTA never raises the objective and starts at ½Σ‖x‖² from zero codes;
    /// FISTA comes within 1e-6 of the optimum in under half of ISTA's iterations
    /// (46 against 110).
    func testISTADescendsAndFISTAIsFaster() throws {
        let (x, d) = try digitsProblem()
        let cd = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 5, positive: false, tolerance: 1e-12)))
        let best = objective(x, cd, d, alpha: 5)
        let target = best * (1 + 1e-6)
        let slow = try XCTUnwrap(SparseCoding.encode(x, with: d, ista(5, iterations: 300))?.objectiveByIteration)
        let fast = try XCTUnwrap(SparseCoding.encode(x, with: d, fista(5, iterations: 300))?.objectiveByIteration)
        XCTAssertEqual(slow.count, 301)
        let energy = x.storage.reduce(0.0) { $0 + Double($1) * Double($1) } / 2
        XCTAssertEqual(slow[0], energy, accuracy: 1e-6 * energy)
        for (a, b) in zip(slow, slow.dropFirst()) { XCTAssertLessThanOrEqual(b, a * (1 + 1e-7), "ISTA's objective rose") }
        let istaSteps = try XCTUnwrap(slow.firstIndex { $0 <= target }, "ISTA never came within 1e-6")
        let fistaSteps = try XCTUnwrap(fast.firstIndex { $0 <= target }, "FISTA never came within 1e-6")
        XCTAssertLessThan(fistaSteps * 2, istaSteps, "FISTA \(fistaSteps) iterations, ISTA \(istaSteps)")
    }

    /// The tolerance ends the iterations early; zero iterations' worth of
    /// change from a solution stops at once; the thread count changes nothing.
    func testToleranceWarmStartAndThreads() throws {
        let x = try digits()
        let d = randomDictionary(atoms: 40, length: 64, seed: 22)
        let loose = try XCTUnwrap(SparseCoding.encode(x, with: d, fista(5, iterations: 5000, tolerance: 1e-3)))
        let steps = try XCTUnwrap(loose.objectiveByIteration).count - 1
        XCTAssertLessThan(steps, 5000)
        let tight = try XCTUnwrap(SparseCoding.encode(x, with: d, fista(5, iterations: 5000, tolerance: 1e-7)))
        XCTAssertGreaterThan(try XCTUnwrap(tight.objectiveByIteration).count - 1, steps)
        let warm = try XCTUnwrap(SparseCoding.encode(x, with: d, fista(5, iterations: 5000, tolerance: 1e-5), warmStart: tight))
        XCTAssertLessThan(try XCTUnwrap(warm.objectiveByIteration).count - 1, steps, "a warm start from the solution stops sooner")
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        Parallel.setThreads(1)
        let one = try XCTUnwrap(SparseCoding.encode(x, with: d, ista(5, iterations: 50)))
        Parallel.setThreads(3)
        XCTAssertEqual(one, try XCTUnwrap(SparseCoding.encode(x, with: d, ista(5, iterations: 50))))
        XCTAssertNil(SparseCoding.encode(x, with: d, fista(5, iterations: 50), shouldStop: { true }))
    }
}
