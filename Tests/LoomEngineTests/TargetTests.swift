import LoomEngine
import XCTest

/// Targets beyond class labels: real-valued targets, unlabelled data, and the
/// penalties layers add to a step.
final class TargetTests: XCTestCase {
    var random = RandomGenerator(seed: 5)

    func randomTensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = (random.nextUnitFloat() * 2 - 1) * scale }
        return t
    }

    func testLossGradientsAgainstValues() {
        let output = randomTensor([3, 4], scale: 0.4)
        var probabilities = output
        for i in 0..<probabilities.count { probabilities[i] = abs(probabilities[i]) + 0.05 }
        // Soft targets: each row a distribution.
        let soft = Tensor(shape: [3, 4], storage: [0.1, 0.2, 0.3, 0.4, 0, 0, 1, 0, 0.25, 0.25, 0.25, 0.25])
        for (loss, at) in [(Loss.mse, output), (.crossentropy, probabilities)] {
            let targets = BatchTargets.values(loss == .mse ? randomTensor([3, 4]) : soft)
            let g = loss.evaluate(at, targets: targets).gradient
            let numerical = numericalGradient(at) { loss.evaluate($0, targets: targets).loss }
            for i in 0..<at.count { XCTAssertEqual(Double(g[i]), numerical[i], accuracy: 2e-2 * max(1, abs(numerical[i])), "\(loss) [\(i)]") }
        }
    }

    func testMSEOnOneHotLabelsEqualsMSEOnTheSameValues() {
        let output = randomTensor([2, 3])
        let labels = Loss.mse.evaluate(output, labels: [2, 0])
        let values = Loss.mse.evaluate(output, targets: .values(Tensor(shape: [2, 3], storage: [0, 0, 1, 1, 0, 0])))
        XCTAssertEqual(labels.loss, values.loss)
        XCTAssertEqual(labels.gradient.storage, values.gradient.storage)
    }

    func testFusedSoftmaxCrossEntropyWithSoftTargetsIsTheChainOfBoth() {
        let logits = randomTensor([2, 4], scale: 2)
        let t = Tensor(shape: [2, 4], storage: [0.5, 0.5, 0, 0, 0.1, 0.2, 0.3, 0.4])
        let softmax = Activation(name: "s", function: .softmax, shape: [4])
        let fused = Loss.softmaxCrossEntropyGradient(probabilities: softmax.forward(logits, training: false), targets: .values(t))
        let numerical = numericalGradient(logits, eps: 1e-2) {
            Loss.crossentropy.evaluate(softmax.forward($0, training: false), targets: .values(t)).loss
        }
        for i in 0..<logits.count { XCTAssertEqual(Double(fused[i]), numerical[i], accuracy: 1e-3) }
    }

    func testMetricsForValuesAreSquaredAndAbsoluteErrors() throws {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 1))
        // No layers: the output is the input.
        let data = Dataset(inputs: Tensor(shape: [2, 2], storage: [1, 2, 3, 4]),
                           targets: .values(Tensor(shape: [2, 2], storage: [1, 0, 3, 7])))
        let e = Metrics.evaluate(m, on: data, loss: .mse)
        XCTAssertEqual(e.meanSquaredError ?? -1, (0 + 4 + 0 + 9) / 4, accuracy: 1e-9)
        XCTAssertEqual(e.meanAbsoluteError ?? -1, (0 + 2 + 0 + 3) / 4, accuracy: 1e-9)
        XCTAssertNil(e.accuracy)
        XCTAssertNil(e.confusion)
    }

    func testALinearLayerLearnsALineFromValues() throws {
        let n = 64
        var x = Tensor(zeros: [n, 1]), y = Tensor(zeros: [n, 1])
        for i in 0..<n {
            x[i] = Float(i) / Float(n) * 2 - 1
            y[i] = 2 * x[i] + 1
        }
        let data = Dataset(inputs: x, targets: .values(y))
        let m = try Sequential(name: "m", inputShape: [1], random: RandomGenerator(seed: 3))
        try m.add(.dense(units: 1, activation: .linear))
        let outcome = Trainer.fit(m, on: data, options: FitOptions(epochs: 60, batchSize: 16, loss: .mse),
                                  optimizer: Optimizer(.adam, learningRate: 0.05), random: &random, clock: { 0 })
        XCTAssertNil(outcome.history.last?.accuracy)
        XCTAssertLessThan(outcome.history.last?.meanAbsoluteError ?? 1, 0.05)
        XCTAssertLessThan(outcome.history.last!.loss, outcome.history.first!.loss / 10)
        XCTAssertLessThan(Metrics.evaluate(m, on: data, loss: .mse).meanSquaredError ?? 1, 1e-3)
    }

    func testSplittingValuesKeepsEachSampleWithItsTarget() {
        let x = Tensor(shape: [10, 1], storage: (0..<10).map(Float.init))
        let data = Dataset(inputs: x, targets: .values(Tensor(shape: [10, 1], storage: (0..<10).map { Float($0) * 10 })))
        let (train, test) = data.split(train: 0.7, random: &random)
        XCTAssertEqual(train.count, 7)
        XCTAssertEqual(test.count, 3)
        for part in [train, test] {
            guard case .values(let t) = part.targets else { return XCTFail() }
            for i in 0..<part.count { XCTAssertEqual(t[i], part.inputs[i] * 10) }
        }
        XCTAssertEqual(Set(train.inputs.storage + test.inputs.storage), Set(x.storage))
        let unlabelled = Dataset(inputs: x, targets: .none).split(train: 0.5, random: &random)
        XCTAssertEqual(unlabelled.train.count + unlabelled.test.count, 10)
    }

    func testSoftmaxNormalisesEachStepOfASequence() {
        let softmax = Activation(name: "s", function: .softmax, shape: [3, 4])
        let y = softmax.forward(randomTensor([2, 3, 4], scale: 3), training: false)
        for row in 0..<6 {
            XCTAssertEqual((0..<4).reduce(Float(0)) { $0 + y[row * 4 + $1] }, 1, accuracy: 1e-6)
        }
    }
}

