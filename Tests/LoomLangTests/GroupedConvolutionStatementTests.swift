import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `conv2d … groups G`, `depthwise` and `separable` in the language: their
/// errors, `summary`'s counts, save and load, pruning and the reports.
final class GroupedConvolutionStatementTests: LoomTestCase {
    let path = "/tmp/loom-\(getpid())-grouped.safetensors"

    let model = """
        seed 3
        data g = glyphs n 60 size 10
        split g train 0.5
        model m {
          input 10x10x1
          conv2d 8 3x3 relu
          conv2d 8 3x3 relu groups 4
          depthwise 3x3 multiplier 2 relu padding same
          separable 6 3x3 relu stride 2
          flatten
          dense 10 softmax
        }
        """

    func ok(_ code: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .ok = run(code) else { return XCTFail("\(error(code).map { "\($0)" } ?? "")", file: file, line: line) }
    }

    func model(_ name: String) -> Sequential? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state.model
    }

    /// The model's outputs on the test half, as bit patterns.
    func outputs(_ name: String) -> [UInt32] {
        guard let m = model(name), case .object(let data as SessionDataset)? = loom.session["g.test"] else { return [] }
        return m.predict(data.data.inputs).storage.map(\.bitPattern)
    }

    func testGroupsThatDoNotDivideAreErrorsAtTheLine() {
        let channels = error("model bad {\n  input 8x8x3\n  conv2d 4 3x3 groups 2\n}")
        XCTAssertEqual(channels?.value, "`conv2d` does not fit here: groups 2 must divide the input's 3 channels")
        XCTAssertEqual(channels?.traceback[1], "  --> line 3, column 3")
        let filters = error("model bad {\n  input 8x8x4\n  conv2d 6 3x3 groups 4\n}")
        XCTAssertEqual(filters?.value, "`conv2d` does not fit here: groups 4 must divide the 6 filters")
        let flat = error("model bad {\n  input 64\n  depthwise 3x3\n}")
        XCTAssertEqual(flat?.value, "`depthwise` does not fit here: depthwise needs an input of height×width×channels, not 64")
        XCTAssertEqual(flat?.traceback[1], "  --> line 3, column 3")
        XCTAssertEqual(error("model bad {\n  input 8x8x4\n  separable 0 3x3\n}")?.name, "ValueError")
        XCTAssertEqual(error("model bad {\n  input 8x8x4\n  depthwise 3x3 multiplier 0\n}")?.name, "ValueError")
    }

    /// Counts by hand: conv2 3·3·2·8 + 8 = 152 weights and 6·6·(3·3·2)·8 =
    /// 5,184 multiply-adds against a full conv2d's 584 and 20,736 (4×);
    /// depthwise1 3·3·8·2 + 16 = 160 against 3·3·8·16 + 16 = 1,168.
    func testSummaryCountsWhatGroupingSaves() {
        ok(model + "\nsummary m")
        // The note wraps: its words rejoined.
        let summary = (texts().last ?? "").replacingOccurrences(of: "\n", with: " ")
        for row in ["│ conv2      │ 6x6x8  │    152 │", "│ depthwise1 │ 6x6x16 │    160 │", "│ separable1 │ 2x2x6  │    246 │"] {
            XCTAssertTrue(summary.contains(row), "\(row)\n\(summary)")
        }
        XCTAssertTrue(summary.contains("conv2 stores 3.84× fewer weights (152 against 584) and does 4× fewer multiply-adds "
                                       + "(5,184 against 20,736)"), summary)
        // depthwise1 against a conv2d from 8 channels to 16: 36·9·8·16 = 41,472 multiply-adds.
        XCTAssertTrue(summary.contains("depthwise1 stores 7.3× fewer weights (160 against 1,168) and does 8× fewer "
                                       + "multiply-adds (5,184 against 41,472)"), summary)
        // separable1: 9·16 + 16·6 + 6 = 246 against 9·16·6 + 6 = 870; 2·2·(9·16 + 16·6) = 960 against 2·2·9·16·6 = 3,456.
        XCTAssertTrue(summary.contains("separable1 stores 3.54× fewer weights (246 against 870) and does 3.6× fewer "
                                       + "multiply-adds (960 against 3,456)"), summary)
        ok("model plain {\n  input 10x10x1\n  conv2d 8 3x3\n}\nsummary plain")
        XCTAssertFalse(texts().last?.contains("Grouping") ?? true, "no note for a model without grouped layers")
    }

    func testSavedAndLoadedModelsComputeExactlyAsTheOriginal() {
        ok(model + "\ntrain m on g.train epochs 2\nsave m \"\(path)\"\nload n \"\(path)\"")
        defer { unlink(path) }
        XCTAssertFalse(outputs("m").isEmpty)
        XCTAssertEqual(outputs("n"), outputs("m"))
        XCTAssertEqual(model("n")?.blocks.map(\.main.kind), ["conv2d", "conv2d", "depthwise", "separable", "flatten", "dense"])
        XCTAssertEqual(model("n")?.namedParameters.map(\.name).filter { $0.hasPrefix("separable1") },
                       ["separable1.depthwise_kernel", "separable1.pointwise_kernel", "separable1.bias"])
    }

    /// Pruning masks every kernel of the new layers (both of separable's),
    /// and training keeps the zeros.
    func testPruningMasksTheirKernelsThroughTraining() throws {
        ok(model + "\nprune m 50%\ntrain m on g.train epochs 1")
        let m = try XCTUnwrap(model("m"))
        for name in ["conv2.kernel", "depthwise1.kernel", "separable1.depthwise_kernel", "separable1.pointwise_kernel"] {
            let p = try XCTUnwrap(m.namedParameters.first { $0.name == name }?.parameter, name)
            let zeros = p.value.storage.filter { $0 == 0 }.count
            XCTAssertEqual(zeros, Int((0.5 * Double(p.value.count)).rounded()), name)
        }
    }

    func testFiltersAndWeightsAreDrawn() {
        ok(model + "\nshow filters m.depthwise1\nshow filters m.separable1\nshow filters m.conv2\nshow weights m.separable1")
        let reports = texts().joined(separator: "\n")
        XCTAssertTrue(reports.contains("depthwise1: 16 filters of 3x3\n"), "one filter per output channel")
        XCTAssertTrue(reports.contains("separable1: 16 filters of 3x3\n"))
        XCTAssertTrue(reports.contains("conv2: 8 filters of 3x3, each the mean over 2 input channels"))
        XCTAssertTrue(reports.contains("separable1 depthwise kernel, 3x3x16x1"))
        XCTAssertTrue(reports.contains("separable1 pointwise kernel, 1x1x16x6"))
    }
}
