import LoomLang
import XCTest

/// Completion offers what a statement takes where the cursor is.
final class LayerCompletionTests: LoomTestCase {
    func testShowingALayerOffersTheModelsLayers() {
        run("data g = glyphs n 20 size 8\nmodel m {\n  input 8x8x1\n  conv2d 4 3x3 relu\n  flatten\n  dense 10 softmax\n}")
        let layers = ["m.conv1", "m.dense1", "m.flatten1"]
        for kind in ["weights", "filters", "histogram", "mask"] {
            XCTAssertEqual(loom.complete("show \(kind) ", cursor: 6 + kind.count).matches, layers, kind)
        }
        XCTAssertEqual(loom.complete("show weights m.d", cursor: 16).matches, ["m.dense1"])
        XCTAssertEqual(loom.complete("show activations ", cursor: 17).matches.filter { $0.contains(".") }, layers)
        let train = loom.complete("train ", cursor: 6).matches
        XCTAssertTrue(train.contains("m") && !train.contains("g") && !train.contains("m.dense1"), "a model where a model goes: \(train)")
    }
}