/// A test layer that adds λ·Σa² of its input to the step's penalty and
/// passes its input through: what an activity penalty does.
final class SquaredActivity: Layer {
    let name = "activity", kind = "activity"
    let inputShape: [Int]
    var outputShape: [Int] { inputShape }
    var parameters: [Parameter] { [] }
    var state: [LayerState] { [] }
    let lambda: Float
    private var input = Tensor(zeros: [0]), batch = 1

    init(shape: [Int], lambda: Float) {
        inputShape = shape
        self.lambda = lambda
    }

    func replica(on _: [Parameter]) -> Layer { SquaredActivity(shape: inputShape, lambda: lambda) }
    var multiplyAdds: Int { 0 }
    var trainingFloatsPerSample: Int { outputSize * 2 }
    var unsharedParameters: Int { 0 }

    func forward(_ x: Tensor, training: Bool) -> Tensor { x }

    func forward(_ x: Tensor, step: StepContext) -> Tensor {
        input = x
        batch = step.batch
        step.penalty += Double(lambda) * x.storage.reduce(0.0) { $0 + Double($1 * $1) }
        return x
    }

    func backward(_ dy: Tensor) -> Tensor {
        var dx = dy
        for i in 0..<dx.count { dx[i] += 2 * lambda * input[i] / Float(batch) }
        return dx
    }
}

struct SquaredActivitySpec: LayerSpec {
    let lambda: Float
    var blockPrefix: String { "activity" }
    func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        [SquaredActivity(shape: input, lambda: lambda)]
    }
}

final class PenaltyTests: XCTestCase {
    func model() throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [3], random: RandomGenerator(seed: 2))
        try m.add(.dense(units: 4, activation: .tanh))
        try m.add(SquaredActivitySpec(lambda: 0.3))
        try m.add(.dense(units: 2, activation: .softmax))
        return m
    }

    /// The mean loss of the whole batch, penalty included, computed directly.
    func totalLoss(_ m: Sequential, _ data: Dataset) -> Double {
        let hidden = m.blocks[0].layers.reduce(data.inputs) { $1.forward($0, training: false) }
        let penalty = 0.3 * hidden.storage.reduce(0.0) { $0 + Double($1 * $1) }
        return Loss.crossentropy.evaluate(m.forward(data.inputs, training: false), labels: data.labels).loss
            + penalty / Double(data.count)
    }

    /// A batch of 32 runs as four shards of 8; the penalty's gradient must be
    /// that of the whole batch's mean: one SGD step moves each weight by
    /// −lr × the finite-difference gradient of the total loss.
    func testAPenaltyAddedInShardsIsTheWholeBatchsPenalty() throws {
        var random = RandomGenerator(seed: 9)
        var x = Tensor(zeros: [32, 3])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        let data = Dataset(inputs: x, labels: (0..<32).map { $0 % 2 })
        let reference = try model(), trained = try model()
        let before = trained.parameters.map(\.value)
        let outcome = Trainer.fit(trained, on: data, options: FitOptions(epochs: 1, batchSize: 32, loss: .crossentropy),
                                  optimizer: Optimizer(.sgd, learningRate: 0.1), random: &random, clock: { 0 })
        XCTAssertEqual(outcome.history[0].loss, totalLoss(reference, data), accuracy: 1e-5)
        XCTAssertGreaterThan(outcome.history[0].penalty, 0)
        for (p, (q, start)) in zip(reference.parameters, zip(trained.parameters, before)) {
            for i in 0..<p.value.count {
                let eps: Float = 1e-2
                p.value[i] = start[i] + eps
                let plus = totalLoss(reference, data)
                p.value[i] = start[i] - eps
                let minus = totalLoss(reference, data)
                p.value[i] = start[i]
                let gradient = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(start[i] - q.value[i]) / 0.1, gradient, accuracy: 2e-3, "\(p.name)[\(i)]")
            }
        }
    }
}

