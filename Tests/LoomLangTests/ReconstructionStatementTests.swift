import LoomCore
import LoomLang
import XCTest

/// Autoencoders through the language: `target inputs`, `loss bce`,
/// `reshape`, and what `evaluate`, `compare` and `predict` show for them.
final class ReconstructionStatementTests: LoomTestCase {
    /// Unlabelled 6x6 patches and an autoencoder through 12 units.
    let setup = """
        seed 1
        set progress off
        data pix = patches n 512 size 6
        split pix train 0.8
        model ae {
          input 6x6x1
          flatten
          dense 12 relu
          dense 36 sigmoid
          reshape 6x6x1
        }
        """

    func number(_ code: String) -> Double? { value(code).flatMap(Double.init) }

    /// The rows of the display whose text starts with `prefix`.
    func display(startingWith prefix: String) -> String? { texts().last { $0.hasPrefix(prefix) } }

    func testAnAutoencoderTrainsOnUnlabelledDataAndItsErrorFalls() throws {
        let cell = setup + """

            before = evaluate ae on pix.test target inputs
            h = train ae on pix.train target inputs loss bce epochs 15 lr 0.01
            after = evaluate ae on pix.test
            """
        guard case .ok = run(cell) else { return XCTFail("\(error(cell)!)") }
        let before = try XCTUnwrap(number("before.mse")), after = try XCTUnwrap(number("after.mse"))
        XCTAssertLessThan(after, before / 3, "mse \(before) → \(after)")
        XCTAssertNil(number("after.accuracy"))
        // The history table: the loss (bce), then mse and mae; no accuracy.
        let history = try XCTUnwrap(display(startingWith: "training"))
        let header = try XCTUnwrap(history.split(separator: "\n").first { $0.contains("epoch") })
        XCTAssertEqual(header.split(whereSeparator: { " │┃|".contains($0) }), ["epoch", "loss", "mse", "mae", "time"], history)
        XCTAssertEqual(number("h.mse").map { $0 > 0 }, true)
        // evaluate, without `target inputs`, measures what the model was trained to do, with its loss.
        let report = try XCTUnwrap(display(startingWith: "ae on pix.test"))
        XCTAssertTrue(report.contains("loss (bce)") && report.contains("mean squared error"), report)
        XCTAssertFalse(report.contains("accuracy"), report)
    }

    func testTheProgressLineShowsTheErrorsOfAReconstruction() {
        run(setup)
        guard case .ok = run("set width 200\nset progress stream\ntrain ae on pix.train target inputs loss bce") else {
            return XCTFail()
        }
        let progress = out.streams.filter { $0.0 == .stderr }.map(\.1).joined()
        XCTAssertTrue(progress.contains("· loss ") && progress.contains("· mse ") && progress.contains("· mae "), progress)
        XCTAssertFalse(progress.contains("acc"), progress)
    }

    func testPlainTrainOnUnlabelledDataKeepsItsErrorAndPointsToTargetInputs() {
        run(setup)
        let e = error("train ae on pix.train")
        XCTAssertEqual(e?.value, "the data has no targets (class labels or values) to compare the model's outputs with; "
                       + "add `target inputs` to measure how well `ae` reconstructs its inputs")
        // A classifier's error is the one it always was.
        run("model c {\n  input 6x6x1\n  flatten\n  dense 3 softmax\n}")
        XCTAssertEqual(error("train c on pix.train")?.value,
                       "the data has no targets (class labels or values) to compare the model's outputs with")
    }

    func testAReconstructionNeedsTheInputsShape() {
        run(setup)
        run("model flat {\n  input 6x6x1\n  flatten\n  dense 36 sigmoid\n}")
        XCTAssertEqual(error("train flat on pix target inputs")?.value,
                       "`flat` gives 36 outputs but its inputs are 6x6x1; to reconstruct them end it with `reshape 6x6x1`")
        run("model small {\n  input 6x6x1\n  flatten\n  dense 10 sigmoid\n}")
        XCTAssertEqual(error("train small on pix target inputs")?.value,
                       "`small` gives 10 outputs but its inputs are 6x6x1; to reconstruct them end it with "
                       + "`dense 36 sigmoid` (or `linear`) and `reshape 6x6x1`")
    }

