import Foundation
import XCTest
import LoomEngine

/// Random unit atoms, one a row.
func randomDictionary(atoms: Int, length: Int, seed: UInt64) -> SparseDictionary {
    var random = RandomGenerator(seed: seed)
    var d = SparseDictionary(atoms: (0..<(atoms * length)).map { _ in random.nextNormalFloat() }, count: atoms, length: length)
    d.normalize()
    return d
}

/// The 8×8 digits, raw 0–16, from the tutorials' CSV.
func digits() throws -> Tensor {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../notebooks/data/digits.csv")
    let data = try CSVLoader.load(bytes: [UInt8](Data(contentsOf: url)), label: .last)
    return data.inputs
}

/// OMP written the plain way: the residual formed, the atom most correlated
/// with it chosen, the coefficients refitted on the chosen atoms' Gram matrix.
func plainOMP(_ x: [Float], _ d: SparseDictionary, sparsity: Int) -> [Float] {
    let n = d.length, k = d.count
    var residual = x, support: [Int] = [], coefficients: [Float] = []
    for _ in 0..<sparsity {
        let scores = (0..<k).map { j in abs(zip(d.atom(j), residual).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
        let best = (0..<k).filter { !support.contains($0) }.max { scores[$0] < scores[$1] }!
        support.append(best)
        let m = support.count
        var gram = [Float](repeating: 0, count: m * m)
        for a in 0..<m { for b in 0..<m { gram[a * m + b] = zip(d.atom(support[a]), d.atom(support[b])).reduce(0) { $0 + $1.0 * $1.1 } } }
        coefficients = support.map { j in zip(d.atom(j), x).reduce(0) { $0 + $1.0 * $1.1 } }
        XCTAssertTrue(LAPACK.choleskyFactor(&gram, n: m))
        LAPACK.choleskySolve(factor: gram, n: m, &coefficients, count: 1)
        residual = x
        for (j, c) in zip(support, coefficients) { for t in 0..<n { residual[t] -= c * d.atom(j)[d.atom(j).startIndex + t] } }
    }
    var code = [Float](repeating: 0, count: k)
    for (j, c) in zip(support, coefficients) { code[j] = c }
    return code
}

final class SparseEncodingTests: XCTestCase {
    /// Signals made of 3 atoms of an incoherent dictionary: OMP finds those
    /// atoms and their coefficients, by sparsity and by error target.
    func testOMPRecoversTheSupport() throws {
        let d = randomDictionary(atoms: 40, length: 64, seed: 3)
        XCTAssertLessThan(d.coherence, 0.6)
        var random = RandomGenerator(seed: 4)
        var truth = SparseCodes(zeros: 50, atoms: 40)
        for i in 0..<50 {
            var chosen = Set<Int>()
            while chosen.count < 3 { chosen.insert(Int(random.next() % 40)) }
            for j in chosen { truth.values[i * 40 + j] = (1 + random.nextUnitFloat()) * (random.next() % 2 == 0 ? 1 : -1) }
        }
        let x = Tensor(shape: [50, 64], storage: d.reconstruct(truth))
        for encoder in [SparseEncoder.omp(sparsity: 3, relativeError: nil), .omp(sparsity: nil, relativeError: 1e-3)] {
            let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, encoder))
            XCTAssertEqual(codes.nonzerosPerSample, [Int](repeating: 3, count: 50), "\(encoder)")
            for i in 0..<codes.values.count {
                XCTAssertEqual(codes.values[i] != 0, truth.values[i] != 0, "support, entry \(i)")
                XCTAssertEqual(codes.values[i], truth.values[i], accuracy: 1e-4)
            }
            XCTAssertLessThan(SparseCoding.relativeError(x, codes, d), 1e-4)
            let steps = try XCTUnwrap(codes.residualByStep)
            if case .omp(3?, nil) = encoder { XCTAssertEqual(steps.count, 4, "the residual before and after each of 3 steps") }
            XCTAssertTrue(zip(steps, steps.dropFirst()).allSatisfy { $1 <= $0 }, "OMP's residual falls step by step")
        }
    }

    /// Batch-OMP (Gram matrix, growing Cholesky factor, no residual) codes
    /// the digits as plain OMP does.
    func testBatchOMPEqualsPlainOMP() throws {
        let x = try digits()
        let d = randomDictionary(atoms: 50, length: 64, seed: 5)
        let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, .omp(sparsity: 8, relativeError: nil)))
        for i in stride(from: 0, to: x.batch, by: 7) {
            let expected = plainOMP(Array(x.storage[(i * 64)..<((i + 1) * 64)]), d, sparsity: 8)
            for j in 0..<50 {
                XCTAssertEqual(codes.values[i * 50 + j], expected[j], accuracy: 1e-3 * max(1, abs(expected[j])), "sample \(i), atom \(j)")
            }
        }
    }

    /// scikit-learn's `sparse_encode(algorithm='omp', n_nonzero_coefs=5)` of
    /// the digits over a fixed dictionary: the same atoms, coefficients to 1e-4.
    func testOMPMatchesScikitLearnOnTheDigits() throws {
        let file = try fixture()
        let atoms = try XCTUnwrap(file["omp.dictionary"])
        let d = SparseDictionary(atoms: atoms.storage, count: 100, length: 64)
        let support = try XCTUnwrap(file["omp.support"]), values = try XCTUnwrap(file["omp.values"])
        let x = try digits()
        let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, .omp(sparsity: 5, relativeError: nil)))
        var sameSupport = 0
        for i in 0..<x.batch {
            let expected = (0..<5).compactMap { t -> (Int, Float)? in
                let j = Int(support[i * 5 + t])
                return j >= 0 ? (j, values[i * 5 + t]) : nil
            }
            let found = (0..<100).filter { codes.values[i * 100 + $0] != 0 }
            guard found == expected.map(\.0) else { continue }
            sameSupport += 1
            for (j, v) in expected { XCTAssertEqual(codes.values[i * 100 + j], v, accuracy: 1e-4 * max(1, abs(v)), "digit \(i), atom \(j)") }
        }
        XCTAssertEqual(sameSupport, x.batch, "every digit's atoms should be scikit-learn's")
    }

    /// The lasso's codes are optimal: the correlation of each atom with the
    /// residual is ±alpha where the code is nonzero and at most alpha in size
    /// where it is zero (the KKT conditions); and they are scikit-learn's.
    func testLassoSatisfiesKKTAndMatchesScikitLearn() throws {
        let file = try fixture()
        let d = SparseDictionary(atoms: try XCTUnwrap(file["lasso.dictionary"]).storage, count: 20, length: 10)
        let x = try XCTUnwrap(file["lasso.signals"])
        for positive in [false, true] {
            let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 0.1, positive: positive, tolerance: 1e-12)))
            let reference = try XCTUnwrap(file[positive ? "lasso.positive" : "lasso.codes"])
            for i in 0..<codes.values.count { XCTAssertEqual(codes.values[i], reference[i], accuracy: 1e-4, "code entry \(i)") }
            let residual = SparseCoding.residuals(x, codes, d).values
            for i in 0..<15 {
                for k in 0..<20 {
                    let correlation = (0..<10).reduce(Float(0)) { $0 + d.atoms[k * 10 + $1] * residual[i * 10 + $1] }
                    let a = codes.values[i * 20 + k]
                    if a != 0 {
                        XCTAssertEqual(correlation, 0.1 * (a > 0 ? 1 : -1), accuracy: 1e-4)
                    } else if positive {
                        XCTAssertLessThanOrEqual(correlation, 0.1 + 1e-4)
                    } else {
                        XCTAssertLessThanOrEqual(abs(correlation), 0.1 + 1e-4)
                    }
                }
            }
            if positive { XCTAssertTrue(codes.values.allSatisfy { $0 >= 0 }) }
        }
    }

    /// Started from its own solution, the lasso stays there; started from
    /// zeros with a looser tolerance, it lands close by.
    func testLassoWarmStartsAndTolerance() throws {
        let x = try digits()
        let d = randomDictionary(atoms: 30, length: 64, seed: 12)
        let tight = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 5, positive: false, tolerance: 1e-10)))
        let warm = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 5, positive: false, tolerance: 1e-10), warmStart: tight))
        for (a, b) in zip(warm.values, tight.values) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        let loose = try XCTUnwrap(SparseCoding.encode(x, with: d, .lasso(alpha: 5)))
        let gap = abs(SparseCoding.relativeError(x, loose, d) - SparseCoding.relativeError(x, tight, d))
        XCTAssertLessThan(gap, 1e-3)
    }

    func testSoftThresholdingOfTheCorrelations() throws {
        let d = SparseDictionary(atoms: [1, 0, 0, 1], count: 2, length: 2)
        let x = Tensor(shape: [2, 2], storage: [0.5, -2, 0.1, 3])
        for (positive, expected) in [(false, [Float(0.2), -1.7, 0, 2.7]), (true, [0.2, 0, 0, 2.7])] {
            let codes = try XCTUnwrap(SparseCoding.encode(x, with: d, .threshold(0.3, positive: positive))).values
            for (a, b) in zip(codes, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
    }

    /// A dictionary holding the same atom twice: OMP stops before the
    /// repeat and says so; no coder gives a NaN.
    func testDependentAtomsGiveFiniteCodes() throws {
        var atoms = randomDictionary(atoms: 6, length: 4, seed: 8).atoms
        atoms.replaceSubrange(20..<24, with: atoms[0..<4])
        let d = SparseDictionary(atoms: atoms, count: 6, length: 4)
        XCTAssertEqual(d.coherence, 1, accuracy: 1e-6)
        var random = RandomGenerator(seed: 9)
        let x = Tensor(shape: [30, 4], storage: (0..<120).map { _ in random.nextNormalFloat() })
        let omp = try XCTUnwrap(SparseCoding.encode(x, with: d, .omp(sparsity: 6, relativeError: nil)))
        for i in 0..<30 { XCTAssertFalse(omp.values[i * 6] != 0 && omp.values[i * 6 + 5] != 0, "an atom and its repeat") }
        // An atom all but in the span of two others: OMP stops rather than take it.
        let s = Float(0.5).squareRoot()
        var near = SparseDictionary(atoms: [s, s, 1e-4, 1, 0, 0, 0, 1, 0], count: 3, length: 3)
        near.normalize()
        let stopped = try XCTUnwrap(SparseCoding.encode(Tensor(shape: [1, 3], storage: [1, 1, 1]), with: near,
                                                        .omp(sparsity: 3, relativeError: nil)))
        XCTAssertEqual(stopped.dependentStops, 1)
        XCTAssertEqual(stopped.nonzerosPerSample, [2])
        XCTAssertTrue(stopped.values.allSatisfy(\.isFinite))
        XCTAssertTrue(omp.nonzerosPerSample.allSatisfy { $0 <= 4 }, "at most as many atoms as the signal has values")
        for encoder in [SparseEncoder.lasso(alpha: 0.05), .threshold(0.1, positive: false)] {
            XCTAssertTrue(try XCTUnwrap(SparseCoding.encode(x, with: d, encoder)).values.allSatisfy(\.isFinite))
        }
        XCTAssertTrue(omp.values.allSatisfy(\.isFinite))
    }

    func testEncodingStopsWhenAsked() {
        let d = randomDictionary(atoms: 20, length: 16, seed: 2)
        let x = Tensor(shape: [3000, 16], repeating: 1)
        XCTAssertNil(SparseCoding.encode(x, with: d, .omp(sparsity: 3, relativeError: nil), shouldStop: { true }))
    }

    func fixture() throws -> [String: Tensor] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sparse-coding.safetensors")
        return try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "sparse-coding.safetensors").tensors
    }
}

