import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Deep sparse learning through the language: the thresholding network, sparse
/// masks, pruning, rewinding, saving masks.
final class SparseStatementTests: LoomTestCase {
    func metric(_ name: String, in report: String?) -> Double? {
        report?.split(separator: "\n").first { $0.contains(name) }?.split(separator: " ").compactMap { Double($0.dropLast()) }.last
    }

    /// The share of zeros in a layer's row of the last sparsity table.
    func sparsity(_ layer: String, column: Int) -> Double? {
        guard let table = texts().last(where: { $0.contains("zero w.") }) else { return nil }
        let row = table.split(separator: "\n").first { $0.hasPrefix("│ \(layer) ") }
        let cells = row?.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
        return cells.flatMap { $0.count > column ? Double($0[column].dropLast()) : nil }
    }

    /// The thresholding network, as the reference example writes it, on glyphs.
    func testTheThresholdingNetwork() {
        let code = """
            seed 7
            data digits = glyphs n 3000 size 28
            split digits train 0.8
            model wide {
              input 28x28x1
              flatten
              dense 256 relu
              threshold 0.1
              dense 256 relu
              kwta 10%
              dense 10 softmax
            }
            train wide on digits.train epochs 5
            show sparsity wide on digits.test
            evaluate wide on digits.test
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        // kwta keeps 25 of 256 units: at least 90% zeros on test data.
        XCTAssertGreaterThanOrEqual(sparsity("kwta1", column: 4) ?? 0, 90)
        let before = metric("accuracy", in: texts().last { $0.hasPrefix("wide on digits.test") }) ?? 0
        guard case .ok = run("prune wide 80%\ntrain wide on digits.train epochs 2\nevaluate wide on digits.test") else {
            return XCTFail("\(error("prune wide 80%")!)")
        }
        let after = metric("accuracy", in: texts().last { $0.hasPrefix("wide on digits.test") }) ?? 0
        XCTAssertGreaterThan(before, 90)
        XCTAssertGreaterThanOrEqual(after, before - 2, "pruning 80% and 2 epochs cost more than 2 points")
        // The pruned weights stayed zero through the 2 epochs: 80% of each kernel, of its weights and biases.
        run("show sparsity wide")
        XCTAssertEqual(sparsity("dense1", column: 2) ?? 0, 0.8 * 200_704 / 200_960 * 100, accuracy: 0.1)
        XCTAssertEqual(sparsity("dense2", column: 2) ?? 0, 0.8 * 65_536 / 65_792 * 100, accuracy: 0.2)
    }

    func testPruningPerLayerAndGlobally() {
        run("seed 1\nmodel m {\n  input 20\n  dense 30 relu\n  dense 10 softmax\n}")
        guard case .ok = run("prune m 50%") else { return XCTFail() }
        // Biases are not pruned (they start at zero): dense1 has 20·30 weights, half of them zero, and 30 biases.
        XCTAssertEqual(sparsity("dense1", column: 2) ?? 0, 330.0 / 630 * 100, accuracy: 0.05)
        run("model g {\n  input 20\n  dense 30 relu\n  dense 10 softmax\n}\nprune g 90% global")
        let total = texts().last { $0.contains("pruned to 90.0%") }?.split(separator: "\n").first { $0.hasPrefix("│ total") }
        // 90% of the 600 + 300 kernel weights are zero, and the 40 biases.
        XCTAssertTrue(total?.contains("90.4%") ?? false, total.map(String.init) ?? "")  // 810 weights and 40 biases of 940
        XCTAssertEqual(error("prune g 90% layer nope")?.name, "NameError")
        XCTAssertEqual(error("prune g 100%")?.name, "ValueError")
    }

    /// The lottery ticket: after pruning and training, `rewind` sets every
    /// surviving weight back to its initial value, bit for bit.
    func testRewindRestoresTheInitialValuesOfTheSurvivors() throws {
        let path = "/tmp/loom-\(getpid())-rewind"
        defer { for f in ["a", "b"] { unlink("\(path)-\(f).safetensors") } }
        run("seed 3\ndata g = glyphs n 60 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 16 relu\n  dense 10 softmax\n}")
        run("save m \"\(path)-a.safetensors\"")
        run("prune m 60%\ntrain m on g epochs 2\nrewind m\nsave m \"\(path)-b.safetensors\"")
        let initial = try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(path)-a.safetensors"))), source: "a")
        let rewound = try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(path)-b.safetensors"))), source: "b")
        for key in ["dense1.kernel", "dense2.kernel", "dense1.bias"] {
            let a = try XCTUnwrap(initial.tensors[key]), b = try XCTUnwrap(rewound.tensors[key])
            let mask = rewound.tensors[key + ".mask"]
            for i in 0..<a.count {
                let kept = mask.map { $0[i] == 1 } ?? true
                XCTAssertEqual(b[i].bitPattern, kept ? a[i].bitPattern : Float(0).bitPattern, "\(key)[\(i)]")
            }
        }
        XCTAssertNotNil(rewound.tensors["dense1.kernel.mask"], "the mask is saved beside its weight")
        // Loaded, the masks hold: training keeps the pruned weights at zero.
        run("load n \"\(path)-b.safetensors\"\ntrain n on g epochs 1\nshow sparsity n")
        XCTAssertEqual(sparsity("dense1", column: 2) ?? 0, 60.0 * 1024 / 1040, accuracy: 0.1)
    }

    func testSparseMasksKeepTheirZerosAndFanIn() {
        run("seed 4\ndata g = glyphs n 64 size 8\nmodel s {\n  input 8x8x1\n  conv2d 4 3x3 relu sparse 50%\n  flatten\n  dense 10 softmax sparse 80%\n}")
        for optimizer in ["sgd", "momentum", "adam", "rmsprop"] {
            guard case .ok = run("train s on g epochs 1 optimizer \(optimizer)\nshow sparsity s") else { return XCTFail(optimizer) }
            // conv1: 3·3·1 = 9 inputs per filter, 5 kept (round of 4.5 up) → 4·4 zeros of 36 weights + 4 biases.
            XCTAssertEqual(sparsity("conv1", column: 2) ?? 0, 16.0 / 40 * 100, accuracy: 0.05, optimizer)
            // dense1: 144 inputs per unit, 29 kept → 115·10 zeros of 1,450 parameters.
            XCTAssertEqual(sparsity("dense1", column: 2) ?? 0, 1150.0 / 1450 * 100, accuracy: 0.05, optimizer)
        }
    }
}

extension SparseStatementTests {
    func testAPruningScheduleIsRecordedAndShown() {
        let code = """
            seed 2
            data g = glyphs n 400 size 12
            split g train 0.8
            model m {
              input 12x12x1
              flatten
              dense 64 relu
              dense 10 softmax
            }
            train m on g.train epochs 3
            evaluate m on g.test
            prune m 50%
            train m on g.train epochs 1
            evaluate m on g.test
            prune m 90%
            evaluate m on g.test
            show pruning m
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        let table = texts().first { $0.hasPrefix("pruning rounds of m") } ?? ""
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("│") && !$0.contains("round") }
        XCTAssertEqual(rows.count, 3, table)
        XCTAssertTrue(rows[2].contains("g.test"), table)
        XCTAssertTrue(texts().last?.contains("accuracy against nonzero weights and biases") ?? false)
        XCTAssertTrue(texts().last?.contains("nonzero parameters (log scale)") ?? false)
        // The axis numbers its ends as the table numbers the rounds, from 0.
        XCTAssertTrue(texts().last?.contains("(round 0)") ?? false, texts().last ?? "")
        XCTAssertTrue(texts().last?.contains("(round 2) ") ?? false, texts().last ?? "")
        XCTAssertEqual(value("show pruning m")?.isEmpty, nil)  // a display, not a value
    }

    func testShowSparsityCountsDeadAndAlwaysOnUnits() {
        run("seed 1\ndata g = glyphs n 50 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 12 relu\n  kwta 3\n  dense 10 softmax\n}")
        guard case .ok = run("show sparsity m on g") else { return XCTFail() }
        let table = texts().first { $0.hasPrefix("sparsity of m") } ?? ""
        let kwta = table.split(separator: "\n").first { $0.hasPrefix("│ kwta1") }.map(String.init) ?? ""
        XCTAssertTrue(kwta.contains("3/12"), kwta)  // three winners of twelve in every sample
        XCTAssertTrue(texts().last?.hasPrefix("zeros per layer") ?? false)
    }
}

