import Foundation
import LoomEngine
import XCTest

/// `l2 λ` on every family with a kernel: depthwise and separable
/// convolutions, locally connected layers and the recurrent cells decay
/// their kernels (a recurrent layer's recurrent kernel too), never a bias,
/// whatever its rank.
extension WeightDecayTests {
    /// A model of `specs` on `shape` whose first kernel has every third weight masked.
    func decayedModel(_ shape: [Int], _ specs: [any LayerSpec]) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: shape, random: RandomGenerator(seed: 12))
        for spec in specs { try m.add(spec) }
        let kernel = try XCTUnwrap(m.parameters.first { $0.value.shape.count >= 2 })
        try kernel.setMask((0..<kernel.value.count).map { $0 % 3 == 0 ? 0 : 1 })
        return m
    }

    func testEveryKernelFamilyFollowsTheGradientWithThePenalty() throws {
        let softmax = DenseSpec(units: 2, activation: .softmax)
        // Each model, and the parameters (block, name, λ) the penalty is over, written out by hand.
        let cases: [(String, [Int], [any LayerSpec], [(Int, String, Double)])] = [
            ("convolutions", [5, 5, 2], [DepthwiseSpec(kernel: Window(2, 2), multiplier: 2, activation: .tanh, l2: 0.2),
                                         SeparableSpec(filters: 2, kernel: Window(2, 2), activation: .tanh, l2: 0.1),
                                         FlattenSpec(), softmax],
             [(0, "kernel", 0.2), (1, "depthwise_kernel", 0.1), (1, "pointwise_kernel", 0.1)]),
            ("local2d", [4, 4, 1], [Local2DSpec(filters: 2, kernel: Window(2, 2), activation: .tanh, l2: 0.3), FlattenSpec(), softmax],
             [(0, "kernel", 0.3)]),
            ("local1d", [6, 2], [Local1DSpec(filters: 2, kernel: 3, activation: .tanh, l2: 0.3), FlattenSpec(), softmax],
             [(0, "kernel", 0.3)]),
            ("lstm", [4, 2], [RecurrentSpec(cell: LSTM.self, units: 3, l2: 0.1), softmax],
             [(0, "kernel", 0.1), (0, "recurrent_kernel", 0.1)]),
            ("gru", [4, 2], [RecurrentSpec(cell: GRU.self, units: 2, bidirectional: true, l2: 0.15), softmax],
             [(0, "forward.kernel", 0.15), (0, "forward.recurrent_kernel", 0.15),
              (0, "backward.kernel", 0.15), (0, "backward.recurrent_kernel", 0.15)]),
            ("rnn", [4, 2], [RecurrentSpec(cell: SimpleRNN.self, units: 3, l2: 0.25), softmax],
             [(0, "kernel", 0.25), (0, "recurrent_kernel", 0.25)]),
        ]
        for (key, shape, specs, decayed) in cases {
            let make = { try self.decayedModel(shape, specs) }
            let model = try make()
            XCTAssertEqual(model.decayedKernels.map(\.weight.name), decayed.map { $0.1 }, "\(key): the kernels decayed, no bias")
            XCTAssertEqual(model.decayedKernels.map { Double($0.lambda) }, decayed.map { Double(Float($0.2)) }, key)
            let data = Dataset(inputs: inputs(16, shape.reduce(1, *), seed: 3).reshaped([16] + shape),
                               labels: (0..<16).map { $0 % 2 })
            try checkOneStep(make, on: data, loss: .crossentropy) { m in
                decayed.reduce(Metrics.evaluate(m, on: data, loss: .crossentropy).loss) { total, kernel in
                    let p = m.blocks[kernel.0].ownParameters.first { $0.name == kernel.1 }!
                    return total + Double(Float(kernel.2)) * sumOfSquares(p)
                }
            }
        }
    }
}

/// AdamW: Adam with each kernel shrunk by lr·wd of itself before the step
/// (Keras's order), biases left alone, masked weights kept zero.
final class AdamWTests: XCTestCase {
    func data(_ count: Int, _ width: Int) -> Dataset {
        var random = RandomGenerator(seed: 21)
        var x = Tensor(zeros: [count, width])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        return Dataset(inputs: x, labels: (0..<count).map { $0 % 3 })
    }