final class DictionaryLearningTests: XCTestCase {
    func patches(_ n: Int, seed: UInt64 = 1) -> Tensor {
        var random = RandomGenerator(seed: seed)
        return Patches.make(count: n, size: 8, random: &random)!.inputs
    }

    /// K-SVD and MOD never increase the cost from one iteration to the next,
    /// and keep every atom at unit norm.
    func testKSVDAndMODNeverIncreaseTheCost() throws {
        let x = patches(600)
        for method in [DictionaryLearning.Method.ksvd, .mod] {
            var random = RandomGenerator(seed: 2)
            let r = try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 32, coding: .sparsity(3), method: method, iterations: 8),
                                                           random: &random))
            XCTAssertEqual(r.costs.count, 8)
            for (a, b) in zip(r.costs, r.costs.dropFirst()) { XCTAssertLessThanOrEqual(b, a * (1 + 1e-6), "\(method): \(r.costs)") }
            XCTAssertLessThan(r.costs.last!, r.costs.first!, "\(method) learns")
            for norm in r.dictionary.norms { XCTAssertEqual(norm, 1, accuracy: 1e-4) }
            XCTAssertEqual(SparseCoding.relativeError(x, r.codes, r.dictionary), r.costs.last!, accuracy: 1e-5)
        }
    }

    /// On the digits, online learning ends within a few percent of K-SVD's cost.
    func testOnlineLearningComesCloseToBatchLearning() throws {
        let x = try digits()
        var random = RandomGenerator(seed: 3)
        let batch = try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 100, coding: .sparsity(5), iterations: 10), random: &random))
        random = RandomGenerator(seed: 3)
        let online = try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 100, coding: .sparsity(5), method: .online,
                                                                     iterations: 10, batch: 256), random: &random))
        let batchError = SparseCoding.relativeError(x, batch.codes, batch.dictionary)
        let onlineError = SparseCoding.relativeError(x, online.codes, online.dictionary)
        XCTAssertLessThan(batchError, 0.2, "K-SVD on the digits")
        XCTAssertLessThan(onlineError, batchError * 1.05, "online \(onlineError) against K-SVD \(batchError)")
    }

    /// Online learning with the lasso lowers its cost, and its codes satisfy the penalty's sparsity.
    func testOnlineLearningWithTheLasso() throws {
        let x = patches(1000)
        var random = RandomGenerator(seed: 4)
        let r = try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 24, coding: .lasso(alpha: 0.05), method: .online,
                                                                iterations: 4, batch: 100), random: &random))
        XCTAssertLessThan(r.costs.last!, r.costs.first!)
        XCTAssertGreaterThan(r.codes.zeroFraction, 0.5)
    }

    /// The same seed learns the same atoms; a stop keeps the last finished
    /// iteration, the one a shorter run ends with.
    func testLearningIsDeterministicAndStopsCleanly() throws {
        let x = patches(400)
        let options = DictionaryLearning.Options(atoms: 16, coding: .sparsity(2), iterations: 5)
        var r1 = RandomGenerator(seed: 6), r2 = RandomGenerator(seed: 6), r3 = RandomGenerator(seed: 6)
        let a = try XCTUnwrap(DictionaryLearning.learn(x, options, random: &r1))
        XCTAssertEqual(a.dictionary, try XCTUnwrap(DictionaryLearning.learn(x, options, random: &r2)).dictionary)
        var stop = false
        let stopped = try XCTUnwrap(DictionaryLearning.learn(x, options, random: &r3, shouldStop: { stop }) { n, _ in stop = n == 2 })
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.costs.count, 2)
        var r4 = RandomGenerator(seed: 6)
        var shorter = options
        shorter.iterations = 2
        XCTAssertEqual(stopped.dictionary, try XCTUnwrap(DictionaryLearning.learn(x, shorter, random: &r4)).dictionary)
        var r5 = RandomGenerator(seed: 6)
        XCTAssertNil(DictionaryLearning.learn(x, options, random: &r5, shouldStop: { true }), "nothing finished")
    }

    /// Atoms no code uses restart from the worst-coded samples.
    func testUnusedAtomsRestart() throws {
        // Five distinct signals, many copies each: 12 atoms cannot all be used.
        var random = RandomGenerator(seed: 7)
        let shapes = (0..<5).map { _ in (0..<16).map { _ in random.nextNormalFloat() } }
        let x = Tensor(shape: [200, 16], storage: (0..<200).flatMap { i in shapes[i % 5].map { $0 * Float(1 + i % 3) } })
        let r = try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 12, coding: .sparsity(1), iterations: 3), random: &random))
        XCTAssertGreaterThan(r.restartedAtoms, 0)
        for norm in r.dictionary.norms { XCTAssertEqual(norm, 1, accuracy: 1e-4) }
        XCTAssertLessThan(r.costs.last!, 1e-3, "five atoms code five shapes exactly")
    }

    /// Samples are coded in chunks across threads: the atoms come out bit for
    /// bit the same on one thread and on three.
    func testLearningDoesNotDependOnTheThreadCount() throws {
        let x = patches(1500)
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        var results: [SparseDictionary] = []
        for threads in [1, 3] {
            Parallel.setThreads(threads)
            for method in DictionaryLearning.Method.allCases {
                var random = RandomGenerator(seed: 9)
                results.append(try XCTUnwrap(DictionaryLearning.learn(x, .init(atoms: 20, coding: .sparsity(3), method: method,
                                                                               iterations: 2), random: &random)).dictionary)
            }
        }
        XCTAssertEqual(Array(results[0..<3]), Array(results[3..<6]))
    }

    func testPatchesAreDeterministicAndInRange() {
        let a = patches(300, seed: 11), b = patches(300, seed: 11)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.shape, [300, 8, 8, 1])
        XCTAssertTrue(a.storage.allSatisfy { (0...1).contains($0) })
        XCTAssertNotEqual(a, patches(300, seed: 12))
    }
}
