import LoomEngine
import XCTest

/// Layers that use another layer's parameters (`share`) or the transpose of
/// its kernel (`tied`): one parameter in the model's table, gradients added
/// from every use, one optimizer update, one mask, saved once.
final class SharedParameterTests: XCTestCase {
    var random = RandomGenerator(seed: 17)

    func randomTensor(_ shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() * 2 - 1 }
        return t
    }

    func dense(_ model: Sequential, _ block: Int) -> Dense { model.blocks[block].main as! Dense }

    /// input 5 → dense1 5 tanh → dense2 5 tanh on dense1's weights → dense3 2.
    func sharingModel(seed: UInt64) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [5], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 5, activation: .tanh))
        try model.add(.dense(units: 5, activation: .tanh), sharing: "dense1")
        try model.add(.dense(units: 2, activation: .linear))
        return model
    }

    /// input 6 → dense1 3 tanh → dense2 6 on dense1's kernel transposed, with its own bias.
    func tiedModel(seed: UInt64) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [6], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 3, activation: .tanh))
        try model.add(DenseSpec(units: 6, activation: .linear, tied: "dense1"))
        return model
    }

    /// input 6 → dense1 4 tanh → dense2 4 tanh → dense3 4 tanh sharing dense2 → dense4 6 tied to dense1.
    func autoencoder(seed: UInt64) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [6], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 4, activation: .tanh))
        try model.add(.dense(units: 4, activation: .tanh))
        try model.add(.dense(units: 4, activation: .tanh), sharing: "dense2")
        try model.add(DenseSpec(units: 6, activation: .linear, tied: "dense1"))
        return model
    }

    /// Checks every weight's gradient of L = Σ wᵢ·yᵢ (fixed random w, the
    /// whole model's output y) against central finite differences.
    func checkGradients(_ model: Sequential, input x: Tensor, eps: Float = 1e-2, tolerance: Double = 2e-2,
                        file: StaticString = #filePath, line: UInt = #line) {
        let y = model.forward(x, training: true)
        let w = randomTensor(y.shape)
        func loss() -> Double {
            let out = model.forward(x, training: false)
            return (0..<out.count).reduce(0.0) { $0 + Double(out[$1]) * Double(w[$1]) }
        }
        for p in model.parameters { p.zeroGradient() }
        model.backward(w)
        for p in model.parameters {
            for (i, numerical) in numericalGradient(of: p, eps: eps, loss).enumerated() {
                let analytic = Double(p.gradient[i])
                XCTAssertLessThan(abs(analytic - numerical) / max(1, abs(analytic), abs(numerical)), tolerance,
                                  "\(p.name)[\(i)]: analytic \(analytic) vs numeric \(numerical)", file: file, line: line)
            }
        }
    }

    func testTwoDenseLayersOnOneWeightMatchFiniteDifferences() throws {
        let model = try sharingModel(seed: 3)
        XCTAssertTrue(dense(model, 1).weight === dense(model, 0).weight)
        XCTAssertTrue(dense(model, 1).bias === dense(model, 0).bias)
        XCTAssertEqual(model.parameters.count, 4, "dense1's kernel and bias, dense3's kernel and bias")
        XCTAssertEqual(model.parameterCount, 30 + 12)
        XCTAssertEqual(model.blocks.map(\.parameterCount), [30, 0, 12])
        checkGradients(model, input: randomTensor([4, 5]))
    }

    func testADenseLayerOnAnothersTransposeMatchesFiniteDifferences() throws {
        let model = try tiedModel(seed: 4)
        let (encoder, decoder) = (dense(model, 0), dense(model, 1))
        XCTAssertTrue(decoder.weight === encoder.weight)
        XCTAssertFalse(decoder.bias === encoder.bias)
        XCTAssertEqual(model.parameters.count, 3)
        XCTAssertEqual(model.blocks.map(\.parameterCount), [18 + 3, 6])
        checkGradients(model, input: randomTensor([4, 6]))
    }

    /// `share` takes any layer's weights: convolutions and recurrent cells
    /// (one way and both ways) too, their gradients added from both uses.
    func testConvolutionsAndRecurrentLayersShareTheirWeights() throws {
        let image = try Sequential(name: "c", inputShape: [5, 5, 2], random: RandomGenerator(seed: 13))
        try image.add(.conv2d(filters: 2, kernel: (3, 3), activation: .tanh, stride: 1, padding: .same))
        try image.add(.conv2d(filters: 2, kernel: (3, 3), activation: .tanh, stride: 1, padding: .same), sharing: "conv1")
        let (first, second) = (image.blocks[0].main as! Conv2D, image.blocks[1].main as! Conv2D)
        XCTAssertTrue(second.weight === first.weight && second.bias === first.bias)
        XCTAssertEqual(image.parameters.count, 2)
        checkGradients(image, input: randomTensor([2, 5, 5, 2]))

        for bidirectional in [false, true] {
            let sequence = try Sequential(name: "s", inputShape: [4, 6], random: RandomGenerator(seed: 14))
            let cell = RecurrentSpec(cell: LSTM.self, units: 3, returnsSequences: true, bidirectional: bidirectional)
            try sequence.add(.dense(units: 3, activation: .linear))
            try sequence.add(cell)
            let width = bidirectional ? 6 : 3
            try sequence.add(.dense(units: 3, activation: .linear))
            try sequence.add(cell, sharing: "lstm1")
            XCTAssertTrue(zip(sequence.blocks[3].parameters, sequence.blocks[1].parameters).allSatisfy { $0 === $1 })
            XCTAssertEqual(sequence.blocks.map(\.parameterCount), [6 * 3 + 3, sequence.blocks[1].parameterCount, width * 3 + 3, 0])
            checkGradients(sequence, input: randomTensor([2, 4, 6]))
        }
    }

    /// The tied layer's output against the product written out: tanh(x·W + b₁)·Wᵀ + b₂.
    func testATiedLayerMultipliesByTheTransposedKernel() throws {
        let model = try tiedModel(seed: 5)
        let (w, b1) = (dense(model, 0).weight.value, dense(model, 0).bias.value)
        let b2 = dense(model, 1).bias
        for j in 0..<6 { b2.value[j] = Float(j) * 0.1 - 0.2 }
        let x = randomTensor([3, 6])
        let y = model.forward(x, training: false)
        for s in 0..<3 {
            let h = (0..<3).map { k in tanh((0..<6).reduce(b1[k]) { $0 + x[s * 6 + $1] * w[$1 * 3 + k] }) }
            for j in 0..<6 {
                let expected = (0..<3).reduce(b2.value[j]) { $0 + h[$1] * w[j * 3 + $1] }
                XCTAssertEqual(y[s * 6 + j], expected, accuracy: 1e-5, "sample \(s), output \(j)")
            }
        }
    }

    /// A batch of 32 runs as four shards on replicas; one SGD step must move
    /// every weight by the rate times the whole batch's gradient, each
    /// shared weight once with the sum of its uses.
    func testShardsAndOneStepUpdateASharedWeightOnce() throws {
        let x = randomTensor([32, 6])
        let reference = try autoencoder(seed: 7), trained = try autoencoder(seed: 7)
        for p in reference.parameters { p.zeroGradient() }
        let output = reference.forward(x, training: true)
        reference.backward(Loss.mse.evaluate(output, targets: .values(x)).gradient)
        var shuffle = RandomGenerator(seed: 1)
        _ = Trainer.fit(trained, on: Dataset(inputs: x, targets: .values(x)),
                        options: FitOptions(epochs: 1, batchSize: 32, loss: .mse),
                        optimizer: Optimizer(.sgd, learningRate: 0.5), random: &shuffle, clock: { 0 })
        XCTAssertEqual(trained.parameters.count, reference.parameters.count)
        for (before, after) in zip(reference.parameters, trained.parameters) {
            for i in 0..<before.value.count {
                let expected = before.value[i] - 0.5 * before.gradient[i]
                XCTAssertEqual(after.value[i], expected, accuracy: 1e-5 * max(1, abs(expected)), "\(before.name)[\(i)]")
            }
        }
        XCTAssertNotEqual(dense(reference, 0).weight.value, dense(trained, 0).weight.value, "the step moved the kernel")
    }

    /// Adam keeps one pair of moments per parameter: a shared kernel takes
    /// one step, as the same weights and gradient alone would.
    func testAdamStepsASharedWeightOnce() throws {
        let model = try tiedModel(seed: 8)
        for p in model.parameters { p.zeroGradient() }
        model.backward(model.forward(randomTensor([4, 6]), training: true))
        let kernel = dense(model, 0).weight
        let alone = Parameter(name: "kernel", value: kernel.value)
        alone.gradient = kernel.gradient
        Optimizer(.adam).step([alone])
        Optimizer(.adam).step(model.parameters)
        XCTAssertEqual(kernel.value, alone.value)
    }

    func testAModelsReplicaSharesEachReplicatedParameterOnce() throws {
        let model = try autoencoder(seed: 9)
        let replica = model.replica()
        XCTAssertEqual(replica.parameters.count, model.parameters.count)
        XCTAssertTrue(dense(replica, 2).weight === dense(replica, 1).weight)
        XCTAssertTrue(dense(replica, 3).weight === dense(replica, 0).weight)
        XCTAssertFalse(dense(replica, 0).weight === dense(model, 0).weight)
        for layer in replica.layers {
            for p in layer.parameters { XCTAssertTrue(replica.parameters.contains { $0 === p }, "\(layer.name).\(p.name)") }
        }
    }

    /// A mask set on a shared kernel holds in every layer that uses it,
    /// through training on replicas; sparsity and pruning count it once.
    func testMasksAreSharedAndCountedOnce() throws {
        let model = try tiedModel(seed: 10)
        let kernel = dense(model, 0).weight
        let mask = (0..<18).map { Float($0 % 2) }
        try kernel.setMask(mask)
        XCTAssertEqual(dense(model, 1).weight.mask, mask)
        XCTAssertEqual(SparseWeights.prunable(model.layers).count, 1, "one kernel, used twice")
        let x = randomTensor([32, 6])
        var shuffle = RandomGenerator(seed: 2)
        _ = Trainer.fit(model, on: Dataset(inputs: x, targets: .values(x)), options: FitOptions(epochs: 3, batchSize: 16, loss: .mse),
                        optimizer: Optimizer(.adam), random: &shuffle, clock: { 0 })
        for i in 0..<18 { XCTAssertEqual(kernel.value[i] == 0, mask[i] == 0, "kernel[\(i)]") }
        let sparsity = model.sparsity()
        XCTAssertEqual(sparsity.blocks.map(\.weights), [18 + 3, 6])
        XCTAssertEqual(sparsity.blocks.map(\.zeroWeights), [9, 0])
    }

    /// Saved once under its first block's name and loaded back shared: the
    /// loaded model's layers use one object again, with the saved values.
    func testASaveAndLoadRoundTripKeepsTheSharing() throws {
        let saved = try autoencoder(seed: 11)
        try dense(saved, 0).weight.setMask((0..<24).map { Float(($0 / 3) % 2) })
        for p in saved.parameters { for i in 0..<p.value.count where p.mask?[i] != 0 { p.value[i] += 0.01 * Float(i) } }
        let bytes = SafeTensors.encode(saved.weightTensors, metadata: [])
        XCTAssertEqual(saved.weightTensors.map(\.name),
                       ["dense1.kernel", "dense1.kernel.mask", "dense1.bias", "dense2.kernel", "dense2.bias", "dense4.bias"])
        let tensors = try SafeTensors.decode(bytes, source: "saved").tensors
        let loaded = try autoencoder(seed: 12)
        XCTAssertNotEqual(dense(loaded, 0).weight.value, dense(saved, 0).weight.value)
        try loaded.load(weights: tensors, source: "saved")
        XCTAssertTrue(dense(loaded, 2).weight === dense(loaded, 1).weight)
        XCTAssertTrue(dense(loaded, 2).bias === dense(loaded, 1).bias)
        XCTAssertTrue(dense(loaded, 3).weight === dense(loaded, 0).weight)
        XCTAssertEqual(loaded.parameters.map(\.value), saved.parameters.map(\.value))
        XCTAssertEqual(loaded.parameters.map(\.mask), saved.parameters.map(\.mask))
        let x = randomTensor([5, 6])
        XCTAssertEqual(loaded.forward(x, training: false), saved.forward(x, training: false))
    }

    /// A model that shares nothing names its tensors as saved files always
    /// have, so they load as before.
    func testAModelThatSharesNothingSavesTheSameTensorNames() throws {
        let model = try Sequential(name: "m", inputShape: [6, 6, 1], random: RandomGenerator(seed: 1))
        try model.add(.conv2d(filters: 2, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        try model.add(.flatten)
        try model.add(DenseSpec(units: 3, activation: .softmax, sparsity: 0.5))
        XCTAssertEqual(model.weightTensors.map(\.name), ["conv1.kernel", "conv1.bias", "dense1.kernel", "dense1.kernel.mask", "dense1.bias"])
        var tensors = Dictionary(uniqueKeysWithValues: model.weightTensors.map { ($0.name, $0.tensor) })
        tensors["dense1.bias"] = nil
        XCTAssertThrowsError(try model.load(weights: tensors, source: "f.safetensors")) {
            XCTAssertEqual("\($0)", "f.safetensors has no tensor dense1.bias")
        }
    }

    func testSharingErrorsNameBothLayers() throws {
        let model = try Sequential(name: "m", inputShape: [6], random: RandomGenerator(seed: 1))
        try model.add(.dense(units: 3, activation: .tanh))
        func error(_ spec: some LayerSpec, sharing: String? = nil) -> String? {
            do { try model.add(spec, sharing: sharing) } catch { return error.message }
            return nil
        }
        XCTAssertEqual(error(.dense(units: 3, activation: .tanh), sharing: "dense9"),
                       "dense2 shares the parameters of `dense9`, but no layer before it is called `dense9`")
        XCTAssertEqual(error(DenseSpec(units: 6, activation: .linear, tied: "encoder")),
                       "dense3 is tied to the kernel of `encoder`, but no layer before it is called `encoder`")
        XCTAssertEqual(error(.dense(units: 2, activation: .tanh), sharing: "dense1"),
                       "dense4 cannot share dense1's parameters: its kernel is 3x2, dense1's kernel is 6x3")
        XCTAssertEqual(error(DenseSpec(units: 5, activation: .linear, tied: "dense1")),
                       "dense5 is tied to dense1's 6x3 kernel, so it needs 3 inputs and 6 units, not 3 and 5")
        XCTAssertEqual(error(DenseSpec(units: 6, activation: .linear, sparsity: 0.5, tied: "dense1")),
                       "dense6 uses dense1's kernel, and with it its mask: give `sparse` on dense1")
        XCTAssertEqual(error(.dense(units: 8, activation: .tanh), sharing: "dense1"),
                       "dense7 cannot share dense1's parameters: it needs 32 weights, dense1 has 21")
        XCTAssertEqual(model.blocks.count, 1, "a failed line adds nothing")
        XCTAssertEqual(model.parameters.count, 2)

        let image = try Sequential(name: "c", inputShape: [5, 5, 1], random: RandomGenerator(seed: 1))
        try image.add(.conv2d(filters: 2, kernel: (3, 3), activation: .relu, stride: 1, padding: .same))
        try image.add(.flatten)
        XCTAssertThrowsError(try image.add(DenseSpec(units: 9, activation: .linear, tied: "conv1"))) {
            XCTAssertEqual("\($0)", "dense1 is tied to conv1, a conv2d layer: `tied` takes a dense layer's kernel")
        }
        try image.add(.dense(units: 18, activation: .relu))
        XCTAssertThrowsError(try image.add(.dense(units: 1, activation: .relu), sharing: "conv1")) {
            XCTAssertEqual("\($0)", "dense3 cannot share conv1's parameters: dense3 is dense, conv1 is conv2d")
        }
    }
}