    func testReshapeNamesBothCountsWhenTheyDiffer() {
        let e = error("model m {\n  input 10\n  dense 10 sigmoid\n  reshape 28x28x1\n}")
        XCTAssertEqual(e?.value, "`reshape` does not fit here: reshape 28x28x1 holds 784 values but its input, 10, has 10")
        run("model m {\n  input 784\n  reshape 28x28x1\n  conv2d 2 3x3\n}")
        XCTAssertTrue(texts().last?.contains("26x26x2") ?? false, texts().last ?? "")
    }

    func testBinaryCrossEntropyNeedsASigmoidAndValuesInZeroToOne() {
        run(setup)
        run("model lin {\n  input 6x6x1\n  flatten\n  dense 36\n  reshape 6x6x1\n}")
        XCTAssertEqual(error("train lin on pix target inputs loss bce")?.value,
                       "bce compares values in [0, 1]: end `lin` with a sigmoid layer (`dense N sigmoid`, then `reshape` "
                       + "for images), or use `loss mse`")
        run("data waves = sines n 50 steps 4 target next")
        run("model seq {\n  input 4x1\n  flatten\n  dense 4 sigmoid\n  reshape 4x1\n}")
        XCTAssertTrue(error("train seq on waves target inputs loss bce")?.value.hasPrefix("bce needs targets between 0 and 1") ?? false)
        // Without `loss`, a reconstruction is trained with mse: the table's loss is the squared error, with no mse column.
        guard case .ok = run("train ae on pix.train target inputs") else { return XCTFail() }
        let history = display(startingWith: "training") ?? ""
        XCTAssertFalse(history.contains("mse"), history)
        XCTAssertTrue(history.contains("mae"), history)
        XCTAssertEqual(error("train ae on pix.train target inputs monitor accuracy")?.value,
                       "`monitor accuracy` needs class labels; these targets are the inputs (monitor loss)")
    }

    func testCompareAndPredictShowReconstructions() throws {
        let cell = setup + """

            model ae2 = copy ae
            train ae on pix.train target inputs loss bce epochs 3
            c = compare ae ae2 on pix.test
            predict ae on pix.test first 3
            """
        guard case .ok = run(cell) else { return XCTFail("\(error(cell)!)") }
        XCTAssertNotNil(number("c.ae_mse"))
        XCTAssertNotNil(number("c.ae2_mse"))
        XCTAssertLessThan(try XCTUnwrap(number("c.ae_mse")), try XCTUnwrap(number("c.ae2_mse")))
        let table = try XCTUnwrap(display(startingWith: "2 models on pix.test"))
        XCTAssertTrue(table.contains("mse"), table)
        XCTAssertFalse(table.contains("accuracy"), table)
        let grid = try XCTUnwrap(texts().last)
        XCTAssertTrue(grid.contains("inputs (in) beside their reconstructions (out)") && grid.contains("2 out"), grid)
        XCTAssertEqual(error("predict ae on pix.test mistakes")?.value, "`mistakes` needs class labels; `ae` reconstructs its inputs")
    }

    /// Labelled data trains an autoencoder too, its labels set aside; plain
    /// `train` on it still asks for a classifier's output.
    func testLabelledDataTrainsAnAutoencoderAndAClassifierAgain() throws {
        let cell = """
            seed 2
            set progress off
            data g = glyphs n 200 size 8
            model m {
              input 8x8x1
              flatten
              dense 64 sigmoid
              reshape 8x8x1
            }
            train m on g target inputs loss bce
            r = evaluate m on g
            """
        guard case .ok = run(cell) else { return XCTFail("\(error(cell)!)") }
        XCTAssertNotNil(number("r.mse"))
        XCTAssertNil(number("r.accuracy"))
        // Trained on the labels afterwards, the model is measured against them again.
        run("model k {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
        guard case .ok = run("train k on g\nr = evaluate k on g") else { return XCTFail() }
        XCTAssertEqual(value("r.accuracy")?.hasSuffix("%"), true)
        XCTAssertNil(number("r.mse"))
        XCTAssertEqual(error("train m on g")?.value,
                       "`m` gives 8x8x1 outputs but the data has 10 classes; end the model with `dense 10 softmax`")
    }
}
