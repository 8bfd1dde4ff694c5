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
    /// block, a padded group of units), row counts of one block of samples
    /// and past it, and each N:M: the packed forward equals the masked dense
    /// one to rounding.
    func testThePackedKernelGivesTheMaskedDenseOutputs() throws {
        var random = RandomGenerator(seed: 11)
        for (inputs, units, rows) in [(13, 130, 64), (37, 131, 70), (150, 129, 129), (64, 128, 200)] {
            for (kept, block) in [(2, 4), (1, 4), (4, 8), (3, 8), (8, 16), (1, 3)] {
                let layer = Dense(name: "d", inputs: inputs, units: units, random: &random)
                for j in 0..<units { layer.bias.value[j] = Float(j) * 0.01 - 0.3 }
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

    /// Where the packed kernel would not pay (fewer units than
    /// `packedInferenceUnits`, or fewer rows than `packedInferenceRows`), a
    /// 2:4 layer infers through the dense product: the same bits as its
    /// training forward pass.
    func testSmallLayersAndBatchesInferThroughTheDenseProduct() throws {
        var random = RandomGenerator(seed: 15)
        for (units, rows) in [(Dense.packedInferenceUnits - 1, 100), (Dense.packedInferenceUnits, Dense.packedInferenceRows - 1)] {
            let layer = Dense(name: "d", inputs: 40, units: units, random: &random)
            SparseWeights.prune([layer.weight], keeping: 2, of: 4)
            XCTAssertEqual(layer.infersPacked, units >= Dense.packedInferenceUnits, "\(units) units")
            let x = randomTensor([rows, 40], &random)
            XCTAssertEqual(layer.forward(x, training: false).storage, layer.forward(x, training: true).storage, "\(units) units, \(rows) rows")
        }
    }

    /// A mask that stops being N:M (a block keeps three of four, or the
    /// mask is lifted) sends inference back to the dense product.
    func testInferenceSwitchesBackToDenseWhenTheMaskStopsBeingNM() throws {
        var random = RandomGenerator(seed: 12)
        let units = Dense.packedInferenceUnits
        let layer = Dense(name: "d", inputs: 12, units: units, random: &random)
        SparseWeights.prune([layer.weight], keeping: 2, of: 4)
        XCTAssertTrue(layer.infersPacked)
        var mask = try XCTUnwrap(layer.weight.mask)
        // Unit 0 keeps all its 12 inputs: no block of 4, 8 or 16 rows keeps at most half.
        for row in 0..<12 { mask[row * units] = 1 }
        try layer.weight.setMask(mask)
        for row in 0..<12 { layer.weight.value[row * units] = 0.25 + Float(row) * 0.01 }
        layer.weight.markChanged()
        XCTAssertFalse(layer.infersPacked)
        XCTAssertFalse(layer.infersSparsely)
        let x = randomTensor([70, 12], &random)
        let y = layer.forward(x, training: false), reference = denseReference(x, layer, rows: 70)
        for i in 0..<70 * units { XCTAssertEqual(y[i], reference[i], accuracy: 1e-6) }
        SparseWeights.prune([layer.weight], keeping: 2, of: 4)
        XCTAssertTrue(layer.infersPacked, "pruned 2:4 again")
        try layer.weight.setMask(nil)
        XCTAssertFalse(layer.infersPacked, "no mask")
    }

    /// A model pruned 2:4 predicts through the packed kernel (its wide
    /// layer, on a full batch and on the 44 samples left) the classes and,
    /// to rounding, the values its dense product gives.
    func testAModelPrunedTwoOfFourPredictsAsTheDenseProductDoes() throws {
        let model = try Sequential(name: "m", inputShape: [50], random: RandomGenerator(seed: 13))
        try model.add(.dense(units: 160, activation: .relu))
        try model.add(.dense(units: 10, activation: .softmax))
        SparseWeights.prune(SparseWeights.prunable(model.layers), keeping: 2, of: 4)
        let dense = model.layers.compactMap { $0 as? Dense }
        XCTAssertEqual(dense.map(\.infersPacked), [true, false])
        var random = RandomGenerator(seed: 14)
        let x = randomTensor([Sequential.inferenceBatch + 44, 50], &random)
        // The training forward pass multiplies densely (a 2:4 mask is below the sparse training threshold).
        let before = model.forward(x, training: true), packed = model.predict(x)
        XCTAssertEqual(Metrics.predictedClasses(packed), Metrics.predictedClasses(before))
        for i in 0..<before.count { XCTAssertEqual(packed[i], before[i], accuracy: 1e-6) }
    }
}
