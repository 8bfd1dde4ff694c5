import LoomCore
import LoomEngine
import XCTest

/// Atoms a float barely holds, and dictionaries too large for their Gram
/// matrix: the engine scales, measures and sizes them without trapping.
final class HostileDictionaryTests: XCTestCase {
    /// Norms past the largest float (3e38 twice) or whose inverse is past
    /// it (1e-45) are scaled in double precision, to unit norm.
    func testAtomsWhoseNormAFloatCannotHoldAreNormalized() {
        var d = SparseDictionary(atoms: [3e38, 3e38, 3e38, -3e38, .leastNonzeroMagnitude, 0, 3, 4], count: 4, length: 2)
        XCTAssertFalse(d.norms[0].isFinite)
        XCTAssertEqual(d.normalize(), 4)
        let half = Float(0.5).squareRoot()
        XCTAssertEqual(Array(d.atoms[0..<4]), [half, half, half, -half])
        XCTAssertEqual(Array(d.atoms[4..<8]), [1, 0, 0.6, 0.8])
        for norm in d.norms { XCTAssertEqual(norm, 1, accuracy: 1e-6) }
    }

    func testAtomsThatCannotBeScaledAreLeftAsTheyWere() {
        for atoms: [Float] in [[0, 0, 1, 0], [.infinity, 1, 1, 0], [.nan, 1, 1, 0]] {
            var d = SparseDictionary(atoms: atoms, count: 2, length: 2)
            XCTAssertNil(d.normalize())
            XCTAssertEqual(d.atoms.map(\.bitPattern), atoms.map(\.bitPattern))
        }
    }

    /// Coherence a band of rows at a time equals the largest off-diagonal
    /// entry of the whole Gram matrix, across band edges.
    func testCoherenceInBandsMatchesTheWholeGramMatrix() {
        var random = RandomGenerator(seed: 7)
        let count = 600, length = 5
        var atoms: [Float] = (0..<(count * length)).map { _ in random.nextNormalFloat() }
        // Two atoms in different bands repeat each other, up to sign and scale.
        for j in 0..<length { atoms[530 * length + j] = -2 * atoms[3 * length + j] }
        var d = SparseDictionary(atoms: atoms, count: count, length: length)
        d.normalize()
        let g = d.gram
        var largest: Float = 0
        for i in 0..<count { for j in (i + 1)..<count { largest = max(largest, abs(g[i * count + j])) } }
        XCTAssertEqual(d.coherence, largest)
        XCTAssertEqual(d.coherence, 1, accuracy: 1e-6)
    }

    func testEncodingCountsTheGramMatrix() {
        let d = SparseDictionary(atoms: [Float](repeating: 1, count: 40_000), count: 40_000, length: 1)
        XCTAssertEqual(d.gramBytes, 6_400_000_000)
        let bytes = SparseCoding.encodingBytes(samples: 10, over: d, .omp(sparsity: 1, relativeError: nil))
        XCTAssertGreaterThan(bytes, d.gramBytes)
        XCTAssertEqual(SparseCoding.encodingBytes(samples: Int.max / 2, over: d, .threshold(0.1, positive: false)), Int.max)
    }

    func testAnNPYOfSamplesWithoutValuesIsRefused() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 0), }\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        XCTAssertThrowsError(try NPYLoader.load(samples: bytes, labels: nil, samplesSource: "e.npy", labelsSource: "")) {
            XCTAssertEqual("\($0)", "e.npy holds 5 samples of 0: no values in each")
        }
    }

    /// Inference is sized by the batch it runs, and sizes saturate rather than overflow.
    func testInferenceAndTrainingSizes() throws {
        let model = try Sequential(name: "m", inputShape: [64, 64, 1], random: RandomGenerator(seed: 1))
        try model.add(Conv2DSpec(filters: 32, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .valid))
        let one = model.forwardBytes(samples: 1)
        XCTAssertEqual(model.forwardBytes(samples: 256), 256 * one)
        let perSample = one + 64 * 64 * 4 + model.outputShape.reduce(1, *) * 8  // the input's copy, the outputs
        XCTAssertEqual(model.inferenceBytes(samples: 256), 256 * perSample)
        XCTAssertEqual(model.inferenceBatch(fitting: 10 * perSample + perSample / 2), 10)
        XCTAssertEqual(model.inferenceBatch(fitting: 10 * perSample, extraPerSample: 1), 9)
        XCTAssertEqual(model.inferenceBatch(fitting: perSample - 1), 0)
        XCTAssertEqual(model.inferenceBatch(fitting: Int.max), Sequential.inferenceBatch)
        XCTAssertGreaterThan(Trainer.batchBytes(model, batchSize: 4, validationSamples: 300), 256 * one)
        XCTAssertEqual(model.forwardBytes(samples: Int.max / 2), Int.max)
        XCTAssertEqual(MemoryAccount.product(1 << 40, 1 << 40), Int.max)
        XCTAssertEqual(MemoryAccount.sum(Int.max, 1), Int.max)
    }
}
