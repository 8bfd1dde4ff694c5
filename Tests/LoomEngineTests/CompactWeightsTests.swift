import LoomCore
import LoomEngine
import XCTest

/// The compact layout of masked and clustered weights: files that shrink
/// with the weights kept, read back bit for bit, bad ones refused.
final class CompactWeightsTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    /// input 40 → dense1 50 relu → dense2 4.
    func model(seed: UInt64 = 2) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [40], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 50, activation: .relu))
        try model.add(.dense(units: 4, activation: .linear))
        return model
    }

    func kernels(_ model: Sequential) -> [Parameter] { SparseWeights.prunable(model.layers) }

    func file(_ model: Sequential) -> [UInt8] {
        let (stored, layout) = CompactWeights.pack(model.weightTensors)
        return SafeTensors.encode(stored: stored, metadata: layout.map { [(CompactWeights.layoutKey, $0)] } ?? [])
    }

    func inputs() -> Tensor {
        var x = Tensor(zeros: [6, 40])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        return x
    }

    /// Saved, read back into a model built afresh: the same predictions,
    /// masks and clusters, bit for bit.
    func assertRoundTrip(_ model: Sequential, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = self.file(model)
        let loaded = try self.model(seed: 99)
        try loaded.load(weights: SafeTensors.decode(bytes, source: "m").tensors, source: "m")
        let x = inputs()
        XCTAssertEqual(loaded.predict(x), model.predict(x), file: file, line: line)
        for (a, b) in zip(loaded.parameters, model.parameters) {
            XCTAssertEqual(a.value, b.value, file: file, line: line)
            XCTAssertEqual(a.mask, b.mask, file: file, line: line)
            XCTAssertEqual(a.clusters?.centroids, b.clusters?.centroids, file: file, line: line)
            XCTAssertEqual(a.clusters.map { c in (0..<a.value.count).filter { a.mask?[$0] != 0 }.map { c.assignment[$0] } },
                           b.clusters.map { c in (0..<b.value.count).filter { b.mask?[$0] != 0 }.map { c.assignment[$0] } },
                           file: file, line: line)
        }
    }

    func testPrunedClusteredAndBothReadBackBitForBit() throws {
        let pruned = try model()
        SparseWeights.prune(kernels(pruned), fraction: 0.9, global: false)
        try assertRoundTrip(pruned)
        let clustered = try model()
        try WeightClusters.cluster(kernels(clustered), count: 16)
        try assertRoundTrip(clustered)
        let both = try model()
        SparseWeights.prune(kernels(both), fraction: 0.7, global: false)
        try WeightClusters.cluster(kernels(both), count: 3)
        try assertRoundTrip(both)
        let dense = try model()
        try assertRoundTrip(dense)
        XCTAssertEqual(file(dense), SafeTensors.encode(dense.weightTensors, metadata: []), "dense weights stay as they were")
    }

    func testAnyPositionsSurviveTheGapsWhateverTheirSpacing() throws {
        // Gaps of 1 to far wider than any field, kept first and last weights, a mask keeping nothing.
        for keep in [[0, 1, 2, 1999], [1999], [], [5, 600, 601, 1700], Array(0..<2000)] {
            let model = try Sequential(name: "m", inputShape: [40], random: RandomGenerator(seed: 1))
            try model.add(.dense(units: 50, activation: .linear))
            var mask = [Float](repeating: 0, count: 2000)
            for k in keep { mask[k] = 1 }
            try kernels(model)[0].setMask(mask)
            let tensors = try SafeTensors.decode(file(model), source: "m").tensors
            XCTAssertEqual(tensors["dense1.kernel.mask"]?.storage, mask)
            XCTAssertEqual(tensors["dense1.kernel"], model.parameters[0].value)
        }
    }

    /// A 95%-pruned dense layer's file is under 15% of the unpruned one's.
    func testAFileShrinksWithTheWeightsKept() throws {
        let big = try Sequential(name: "m", inputShape: [300], random: RandomGenerator(seed: 4))
        try big.add(.dense(units: 300, activation: .linear))
        let dense = file(big).count
        SparseWeights.prune(kernels(big), fraction: 0.95, global: false)
        let pruned = file(big).count
        XCTAssertLessThan(Double(pruned), 0.15 * Double(dense), "\(pruned) bytes against \(dense)")
        try WeightClusters.cluster(kernels(big), count: 32)
        XCTAssertLessThan(file(big).count, pruned / 2, "32 values take 5 bits, not 32")
    }

    /// Hand-made layouts with something wrong are refused, naming the weight.
    func testBadLayoutsAreRefusedWithTheirReason() throws {
        func refused(_ stored: [(String, StoredTensor)], _ layout: String, mentioning text: String,
                     line: UInt = #line) {
            let bytes = SafeTensors.encode(stored: stored, metadata: [(CompactWeights.layoutKey, layout)])
            XCTAssertThrowsError(try SafeTensors.decode(bytes, source: "f"), line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error)", line: line)
            }
        }
        let values = StoredTensor.floats(Tensor(shape: [2], storage: [1, 2]))
        // Gaps of 8 bits: 3 then 5 → positions 2 and 7, past a weight of 6.
        refused([("w.values", values), ("w.gaps", .bytes([3, 5]))],
                #"{"w":{"shape":[2,3],"kept":2,"gaps":2,"gap_bits":8}}"#, mentioning: "past its 6 weights")
        // Two values, but the gaps keep one (a filler and a real gap).
        refused([("w.values", values), ("w.gaps", .bytes([0, 1]))],
                #"{"w":{"shape":[300],"kept":2,"gaps":2,"gap_bits":8}}"#, mentioning: "keep 1 weights")
        // Three values for two kept weights.
        refused([("w.values", .floats(Tensor(shape: [3], storage: [1, 2, 3]))), ("w.gaps", .bytes([1, 1]))],
                #"{"w":{"shape":[4],"kept":2,"gaps":2,"gap_bits":8}}"#, mentioning: "3 values for 2")
        // The gaps' bytes too few for their count.
        refused([("w.values", values), ("w.gaps", .bytes([1]))],
                #"{"w":{"shape":[4],"kept":2,"gaps":2,"gap_bits":8}}"#, mentioning: "w.gaps has 1 bytes")
        // A code past a codebook of three (codes 2 bits: 0, 3).
        refused([("w.codebook", .floats(Tensor(shape: [3], storage: [1, 2, 3]))), ("w.codes", .bytes([0b1100]))],
                #"{"w":{"shape":[2],"kept":2,"code_bits":2}}"#, mentioning: "past its codebook")
        // Kept fewer than the weights, with no gaps to say which.
        refused([("w.values", values)], #"{"w":{"shape":[4],"kept":2}}"#, mentioning: "no gaps")
        // A part missing, a U8 tensor no layout uses, a layout that is not JSON.
        refused([("w.gaps", .bytes([1, 1]))], #"{"w":{"shape":[4],"kept":2,"gaps":2,"gap_bits":8}}"#, mentioning: "no tensor w.values")
        refused([("x", .bytes([1]))], "{}", mentioning: "x is U8")
        refused([], "[1", mentioning: "not a JSON object")
        refused([("w.values", values)], #"{"w":{"shape":[4],"kept":9}}"#, mentioning: "kept count")
    }
}
