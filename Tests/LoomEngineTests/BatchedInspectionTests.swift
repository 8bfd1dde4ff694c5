import LoomEngine
import XCTest

/// Sparsity and activations measured a batch at a time give the figures of
/// one pass over all the samples, whatever the batch size.
final class BatchedInspectionTests: XCTestCase {
    /// 40 samples: batches of 7 leave a last one of 5.
    let samples = 40

    func inputs(_ shape: [Int], seed: UInt64) -> Tensor {
        var random = RandomGenerator(seed: seed)
        let count = shape.reduce(samples, *)
        return Tensor(shape: [samples] + shape, storage: (0..<count).map { _ in random.nextUnitFloat() * 2 - 1 })
    }

    /// relu layers around a flatten (not counted) and a dropout (not counted).
    func reluModel() throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [6, 6, 1], random: RandomGenerator(seed: 5))
        try m.add(.conv2d(filters: 3, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        try m.add(.flatten)
        try m.add(.dense(units: 12, activation: .relu))
        try m.add(.dropout(rate: 0.5))
        try m.add(.dense(units: 4, activation: .softmax))
        return m
    }

    /// Each block's per-unit counts worked out from one pass over all the samples.
    func expectedActivity(_ m: Sequential, _ x: Tensor) -> [[Int]] {
        m.blockOutputs(x).map { y in
            (0..<y.sampleSize).map { j in (0..<y.batch).filter { y[$0 * y.sampleSize + j] != 0 }.count }
        }
    }

    func testSparsityInBatchesEqualsOnePass() throws {
        let m = try reluModel(), x = inputs([6, 6, 1], seed: 2)
        let whole = m.sparsity(on: x, batchSize: samples)
        let counts = expectedActivity(m, x)
        for (i, b) in whole.blocks.enumerated() where !m.blocks[i].passesInputOn {
            let total = counts[i].reduce(0, +)
            XCTAssertEqual(b.units, counts[i].count)
            XCTAssertEqual(b.zeroActivations, 1 - Double(total) / Double(samples * counts[i].count), b.name)
            XCTAssertEqual(b.meanActive, Double(total) / Double(samples), b.name)
            XCTAssertEqual(b.deadUnits, counts[i].filter { $0 == 0 }.count, b.name)
            XCTAssertEqual(b.alwaysOnUnits, counts[i].filter { $0 == samples }.count, b.name)
        }
        XCTAssertNil(whole.blocks[1].zeroActivations, "flatten passes its input on")
        XCTAssertGreaterThan(whole.blocks[2].zeroActivations!, 0)
        XCTAssertGreaterThan(whole.blocks[0].zeroActivations!, 0)
        for batch in [1, 7, 256] { XCTAssertEqual(m.sparsity(on: x, batchSize: batch), whole, "batches of \(batch)") }
        // The first 9 samples only, in batches of 4: those of the 9 at once.
        let nine = x.gathering(samples: Array(0..<9))
        XCTAssertEqual(m.sparsity(on: x, samples: 9, batchSize: 4), m.sparsity(on: nine))
    }

    func testBlockActivationsInBatchesEqualOnePass() throws {
        let m = try reluModel(), x = inputs([6, 6, 1], seed: 3)
        let whole = m.blocks[2].activations(on: m.input(toBlock: 2, for: x))
        for batch in [1, 7, samples] {
            var outputs: [Float] = [], sizes: [Int] = []
            let measured = m.activations(ofBlock: 2, on: x, samples: samples, batchSize: batch, keepingStatesOf: 3) { y in
                outputs += y.storage
                sizes.append(y.batch)
            }
            guard case .outputs(let activity) = measured else { return XCTFail("a dense layer has no steps") }
            XCTAssertEqual(outputs, whole.outputs.storage, "batches of \(batch)")
            XCTAssertEqual(sizes.max(), batch)
            XCTAssertEqual(activity.samples, samples)
            XCTAssertEqual(activity.zeroShare, whole.zeroShare)
            XCTAssertEqual(activity.deadUnits, whole.deadUnits)
            XCTAssertEqual(activity.alwaysOnUnits, whole.alwaysOnUnits)
        }
        XCTAssertGreaterThan(whole.zeroShare, 0)
    }

    /// Gate means summed in sample order across batches equal one pass's,
    /// bit for bit; only the first samples' states are kept.
    func testARecurrentTraceInBatchesEqualsOnePass() throws {
        let m = try Sequential(name: "s", inputShape: [5, 3], random: RandomGenerator(seed: 8))
        try m.add(RecurrentSpec(cell: LSTM.self, units: 4, returnsSequences: true))
        try m.add(.dense(units: 2, activation: .linear))
        let x = inputs([5, 3], seed: 4)
        let whole = try XCTUnwrap(m.blocks[0].main.trace(x, after: nil, keepingStatesOf: samples))
        for batch in [1, 7, samples] {
            guard case .steps(let trace) = m.activations(ofBlock: 0, on: x, samples: samples, batchSize: batch, keepingStatesOf: 3,
                                                          { _ in XCTFail("a recurrent layer's outputs are not kept") }) else {
                return XCTFail("an LSTM has steps")
            }
            XCTAssertEqual(trace.samples, samples)
            XCTAssertEqual(trace.gateMeans, whole.gateMeans, "batches of \(batch)")
            XCTAssertEqual(trace.states.shape, [3, 5, 4])
            XCTAssertEqual(trace.states.storage, Array(whole.states.storage.prefix(3 * 5 * 4)))
        }
        // One pass's means are those of the gates' values summed in order.
        XCTAssertEqual(whole.gateMeans.map(\.gate), ["input", "forget", "cell", "output"])
    }

    func testBatchesCoverTheFirstSamplesInOrder() {
        let x = Tensor(shape: [5, 1], storage: [0, 1, 2, 3, 4])
        var seen: [[Float]] = []
        x.forEachBatch(first: 4, size: 3) { seen.append($0.storage) }
        XCTAssertEqual(seen, [[0, 1, 2], [3]])
        seen = []
        x.forEachBatch(first: 9, size: 0) { seen.append($0.storage) }
        XCTAssertEqual(seen, [[0], [1], [2], [3], [4]])
    }
}
