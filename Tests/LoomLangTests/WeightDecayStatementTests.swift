import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `l2 λ` on dense and convolution lines: read, written back, saved and
/// loaded with the model, its penalty in the history, bad values refused
/// where they stand.
final class WeightDecayStatementTests: LoomTestCase {
    let path = NSTemporaryDirectory() + "loom-weight-decay-\(getpid()).safetensors"

    override func tearDown() {
        unlink(path)
        super.tearDown()
    }

    func ok(_ code: String, line: UInt = #line) {
        if case .error(let e) = run(code) { XCTFail("\(e.name): \(e.value)", line: line) }
    }

    func model(_ name: String) -> Sequential? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state.model
    }

    func testLinesWithL2AreReadAndWrittenBack() throws {
        let lines = ["dense 4 relu l2 0.001": "dense 4 relu l2 0.001", "dense 4 l2 0": "dense 4 linear",
                     "conv2d 2 3x3 l2 5e-4": "conv2d 2 3x3 linear l2 0.0005", "conv1d 3 2 tanh l2 0.25": "conv1d 3 2 tanh l2 0.25"]
        for (line, written) in lines {
            let spec = try Layers.spec(line)
            XCTAssertEqual(Layers.definition(of: spec), written, line)
            XCTAssertEqual(try Layers.spec(written).l2, spec.l2, line)
        }
        XCTAssertEqual(try Layers.spec("dense 4 relu l2 0.001").l2, 0.001)
        XCTAssertEqual(try Layers.spec("conv1d 3 2 l2 0.25").l2, 0.25)
    }

    /// A negative λ, and a name that holds no number, are refused pointing
    /// at the value.
    func testBadValuesAreRefusedAtTheirColumn() throws {
        for (value, message) in [("-0.5", "l2 must be 0 or more, not -0.5"), ("abc", "unknown name `abc`")] {
            let e = try XCTUnwrap(error("model m {\n  input 4\n  dense 3 relu l2 \(value)\n}"), value)
            XCTAssertEqual(e.value, message)
            XCTAssertEqual(e.traceback[1], "  --> line 3, column 19", value)
        }
        let text = try XCTUnwrap(error("model m {\n  input 4\n  dense 3 relu l2 \"a\"\n}"))
        XCTAssertEqual([text.value, text.traceback[1]], ["l2 must be a number", "  --> line 3, column 19"])
    }

    /// A tied decoder cannot decay its encoder's kernel with a λ of its own.
    func testATiedDecoderCannotChangeItsEncodersLambda() {
        let e = error("model m {\n  input 6\n  dense 3 relu l2 0.01 as enc\n  dense 6 linear tied enc l2 0.1\n}")
        XCTAssertEqual(e?.value, "`dense` does not fit here: dense2 uses enc's kernel, which `l2` on enc decays (λ 0.01): "
                       + "give `l2` there; here it may only repeat that λ")
        XCTAssertEqual(e?.traceback[1], "  --> line 4, column 3")
    }

    /// `save` keeps `l2` in the model block, `load` builds it again, and
    /// training shows the penalty: λ·Σw² at the weights of the epoch's one batch.
    func testL2IsSavedLoadedAndShownInTheHistory() throws {
        ok("""
            seed 3
            data g = glyphs n 40 size 8
            model m {
              input 8x8x1
              conv2d 2 3x3 relu l2 0.05
              flatten
              dense 10 softmax l2 0.002
            }
            """)
        let m = try XCTUnwrap(model("m"))
        let expected = [0.05 * sumOfSquares(m.parameters[0]), 0.002 * sumOfSquares(m.parameters[2])].reduce(0, +)
        ok("train m on g epochs 1 batch 40")
        let table = try XCTUnwrap(texts().first { $0.contains("│ epoch") }, texts().joined(separator: "\n"))
        XCTAssertTrue(table.contains("penalty"), table)
        XCTAssertTrue(table.contains(String(format: "%.4f", expected)), "\(expected) in\n\(table)")
        ok("save m \"\(path)\"\nload n \"\(path)\"")
        let loaded = try XCTUnwrap(model("n"))
        XCTAssertEqual(loaded.blocks.map(\.spec.l2), [0.05, 0, 0.002])
        XCTAssertEqual(loaded.decayedKernels.map(\.lambda), [0.05, 0.002])
    }

    /// The other families with kernels take `l2` too, written back as read.
    func testEveryKernelFamilyTakesL2() throws {
        for line in ["depthwise 3x3 multiplier 2 linear l2 0.01", "separable 4 3x3 relu l2 0.002", "local2d 2 3x3 tanh l2 0.5",
                     "local1d 2 3 linear l2 0.5", "lstm 8 tanh l2 0.001", "gru 4 tanh bidirectional l2 0.25", "rnn 3 relu sequences l2 0.1"] {
            let spec = try Layers.spec(line)
            XCTAssertGreaterThan(spec.l2, 0, line)
            XCTAssertEqual(Layers.definition(of: spec), line)
        }
    }

    /// An LSTM's `l2` is saved and loaded with the model; the loaded model
    /// decays its kernel and recurrent kernel, not its bias.
    func testARecurrentLayersL2IsSavedAndLoaded() throws {
        ok("""
            seed 1
            model r {
              input 5x2
              lstm 3 l2 0.02
              dense 2 softmax
            }
            save r "\(path)"
            load s "\(path)"
            """)
        let loaded = try XCTUnwrap(model("s"))
        XCTAssertEqual(loaded.blocks.map(\.spec.l2), [0.02, 0])
        XCTAssertEqual(loaded.decayedKernels.map(\.weight.name), ["kernel", "recurrent_kernel"])
    }

    /// `optimizer adamw` trains with Keras's decay unless `decay` gives one;
    /// `decay` with another rule is refused where it stands.
    func testAdamWTakesDecayAndOtherRulesRefuseIt() throws {
        ok("""
            seed 2
            data g = glyphs n 20 size 8
            model m {
              input 8x8x1
              flatten
              dense 10 softmax
            }
            train m on g optimizer adamw
            """)
        guard case .object(let state as ModelState)? = loom.session["m"] else { return XCTFail("no model m") }
        XCTAssertEqual(state.optimizer?.kind, .adamw)
        XCTAssertEqual(state.optimizer?.weightDecay, 0.004)
        ok("train m on g optimizer adamw decay 0.05")
        XCTAssertEqual(state.optimizer?.weightDecay, 0.05)
        let e = try XCTUnwrap(error("train m on g optimizer sgd decay 0.05"))
        XCTAssertEqual(e.value, "`decay` is AdamW's decoupled weight decay: use `optimizer adamw`, or decay the loss with "
                       + "`l2 λ` on the layers for sgd")
        XCTAssertEqual(e.traceback[1], "  --> line 1, column 34")
    }

    func sumOfSquares(_ p: LoomEngine.Parameter) -> Double { p.value.storage.reduce(0.0) { $0 + Double($1) * Double($1) } }
}
