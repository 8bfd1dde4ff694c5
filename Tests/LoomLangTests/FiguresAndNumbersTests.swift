import LoomCore
import LoomLang
import XCTest

/// Results tables against a numeric column, column summaries, numbers as
/// tables write them, and weights and activations drawn as images.
final class FiguresAndNumbersTests: LoomTestCase {
    /// Repeated runs at uneven x: the plot stands to scale (50% sits
    /// halfway between 0% and 100%, not a third of the way along), and a
    /// table gives each x's mean, lowest and highest.
    func testANumericXIsDrawnToScaleWithRepeatedRunsSummarised() {
        let code = """
            record runs sparsity=0% acc=90%
            record runs sparsity=0% acc=94%
            record runs sparsity=50% acc=80%
            record runs sparsity=100% acc=10%
            show table runs x sparsity y acc
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        let summary = texts().first { $0.hasPrefix("acc by sparsity") } ?? ""
        XCTAssertTrue(summary.contains("│       0% │    2 │      92% │    90% │     94% │"), summary)
        XCTAssertTrue(summary.contains("│      50% │    1 │      80% │    80% │     80% │"), summary)
        let plot = texts().last ?? ""
        XCTAssertTrue(plot.contains("to scale"), plot)
        XCTAssertTrue(plot.contains("94%"), "the y axis in percentages: \(plot)")
        XCTAssertTrue(plot.contains("│ lowest to highest"), plot)
        let svg = out.displays.last?["image/svg+xml"]
        XCTAssertTrue(svg?.contains("<polygon") ?? true, "the band of the repeated runs")
    }

    /// Where a point of uneven x values is drawn: 90 of 0…100 is 90% of the way along.
    func testTheMiddlePointStandsWhereItsValueSays() {
        run("record t x=0 y=0\nrecord t x=90 y=1\nrecord t x=100 y=0")
        guard case .ok = run("show table t x x y y") else { return XCTFail() }
        let rows = (texts().last ?? "").split(separator: "\n").map(String.init).filter { $0.contains("┤") }
        // The top row holds the peak (y = 1): 90% of the way along, not halfway.
        guard let top = rows.first else { return XCTFail("no plot") }
        let start = top.firstIndex(of: "┤")!
        let plotted = top[top.index(after: start)...]
        let peak = plotted.firstIndex { $0 != " " && $0 != "⠀" }.map { plotted.distance(from: plotted.startIndex, to: $0) } ?? 0
        let width = 80 - top.distance(from: top.startIndex, to: start) - 1
        XCTAssertGreaterThan(Double(peak) / Double(width), 0.75, top)
    }

    /// A categorical x keeps one evenly spaced point per row.
    func testACategoricalXStaysEvenlySpaced() {
        run("record t name=\"a\" y=1\nrecord t name=\"b\" y=2")
        run("show table t x name y y")
        XCTAssertTrue(texts().last?.contains("evenly spaced") ?? false)
    }

    /// `runs.acc` is the column as a list, with its mean, min and max.
    func testAColumnHasItsMeanMinAndMax() {
        run("record runs k=1 acc=90%\nrecord runs k=2 acc=95%\nrecord runs k=3")
        XCTAssertEqual(value("runs.acc"), "[90%, 95%]")
        XCTAssertEqual(value("runs.acc.mean"), "92.5%")
        XCTAssertEqual(value("runs.acc.min"), "90%")
        XCTAssertEqual(value("runs.acc.max"), "95%")
        XCTAssertEqual(value("runs.k.count"), "3")
        XCTAssertEqual(value("ks = [1, 2, 6]\nks.mean"), "3")
        XCTAssertTrue(error("runs.acc.median")?.value.contains("`mean`") ?? false)
        run("record names n=\"a\"")
        XCTAssertTrue(error("names.n.mean")?.value.contains("needs numbers") ?? false)
    }

    /// A percentage prints as tables write it; a message about a value out
    /// of bounds still gives it in full.
    func testPercentagesPrintRoundedAsInTables() {
        XCTAssertEqual(value("print 96.9359331476%") ?? stdout(), "96.94%")
        let noisy = "data g = glyphs n 20 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 2\n}\n"
            + "evaluate m on g noise 100.0001%"
        XCTAssertEqual(error(noisy)?.value, "noise must be between 0% and 100%, not 100.0001%")
    }

    func stdout() -> String { out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A column writes every number with the same decimals: 9.75%, not 9.749% beside 98.05%.
    func testAColumnWritesItsNumbersByOneRule() {
        run("record t acc=9.749% loss=0.5\nrecord t acc=98.05% loss=0.125\nrecord t acc=50% loss=2")
        let table = value("t") ?? ""
        XCTAssertTrue(table.contains("│  9.75% │ 0.500 │"), table)
        XCTAssertTrue(table.contains("│ 98.05% │ 0.125 │"), table)
        XCTAssertTrue(table.contains("│ 50.00% │ 2.000 │"), table)
    }

    /// A small image model on glyphs, most of whose pixels are blank.
    func defineImageModel() {
        let code = """
            seed 3
            data d = glyphs n 40 size 8
            model m {
              input 8x8x1
              conv2d 4 3x3 relu
              flatten
              dense 5 relu
              dense 10 softmax
            }
            model mlp {
              input 8x8x1
              flatten
              dense 6 relu
              dense 10 softmax
            }
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
    }