extension SparseStatementTests {
    func testKWinnersDutyCyclesAndMasksAreDrawn() {
        run("seed 1\ndata g = glyphs n 100 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 20 relu sparse 50%\n  kwta 5 boost 1\n  dense 10 softmax\n}\ntrain m on g epochs 2")
        guard case .ok = run("show activations m.kwta1 on g") else { return XCTFail("\(error("show activations m.kwta1 on g")!)") }
        let health = texts().last ?? ""
        XCTAssertTrue(health.hasPrefix("kwta1 duty cycles over training: entropy"), health)
        XCTAssertTrue(health.contains("of at most 16.2 bits"), health)  // 20 units · H(5/20) = 20 · 0.811
        guard case .ok = run("show weights m.dense1") else { return XCTFail() }
        XCTAssertTrue(texts().last?.contains("dense1's mask") ?? false)
        XCTAssertTrue(texts().last?.contains("nz = 640 (50.0%)") ?? false, texts().last ?? "")  // 32 of 64 inputs per unit
    }
}

extension SparseStatementTests {
    /// The thresholding network on the real 8×8 digits.
    func testTheThresholdingNetworkOnTheRealDigits() {
        let csv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("notebooks/data/digits.csv").path
        let code = """
            seed 7
            data digits = csv "\(csv)" scale 0.0625 shape 8x8x1
            split digits train 0.8
            model wide {
              input 8x8x1
              flatten
              dense 256 relu
              threshold 0.1
              dense 256 relu
              kwta 10%
              dense 10 softmax
            }
            train wide on digits.train epochs 20
            show sparsity wide on digits.test
            evaluate wide on digits.test
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        XCTAssertGreaterThanOrEqual(sparsity("kwta1", column: 4) ?? 0, 90)
        let before = metric("accuracy", in: texts().last { $0.hasPrefix("wide on digits.test") }) ?? 0
        guard case .ok = run("prune wide 80%\ntrain wide on digits.train epochs 2\nevaluate wide on digits.test") else {
            return XCTFail()
        }
        let after = metric("accuracy", in: texts().last { $0.hasPrefix("wide on digits.test") }) ?? 0
        XCTAssertGreaterThan(before, 90)
        XCTAssertGreaterThanOrEqual(after, before - 2, "before \(before), after \(after)")
    }
}
