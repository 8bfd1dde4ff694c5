import LoomEngine
import XCTest

/// The packed N:M inference kernel against the masked dense product.
final class PackedKernelTests: XCTestCase {
    private func randomTensor(_ shape: [Int], _ random: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() - 0.5 }
        return t
    }

    /// x·W + bias with the (masked) weight, through BLAS.
    private func denseReference(_ x: Tensor, _ layer: Dense, rows: Int) -> [Float] {
        let (n, m) = (layer.weight.value.shape[0], layer.weight.value.shape[1])
        let product = GEMM.product(x.storage, layer.weight.value.storage, m: rows, n: m, k: n)
        return (0..<rows * m).map { product[$0] + layer.bias.value[$0 % m] }
    }

    /// Inputs and units that are not multiples of 4 or 8 (a short last
    /// block), row counts short of and past a block of samples, and each
    /// N:M: the packed forward equals the masked dense one to rounding.
    func testThePackedKernelGivesTheMaskedDenseOutputs() throws {
        var random = RandomGenerator(seed: 11)
        for (inputs, units, rows) in [(13, 5, 1), (30, 11, 13), (37, 18, 40), (64, 9, 33), (150, 7, 70)] {
            for (kept, block) in [(2, 4), (1, 4), (4, 8), (3, 8), (1, 3)] {
                let layer = Dense(name: "d", inputs: inputs, units: units, random: &random)
                for j in 0..<units { layer.bias.value[j] = Float(j) * 0.1 - 0.3 }
                SparseWeights.prune([layer.weight], keeping: kept, of: block)
                let case_ = "\(inputs)→\(units), \(rows) rows, \(kept):\(block)"
                XCTAssertTrue(layer.infersPacked, case_)
                XCTAssertFalse(layer.infersSparsely, case_)
                let x = randomTensor([rows, inputs], &random)
                let y = layer.forward(x, training: false), reference = denseReference(x, layer, rows: rows)
                for i in 0..<rows * units { XCTAssertEqual(y[i], reference[i], accuracy: 1e-5, "\(case_) at \(i)") }
            }
        }
    }

    /// A mask that stops being N:M (a block keeps three of four, or the
    /// mask is lifted) sends inference back to the dense product.
    func testInferenceSwitchesBackToDenseWhenTheMaskStopsBeingNM() throws {
        var random = RandomGenerator(seed: 12)
        let layer = Dense(name: "d", inputs: 12, units: 6, random: &random)
        SparseWeights.prune([layer.weight], keeping: 2, of: 4)
        XCTAssertTrue(layer.infersPacked)
        var mask = try XCTUnwrap(layer.weight.mask)
        // Unit 0 keeps all its 12 inputs: no block of 4, 8 or 16 rows keeps at most half.
        for row in 0..<12 { mask[row * 6] = 1 }
        try layer.weight.setMask(mask)
        for row in 0..<12 { layer.weight.value[row * 6] = 0.25 + Float(row) * 0.01 }
        layer.weight.markChanged()
        XCTAssertFalse(layer.infersPacked)
        XCTAssertFalse(layer.infersSparsely)
        let x = randomTensor([9, 12], &random)
        let y = layer.forward(x, training: false), reference = denseReference(x, layer, rows: 9)
        for i in 0..<9 * 6 { XCTAssertEqual(y[i], reference[i], accuracy: 1e-6) }
        SparseWeights.prune([layer.weight], keeping: 2, of: 4)
        XCTAssertTrue(layer.infersPacked, "pruned 2:4 again")
        try layer.weight.setMask(nil)
        XCTAssertFalse(layer.infersPacked, "no mask")
    }

    /// A model pruned 2:4 predicts through the packed kernel the classes
    /// and, to rounding, the values its dense product gives.
    func testAModelPrunedTwoOfFourPredictsAsTheDenseProductDoes() throws {
        let model = try Sequential(name: "m", inputShape: [50], random: RandomGenerator(seed: 13))
        try model.add(.dense(units: 37, activation: .relu))
        try model.add(.dense(units: 10, activation: .softmax))
        SparseWeights.prune(SparseWeights.prunable(model.layers), keeping: 2, of: 4)
        let dense = model.layers.compactMap { $0 as? Dense }
        XCTAssertEqual(dense.map(\.infersPacked), [true, true])
        var random = RandomGenerator(seed: 14)
        let x = randomTensor([300, 50], &random)
        // The training forward pass multiplies densely (a 2:4 mask is below the sparse training threshold).
        let before = model.forward(x, training: true), packed = model.predict(x)
        XCTAssertEqual(Metrics.predictedClasses(packed), Metrics.predictedClasses(before))
        for i in 0..<before.count { XCTAssertEqual(packed[i], before[i], accuracy: 1e-6) }
    }
}
