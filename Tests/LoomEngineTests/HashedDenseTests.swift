import LoomEngine
import XCTest

extension GradientTests {
    /// Each real weight's gradient is the sum of its virtual weights' (signed).
    func testHashedDenseGradientsMatchFiniteDifferences() {
        check(HashedDense(name: "d", inputs: 7, units: 5, buckets: 6, random: &random), input: randomTensor([3, 7]))
        check(HashedDense(name: "d", inputs: 4, units: 3, buckets: 5, steps: 3, random: &random), input: randomTensor([2, 3, 4]))
        check(HashedDense(name: "d", inputs: 6, units: 1, buckets: 1, random: &random), input: randomTensor([1, 6]))
    }
}

/// HashedNets' layer: a virtual matrix drawn from R real weights.
final class HashedDenseTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    func randomTensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in random.nextUnitFloat() * 2 - 1 })
    }

    /// With a bucket per virtual weight, in order, and every sign +1, the
    /// layer is a dense layer: outputs and gradients bit for bit.
    func testAnIdentityHashOnUnitsTimesInputsWeightsIsDense() {
        let (inputs, units) = (9, 4)
        let dense = Dense(name: "d", inputs: inputs, units: units, random: &random)
        let identity = WeightHash(rows: inputs, columns: units, buckets: inputs * units, bucket: (0..<Int32(inputs * units)).map { $0 },
                                  sign: [Float](repeating: 1, count: inputs * units))
        let hashed = HashedDense(name: "d", hash: identity, random: &random)
        hashed.weight.value = dense.weight.value.reshaped([inputs * units, 1])
        hashed.bias.value = Tensor(shape: [units], storage: [0.1, -0.2, 0.3, 0])
        dense.bias.value = hashed.bias.value
        let x = randomTensor([5, inputs]), dy = randomTensor([5, units])
        XCTAssertEqual(hashed.forward(x, training: true), dense.forward(x, training: true))
        XCTAssertEqual(hashed.backward(dy), dense.backward(dy))
        XCTAssertEqual(hashed.weight.gradient.storage, dense.weight.gradient.storage)
        XCTAssertEqual(hashed.bias.gradient, dense.bias.gradient)
    }

    /// The hash is a function of (row, column) alone, spreads the virtual
    /// weights over every bucket and gives both signs.
    func testTheFixedHashIsTheSameEveryTimeAndUsesEveryBucket() {
        let a = WeightHash(rows: 50, columns: 40, buckets: 100), b = WeightHash(rows: 50, columns: 40, buckets: 100)
        XCTAssertEqual(a.bucket, b.bucket)
        XCTAssertEqual(a.sign, b.sign)
        var uses = [Int](repeating: 0, count: 100)
        for k in a.bucket { uses[Int(k)] += 1 }
        XCTAssertGreaterThan(uses.min()!, 4, "2,000 weights over 100 buckets: about 20 each")
        XCTAssertLessThan(uses.max()!, 45)
        let negative = a.sign.filter { $0 < 0 }.count
        XCTAssertTrue((800...1200).contains(negative), "\(negative) of 2,000 signs negative")
        // Fewer rows: the same (row, column) lands in the same bucket.
        XCTAssertEqual(Array(WeightHash(rows: 2, columns: 40, buckets: 100).bucket[40..<80]), Array(a.bucket[40..<80]))
    }

    /// A saved layer's real weights mean something only through the hash:
    /// it is pinned to the values of the formula docs/language.md gives
    /// for Python (computed there with Python's integers).
    func testTheHashIsTheDocumentedFormula() {
        let hash = WeightHash(rows: 784, columns: 400, buckets: 1000)
        for (i, j, bucket, sign) in [(0, 0, 535, -1), (0, 1, 465, -1), (1, 0, 56, 1), (783, 299, 68, 1), (12, 345, 441, 1)] {
            XCTAssertEqual(hash.bucket[i * 400 + j], Int32(bucket), "h(\(i), \(j))")
            XCTAssertEqual(hash.sign[i * 400 + j], Float(sign), "ξ(\(i), \(j))")
        }
    }

    /// The real weights' gradient is, bit for bit, dV = xᵀ·dy summed into
    /// the buckets in row-major order, each term times its sign.
    func testTheGradientIsTheSignedBucketSumsOfXTransposeDy() {
        let layer = HashedDense(name: "d", inputs: 30, units: 20, buckets: 50, random: &random)
        let x = randomTensor([8, 30]), dy = randomTensor([8, 20])
        _ = layer.forward(x, training: true)
        for p in layer.parameters { p.zeroGradient() }
        _ = layer.backward(dy)
        let dv = GEMM.product(x.storage, dy.storage, m: 30, n: 20, k: 8, transposeA: true)
        var expected = [Float](repeating: 0, count: 50)
        let (bucket, sign) = (layer.hash.bucket, layer.hash.sign)
        for k in 0..<600 { expected[Int(bucket[k])] += sign[k] * dv[k] }
        XCTAssertEqual(layer.weight.gradient.storage, expected)
    }

    /// V is gathered once per version of the real weights and read by the
    /// replicas; weights written (and marked changed) give a new V.
    func testTheVirtualMatrixFollowsTheWeightsVersion() {
        let layer = HashedDense(name: "d", inputs: 5, units: 3, buckets: 4, random: &random)
        let x = randomTensor([2, 5])
        let before = layer.forward(x, training: false)
        XCTAssertEqual(layer.replica(on: layer.parameters.map { $0.replica() }).forward(x, training: false), before)
        let real: [Float] = [1, -2, 3, 0.5]
        layer.weight.value = Tensor(shape: [4, 1], storage: real)
        layer.weight.markChanged()
        let v = layer.hash.virtualMatrix(of: real)
        XCTAssertEqual(v, (0..<15).map { layer.hash.sign[$0] * real[Int(layer.hash.bucket[$0])] })
        let after = layer.forward(x, training: false).storage
        for (got, want) in zip(after, GEMM.product(x.storage, v, m: 2, n: 3, k: 5)) { XCTAssertEqual(got, want, accuracy: 1e-6) }
    }

    func testCountsAndRefusals() throws {
        let spec = DenseSpec(units: 300, activation: .relu, hashed: 1000)
        let layer = try XCTUnwrap(try spec.build(name: "dense1", input: [784], random: &random).first as? HashedDense)
        XCTAssertEqual(layer.parameterCount, 1000 + 300)
        XCTAssertEqual(layer.weight.value.shape, [1000, 1])
        XCTAssertEqual(layer.unsharedParameters, 784 * 300 + 300)
        XCTAssertEqual(layer.multiplyAdds, 784 * 300)
        XCTAssertEqual(layer.sharingForm, .hashed(virtual: 784 * 300, real: 1000))
        // Memory: the real weights and the bias at a weight's cost, the codes and the virtual matrix at 8 bytes a virtual weight.
        XCTAssertEqual(try spec.parameterCount(input: [784]), 1000 + 300)
        XCTAssertEqual(try spec.heldBytes(input: [784]), (1000 + 300) * 16 + 784 * 300 * 8)
        func message(_ spec: DenseSpec, _ input: [Int] = [4]) -> String {
            do { _ = try spec.build(name: "dense2", input: input, random: &random) } catch { return error.message }
            return "built"
        }
        XCTAssertEqual(message(DenseSpec(units: 3, activation: .linear, hashed: 13)),
                       "dense2 hashes a 4x3 matrix (12 virtual weights), so `hashed` takes 1 to 12 real weights, not 13")
        XCTAssertEqual(message(DenseSpec(units: 3, activation: .linear, hashed: 12)), "built")
        XCTAssertTrue(message(DenseSpec(units: 3, activation: .linear, sparsity: 0.5, hashed: 6)).contains("`sparse` cannot"))
        XCTAssertTrue(message(DenseSpec(units: 3, activation: .linear, tied: "dense1", hashed: 6)).contains("not both"))
    }

    /// Pruned real weights zero every virtual weight in their buckets, and
    /// the mask shows which virtual weights still train.
    func testPruningARealWeightZeroesItsWholeBucket() {
        let layer = HashedDense(name: "d", inputs: 20, units: 10, buckets: 30, random: &random)
        SparseWeights.prune(SparseWeights.prunable([layer]), fraction: 0.5, global: false)
        XCTAssertEqual(layer.weight.zeroCount, 15)
        let grids = layer.weightGrids
        XCTAssertEqual(grids.map(\.kind), [.values, .pattern])
        for k in 0..<200 where grids[1].values[k] == 0 { XCTAssertEqual(grids[0].values[k], 0) }
        XCTAssertEqual(grids[1].values.filter { $0 == 0 }.count, layer.hash.bucket.filter { layer.weight.value[Int($0)] == 0 }.count)
    }
}
