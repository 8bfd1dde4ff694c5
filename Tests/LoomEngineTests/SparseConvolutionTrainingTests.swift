import LoomEngine
import XCTest

/// conv2d trained through its kernel's sparse pattern (the patches times the
/// kernel read as `[kh·kw·C, filters]`) against the masked dense computation.
final class SparseConvolutionTrainingTests: XCTestCase {
    private func randomTensor(_ shape: [Int], _ random: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() * 2 - 1 }
        return t
    }

    /// 8×8×3 images, four classes: a `same` convolution at 90% zeros, a
    /// strided one at 85%, and a dense layer.
    private func model(sparsely: Bool) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [8, 8, 3], random: RandomGenerator(seed: 7))
        try model.add(Conv2DSpec(filters: 16, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .same, sparsity: 0.9))
        try model.add(Conv2DSpec(filters: 8, kernel: Window(3, 3), activation: .relu, stride: 2, padding: .valid, sparsity: 0.92))
        try model.add(FlattenSpec())
        try model.add(DenseSpec(units: 4, activation: .softmax))
        for p in model.parameters { p.trainsSparsely = sparsely && p.trainsSparsely }
        XCTAssertEqual(model.parameters.filter { $0.sparsePattern != nil }.count, sparsely ? 2 : 0)
        return model
    }

    /// 80 random 8×8 images of `channels` channels, four classes.
    private func data(channels: Int = 3) -> Dataset {
        var random = RandomGenerator(seed: 3)
        return Dataset(inputs: randomTensor([80, 8, 8, channels], &random), labels: (0..<80).map { $0 % 4 })
    }

    /// Trained sparsely for a whole run, the model ends where the same model
    /// trained densely (masks and all) ends, to float rounding (losses within
    /// 1e-6, weights within 1e-5 relative), with every optimizer; the zeros
    /// stay exactly where they were.
    func testSparseConvolutionTrainingFollowsMaskedDenseTrainingOverARun() throws {
        let data = data()
        for kind in OptimizerKind.allCases {
            func trained(sparsely: Bool) throws -> (Sequential, [EpochRecord]) {
                let model = try model(sparsely: sparsely)
                var shuffle = RandomGenerator(seed: 9)
                let outcome = Trainer.fit(model, on: data, options: FitOptions(epochs: 6, batchSize: 16, loss: .crossentropy),
                                          optimizer: Optimizer(kind, learningRate: 0.01), random: &shuffle, clock: { 0 })
                return (model, outcome.history)
            }
            let (sparse, sparseHistory) = try trained(sparsely: true)
            let (dense, denseHistory) = try trained(sparsely: false)
            XCTAssertLessThan(sparseHistory.last!.loss, sparseHistory.first!.loss, "\(kind): it learns")
            for (s, d) in zip(sparseHistory, denseHistory) { XCTAssertEqual(s.loss, d.loss, accuracy: 1e-6, "\(kind)") }
            for (s, d) in zip(sparse.parameters, dense.parameters) {
                XCTAssertEqual(s.mask, d.mask)
                for i in 0..<s.value.count {
                    XCTAssertEqual(s.value[i], d.value[i], accuracy: 1e-5 * max(1, abs(d.value[i])), "\(kind) \(s.name) \(i)")
                    if s.mask?[i] == 0 { XCTAssertEqual(s.value[i], 0) }
                }
            }
        }
    }

    /// The input gradient (through the pattern, then col2im) and the weight
    /// gradient at the nonzeros against central differences of L = Σ c·y,
    /// the forward itself through the sparse kernel; the dense weight
    /// gradient is left untouched.
    func testSparseConvolutionGradientsMatchFiniteDifferences() throws {
        var random = RandomGenerator(seed: 21)
        let layer = try Conv2D(name: "c", input: [5, 5, 3], filters: 6, kernel: Window(3, 3), stride: 2, padding: .same,
                               random: &random)
        var mask = [Float](repeating: 0, count: layer.weight.value.count)
        for i in stride(from: 1, to: mask.count, by: 9) { mask[i] = 1 }
        try layer.weight.setMask(mask)
        let pattern = try XCTUnwrap(layer.weight.sparsePattern)
        XCTAssertEqual(pattern.inputs, 27)
        XCTAssertEqual(pattern.outputs, 6)
        for j in 0..<6 { layer.bias.value[j] = Float(j) * 0.1 }
        let x = randomTensor([2, 5, 5, 3], &random), c = randomTensor([2, 3, 3, 6], &random)
        try checkSparseGradients(layer, weight: layer.weight, x: x, c: c)
        XCTAssertEqual(layer.weight.gradient.zeroCount, layer.weight.value.count, "the dense weight gradient is not computed")
        for j in 0..<6 {
            let sum = (0..<c.count).filter { $0 % 6 == j }.reduce(0.0) { $0 + Double(c[$1]) }
            XCTAssertEqual(Double(layer.bias.gradient[j]), sum, accuracy: 1e-5)
        }
    }

    /// A full convolution's kernel trains through its pattern from
    /// `SparsePattern.convolutionThreshold` of zeros on and not one zero below; a
    /// grouped one never does.
    func testTheSwitchHappensAtTheThresholdAndNotBelow() throws {
        var random = RandomGenerator(seed: 2)
        let layer = try Conv2D(name: "c", input: [6, 6, 4], filters: 8, kernel: Window(3, 3), stride: 1, padding: .valid,
                               random: &random)
        let count = layer.weight.value.count
        let atThreshold = Int((SparsePattern.convolutionThreshold * Double(count)).rounded(.up))
        func mask(zeros: Int) -> [Float] { (0..<count).map { $0 < zeros ? 0 : 1 } }
        try layer.weight.setMask(mask(zeros: atThreshold - 1))
        XCTAssertNil(layer.weight.sparsePattern, "\(atThreshold - 1) zeros of \(count)")
        try layer.weight.setMask(mask(zeros: atThreshold))
        XCTAssertEqual(layer.weight.sparsePattern?.count, count - atThreshold)
        XCTAssertEqual(layer.weight.sparsePattern?.positions.first, atThreshold)
        let grouped = try Conv2D(name: "g", input: [6, 6, 4], filters: 64, kernel: Window(3, 3), stride: 1, padding: .valid,
                                 groups: 2, random: &random)
        try grouped.weight.setMask((0..<grouped.weight.value.count).map { $0 % 10 == 0 ? 1 : 0 })
        XCTAssertNil(grouped.weight.sparsePattern, "grouped kernels train densely")
    }

    /// SET and RigL move a sparse conv2d's mask while it trains through its
    /// pattern: after every step the pattern is the mask's nonzeros, their
    /// number never changes, masked weights stay zero, and the whole run
    /// ends where the masked dense run ends (same masks, weights to rounding).
    func testRewiringKeepsWorkingWithTheSparsePathOn() throws {
        let data = data()
        for method in Rewiring.Method.allCases {
            func trained(sparsely: Bool) throws -> (Sequential, moved: Int) {
                let model = try model(sparsely: sparsely)
                let kernels = model.parameters.filter { $0.value.shape.count == 4 }
                let counts = kernels.map { $0.mask!.filter { $0 != 0 }.count }
                let first = kernels.map { $0.mask! }
                var options = FitOptions(epochs: 3, batchSize: 16, loss: .crossentropy)
                options.rewiring = Rewiring(method, every: 2, fraction: 0.3)
                var random = RandomGenerator(seed: 4)
                _ = Trainer.fit(model, on: data, options: options, optimizer: Optimizer(.adam), random: &random, clock: { 0 },
                                progress: { _ in
                    for (w, count) in zip(kernels, counts) {
                        let nonzeros = w.mask!.indices.filter { w.mask![$0] != 0 }
                        XCTAssertEqual(nonzeros.count, count, "\(method): the sparsity stays exact")
                        if sparsely { XCTAssertEqual(w.sparsePattern?.positions, nonzeros, "\(method): the pattern follows the mask") }
                        XCTAssertTrue(zip(w.mask!, w.value.storage).allSatisfy { $0 != 0 || $1 == 0 }, "\(method)")
                    }
                })
                let moved = zip(kernels, first).reduce(0) { $0 + zip($1.0.mask!, $1.1).filter { $0 != $1 }.count }
                return (model, moved)
            }
            let (sparse, moved) = try trained(sparsely: true)
            let (dense, _) = try trained(sparsely: false)
            XCTAssertGreaterThan(moved, 0, "\(method): the masks moved")
            for (s, d) in zip(sparse.parameters, dense.parameters) {
                XCTAssertEqual(s.mask, d.mask, "\(method) \(s.name)")
                for i in 0..<s.value.count {
                    XCTAssertEqual(s.value[i], d.value[i], accuracy: 1e-5 * max(1, abs(d.value[i])), "\(method) \(s.name) \(i)")
                }
            }
        }
    }

    /// A conv2d pruned 1:12 (92% zeros on a fan-in of 3·3·4, so through its
    /// pattern) keeps one nonzero in every twelve consecutive inputs of each
    /// filter after every step, with every optimizer, and with rewiring.
    func testAnNMConvolutionStillHoldsNOfM() throws {
        let data = data(channels: 4)
        for (kind, rewiring) in OptimizerKind.allCases.map({ ($0, nil) }) + [(.adam, Rewiring(.rigl, every: 2, fraction: 0.5))]
            as [(OptimizerKind, Rewiring?)] {
            let model = try Sequential(name: "m", inputShape: [8, 8, 4], random: RandomGenerator(seed: 5))
            try model.add(Conv2DSpec(filters: 8, kernel: Window(3, 3), activation: .relu, stride: 2, padding: .valid))
            try model.add(FlattenSpec())
            try model.add(DenseSpec(units: 4, activation: .softmax))
            let kernel = model.parameters[0]
            SparseWeights.prune([kernel], keeping: 1, of: 12)
            XCTAssertNotNil(kernel.sparsePattern, "1:12 is past the threshold")
            let first = kernel.mask!
            var options = FitOptions(epochs: 2, batchSize: 16, loss: .crossentropy)
            options.rewiring = rewiring
            var random = RandomGenerator(seed: 6), checks = 0
            _ = Trainer.fit(model, on: data, options: options, optimizer: Optimizer(kind), random: &random, clock: { 0 },
                            progress: { _ in
                XCTAssertEqual(Set(blockCounts(kernel.mask!, units: 8, block: 12)), [1], "\(kind): 1 of every 12")
                XCTAssertTrue(zip(kernel.mask!, kernel.value.storage).allSatisfy { $0 != 0 || $1 == 0 }, "\(kind)")
                checks += 1
            })
            XCTAssertEqual(checks, 2 * 5)
            XCTAssertEqual(kernel.blockPattern, BlockPattern(kept: 1, block: 12))
            if rewiring != nil { XCTAssertNotEqual(kernel.mask!, first, "the mask moved within its blocks") }
        }
    }
}
