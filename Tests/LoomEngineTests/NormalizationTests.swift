import LoomEngine
import XCTest

/// Batch and layer normalisation: their outputs against Keras's formulas
/// computed here in Double, their gradients against finite differences of
/// the training forward, and the moving figures against Keras's update.
final class NormalizationTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    func build(_ spec: some LayerSpec, _ shape: [Int]) throws -> Layer {
        var r = RandomGenerator(seed: 1)
        return try XCTUnwrap(spec.build(name: "norm", input: shape, random: &r).first)
    }

    func randomTensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in random.nextUnitFloat() * 4 - 1 })
    }

    /// (x − mean)/√(variance + ε) of `values`, the variance biased, in Double.
    func normalised(_ values: [Double], epsilon: Double = 0.001) -> [Double] {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return values.map { ($0 - mean) / (variance + epsilon).squareRoot() }
    }

    func testLayerNormNormalisesEachSampleOverItsFeatures() throws {
        let layer = try build(LayerNormSpec(), [3, 4])
        let x = randomTensor([2, 3, 4])
        let y = layer.forward(x, training: false)
        for row in 0..<6 {
            let expected = normalised((0..<4).map { Double(x[row * 4 + $0]) })
            for j in 0..<4 { XCTAssertEqual(Double(y[row * 4 + j]), expected[j], accuracy: 1e-5) }
        }
    }

    func testBatchNormTrainsOnTheBatchAndInfersOnItsMovingFigures() throws {
        let layer = try build(BatchNormSpec(), [2])
        let x = Tensor(shape: [2, 2], storage: [1, 2, 3, 6])
        let y = layer.forward(x, training: true)
        // Feature 0: mean 2, variance 1; feature 1: mean 4, variance 4.
        let expected = [-1 / 1.001.squareRoot(), -2 / 4.001.squareRoot(), 1 / 1.001.squareRoot(), 2 / 4.001.squareRoot()]
        for i in 0..<4 { XCTAssertEqual(Double(y[i]), expected[i], accuracy: 1e-6) }
        // Before the step ends the moving figures are Keras's initial zeros and ones ...
        let bn = try XCTUnwrap(layer as? BatchNorm)
        XCTAssertEqual(bn.movingMean.value.storage, [0, 0])
        XCTAssertEqual(bn.movingVariance.value.storage, [1, 1])
        // ... then they take 1% of the batch's: m·0.99 + batch·0.01.
        layer.finishStep(shards: [layer])
        XCTAssertEqual(Double(bn.movingMean.value[0]), 0.02, accuracy: 1e-7)
        XCTAssertEqual(Double(bn.movingMean.value[1]), 0.04, accuracy: 1e-7)
        XCTAssertEqual(Double(bn.movingVariance.value[0]), 1.0, accuracy: 1e-7)
        XCTAssertEqual(Double(bn.movingVariance.value[1]), 0.99 + 0.04, accuracy: 1e-6)
        // Inference: the moving figures, not the batch's.
        let inferred = layer.forward(x, training: false)
        XCTAssertEqual(Double(inferred[0]), (1 - 0.02) / (1.0 + 0.001).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Double(inferred[3]), (6 - 0.04) / (1.03 + 0.001).squareRoot(), accuracy: 1e-5)
        // A step is folded in once.
        let once = bn.movingMean.value.storage
        layer.finishStep(shards: [layer])
        XCTAssertEqual(bn.movingMean.value.storage, once)
    }

    func testBatchNormStatisticsSpanEveryPositionOfAnImage() throws {
        let layer = try build(BatchNormSpec(momentum: 0), [2, 2, 3])
        let x = randomTensor([3, 2, 2, 3])
        _ = layer.forward(x, training: true)
        layer.finishStep(shards: [layer])
        let bn = try XCTUnwrap(layer as? BatchNorm)
        for c in 0..<3 {
            let values = (0..<12).map { Double(x[$0 * 3 + c]) }
            let mean = values.reduce(0, +) / 12
            XCTAssertEqual(Double(bn.movingMean.value[c]), mean, accuracy: 1e-5)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
            XCTAssertEqual(Double(bn.movingVariance.value[c]), variance, accuracy: 1e-5)
        }
        XCTAssertEqual(layer.minimumShard, Int.max, "statistics over the whole batch: never sharded")
    }

    /// Both layers' backward against central differences of their training
    /// forward, for the input, γ and β, with γ and β away from 1 and 0.
    func testGradientsMatchFiniteDifferences() throws {
        for (spec, shape) in [(LayerNormSpec() as any LayerSpec, [5]), (LayerNormSpec(epsilon: 0.01), [3, 4]),
                              (BatchNormSpec(), [4]), (BatchNormSpec(), [2, 2, 3])] {
            let layer = try build(spec, shape)
            for p in layer.parameters where p.trainable {
                for i in 0..<p.value.count { p.value[i] = random.nextUnitFloat() + 0.5 }
            }
            let x = randomTensor([3] + shape)
            let w = randomTensor([3] + shape)
            func loss(_ input: Tensor) -> Double {
                let y = layer.forward(input, training: true)
                return (0..<y.count).reduce(0) { $0 + Double(y[$1]) * Double(w[$1]) }
            }
            _ = layer.forward(x, training: true)
            for p in layer.parameters { p.zeroGradient() }
            let dx = layer.backward(w)
            let eps: Float = 1e-2
            var input = x
            func check(_ analytic: Float, _ perturb: (Float) -> Void, _ what: String) {
                perturb(eps)
                let plus = loss(input)
                perturb(-2 * eps)
                let minus = loss(input)
                perturb(eps)
                let numerical = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(analytic), numerical, accuracy: 2e-2 * max(1, abs(numerical)), "\(layer.kind) \(what)")
            }
            for i in 0..<x.count { check(dx[i], { input[i] += $0 }, "input[\(i)]") }
            for p in layer.parameters where p.trainable {
                for i in 0..<p.value.count { check(p.gradient[i], { p.value[i] += $0 }, "\(p.name)[\(i)]") }
            }
        }
    }

    /// The optimizer steps γ and β but never the moving figures, which only
    /// the layer's own update moves.
    func testTheOptimizerLeavesTheMovingFiguresAlone() throws {
        let layer = try build(BatchNormSpec(), [3])
        let bn = try XCTUnwrap(layer as? BatchNorm)
        for p in layer.parameters { p.gradient = Tensor(shape: p.value.shape, repeating: 1) }
        Optimizer(.adam).step(layer.parameters)
        XCTAssertEqual(bn.movingMean.value.storage, [0, 0, 0])
        XCTAssertEqual(bn.movingVariance.value.storage, [1, 1, 1])
        XCTAssertNotEqual(bn.parameters[0].value.storage, [1, 1, 1], "γ is trained")
        XCTAssertEqual(bn.parameters.map(\.name), ["gamma", "beta", "moving_mean", "moving_variance"])
    }

    /// A batch whose loss is not a number is not applied (`Trainer`'s
    /// divergence stop): the moving figures stay those of the step before,
    /// as the weights do, even though the batch's own figures are finite.
    func testADivergedBatchLeavesTheMovingFiguresAlone() throws {
        let model = try Sequential(name: "m", inputShape: [3], random: RandomGenerator(seed: 4))
        try model.add(BatchNormSpec(momentum: 0))
        try model.add(.dense(units: 1, activation: .linear))
        let bn = try XCTUnwrap(model.layers.first as? BatchNorm)
        let targets = Tensor(shape: [8, 1], repeating: .nan)
        var shuffle = RandomGenerator(seed: 1)
        let outcome = Trainer.fit(model, on: Dataset(inputs: randomTensor([8, 3]), targets: .values(targets)),
                                  options: FitOptions(epochs: 1, batchSize: 4, loss: .mse),
                                  optimizer: Optimizer(.sgd), random: &shuffle, clock: { 0 })
        XCTAssertEqual(outcome.diverged?.batch, 1)
        XCTAssertEqual(bn.movingMean.value.storage, [0, 0, 0])
        XCTAssertEqual(bn.movingVariance.value.storage, [1, 1, 1])
    }
}
