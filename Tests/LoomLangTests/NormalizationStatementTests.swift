import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `batchnorm` and `layernorm` in a model: trained, saved in Keras's layout
/// and loaded back with the same predictions.
final class NormalizationStatementTests: LoomTestCase {
    let file = "/tmp/loom-\(getpid())-norm.safetensors"

    func testNormalisedModelsTrainSaveAndLoadInKerasLayout() throws {
        defer { unlink(file) }
        let setup = "seed 3\ndata g = glyphs n 120 size 8\nmodel m {\n  input 8x8x1\n  conv2d 4 3 relu\n  batchnorm momentum 0.9\n"
            + "  flatten\n  layernorm\n  dense 10 softmax\n}\ntrain m on g epochs 2\npredict m on g first 8"
        guard case .ok = run(setup) else { return XCTFail("\(String(describing: error(setup)))") }
        let predicted = texts().last
        guard case .ok = run("save m \"\(file)\"\nload n \"\(file)\"\npredict n on g first 8") else {
            return XCTFail("\(String(describing: out.streams))")
        }
        XCTAssertEqual(texts().last, predicted, "the loaded model predicts as the saved one")
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: file))
        let saved = try SafeTensors.decode([UInt8](bytes), source: file)
        for name in ["gamma", "beta", "moving_mean", "moving_variance"] {
            XCTAssertEqual(saved.tensors["batchnorm1.\(name)"]?.shape, [4], name)
        }
        XCTAssertEqual(saved.tensors["layernorm1.gamma"]?.shape, [144])
        XCTAssertNil(saved.tensors["layernorm1.moving_mean"])
        // The moving figures moved away from Keras's zeros and ones while training.
        XCTAssertNotEqual(saved.tensors["batchnorm1.moving_mean"]?.storage, [0, 0, 0, 0])
        XCTAssertTrue(saved.metadata["loom.definition"]?.contains("batchnorm momentum 0.9 as batchnorm1") ?? false)
    }

    func testBadOptionsAreRefusedWithTheirBounds() {
        XCTAssertEqual(error("model m {\n  input 4\n  batchnorm momentum 1\n}")?.value,
                       "momentum must be at least 0 and below 1, not 1")
        XCTAssertEqual(error("model m {\n  input 4\n  layernorm epsilon 0\n}")?.value, "epsilon must be above 0, not 0")
        XCTAssertEqual(error("model m {\n  input 1\n  layernorm\n}")?.value,
                       "`layernorm` does not fit here: layernorm needs at least two features on its last axis, not 1")
    }
}
