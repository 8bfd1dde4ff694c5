import LoomEngine
import XCTest

/// What `compare` measures of sparse coders, against values worked out by hand.
final class CoderMeasuresTests: XCTestCase {
    /// Three signals over atoms e₁, e₂ (so each code is the signal's first
    /// two values, one of them nonzero): rebuilt, they lose (0, 0, 1) from the second.
    func testADictionarysFiguresByThresholding() throws {
        let signals = Tensor(shape: [3, 3], storage: [3, 0, 0, 0, 2, 1, 1, 0, 0])
        let dictionary = SparseDictionary(atoms: [1, 0, 0, 0, 1, 0], count: 2, length: 3)
        let m = try XCTUnwrap(CoderMeasurement.dictionary(signals, dictionary, .threshold(0, positive: false)))
        XCTAssertEqual(m.relativeError, (1.0 / 15).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(m.meanNonzeros, 1)
        XCTAssertEqual(m.deadAtoms, 0)
        XCTAssertEqual(m.atoms, 2)
        XCTAssertGreaterThan(m.secondsPerSample, 0)
        let unused = try XCTUnwrap(CoderMeasurement.dictionary(Tensor(shape: [1, 3], storage: [2, 0, 0]), dictionary,
                                                               .threshold(0, positive: false)))
        XCTAssertEqual(unused.deadAtoms, 1, "e₂ codes nothing")
        XCTAssertEqual(unused.relativeError, 0)
    }

    func testRelativeErrorOfZerosRebuiltAsZerosIsZero() {
        XCTAssertEqual(CoderMeasures.relativeError([0, 0], [0, 0]), 0)
        XCTAssertEqual(CoderMeasures.relativeError([3, 4], [0, 0]), 1)
        XCTAssertEqual(CoderMeasures.relativeError([3, 4], [3, 0]), 0.8, accuracy: 1e-12)
    }

    /// The narrowest hidden block, the last of equals; an autoencoder's
    /// codes are that block's outputs, as `blockOutputs` gives them.
    func testAnAutoencodersCodesAreItsNarrowestHiddenBlocksOutputs() throws {
        let m = try Sequential(name: "ae", inputShape: [6], random: RandomGenerator(seed: 3))
        try m.add(.dense(units: 4, activation: .relu))
        try m.add(.dense(units: 2, activation: .relu))
        try m.add(KWinnersSpec(k: .units(1)))
        try m.add(.dense(units: 6, activation: .linear))
        XCTAssertEqual(m.narrowestHiddenBlock, 2)
        let x = Tensor(shape: [5, 6], storage: (0..<30).map { Float($0 % 7) - 3 })
        let codes = try XCTUnwrap(m.outputs(throughBlock: 2, x, batchSize: 2))
        XCTAssertEqual(codes.storage, m.blockOutputs(x)[2].storage)
        let measures = try XCTUnwrap(CoderMeasurement.autoencoder(m, codeBlock: 2, x))
        let rebuilt = m.predict(x).storage
        let residual = zip(x.storage, rebuilt).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
        let energy = x.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertEqual(measures.relativeError, (residual / energy).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(measures.atoms, 2)
        XCTAssertLessThanOrEqual(measures.meanNonzeros, 1)
        let single = try Sequential(name: "one", inputShape: [6], random: RandomGenerator(seed: 3))
        try single.add(.dense(units: 6, activation: .linear))
        XCTAssertNil(single.narrowestHiddenBlock)
    }
}
