import Foundation
import LoomEngine
import XCTest

/// `l2 λ` on a layer: the loss gains λ·Σw² over its kernel, once however
/// many blocks use the kernel, and never over a bias.
final class WeightDecayTests: XCTestCase {
    func sumOfSquares(_ p: Parameter) -> Double { p.value.storage.reduce(0.0) { $0 + Double($1) * Double($1) } }

    func inputs(_ count: Int, _ width: Int, seed: UInt64) -> Tensor {
        var random = RandomGenerator(seed: seed)
        var x = Tensor(zeros: [count, width])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        return x
    }

    /// One SGD step of rate 0.1 on the whole batch moves every unmasked
    /// weight by −0.1 × the finite-difference slope of `total` (the mean loss
    /// with the penalty), and the history's loss is `total` at the starting weights.
    func checkOneStep(_ make: () throws -> Sequential, on data: Dataset, loss: Loss, total: (Sequential) -> Double,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try make(), trained = try make()
        let before = trained.parameters.map(\.value)
        var random = RandomGenerator(seed: 4)
        let outcome = Trainer.fit(trained, on: data, options: FitOptions(epochs: 1, batchSize: data.count, loss: loss),
                                  optimizer: Optimizer(.sgd, learningRate: 0.1), random: &random, clock: { 0 })
        XCTAssertEqual(outcome.history[0].loss, total(reference), accuracy: 1e-5, "the history's loss", file: file, line: line)
        for (p, (q, start)) in zip(reference.parameters, zip(trained.parameters, before)) {
            for i in 0..<p.value.count {
                if p.mask?[i] == 0 {
                    // A masked weight stays zero, whatever its slope.
                    XCTAssertEqual(q.value[i], 0, "\(p.name)[\(i)] is masked", file: file, line: line)
                    continue
                }
                let eps: Float = 1e-2
                // Marked changed, so a sparse layer's inference copy of its kernel is remade.
                p.value[i] = start[i] + eps
                p.markChanged()
                let plus = total(reference)
                p.value[i] = start[i] - eps
                p.markChanged()
                let minus = total(reference)
                p.value[i] = start[i]
                p.markChanged()
                let slope = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(start[i] - q.value[i]) / 0.1, slope, accuracy: 2e-3, "\(p.name)[\(i)]", file: file, line: line)
            }
        }
    }

    /// A classifier whose two kernels are decayed by different λ, on a batch
    /// of 32 run as four shards: the penalty's gradient is the whole batch's.
    func testTheStepFollowsTheGradientWithThePenalty() throws {
        func make() throws -> Sequential {
            let m = try Sequential(name: "m", inputShape: [3], random: RandomGenerator(seed: 2))
            try m.add(DenseSpec(units: 4, activation: .tanh, l2: 0.3))
            try m.add(DenseSpec(units: 2, activation: .softmax, l2: 0.05))
            return m
        }
        let data = Dataset(inputs: inputs(32, 3, seed: 9), labels: (0..<32).map { $0 % 2 })
        try checkOneStep(make, on: data, loss: .crossentropy) { m in
            Metrics.evaluate(m, on: data, loss: .crossentropy).loss
                + 0.3 * sumOfSquares(m.blocks[0].main.parameters[0]) + 0.05 * sumOfSquares(m.blocks[1].main.parameters[0])
        }
    }

    /// A tied autoencoder decays its one kernel once, though two blocks use it.
    func testATiedKernelIsDecayedOnce() throws {
        func make() throws -> Sequential {
            let m = try Sequential(name: "m", inputShape: [5], random: RandomGenerator(seed: 3))
            try m.add(DenseSpec(units: 3, activation: .sigmoid, l2: 0.2), name: "enc")
            try m.add(DenseSpec(units: 5, activation: .linear, tied: "enc"))
            return m
        }
        XCTAssertEqual(try make().decayedKernels.count, 1)
        let x = inputs(16, 5, seed: 5)
        let data = Dataset(inputs: x, targets: .inputs)
        try checkOneStep(make, on: data, loss: .mse) { m in
            Metrics.evaluate(m, on: data, loss: .mse).loss + 0.2 * sumOfSquares(m.blocks[0].main.parameters[0])
        }
    }

    /// A kernel with 80% of its weights masked trains through its sparse
    /// pattern: the decay reaches the kept weights, and the masked stay zero.
    func testASparselyTrainedKernelIsDecayedAtItsKeptWeights() throws {
        func make() throws -> Sequential {
            let m = try Sequential(name: "m", inputShape: [10], random: RandomGenerator(seed: 6))
            try m.add(DenseSpec(units: 6, activation: .tanh, sparsity: 0.8, l2: 0.25))
            try m.add(DenseSpec(units: 2, activation: .softmax))
            return m
        }
        XCTAssertNotNil(try make().parameters[0].sparsePattern, "the kernel trains through its pattern")
        let data = Dataset(inputs: inputs(16, 10, seed: 7), labels: (0..<16).map { $0 % 2 })
        let trained = try make()
        let mask = try XCTUnwrap(trained.parameters[0].mask)
        var random = RandomGenerator(seed: 1)
        _ = Trainer.fit(trained, on: data, options: FitOptions(epochs: 3, batchSize: 16, loss: .crossentropy),
                        optimizer: Optimizer(.adam, learningRate: 0.05), random: &random, clock: { 0 })
        for (w, keep) in zip(trained.parameters[0].value.storage, mask) where keep == 0 { XCTAssertEqual(w, 0) }
        try checkOneStep(make, on: data, loss: .crossentropy) { m in
            Metrics.evaluate(m, on: data, loss: .crossentropy).loss + 0.25 * sumOfSquares(m.parameters[0])
        }
    }

    /// The history's penalty column is λ·Σw² at the weights the epoch's one
    /// batch started from, summed over the decayed kernels (the last with
    /// 41×30 weights: more than one block of 1,024 and a short last vector).
    func testThePenaltyColumnIsTheHandComputedPenalty() throws {
        let m = try Sequential(name: "m", inputShape: [2, 2, 1], random: RandomGenerator(seed: 8))
        try m.add(Conv2DSpec(filters: 41, kernel: Window(2, 2), activation: .relu, stride: 1, padding: .valid, l2: 0.125))
        try m.add(FlattenSpec())
        try m.add(DenseSpec(units: 30, activation: .softmax, l2: 0.5))
        let expected = 0.125 * sumOfSquares(m.parameters[0]) + 0.5 * sumOfSquares(m.parameters[2])
        XCTAssertEqual(m.parameters.map(\.name), ["kernel", "bias", "kernel", "bias"])
        XCTAssertEqual(m.parameters[2].value.count, 1230)
        let data = Dataset(inputs: Tensor(shape: [4, 2, 2, 1], storage: (0..<16).map { Float($0 % 5) / 5 - 0.4 }),
                           labels: [0, 1, 0, 1], classes: 30)
        var random = RandomGenerator(seed: 1)
        let outcome = Trainer.fit(m, on: data, options: FitOptions(epochs: 1, batchSize: 4, loss: .crossentropy),
                                  optimizer: Optimizer(.sgd), random: &random, clock: { 0 })
        // Σw² summed in floats eight lanes at a time, each block of 1,024 added into a double.
        XCTAssertEqual(outcome.history[0].penalty, expected, accuracy: 1e-6 * expected)
    }

    /// `l2` on a block that uses another's kernel (`tied`, `share`) may only
    /// repeat the λ of the block storing it; a λ below 0 is refused.
    func testABorrowedKernelTakesTheLendersLambda() throws {
        func model(_ first: Float, _ second: Float, sharing: Bool) throws -> Sequential {
            let m = try Sequential(name: "m", inputShape: [4], random: RandomGenerator(seed: 1))
            try m.add(DenseSpec(units: 4, activation: .relu, l2: first), name: "enc")
            if sharing {
                try m.add(DenseSpec(units: 4, activation: .relu, l2: second), sharing: "enc")
            } else {
                try m.add(DenseSpec(units: 4, activation: .linear, tied: "enc", l2: second), name: "dec")
            }
            return m
        }
        for sharing in [false, true] {
            let name = sharing ? "dense2" : "dec"
            XCTAssertThrowsError(try model(0, 0.01, sharing: sharing)) { error in
                XCTAssertEqual((error as? ShapeError)?.message,
                               "\(name) uses enc's kernel, which `l2` on enc decays (λ 0.0): give `l2` there; here it may only repeat that λ")
            }
            XCTAssertThrowsError(try model(0.02, 0.01, sharing: sharing))
            let repeated = try model(0.01, 0.01, sharing: sharing)
            XCTAssertEqual(repeated.decayedKernels.count, 1, "decayed once")
            XCTAssertEqual(repeated.decayedKernels.first?.lambda, 0.01)
        }
        let m = try Sequential(name: "m", inputShape: [4], random: RandomGenerator(seed: 1))
        XCTAssertThrowsError(try m.add(DenseSpec(units: 2, activation: .linear, l2: -1))) { error in
            XCTAssertEqual((error as? ShapeError)?.message, "l2 takes a λ of 0 or more, not -1.0")
        }
    }
}

