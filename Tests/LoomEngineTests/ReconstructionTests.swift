import Foundation
import LoomEngine
import XCTest

/// Learning without labels: binary cross-entropy (alone and fused with a
/// sigmoid), the reshape layer, and autoencoders trained on their inputs.
final class ReconstructionTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    func uniform(_ shape: [Int], _ low: Float, _ high: Float) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = low + (high - low) * random.nextUnitFloat() }
        return t
    }

    // MARK: binary cross-entropy

    /// Keras's value on a small case worked by hand, in double precision.
    func testBinaryCrossEntropyIsTheMeanOverEveryValue() {
        let p = Tensor(shape: [2, 2], storage: [0.4, 0.6, 0.5, 0.9])
        let t = Tensor(shape: [2, 2], storage: [0, 1, 0.5, 1])
        let expected = -(log(0.6) + log(0.6) + (0.5 * log(0.5) + 0.5 * log(0.5)) + log(0.9)) / 4
        XCTAssertEqual(Loss.bce.evaluate(p, targets: .values(t)).loss, expected, accuracy: 1e-6)
        // Class labels count as one-hot rows, as for mse.
        let labels = Loss.bce.evaluate(p, labels: [1, 0]).loss
        XCTAssertEqual(labels, -(log(0.6) + log(0.6) + log(0.5) + log(0.1)) / 4, accuracy: 1e-6)
    }

    func testBinaryCrossEntropyGradientMatchesFiniteDifferences() {
        let p = uniform([3, 5], 0.05, 0.95)
        let targets = BatchTargets.values(uniform([3, 5], 0, 1))
        let g = Loss.bce.evaluate(p, targets: targets).gradient
        let numerical = numericalGradient(p) { Loss.bce.evaluate($0, targets: targets).loss }
        for i in 0..<p.count { XCTAssertEqual(Double(g[i]), numerical[i], accuracy: 2e-2 * max(1, abs(numerical[i])), "[\(i)]") }
        // A shard's gradient is that of the whole batch's mean.
        let shard = Loss.bce.evaluate(p, targets: targets, batch: 12).gradient
        for i in 0..<p.count { XCTAssertEqual(shard[i], g[i] * 3 / 12, accuracy: 1e-6) }
    }

    /// (p − t) / (batch × values) with respect to the logits is the chain of
    /// the sigmoid's and the loss's own gradients, and the slope of the loss
    /// of sigmoid(z).
    func testFusedSigmoidBinaryCrossEntropyIsTheChainOfBoth() {
        let logits = uniform([3, 4], -3, 3)
        let targets = BatchTargets.values(uniform([3, 4], 0, 1))
        let sigmoid = Activation(name: "s", function: .sigmoid, shape: [4])
        let p = sigmoid.forward(logits, training: true)
        let fused = Loss.sigmoidBinaryCrossEntropyGradient(probabilities: p, targets: targets)
        let chained = sigmoid.backward(Loss.bce.evaluate(p, targets: targets).gradient)
        let numerical = numericalGradient(logits, eps: 1e-2) {
            Loss.bce.evaluate(sigmoid.forward($0, training: false), targets: targets).loss
        }
        for i in 0..<logits.count {
            XCTAssertEqual(fused[i], chained[i], accuracy: 1e-5, "[\(i)]")
            XCTAssertEqual(Double(fused[i]), numerical[i], accuracy: 1e-3, "[\(i)]")
        }
        XCTAssertEqual(Loss.bce.fusedGradient(probabilities: p, targets: targets), fused)
    }

    /// Where the sigmoid saturates the chain loses the gradient (at z = 20,
    /// p (1 − p) rounds to 0; at z = −20 the clip at 1e-7 shrinks it fifty
    /// times); the fused gradient is still p − t.
    func testTheFusedGradientSurvivesASaturatedSigmoid() {
        let sigmoid = Activation(name: "s", function: .sigmoid, shape: [2])
        let p = sigmoid.forward(Tensor(shape: [1, 2], storage: [20, -20]), training: true)
        let targets = BatchTargets.values(Tensor(shape: [1, 2], storage: [0, 1]))
        let chained = sigmoid.backward(Loss.bce.evaluate(p, targets: targets).gradient)
        let fused = Loss.sigmoidBinaryCrossEntropyGradient(probabilities: p, targets: targets)
        XCTAssertEqual(chained[0], 0)
        XCTAssertLessThan(abs(chained[1]), 0.02)
        XCTAssertEqual(fused[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(fused[1], -0.5, accuracy: 1e-6)
    }

    // MARK: models that end in a sigmoid

    func autoencoder(side: Int = 3, hidden: Int = 4, output: ActivationFunction = .sigmoid) throws -> Sequential {
        let m = try Sequential(name: "ae", inputShape: [side, side, 1], random: RandomGenerator(seed: 4))
        try m.add(.flatten)
        try m.add(.dense(units: hidden, activation: .tanh))
        try m.add(.dense(units: side * side, activation: output))
        try m.add(.reshape([side, side, 1]))
        return m
    }

    func testASigmoidReshapedAfterIsStillTheOutputsActivation() throws {
        let ae = try autoencoder()
        XCTAssertTrue(ae.endsInSigmoid)
        XCTAssertTrue(Loss.bce.fuses(with: ae))
        XCTAssertFalse(Loss.mse.fuses(with: ae))
        XCTAssertFalse(try autoencoder(output: .linear).endsInSigmoid)
        XCTAssertFalse(try autoencoder(output: .relu).endsInSigmoid)
        // A softmax's rows are its last axis: reshaped, it no longer fuses with cross-entropy.
        let softmax = try Sequential(name: "s", inputShape: [4], random: RandomGenerator(seed: 1))
        try softmax.add(.dense(units: 4, activation: .softmax))
        XCTAssertTrue(softmax.endsInSoftmax)
        try softmax.add(.reshape([2, 2]))
        XCTAssertFalse(softmax.endsInSoftmax)
        XCTAssertFalse(Loss.crossentropy.fuses(with: softmax))
    }

    /// A model's backward from the logits skips the sigmoid but runs the
    /// reshape after it: every weight's gradient is the slope of the loss.
    func testTheFusedModelGradientMatchesFiniteDifferences() throws {
        let ae = try autoencoder()
        let x = uniform([4, 3, 3, 1], 0, 1)
        let targets = BatchTargets.values(x)
        for p in ae.parameters { p.zeroGradient() }
        let out = ae.forward(x, training: true)
        XCTAssertEqual(out.shape, [4, 3, 3, 1])
        ae.backward(Loss.bce.fusedGradient(probabilities: out, targets: targets), fromLogits: true)
        let eps: Float = 1e-2
        for p in ae.parameters {
            for i in 0..<p.value.count {
                p.value[i] += eps
                let plus = Loss.bce.evaluate(ae.forward(x, training: false), targets: targets).loss
                p.value[i] -= 2 * eps
                let minus = Loss.bce.evaluate(ae.forward(x, training: false), targets: targets).loss
                p.value[i] += eps
                let numerical = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(p.gradient[i]), numerical, accuracy: 2e-3, "\(p.name)[\(i)]")
            }
        }
    }

    /// One SGD step of the fit loop on a batch of 32 (four shards of 8, each
    /// through the fused gradient) moves each weight by −lr × the slope of
    /// the whole batch's loss.
    func testOneTrainingStepFollowsTheSlopeOfTheWholeBatchsLoss() throws {
        let data = patches(32, side: 3).reconstructing
        let reference = try autoencoder(), trained = try autoencoder()
        let before = trained.parameters.map(\.value)
        _ = Trainer.fit(trained, on: data, options: FitOptions(epochs: 1, batchSize: 32, loss: .bce),
                        optimizer: Optimizer(.sgd, learningRate: 0.1), random: &random, clock: { 0 })
        func loss() -> Double { Metrics.evaluate(reference, on: data, loss: .bce).loss }
        for (p, (q, start)) in zip(reference.parameters, zip(trained.parameters, before)) {
            for i in 0..<p.value.count {
                let eps: Float = 1e-2
                p.value[i] = start[i] + eps
                let plus = loss()
                p.value[i] = start[i] - eps
                let minus = loss()
                p.value[i] = start[i]
                let slope = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(start[i] - q.value[i]) / 0.1, slope, accuracy: 1e-3, "\(p.name)[\(i)]")
            }
        }
    }

    // MARK: reshape

    func testReshapeIsAViewBothWays() throws {
        let layers = try ReshapeSpec(shape: [2, 3, 1]).build(name: "reshape1", input: [6], random: &random)
        let reshape = try XCTUnwrap(layers.first as? Reshape)
        XCTAssertEqual(layers.count, 1)
        XCTAssertEqual(reshape.outputShape, [2, 3, 1])
        XCTAssertEqual(reshape.parameterCount, 0)
        XCTAssertEqual(reshape.trainingFloatsPerSample, 0)
        let x = uniform([5, 6], -1, 1)
        let y = reshape.forward(x, training: true)
        XCTAssertEqual(y.shape, [5, 2, 3, 1])
        XCTAssertEqual(y.storage, x.storage)
        let back = reshape.backward(y)
        XCTAssertEqual(back.shape, [5, 6])
        XCTAssertEqual(back.storage, x.storage)
    }

    func testReshapeToAnotherCountIsAnErrorNamingBoth() {
        XCTAssertThrowsError(try ReshapeSpec(shape: [28, 28, 1]).build(name: "r", input: [10], random: &random)) { error in
            XCTAssertEqual("\(error)", "reshape 28x28x1 holds 784 values but its input, 10, has 10")
        }
        XCTAssertThrowsError(try ReshapeSpec(shape: [0, 4]).build(name: "r", input: [4], random: &random))
        let m = try? Sequential(name: "m", inputShape: [3, 4], random: RandomGenerator(seed: 1))
        XCTAssertThrowsError(try m?.add(.reshape([5, 2])))
        XCTAssertNoThrow(try m?.add(.reshape([12])))
        XCTAssertEqual(m?.outputShape, [12])
    }

    // MARK: training on the inputs

    /// Patches in [0, 1]: the data an autoencoder learns from, unlabelled.
    func patches(_ n: Int, side: Int) -> Dataset {
        Patches.make(count: n, size: side, random: &random)!
    }

    func testAReconstructingDataSetSharesItsInputsAsTargets() {
        let data = patches(10, side: 3)
        let reconstructing = data.reconstructing
        guard case .inputs = reconstructing.targets else { return XCTFail("\(reconstructing.targets)") }
        XCTAssertEqual(reconstructing.bytes, data.bytes)
        XCTAssertEqual(reconstructing.targets.phrase, "its inputs as targets")
        guard case .values(let t) = reconstructing.targets.gathering([4, 1], inputs: data.inputs.gathering(samples: [4, 1])) else {
            return XCTFail()
        }
        XCTAssertEqual(t, data.inputs.gathering(samples: [4, 1]))
        let (train, test) = reconstructing.split(train: 0.7, random: &random)
        guard case .inputs = train.targets, case .inputs = test.targets else { return XCTFail() }
    }

    func fit(_ model: Sequential, _ data: Dataset, loss: Loss, epochs: Int) -> Trainer.Outcome {
        Trainer.fit(model, on: data, options: FitOptions(epochs: epochs, batchSize: 16, loss: loss),
                    optimizer: Optimizer(.adam, learningRate: 0.01), random: &random, clock: { 0 })
    }

    /// An autoencoder of 6x6 patches through 12 units, with either loss:
    /// the reconstruction error falls to well under half what it was.
    func testAnAutoencoderLearnsToReconstructUnlabelledPatches() throws {
        let data = patches(256, side: 6).reconstructing
        for loss in [Loss.bce, .mse] {
            let ae = try autoencoder(side: 6, hidden: 12)
            let before = Metrics.evaluate(ae, on: data, loss: loss)
            let outcome = fit(ae, data, loss: loss, epochs: 30)
            let after = Metrics.evaluate(ae, on: data, loss: loss)
            let (start, end) = (try XCTUnwrap(before.meanSquaredError), try XCTUnwrap(after.meanSquaredError))
            XCTAssertLessThan(end, start / 4, "\(loss): mse \(start) → \(end)")
            XCTAssertLessThan(after.loss, before.loss, "\(loss)")
            XCTAssertLessThan(outcome.history.last!.loss, outcome.history.first!.loss, "\(loss)")
            XCTAssertNil(after.accuracy)
        }
    }

    /// The history follows the loss: mse's figures are the loss and the mean
    /// absolute error; bce's add the mean squared error, on the training and
    /// the validation data.
    func testTheHistoryOfAReconstructionHasErrorsNotAccuracy() throws {
        let (train, test) = patches(64, side: 3).reconstructing.split(train: 0.75, random: &random)
        let ae = try autoencoder()
        let bce = Trainer.fit(ae, on: train, options: FitOptions(epochs: 2, batchSize: 16, loss: .bce),
                              optimizer: Optimizer(.adam), validation: test, random: &random, clock: { 0 }).history
        let mse = fit(try autoencoder(), train, loss: .mse, epochs: 2).history
        for r in bce + mse {
            XCTAssertNil(r.accuracy)
            XCTAssertNotNil(r.meanAbsoluteError)
        }
        XCTAssertTrue(mse.allSatisfy { $0.meanSquaredError == nil })
        let last = try XCTUnwrap(bce.last)
        // The validation figures are the model's as the epoch leaves it.
        let final = Metrics.evaluate(ae, on: test, loss: .bce)
        XCTAssertEqual(last.validationMeanSquaredError ?? -1, final.meanSquaredError ?? -2, accuracy: 1e-9)
        XCTAssertEqual(last.validationLoss ?? -1, final.loss, accuracy: 1e-9)
        XCTAssertGreaterThan(last.meanSquaredError ?? 0, 0)
    }
}
