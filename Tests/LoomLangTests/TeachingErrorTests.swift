import Foundation
import LoomCore
import LoomLang
import XCTest

/// Errors that say what Python, Keras and PyTorch habits become in Loom.
final class TeachingErrorTests: LoomTestCase {
    func summary(_ code: String) -> String { error(code)?.value ?? "no error" }

    func testKerasFitSuggestsTrain() {
        XCTAssertTrue(summary("fit m on d epochs 3").hasSuffix("did you mean `train`?"), summary("fit m on d epochs 3"))
    }

    func testAKerasLayerCallGetsItsLoomLine() {
        let dense = summary("model m {\n  input 64\n  Dense(10, activation=\"relu\")\n}")
        XCTAssertTrue(dense.contains("`dense 10 relu`"), dense)
        let conv = summary("model m {\n  input 8x8x1\n  Conv2D(16, (3, 3), activation='relu', padding='same')\n}")
        XCTAssertTrue(conv.contains("`conv2d 16 3x3 relu padding same`"), conv)
        XCTAssertTrue(summary("model m {\n  input 64\n  Dense 10 relu\n}").hasSuffix("did you mean `dense`?"))
    }

    func testOptionsWrittenWithEqualsAreShownWithoutIt() {
        let e = summary("train m on d epochs=20")
        XCTAssertTrue(e.hasPrefix("options are written `epochs 20`"), e)
        XCTAssertTrue(summary("train m on d epochs: 20").hasPrefix("options are written `epochs 20`"))
        let unknown = summary("train m on d batch_size=32")
        XCTAssertTrue(unknown.hasPrefix("options are written `batch_size 32`") && unknown.hasSuffix("did you mean `batch`?"), unknown)
    }

    func testATupleSizeSuggestsTheLoomSize() {
        let e = summary("model m {\n  input 8x8x1\n  conv2d 16 (3,3)\n}")
        XCTAssertTrue(e.hasSuffix("did you mean `3x3`?"), e)
        XCTAssertTrue(summary("model m {\n  input 8x8x1\n  conv2d 16 3x3\n  maxpool (2, 2)\n}").hasSuffix("did you mean `2x2`?"))
    }

    /// It read "unexpected a number; `split` takes one of train here".
    func testAWordOrValueLeftOverIsNamedInASentence() {
        run("data g = glyphs n 20 size 8")
        let e = summary("split g 0.8")
        XCTAssertEqual(e, "found a number where `split` takes only its option `train`; did you mean `train 0.8`?")
        XCTAssertEqual(summary("print 1 2 }"), "found `}` after the end of the statement")
        XCTAssertTrue(summary("seed 1 2").hasPrefix("found a number, but `seed` takes nothing more"), summary("seed 1 2"))
        XCTAssertEqual(summary("model m {\n  input 4\n  flatten 2\n}"), "found a number where `flatten` takes only its option `as`")
    }

    /// Flat CSV rows for a model of images: the `shape` that reads them.
    func testFlatSamplesForAnImageModelSuggestTheShape() throws {
        let csv = NSTemporaryDirectory() + "loom-flat-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let header = (0..<64).map { "p\($0)" }.joined(separator: ",") + ",label\n"
        let rows = (0..<4).map { r in (0..<64).map { String(($0 + r) % 16) }.joined(separator: ",") + ",\(r % 2)\n" }
        try (header + rows.joined()).write(toFile: csv, atomically: true, encoding: .utf8)
        run("data d = csv \"\(csv)\"\nmodel m {\n  input 8x8x1\n  flatten\n  dense 2 softmax\n}")
        let e = summary("train m on d epochs 1")
        XCTAssertTrue(e.contains("read the CSV file with `shape 8x8x1`"), e)
        run("model wide {\n  input 9x9x1\n  flatten\n  dense 2 softmax\n}")
        XCTAssertTrue(summary("train wide on d epochs 1").contains("shape 9x9x1"))
    }
}