/// Weight decay against Keras 3: a few full-batch SGD steps with
/// `kernel_regularizer=L2(l)` (Fixtures/make_keras_weight_decay.py made the
/// fixture once) give the same losses and weights to float rounding.
final class WeightDecayKerasTests: XCTestCase {
    func testSGDStepsMatchKerasKernelRegularizer() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-weight-decay.safetensors")
        let file = try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "keras-weight-decay.safetensors")
        func tensor(_ name: String) throws -> Tensor { try XCTUnwrap(file.tensors[name], name) }
        let models: [(String, [Int], [any LayerSpec])] = [
            ("dense", [4], [DenseSpec(units: 3, activation: .tanh, l2: 0.01), DenseSpec(units: 2, activation: .linear, l2: 0.02)]),
            ("conv", [5, 5, 1], [Conv2DSpec(filters: 2, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .valid, l2: 0.05),
                                 FlattenSpec(), DenseSpec(units: 2, activation: .linear, l2: 0.001)]),
        ]
        for (key, shape, specs) in models {
            let m = try Sequential(name: key, inputShape: shape, random: RandomGenerator(seed: 1))
            for spec in specs { try m.add(spec) }
            let weighted = [m.blocks.first!, m.blocks.last!]
            for (block, layer) in zip(weighted, ["a", "b"]) {
                for p in block.main.parameters {
                    p.value = try tensor("\(key).\(layer).\(p.name).start")
                    p.markChanged()
                }
            }
            let data = Dataset(inputs: try tensor("\(key).x"), targets: .values(try tensor("\(key).y")))
            var random = RandomGenerator(seed: 1)
            let outcome = Trainer.fit(m, on: data, options: FitOptions(epochs: 3, batchSize: 8, loss: .mse),
                                      optimizer: Optimizer(.sgd, learningRate: 0.1), random: &random, clock: { 0 })
            let losses = try tensor("\(key).losses").storage
            for (record, expected) in zip(outcome.history, losses) {
                XCTAssertEqual(record.loss, Double(expected), accuracy: 2e-6 * Double(expected), "\(key) epoch \(record.epoch)")
            }
            for (block, layer) in zip(weighted, ["a", "b"]) {
                for p in block.main.parameters {
                    let expected = try tensor("\(key).\(layer).\(p.name).end")
                    let worst = zip(p.value.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertLessThan(worst, 2e-6, "\(key).\(layer).\(p.name): largest difference from Keras")
                }
            }
        }
    }
}
