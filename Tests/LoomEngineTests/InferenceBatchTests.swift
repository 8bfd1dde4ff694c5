import LoomCore
import LoomEngine
import XCTest

/// Inference over a data set runs a batch at a time, in batches as small as
/// memory needs, and scores the same as one forward pass over every sample.
final class InferenceBatchTests: XCTestCase {
    let samples = 103  // no batch size below divides it

    func inputs(width: Int, seed: UInt64) -> Tensor {
        var random = RandomGenerator(seed: seed)
        return Tensor(shape: [samples, width], storage: (0..<(samples * width)).map { _ in 4 * random.nextUnitFloat() - 2 })
    }

    func model(inputs: Int, outputs: Int, softmax: Bool) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [inputs], random: RandomGenerator(seed: 5))
        try m.add(.dense(units: 16, activation: .relu))
        try m.add(.dense(units: outputs, activation: softmax ? .softmax : .linear))
        return m
    }

    /// The reference: every sample's output from one forward pass, scored whole.
    func onePass(_ m: Sequential, _ data: Dataset, _ loss: Loss) -> (loss: Double, outputs: Tensor) {
        let outputs = m.forward(data.inputs, training: false)
        let targets = data.targets.gathering(Array(0..<data.count), inputs: data.inputs)
        return (loss.evaluate(outputs, targets: targets, withGradient: false).loss, outputs)
    }

    func testClassesScoredInSmallBatchesMatchOnePass() throws {
        let m = try model(inputs: 5, outputs: 3, softmax: true)
        let x = inputs(width: 5, seed: 1)
        let data = Dataset(inputs: x, labels: (0..<samples).map { $0 % 3 })
        let (loss, outputs) = onePass(m, data, .crossentropy)
        let predicted = Metrics.predictedClasses(outputs)
        var confusion = [[Int]](repeating: [0, 0, 0], count: 3)
        for (i, p) in predicted.enumerated() { confusion[i % 3][p] += 1 }
        for batch in [1, 7, 64, 256] {
            let e = Metrics.evaluate(m, on: data, loss: .crossentropy, batchSize: batch)
            XCTAssertEqual(e.loss, loss, "batch \(batch)")
            XCTAssertEqual(e.confusion ?? [], confusion, "batch \(batch)")
            XCTAssertEqual(e.accuracy, Double(confusion.indices.map { confusion[$0][$0] }.reduce(0, +)) / Double(samples))
        }
    }

    func testValuesAndReconstructionsScoredInSmallBatchesMatchOnePass() throws {
        let x = inputs(width: 4, seed: 2)
        let values = Dataset(inputs: x, targets: .values(inputs(width: 2, seed: 3)))
        let reconstruction = Dataset(inputs: x, targets: .inputs)
        for (data, outputs) in [(values, 2), (reconstruction, 4)] {
            let m = try model(inputs: 4, outputs: outputs, softmax: false)
            let (loss, out) = onePass(m, data, .mse)
            let t = data.targets.gathering(Array(0..<samples), inputs: x)
            guard case .values(let targets) = t else { return XCTFail("values") }
            let absolute = Metrics.absoluteErrorSum(out, targets) / Double(out.count)
            for batch in [1, 7, 256] {
                let e = Metrics.evaluate(m, on: data, loss: .mse, batchSize: batch)
                XCTAssertEqual(e.loss, loss, "batch \(batch)")
                XCTAssertEqual(e.meanSquaredError, loss, "batch \(batch)")
                XCTAssertEqual(e.meanAbsoluteError, absolute, "batch \(batch)")
            }
        }
    }

    /// Runs hand over every sample once, in order, with its own outputs.
    func testRunsCoverEverySampleInOrder() throws {
        let m = try model(inputs: 5, outputs: 3, softmax: true)
        let x = inputs(width: 5, seed: 4)
        let whole = m.forward(x, training: false)
        var seen: [Range<Int>] = [], outputs: [Float] = []
        XCTAssertTrue(m.predictInRuns(x, batchSize: 10, shouldStop: { false }) { samples, inputs, out in
            seen.append(samples)
            XCTAssertEqual(inputs.batch, samples.count)
            outputs += out.storage
        })
        XCTAssertEqual(seen.first, 0..<10)
        XCTAssertEqual(seen.last, 100..<103)
        XCTAssertEqual(seen.count, 11)
        XCTAssertEqual(outputs, whole.storage)
        var runs = 0
        XCTAssertFalse(m.predictInRuns(x, batchSize: 10, shouldStop: { runs >= 2 }) { _, _, _ in runs += 1 })
        XCTAssertEqual(runs, 2)
    }
}
