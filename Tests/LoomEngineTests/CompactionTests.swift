import LoomEngine
import XCTest

/// Structured pruning (whole units and filters) and `Compaction`, which
/// removes them: the outputs stay bit for bit the same.
final class CompactionTests: XCTestCase {
    func inputs(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
        var random = RandomGenerator(seed: seed)
        var x = Tensor(zeros: [40] + shape)
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        return x
    }

    /// Nonzero biases and batchnorm figures, so nothing is zero by accident.
    func perturb(_ m: Sequential) {
        var random = RandomGenerator(seed: 11)
        for p in m.parameters where p.value.shape.count == 1 {
            for i in 0..<p.value.count { p.value[i] = p.name == "moving_variance" ? 0.5 + random.nextUnitFloat() : random.nextUnitFloat() - 0.5 }
        }
    }

    func dense() throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [30], random: RandomGenerator(seed: 1))
        try m.add(.dense(units: 24, activation: .relu))
        try m.add(.dense(units: 16, activation: .tanh))
        try m.add(.dense(units: 5, activation: .softmax))
        perturb(m)
        return m
    }

    func convolutional() throws -> Sequential {
        let m = try Sequential(name: "c", inputShape: [7, 7, 2], random: RandomGenerator(seed: 2))
        try m.add(.conv2d(filters: 6, kernel: (3, 3), activation: .relu, stride: 1, padding: .same))
        try m.add(BatchNormSpec())
        try m.add(.conv2d(filters: 8, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        try m.add(PoolingSpec(mode: .max, size: Window(2, 2), stride: nil))
        try m.add(.flatten)
        try m.add(.dense(units: 10, activation: .relu))
        try m.add(.dense(units: 4, activation: .softmax))
        perturb(m)
        return m
    }

    /// Half the units of each hidden dense layer: exactly half the columns
    /// zero (the smallest L2 norms), their biases too; compacted, the layers
    /// have 12 and 8 units, the next layers 12 and 8 inputs, and the outputs
    /// are the same bits.
    func testDenseUnitsPrunedAndCompactedGiveTheSameOutputs() throws {
        let m = try dense()
        let norms = (0..<24).map { u in stride(from: u, to: 30 * 24, by: 24).reduce(Float(0)) { $0 + pow(m.parameters[0].value[$1], 2) } }
        let smallest = Set((0..<24).sorted { norms[$0] < norms[$1] }.prefix(12))
        for block in m.blocks.dropLast() { SparseWeights.pruneUnits(of: block, in: m, fraction: 0.5) }
        let kernel = m.parameters[0], bias = m.parameters[1]
        for u in 0..<24 {
            let column = stride(from: u, to: 30 * 24, by: 24).map { kernel.value[$0] }
            XCTAssertEqual(column.allSatisfy { $0 == 0 } && bias.value[u] == 0, smallest.contains(u), "unit \(u)")
        }
        let x = inputs([30])
        let before = m.predict(x)
        let compaction = try Compaction(m)
        let c = compaction.model
        XCTAssertEqual(c.blocks.map(\.outputShape), [[12], [8], [5]])
        XCTAssertEqual(c.parameters.map(\.value.shape), [[30, 12], [12], [12, 8], [8], [8, 5], [5]])
        XCTAssertEqual(c.predict(x).storage, before.storage, "bit for bit")
        XCTAssertEqual(compaction.shrunk.map(\.to), [12, 8])
        // Initial weights cut down alike: the kept columns of the first kernel.
        let gathered = compaction.gather(m.parameters.map(\.value.storage))
        XCTAssertEqual(gathered.map(\.count), c.parameters.map(\.value.count))
        XCTAssertEqual(gathered, c.parameters.map(\.value.storage))
    }

    /// Filters of a convolution feeding relu, batchnorm and a second
    /// convolution; that one's filters feeding pooling, flatten and dense:
    /// both shrink, batchnorm's four figures and the dense layer's rows with them.
    func testFiltersThroughBatchNormAndFlattenCompactToTheSameOutputs() throws {
        let m = try convolutional()
        let x = inputs([7, 7, 2])
        for block in m.blocks where block.main.kind == "conv2d" { SparseWeights.pruneUnits(of: block, in: m, fraction: 0.5) }
        // The batchnorm after conv1 is masked with it, so the pruned channels stay zero.
        let gamma = m.blocks[1].main.parameters[0]
        XCTAssertEqual(gamma.value.storage.filter { $0 == 0 }.count, 3)
        let before = m.predict(x)
        let c = try Compaction(m).model
        XCTAssertEqual(c.blocks.map(\.outputShape), [[7, 7, 3], [7, 7, 3], [5, 5, 4], [2, 2, 4], [16], [10], [4]])
        XCTAssertEqual(c.blocks[0].main.parameters[0].value.shape, [3, 3, 2, 3])
        XCTAssertEqual(c.blocks[2].main.parameters[0].value.shape, [3, 3, 3, 4])
        XCTAssertEqual(c.blocks[5].main.parameters[0].value.shape, [16, 10])
        XCTAssertEqual(c.predict(x).storage, before.storage, "bit for bit")
        XCTAssertLessThan(c.parameterCount, m.parameterCount)
    }

    /// What cannot be compacted says why: nothing pruned whole; pruned
    /// units that reach a layer normalisation (which mixes them).
    func testWhatCannotBeCompactedIsRefusedWithTheReason() throws {
        XCTAssertThrowsError(try Compaction(try dense())) { error in
            XCTAssertTrue((error as! CompactionError).message.hasPrefix("nothing to compact: no unit or filter of m is pruned whole"))
        }
        let m = try Sequential(name: "n", inputShape: [6], random: RandomGenerator(seed: 5))
        try m.add(.dense(units: 8, activation: .relu))
        try m.add(LayerNormSpec())
        try m.add(.dense(units: 2, activation: .softmax))
        SparseWeights.pruneUnits(of: m.blocks[0], in: m, fraction: 0.5)
        XCTAssertThrowsError(try Compaction(m)) { error in
            XCTAssertEqual((error as! CompactionError).message,
                           "nothing to compact: the pruned units of dense1 reach layernorm1, whose layernorm layer mixes them or makes their zeros nonzero")
        }
    }
}
