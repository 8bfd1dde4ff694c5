import LoomEngine
import XCTest

/// What layers update themselves beyond their parameters (`Layer.state`):
/// k-winners' duty cycles, checked against Numenta's update by hand, and
/// carried whole by `weightTensors` and `load(weights:)`.
final class LayerStateTests: XCTestCase {
    func state(_ model: Sequential) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: model.namedState.map { ($0.name, $0.state.value.storage) })
    }

    /// Two units, one winner: duty ← (duty·(period − n) + wins) ÷ period,
    /// the period growing with the samples seen up to 1,000.
    func testDutyCyclesFollowTheUpdateAndCountSamplesUpToThePeriod() throws {
        let model = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 1))
        try model.add(KWinnersSpec(k: .units(1)))
        let layer = model.layers[0]
        func step(_ rows: [[Float]]) {
            _ = layer.forward(Tensor(shape: [rows.count, 2], storage: rows.flatMap { $0 }), training: true)
            layer.finishStep(shards: [layer])
        }
        step([[1, 0], [1, 0]])  // period 2: unit 0 won both
        XCTAssertEqual(state(model), ["kwta1.duty_cycles": [1, 0], "kwta1.duty_samples": [2]])
        step([[0, 1], [0, 1]])  // period 4: (1·2 + 0) ÷ 4 and (0·2 + 2) ÷ 4
        XCTAssertEqual(state(model), ["kwta1.duty_cycles": [0.5, 0.5], "kwta1.duty_samples": [4]])
        // A batch longer than the period is the period: (0.5·0 + 1200) ÷ 1200, and 1,000 samples seen.
        step([[Float]](repeating: [1, 0], count: 1200))
        XCTAssertEqual(state(model), ["kwta1.duty_cycles": [1, 0], "kwta1.duty_samples": [1000]])
    }

    func boostedModel(seed: UInt64) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [6], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 16, activation: .relu))
        try model.add(KWinnersSpec(k: .units(3), boost: 2))
        try model.add(.dense(units: 3, activation: .softmax))
        return model
    }

    /// A model that takes another's weights and state (what `copy` and a
    /// saved file do) computes its outputs bit for bit, and owns its state:
    /// training the original further leaves the copy's alone.
    func testAModelTakingAnothersWeightsTakesItsStateAndComputesTheSame() throws {
        var random = RandomGenerator(seed: 7)
        let x = Tensor(shape: [96, 6], storage: (0..<576).map { _ in random.nextUnitFloat() })
        let data = Dataset(inputs: x, labels: (0..<96).map { $0 % 3 }, classes: 3)
        let trained = try boostedModel(seed: 1)
        // Batches of 32: shards on replicas, whose wins fold into the shared duty cycles.
        _ = Trainer.fit(trained, on: data, options: FitOptions(epochs: 2, batchSize: 32, loss: .crossentropy),
                        optimizer: Optimizer(.adam), random: &random, clock: { 0 })
        XCTAssertEqual(state(trained)["kwta1.duty_samples"], [192])
        let copy = try boostedModel(seed: 2)
        XCTAssertNotEqual(state(copy), state(trained))
        try copy.load(weightsOf: trained)
        XCTAssertEqual(state(copy), state(trained))
        XCTAssertEqual(copy.predict(x).storage.map(\.bitPattern), trained.predict(x).storage.map(\.bitPattern))
        let kept = state(copy)
        _ = Trainer.fit(trained, on: data, options: FitOptions(epochs: 1, batchSize: 32, loss: .crossentropy),
                        optimizer: Optimizer(.adam), random: &random, clock: { 0 })
        XCTAssertNotEqual(state(trained), kept)
        XCTAssertEqual(state(copy), kept)
        // Every tensor a model saves has a name of its own.
        let names = trained.weightTensors.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertTrue(names.contains("kwta1.duty_cycles"))
    }
}