    /// `flatten` passes the image on: its blank pixels are not counted as
    /// zeros of the network, in the table or in `s.activations`.
    func testZerosCountLayerOutputsOnly() {
        defineImageModel()
        guard case .ok = run("s = show sparsity mlp on d") else { return XCTFail("\(error("s = show sparsity mlp on d")!)") }
        let table = texts().first { $0.hasPrefix("sparsity of mlp") } ?? ""
        let flatten = table.split(separator: "\n").first { $0.contains("flatten1") } ?? ""
        XCTAssertFalse(flatten.contains("%"), "flatten's blank pixels counted: \(flatten)")
        XCTAssertTrue(table.contains("counting layer outputs only"), table)
        // Two measured blocks: dense1 (6 outputs) and dense2 (10, softmax: never zero).
        let dense1 = table.split(separator: "\n").first { $0.contains("dense1") }.map(String.init) ?? ""
        let share = dense1.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }[4]
        let zeros = Double(share.dropLast()) ?? -1
        let overall = Double(value("s.activations")?.dropLast() ?? "") ?? -1
        // The table rounds to 0.1 points: the weighted share agrees to within that.
        XCTAssertEqual(overall, zeros * 6 / 16, accuracy: 0.05)
    }

    /// `dropout` and `activity` pass their input on when predicting: their
    /// rows count nothing (they would repeat dense1's zeros), and the
    /// overall share is dense1's alone, as without them.
    func testDropoutAndActivityRowsDoNotRecountTheLayerBefore() {
        defineImageModel()
        run("model drop {\n  input 8x8x1\n  flatten\n  dense 6 relu\n  dropout 0.5\n  activity l1 0.001\n  dense 10 softmax\n}")
        guard case .ok = run("s = show sparsity drop on d") else { return XCTFail("\(error("s = show sparsity drop on d")!)") }
        let table = texts().first { $0.hasPrefix("sparsity of drop") } ?? ""
        let lines = table.split(separator: "\n")
        for name in ["dropout1", "activity1"] {
            let row = lines.first { $0.contains(name) } ?? ""
            XCTAssertFalse(row.isEmpty || row.contains("%") || row.contains("/"), "\(name) counted: \(row)")
        }
        XCTAssertTrue(table.contains("dropout and activity do when predicting"), table)
        let dense1 = lines.first { $0.contains("dense1") }.map(String.init) ?? ""
        let zeros = Double(dense1.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }[4].dropLast()) ?? -1
        let overall = Double(value("s.activations")?.dropLast() ?? "") ?? -1
        XCTAssertEqual(overall, zeros * 6 / 16, accuracy: 0.05)
        let chart = texts().first { $0.hasPrefix("zeros per layer") } ?? ""
        XCTAssertFalse(chart.contains("dropout1"), chart)
    }

    /// `compare`'s bars name what pruning left, which differs between models.
    func testCompareLabelsItsBarsWithNonzeroParameters() {
        defineImageModel()
        run("model p = copy mlp\nprune p 50%")
        let nonzero = value("p.nonzero") ?? "?"
        guard case .ok = run("compare mlp p on d") else { return XCTFail("\(error("compare mlp p on d")!)") }
        let chart = texts().last { $0.hasPrefix("accuracy") } ?? ""
        XCTAssertTrue(chart.contains("(nonzero parameters)"), chart)
        // Both under 1,000: written without a separator.
        XCTAssertTrue(chart.contains("p (\(nonzero))"), chart)
        XCTAssertTrue(chart.contains("mlp (\(value("mlp.nonzero") ?? "?"))"), chart)
        XCTAssertNotEqual(nonzero, value("mlp.nonzero"))
    }

    /// A dense layer on the image input draws a picture per unit; the one
    /// after it (no image before it) keeps the heatmap.
    func testShowWeightsDrawsAFirstDenseLayersUnitsAsImages() {
        defineImageModel()
        run("show weights mlp.dense1")
        let units = texts().last ?? ""
        XCTAssertTrue(units.contains("dense1: 6 units' input weights as 8x8 images"), units)
        XCTAssertTrue(units.contains("6 image(s) of 8×8"), units)
        run("show weights mlp.dense2")
        let later = texts().last ?? ""
        XCTAssertTrue(later.contains("dense2") && !later.contains("images"), later)
        run("show weights m.dense1")
        let afterConvolution = texts().last ?? ""
        XCTAssertTrue(afterConvolution.contains("dense1") && !afterConvolution.contains("images"), afterConvolution)
    }

    /// A convolution's activations as a feature map per channel.
    func testShowActivationsDrawsAConvolutionsFeatureMaps() {
        defineImageModel()
        guard case .ok = run("show activations m.conv1 on d") else { return XCTFail("\(error("show activations m.conv1 on d")!)") }
        let maps = texts().first { $0.contains("feature maps") } ?? ""
        XCTAssertTrue(maps.contains("conv1 on the first sample: feature maps of 6x6, 4 channels"), maps)
        XCTAssertTrue(maps.contains("4 image(s) of 6×6"), maps)
    }
}
