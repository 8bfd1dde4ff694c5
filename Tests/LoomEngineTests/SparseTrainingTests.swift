import LoomEngine
import XCTest

/// Training through sparse weights against the masked dense computation.
final class SparseTrainingTests: XCTestCase {
    private func randomTensor(_ shape: [Int], _ random: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() * 2 - 1 }
        return t
    }

    /// A mask with `zeros` of its places zero, at random.
    private func randomMask(_ count: Int, zeros: Double, _ random: inout RandomGenerator) -> [Float] {
        var places = Array(0..<count)
        places.shuffle(using: &random)
        var mask = [Float](repeating: 1, count: count)
        for i in places.prefix(Int(zeros * Double(count))) { mask[i] = 0 }
        return mask
    }

    /// Forward, input gradient and weight gradient through the pattern equal
    /// the dense products of the masked weight, on random cases (rows not a
    /// multiple of the kernels' eight, sequences too).
    func testSparseProductsEqualTheMaskedDenseProducts() throws {
        var random = RandomGenerator(seed: 11)
        for (inputs, units, rows, steps, zeros) in [(37, 29, 13, nil, 0.85), (64, 40, 8, nil, 0.9), (20, 50, 5, 3, 0.8),
                                                    (100, 7, 33, nil, 0.99)] as [(Int, Int, Int, Int?, Double)] {
            var generator = RandomGenerator(seed: UInt64(inputs))
            let sparse = Dense(name: "s", inputs: inputs, units: units, steps: steps, random: &generator)
            generator = RandomGenerator(seed: UInt64(inputs))
            let dense = Dense(name: "d", inputs: inputs, units: units, steps: steps, random: &generator)
            dense.weight.trainsSparsely = false
            let mask = randomMask(inputs * units, zeros: zeros, &random)
            for layer in [sparse, dense] {
                for j in 0..<units { layer.bias.value[j] = Float(j) * 0.01 }
                try layer.weight.setMask(mask)
                layer.weight.prepareSparseValues()
                layer.weight.zeroGradient()
                layer.bias.zeroGradient()
            }
            let pattern = try XCTUnwrap(sparse.weight.sparsePattern)
            XCTAssertNil(dense.weight.sparsePattern)
            XCTAssertEqual(pattern.count, mask.filter { $0 != 0 }.count)
            let x = randomTensor([rows] + (steps.map { [$0] } ?? []) + [inputs], &random)
            let dy = randomTensor([rows] + (steps.map { [$0] } ?? []) + [units], &random)
            let (ys, yd) = (sparse.forward(x, training: true), dense.forward(x, training: true))
            let (dxs, dxd) = (sparse.backward(dy), dense.backward(dy))
            let case_ = "\(inputs)x\(units), \(rows) rows"
            for i in 0..<yd.count { XCTAssertEqual(ys[i], yd[i], accuracy: 1e-5 * max(1, abs(yd[i])), case_) }
            for i in 0..<dxd.count { XCTAssertEqual(dxs[i], dxd[i], accuracy: 1e-5 * max(1, abs(dxd[i])), case_) }
            XCTAssertEqual(sparse.weight.sparseGradient.count, pattern.count)
            for (k, place) in pattern.positions.enumerated() {
                let expected = dense.weight.gradient[place]
                XCTAssertEqual(sparse.weight.sparseGradient[k], expected, accuracy: 1e-5 * max(1, abs(expected)), case_)
            }
            for j in 0..<units { XCTAssertEqual(sparse.bias.gradient[j], dense.bias.gradient[j], accuracy: 1e-5, case_) }
        }
    }

    /// A model at 90% zeros trained sparsely ends where the same model
    /// trained densely (masks and all) ends, to float rounding, with every
    /// optimizer; the zeros stay exactly where they were.
    func testSparseTrainingFollowsMaskedDenseTrainingOverARun() throws {
        var random = RandomGenerator(seed: 3)
        let x = randomTensor([96, 30], &random)
        let data = Dataset(inputs: x, labels: (0..<96).map { $0 % 4 })
        for kind in OptimizerKind.allCases {
            func trained(sparsely: Bool) throws -> (Sequential, [EpochRecord]) {
                let model = try Sequential(name: "m", inputShape: [30], random: RandomGenerator(seed: 7))
                try model.add(DenseSpec(units: 40, activation: .relu, sparsity: 0.9))
                try model.add(DenseSpec(units: 40, activation: .relu, sparsity: 0.9))
                try model.add(DenseSpec(units: 4, activation: .softmax))
                for p in model.parameters { p.trainsSparsely = sparsely && p.trainsSparsely }
                XCTAssertEqual(model.parameters.filter { $0.sparsePattern != nil }.count, sparsely ? 2 : 0)
                var shuffle = RandomGenerator(seed: 9)
                let outcome = Trainer.fit(model, on: data, options: FitOptions(epochs: 8, batchSize: 32, loss: .crossentropy),
                                          optimizer: Optimizer(kind), random: &shuffle, clock: { 0 })
                return (model, outcome.history)
            }
            let (sparse, sparseHistory) = try trained(sparsely: true)
            let (dense, denseHistory) = try trained(sparsely: false)
            for (s, d) in zip(sparseHistory, denseHistory) { XCTAssertEqual(s.loss, d.loss, accuracy: 1e-6, "\(kind)") }
            for (s, d) in zip(sparse.parameters, dense.parameters) {
                XCTAssertEqual(s.mask, d.mask)
                for i in 0..<s.value.count {
                    XCTAssertEqual(s.value[i], d.value[i], accuracy: 2e-6, "\(kind) \(s.name) \(i)")
                    if s.mask?[i] == 0 { XCTAssertEqual(s.value[i], 0) }
                }
            }
        }
    }

    /// The optimizer on a pattern's weights gives every weight exactly what
    /// the masked dense step gives it, across a mask that moves (a weight
    /// dropped loses its moments, a weight grown starts from none).
    func testSparseStepsEqualMaskedDenseStepsAcrossAMovingMask() throws {
        var random = RandomGenerator(seed: 8)
        let start = randomTensor([10, 10], &random)
        var mask = [Float](repeating: 0, count: 100)
        for i in stride(from: 3, to: 100, by: 10) { mask[i] = 1 }
        for kind in OptimizerKind.allCases {
            let (sparse, dense) = (Parameter(name: "kernel", value: start), Parameter(name: "kernel", value: start))
            sparse.trainsSparsely = true
            let (sparseOptimizer, denseOptimizer) = (Optimizer(kind, learningRate: 0.1), Optimizer(kind, learningRate: 0.1))
            var current = mask
            for step in 1...5 {
                if step == 3 {
                    // Rewired: 3 and 13 leave, 0 and 1 arrive; this step's update uses the dense gradient.
                    (current[3], current[13], current[0], current[1]) = (0, 0, 1, 1)
                    sparse.denseGradientRequested = true
                } else if step == 4 {
                    sparse.denseGradientRequested = false
                }
                if step == 1 || step == 3 {
                    try sparse.setMask(current)
                    try dense.setMask(current)
                }
                let pattern = try XCTUnwrap(sparse.sparsePattern)
                let gradient = randomTensor([10, 10], &random)
                for p in [sparse, dense] { p.zeroGradient() }
                dense.gradient = gradient
                if sparse.denseGradientRequested {
                    sparse.gradient = gradient
                } else {
                    sparse.sparseGradient = pattern.positions.map { gradient[$0] }
                }
                sparseOptimizer.step([sparse])
                denseOptimizer.step([dense])
                XCTAssertEqual(sparse.value.storage, dense.value.storage, "\(kind), step \(step)")
            }
        }
    }

    /// The sparse products' gradients against central differences of
    /// L = Σ c·y, with the forward itself through the sparse kernel.
    func testSparseGradientsMatchFiniteDifferences() throws {
        var random = RandomGenerator(seed: 21)
        let layer = Dense(name: "s", inputs: 12, units: 9, random: &random)
        try layer.weight.setMask(randomMask(12 * 9, zeros: 0.8, &random))
        let x = randomTensor([5, 12], &random), c = randomTensor([5, 9], &random)
        try checkSparseGradients(layer, weight: layer.weight, x: x, c: c)
    }
}
