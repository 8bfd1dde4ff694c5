import LoomEngine
import XCTest

/// Structured pruning (whole units and filters) and `Compaction`, which
/// removes them: the removed channels are exactly zero where the next layer
/// reads them, so the outputs are the same up to the order in which
/// OpenBLAS sums a product's terms, which depends on the matrices' shapes
/// (measured: a 1,960×54 by 54×8 product and its 27-column compaction, the
/// dropped terms all zero, differ in the last bit of 11,386 of 15,680
/// outputs on one kernel and in none on another).
final class CompactionTests: XCTestCase {
    /// Equal but for the last bits of float rounding: within 2⁻²⁰ relative, and the same class for every sample.
    func assertSameOutputs(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        for (x, y) in zip(a.storage, b.storage) {
            XCTAssertEqual(x, y, accuracy: max(abs(x), abs(y)) * 1e-6, file: file, line: line)
        }
        let classes = a.shape.last!
        func argmax(_ t: Tensor, _ s: Int) -> Int { (0..<classes).max { t[s * classes + $0] < t[s * classes + $1] }! }
        for s in 0..<a.batch { XCTAssertEqual(argmax(a, s), argmax(b, s), "sample \(s)", file: file, line: line) }
    }

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
    /// zero (the smallest L2 norms), their biases too, their outputs zero;
    /// compacted, the layers have 12 and 8 units, the next layers 12 and 8
    /// inputs, and the outputs are the same.
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
        let hidden = m.blockOutputs(x)[0]
        for s in 0..<x.batch { for u in smallest { XCTAssertEqual(hidden[s * 24 + u], 0) } }
        let compaction = try Compaction(m)
        let c = compaction.model
        XCTAssertEqual(c.blocks.map(\.outputShape), [[12], [8], [5]])
        XCTAssertEqual(c.parameters.map(\.value.shape), [[30, 12], [12], [12, 8], [8], [8, 5], [5]])
        assertSameOutputs(c.predict(x), before)
        XCTAssertEqual(compaction.shrunk.map(\.to), [12, 8])
        // Initial weights cut down alike: the kept columns of the first kernel.
        let gathered = compaction.gather(m.parameters.map(\.value.storage))
        XCTAssertEqual(gathered.map(\.count), c.parameters.map(\.value.count))
        XCTAssertEqual(gathered, c.parameters.map(\.value.storage))
    }

    /// Filters of a convolution feeding relu, batchnorm and a second
    /// convolution; that one's filters feeding pooling, flatten and dense:
    /// both shrink, batchnorm's four figures and the dense layer's rows with
    /// them; the pruned channels are zero after batchnorm (its γ and β masked too).
    func testFiltersThroughBatchNormAndFlattenCompactToTheSameOutputs() throws {
        let m = try convolutional()
        let x = inputs([7, 7, 2])
        for block in m.blocks where block.main.kind == "conv2d" { SparseWeights.pruneUnits(of: block, in: m, fraction: 0.5) }
        // The batchnorm after conv1 is masked with it, so the pruned channels stay zero.
        let gamma = m.blocks[1].main.parameters[0]
        let pruned = (0..<6).filter { gamma.value[$0] == 0 }
        XCTAssertEqual(pruned.count, 3)
        let normalised = m.blockOutputs(x)[1]
        for i in 0..<normalised.count where pruned.contains(i % 6) { XCTAssertEqual(normalised[i], 0) }
        let before = m.predict(x)
        let c = try Compaction(m).model
        XCTAssertEqual(c.blocks.map(\.outputShape), [[7, 7, 3], [7, 7, 3], [5, 5, 4], [2, 2, 4], [16], [10], [4]])
        XCTAssertEqual(c.blocks[0].main.parameters[0].value.shape, [3, 3, 2, 3])
        XCTAssertEqual(c.blocks[2].main.parameters[0].value.shape, [3, 3, 3, 4])
        XCTAssertEqual(c.blocks[5].main.parameters[0].value.shape, [16, 10])
        assertSameOutputs(c.predict(x), before)
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