    func model(sparsity: Double?) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [12], random: RandomGenerator(seed: 5))
        try m.add(DenseSpec(units: 40, activation: .relu, sparsity: sparsity))
        try m.add(DenseSpec(units: 3, activation: .softmax))
        return m
    }

    /// One step of AdamW and one of Adam from the same weights on the same
    /// batch (32 samples, in shards) take the same gradient, so they differ
    /// by lr·wd·w on each kernel and not at all on the biases; a kernel
    /// trained through its sparse pattern (90% masked) too, its masked
    /// weights staying zero.
    func testAdamWIsAdamLessTheDecoupledDecayOfTheKernels() throws {
        for sparsity in [nil, 0.9] {
            let batch = data(32, 12)
            let (decayed, plain) = (try model(sparsity: sparsity), try model(sparsity: sparsity))
            if sparsity != nil { XCTAssertNotNil(decayed.parameters[0].sparsePattern, "the kernel trains through its pattern") }
            let start = decayed.parameters.map(\.value)
            let (lr, wd): (Float, Float) = (0.01, 0.5)
            for (m, optimizer) in [(decayed, Optimizer(.adamw, learningRate: lr, weightDecay: wd)), (plain, Optimizer(.adam, learningRate: lr))] {
                var random = RandomGenerator(seed: 2)
                _ = Trainer.fit(m, on: batch, options: FitOptions(epochs: 1, batchSize: 32, loss: .crossentropy),
                                optimizer: optimizer, random: &random, clock: { 0 })
            }
            for (p, (q, w0)) in zip(decayed.parameters, zip(plain.parameters, start)) {
                let kernel = p.value.shape.count == 2
                for i in 0..<p.value.count {
                    if p.mask?[i] == 0 {
                        XCTAssertEqual(p.value[i], 0, "\(p.name)[\(i)] is masked")
                        continue
                    }
                    let shrink = kernel ? lr * wd * w0[i] : 0
                    XCTAssertEqual(q.value[i] - p.value[i], shrink, accuracy: 2e-7, "\(p.name)[\(i)], sparsity \(sparsity ?? 0)")
                }
            }
        }
    }

    /// Without `decay`, Keras's 0.004; other rules have none.
    func testTheDefaultDecayIsKeras() {
        XCTAssertEqual(Optimizer(.adamw).weightDecay, 0.004)
        XCTAssertEqual(Optimizer(.adamw).learningRate, 0.001)
        XCTAssertEqual(Optimizer(.adam, weightDecay: 0.1).weightDecay, 0)
    }
}

/// Weight decay on depthwise, separable and LSTM layers, and AdamW, against
/// Keras 3: three full-batch steps (Fixtures/make_keras_decay_layers.py
/// made the fixture once) give the same losses and weights to float rounding.
final class WeightDecayLayersKerasTests: XCTestCase {
    func testStepsMatchKerasRegularizersAndAdamW() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-decay-layers.safetensors")
        let file = try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "keras-decay-layers.safetensors")
        func tensor(_ name: String) throws -> Tensor { try XCTUnwrap(file.tensors[name], name) }
        let sgd = { Optimizer(.sgd, learningRate: 0.1) }
        let models: [(String, [Int], [any LayerSpec], () -> Optimizer)] = [
            ("convolutions", [6, 6, 2], [DepthwiseSpec(kernel: Window(3, 3), multiplier: 2, activation: .tanh, l2: 0.03),
                                         SeparableSpec(filters: 2, kernel: Window(2, 2), l2: 0.02), FlattenSpec(),
                                         DenseSpec(units: 2, activation: .linear)], sgd),
            ("lstm", [5, 3], [RecurrentSpec(cell: LSTM.self, units: 4, l2: 0.05), DenseSpec(units: 2, activation: .linear)], sgd),
            ("adamw", [4], [DenseSpec(units: 5, activation: .tanh), DenseSpec(units: 2, activation: .linear)],
             { Optimizer(.adamw, learningRate: 0.05, weightDecay: 0.2) }),
        ]
        for (key, shape, specs, optimizer) in models {
            let m = try Sequential(name: key, inputShape: shape, random: RandomGenerator(seed: 1))
            for spec in specs { try m.add(spec) }
            let weighted = m.blocks.filter { !$0.ownParameters.isEmpty }
            for (l, block) in weighted.enumerated() {
                for p in block.ownParameters {
                    p.value = try tensor("\(key).\(l).\(p.name).start")
                    p.markChanged()
                }
            }
            let data = Dataset(inputs: try tensor("\(key).x"), targets: .values(try tensor("\(key).y")))
            var random = RandomGenerator(seed: 1)
            let outcome = Trainer.fit(m, on: data, options: FitOptions(epochs: 3, batchSize: 8, loss: .mse),
                                      optimizer: optimizer(), random: &random, clock: { 0 })
            let losses = try tensor("\(key).losses").storage
            XCTAssertEqual(outcome.history.count, 3)
            for (record, expected) in zip(outcome.history, losses) {
                // Adam divides by √v, which magnifies the gradients' last digits in its first steps.
                XCTAssertEqual(record.loss, Double(expected), accuracy: 1e-5 * Double(expected), "\(key) epoch \(record.epoch)")
            }
            for (l, block) in weighted.enumerated() {
                for p in block.ownParameters {
                    let expected = try tensor("\(key).\(l).\(p.name).end")
                    XCTAssertEqual(p.value.shape, expected.shape, "\(key).\(l).\(p.name)")
                    let worst = zip(p.value.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertLessThan(worst, 2e-6, "\(key).\(l).\(p.name): largest difference from Keras")
                }
            }
        }
    }
}