final class InspectionTests: XCTestCase {
    /// Weights set by hand: dense1's outputs are relu(x·W) with W zeroing
    /// one unit for every input and another for negative inputs.
    func testSparsityEqualsHandComputedValues() throws {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 1))
        try m.add(.dense(units: 3, activation: .relu))
        try m.add(.dense(units: 2, activation: .softmax))
        let dense = m.blocks[0].main as! Dense
        dense.weight.value = Tensor(shape: [2, 3], storage: [1, 0, 0, 0, 0, 1])  // unit 2 always 0
        dense.bias.value = Tensor(shape: [3], storage: [0, 0, 0])
        let x = Tensor(shape: [4, 2], storage: [1, 1, -1, 1, 1, -1, -1, -1])
        let s = m.sparsity(on: x).blocks
        XCTAssertEqual(s.map(\.name), ["dense1", "dense2"])
        XCTAssertEqual(s[0].weights, 9)
        XCTAssertEqual(s[0].zeroWeights, 3 + 4)  // three zero biases, four zero weights
        // Outputs per sample: (1,0,1) (0,0,1) (1,0,0) (0,0,0): 8 zeros of 12.
        XCTAssertEqual(s[0].zeroActivations ?? -1, 8.0 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(s[1].zeroActivations, 0)  // softmax is never exactly zero here
        XCTAssertNil(m.sparsity().blocks[0].zeroActivations)
    }

    /// The last block's output, measured as written, is what the planned
    /// forward pass (relu moved after pooling) gives.
    func testBlockOutputsEndInTheModelsOutput() throws {
        let m = try Sequential(name: "m", inputShape: [6, 6, 1], random: RandomGenerator(seed: 4))
        try m.add(.conv2d(filters: 2, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        try m.add(.maxpool(size: (2, 2), stride: nil))
        try m.add(.flatten)
        try m.add(.dense(units: 3, activation: .softmax))
        var random = RandomGenerator(seed: 8)
        var x = Tensor(zeros: [3, 6, 6, 1])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() - 0.5 }
        let outputs = m.blockOutputs(x)
        XCTAssertEqual(outputs.map(\.shape), [[3, 4, 4, 2], [3, 2, 2, 2], [3, 8], [3, 3]])
        XCTAssertEqual(outputs.last?.storage, m.forward(x, training: false).storage)
        XCTAssertEqual(outputs[0].storage.min(), 0, "conv1's output is rectified")
    }
}

final class DivergenceTests: XCTestCase {
    /// Keras's TerminateOnNaN: once a batch's loss is not finite, training
    /// stops before that update, so the weights are the last finite step's.
    func testTrainingStopsWhenTheLossStopsBeingFiniteAndKeepsFiniteWeights() throws {
        let m = try Sequential(name: "m", inputShape: [4], random: RandomGenerator(seed: 1))
        try m.add(.dense(units: 3, activation: .linear))
        var random = RandomGenerator(seed: 2)
        var x = Tensor(zeros: [64, 4])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 4 - 2 }
        let data = Dataset(inputs: x, targets: .values(Tensor(shape: [64, 3], repeating: 1)))
        let outcome = Trainer.fit(m, on: data, options: FitOptions(epochs: 5, batchSize: 8, loss: .mse),
                                  optimizer: Optimizer(.sgd, learningRate: 1e30), random: &random, clock: { 0 })
        let (epoch, batch) = try XCTUnwrap(outcome.diverged)
        XCTAssertEqual(epoch, 1)
        XCTAssertGreaterThan(batch, 1)
        XCTAssertTrue(m.parameters.allSatisfy { $0.value.storage.allSatisfy(\.isFinite) })
    }
}
