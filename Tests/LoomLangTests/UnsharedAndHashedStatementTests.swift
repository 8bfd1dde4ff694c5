import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `local2d`, `local1d` and `dense … hashed R` through the language:
/// summary's counts, saving and loading, reports, pruning and refusals.
final class UnsharedAndHashedStatementTests: LoomTestCase {
    let images = """
        seed 4
        data g = glyphs n 120 size 8
        split g train 0.75
        model m {
          input 8x8x1
          local2d 3 3x3 relu
          flatten
          dense 16 relu hashed 40
          dense 10 softmax
        }
        """

    func ok(_ code: String, file: StaticString = #filePath, line: UInt = #line) {
        if case .error(let e) = run(code) { XCTFail("\(e.name): \(e.value)", file: file, line: line) }
    }

    func model(_ name: String) -> Sequential? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state.model
    }

    func path(_ name: String) -> String { "/tmp/loom-\(getpid())-\(name).safetensors" }

    /// 6·6 positions × (9 + 1)·3 stored for local1, its twin conv2d 30;
    /// dense1 stores 40 + 16 for a 108×16 virtual matrix.
    func testSummaryCountsTheTwinAndTheHashedLayer() {
        ok(images + "\nsummary m")
        let summary = texts().last ?? ""
        // The note wraps: compare its words on one line.
        let words = summary.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        func row(_ name: String) -> [String] {
            let line = summary.split(separator: "\n").first { $0.hasPrefix("│ \(name) ") } ?? ""
            return line.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        XCTAssertEqual(row("local1"), ["local1", "6x6x3", "1,080", "1,080", "7,020", "1×", "972"])
        XCTAssertEqual(row("dense1"), ["dense1", "16", "56", "1,744", "1,744", "31.1×", "1,728"])
        XCTAssertTrue(words.contains("local1 is a convolution's unshared twin: one of the same shape stores 30 weights and biases, "
                                     + "one kernel where local1 keeps one at each of its 36 positions (1/36 of its kernels)."),
                      summary)
        XCTAssertTrue(words.contains("dense1 is hashed: its 1,728 virtual weights are drawn from 40 real ones, each used 43.2 times "
                                     + "on average."), summary)
        XCTAssertEqual(value("m.params"), String(1_080 + 56 + 170))
    }

    /// Saved and loaded, a trained model predicts bit for bit what it did;
    /// the hashed layer's file holds its real weights alone.
    func testSaveAndLoadRoundTripBitForBit() throws {
        ok(images + "\ntrain m on g.train epochs 2 batch 16\nsave m \"\(path("lh"))\"\nload n \"\(path("lh"))\"")
        defer { unlink(path("lh")) }
        let saved = try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path("lh")))), source: "saved")
        XCTAssertEqual(saved.tensors["local1.kernel"]?.shape, [36, 9, 3])
        XCTAssertEqual(saved.tensors["local1.bias"]?.shape, [6, 6, 3])
        XCTAssertEqual(saved.tensors["dense1.kernel"]?.shape, [40, 1])
        let (m, n) = (try XCTUnwrap(model("m")), try XCTUnwrap(model("n")))
        guard case .object(let data as SessionDataset)? = loom.session["g.test"] else { return XCTFail("no test data") }
        XCTAssertEqual(n.predict(data.data.inputs).storage.map(\.bitPattern), m.predict(data.data.inputs).storage.map(\.bitPattern))
        XCTAssertEqual(n.blocks.map { Layers.definition(of: $0.spec) }, m.blocks.map { Layers.definition(of: $0.spec) })
        XCTAssertEqual(Layers.definition(of: m.blocks[2].spec), "dense 16 relu hashed 40")
        ok("compare m n on g.test")
    }

    func testASequenceModelWithLocal1DTrainsSavesAndLoads() throws {
        ok("""
            seed 2
            data s = sines n 60 steps 10 classes 3
            model q {
              input 10x1
              local1d 4 3 tanh stride 2
              flatten
              dense 3 softmax
            }
            train q on s epochs 2
            save q "\(path("l1"))"
            load r "\(path("l1"))"
            summary q
            """)
        defer { unlink(path("l1")) }
        let summary = texts().last?.split(whereSeparator: \.isWhitespace).joined(separator: " ") ?? ""
        XCTAssertTrue(summary.contains("at each of its 4 positions"), summary)
        let (q, r) = (try XCTUnwrap(model("q")), try XCTUnwrap(model("r")))
        XCTAssertEqual(q.parameters.map(\.value.shape), [[4, 3, 4], [4, 4], [16, 3], [3]])
        XCTAssertEqual(r.parameters.map(\.value.storage), q.parameters.map(\.value.storage))
    }

    /// show weights draws a few positions' kernels and the virtual matrix;
    /// prune masks both layers' weights, and training keeps them zero.
    func testReportsAndPruning() throws {
        ok(images + "\nshow weights m.local1\nshow weights m.dense1\nprune m 50%\ntrain m on g.train epochs 1 batch 16")
        let all = texts().joined(separator: "\n")
        XCTAssertTrue(all.contains("local1's kernel at position (4, 4) of 6x6, 9x3"), all)
        XCTAssertTrue(all.contains("dense1's virtual weights, 108x16, from 40 real ones"), all)
        let m = try XCTUnwrap(model("m"))
        let real = m.blocks[2].main.parameters[0]
        XCTAssertEqual(real.zeroCount, 20)
        XCTAssertEqual(m.blocks[0].main.parameters[0].zeroCount, 36 * 9 * 3 / 2)
        ok("show weights m.dense1")
        XCTAssertTrue(texts().joined().contains("dense1's mask: the virtual weights whose bucket trains"))
    }

    /// show filters draws a local2d layer's filters at its first, centre and
    /// last positions, a plot each; a dense layer still has none.
    func testShowFiltersDrawsThreePositionsOfALocalLayer() {
        let before = texts().count
        ok(images + "\nshow filters m.local1")
        let titles = texts()[before...].filter { $0.hasPrefix("local1: ") }.map { String($0.prefix { $0 != "\n" }) }
        XCTAssertEqual(titles, ["local1: 3 filters of 3x3 at position (1, 1) of 6x6",
                                "local1: 3 filters of 3x3 at position (4, 4) of 6x6",
                                "local1: 3 filters of 3x3 at position (6, 6) of 6x6"])
        let refusal = error("show filters m.dense1")?.value ?? ""
        XCTAssertTrue(refusal.contains("`dense1` is a dense layer; filters belong to conv2d, depthwise, separable and local2d layers"),
                      refusal)
    }

    func testBadSizesAreRefusedNamingTheProblem() {
        let cases = [
            ("input 4x4x1\n  local2d 2 5x5", "`local2d` does not fit here: a 5x5 kernel does not fit a 4x4 input"),
            ("input 16\n  local2d 2 3x3", "local2d needs an input of height×width×channels, not 16"),
            ("input 8x8x1\n  local1d 2 3", "local1d needs an input of steps×features, not 8x8x1"),
            ("input 4\n  dense 3 hashed 13", "dense1 hashes a 4x3 matrix (12 virtual weights), so `hashed` takes 1 to 12 real weights, not 13"),
            ("input 4\n  dense 3 hashed 6 sparse 50%", "`sparse` cannot fix single ones"),
            ("input 4\n  dense 3 hashed 0", "hashed"),
        ]
        for (body, expected) in cases {
            let e = error("model bad {\n  \(body)\n}")
            XCTAssertTrue(e?.value.contains(expected) ?? false, "\(body): \(e?.value ?? "no error")")
        }
    }
}
