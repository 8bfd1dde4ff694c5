import Foundation
import LoomEngine
import XCTest

final class CSVLoaderTests: XCTestCase {
    func testLabelLastWithHeaderAndShape() throws {
        let d = try CSVLoader.load("a,b,c,d,label\n1,2,3,4,1\n5,6,7,8,0\n", shape: [2, 2, 1], scale: 0.5)
        XCTAssertEqual(d.inputs.shape, [2, 2, 2, 1])
        XCTAssertEqual(d.inputs.storage, [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4])
        XCTAssertEqual(d.labels, [1, 0])
        XCTAssertEqual(d.classes, 2)
    }

    /// A long parse asks `shouldStop` every 4,096 rows and ends at once when told.
    func testACSVLoadStopsWhenAsked() {
        let text = String(repeating: "1,2,3,0\n", count: 20_000)
        var asked = 0
        XCTAssertThrowsError(try CSVLoader.load(text, shouldStop: { asked += 1; return asked == 2 })) { error in
            XCTAssertEqual(error as? DataError, .interrupted)
        }
        XCTAssertEqual(asked, 2, "stopped at the second check, 8,192 rows in")
        XCTAssertEqual(try CSVLoader.load(text, shouldStop: { false }).count, 20_000)
    }

    func testLabelFirstAndNone() throws {
        XCTAssertEqual(try CSVLoader.load("3, 1.5, 2\n0, 4, 5\r\n", label: .first).labels, [3, 0])
        let none = try CSVLoader.load("1,2\n3,4\n", label: .none)
        XCTAssertEqual(none.inputs.shape, [2, 2])
        // Unlabelled: no invented labels.
        guard case .none = none.targets else { return XCTFail("\(none.targets)") }
        XCTAssertEqual(none.labels, [])
    }

    /// Labels written as words become class names, numbered in sorted order
    /// (as scikit-learn's LabelEncoder numbers them), with a header or without.
    func testWordLabelsBecomeClassNames() throws {
        for text in ["sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n",
                     "5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n"] {
            let d = try CSVLoader.load(text)
            XCTAssertEqual(d.count, 4, text)
            XCTAssertEqual(d.classNames, ["setosa", "versicolor", "virginica"])
            XCTAssertEqual(d.labels, [0, 1, 2, 0])
            XCTAssertEqual(d.inputs.storage, [5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.4])
            XCTAssertEqual(d.className(1), "versicolor")
            var random = RandomGenerator(seed: 1)
            XCTAssertEqual(d.split(train: 0.5, random: &random).train.classNames, d.classNames)
        }
        let first = try CSVLoader.load("cat,1,2\ndog,3,4\n", label: .first)
        XCTAssertEqual(first.classNames, ["cat", "dog"])
        XCTAssertThrowsError(try CSVLoader.load("1,2,a\n3,4, \n")) { XCTAssertTrue(($0 as? DataError)?.message.contains("the label is empty") ?? false) }
        XCTAssertNil(try CSVLoader.load("1,2,0\n3,4,1\n").classNames, "number labels stay numbers")
    }

    func testErrorsNameRowAndColumn() {
        func message(_ text: String, shape: [Int]? = nil) -> String {
            do { _ = try CSVLoader.load(text, shape: shape, source: "x.csv"); return "" } catch { return error.message }
        }
        XCTAssertEqual(message("1,2,0\n3,oops,1\n"), "x.csv, row 2, column 2: `oops` is not a number")
        XCTAssertEqual(message("h1,h2,h3\n1,2,0\n3,1\n"), "x.csv, row 3: 2 columns where the first row has 3")
        XCTAssertEqual(message("1,2,0.5\n"), "x.csv, row 1, column 3: the label `0.5` is not a class number (a whole number from 0 to 9999)")
        XCTAssertTrue(message("1,2,3,0\n", shape: [2, 2]).contains("do not make a 2x2 sample"))
        XCTAssertEqual(message(""), "x.csv is empty")
        XCTAssertEqual(message("a,b\n"), "x.csv has a header but no rows")
        XCTAssertTrue(message("1,nan,0\n").contains("not a number"))
        XCTAssertEqual(message("1,,0\n"), "x.csv, row 1, column 2: `` is not a number")
    }

    /// Whole numbers are read by the loader itself, the rest by `Float`:
    /// either way a cell gives what `Float` gives for it.
    func testCellsGiveWhatFloatGives() throws {
        let cells = ["0", "-0", "+5", "123456789", "1234567890", "16777217", "-17", "1.5", "1e3", " 42 ", "007", "0.0039", "-2.5e-3"]
        let d = try CSVLoader.load(cells.joined(separator: ",") + "\n", label: .none)
        for (value, cell) in zip(d.inputs.storage, cells) {
            let expected = Float(cell.trimmingCharacters(in: .whitespaces))!
            XCTAssertEqual(value.bitPattern, expected.bitPattern, cell)
        }
    }

    func testLineEndingsAndTrailingBlankLines() throws {
        let d = try CSVLoader.load("x,label\r\n1,0\r2,1\n3,2\n  \n\n")
        XCTAssertEqual(d.inputs.storage, [1, 2, 3])
        XCTAssertEqual(d.labels, [0, 1, 2])
    }
}

final class IDXLoaderTests: XCTestCase {
    func idx(type: UInt8, dims: [Int], data: [UInt8]) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8((d >> (8 * (3 - $0))) & 0xFF) } } + data
    }

    func testImagesAndLabels() throws {
        let images = idx(type: 0x08, dims: [2, 2, 2], data: [0, 255, 51, 102, 255, 0, 0, 0])
        let labels = idx(type: 0x08, dims: [2], data: [7, 3])
        let d = try IDXLoader.load(images: images, labels: labels, imagesSource: "i", labelsSource: "l")
        XCTAssertEqual(d.inputs.shape, [2, 2, 2, 1])
        XCTAssertEqual(d.inputs[1], 1, accuracy: 1e-6)
        XCTAssertEqual(d.inputs[2], 0.2, accuracy: 1e-6)
        XCTAssertEqual(d.labels, [7, 3])
    }

    func testBigEndianFloats() throws {
        let one: [UInt8] = [0x3F, 0x80, 0, 0]
        XCTAssertEqual(try IDXLoader.array(idx(type: 0x0D, dims: [1], data: one), source: "f").values, [1])
    }

    func testMalformedFilesAreRefused() {
        XCTAssertThrowsError(try IDXLoader.array([1, 2, 3, 4], source: "x"))
        XCTAssertThrowsError(try IDXLoader.array(idx(type: 0x42, dims: [1], data: [0]), source: "x"))
        XCTAssertThrowsError(try IDXLoader.array(idx(type: 0x08, dims: [3], data: [0]), source: "x")) {
            XCTAssertTrue("\($0)".contains("holds 1 bytes"))
        }
        XCTAssertThrowsError(try IDXLoader.array([0, 0, 8, 3, 0], source: "x"))
        let images = idx(type: 0x08, dims: [2, 1, 1], data: [0, 0])
        XCTAssertThrowsError(try IDXLoader.load(images: images, labels: idx(type: 0x08, dims: [3], data: [0, 1, 2]),
                                                imagesSource: "i", labelsSource: "l"))
    }
}

final class NPYLoaderTests: XCTestCase {
    func npy(_ descr: String, shape: String, data: [UInt8], fortran: Bool = false) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    func testFloat32SamplesAndInt64Labels() throws {
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let data = floats.flatMap { f in (0..<4).map { UInt8((f.bitPattern >> (8 * UInt32($0))) & 0xFF) } }
        let labels: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        let d = try NPYLoader.load(samples: npy("<f4", shape: "(2, 3)", data: data), labels: npy("<i8", shape: "(2,)", data: labels),
                                   samplesSource: "x", labelsSource: "y")
        XCTAssertEqual(d.inputs.shape, [2, 3])
        XCTAssertEqual(d.inputs.storage, floats)
        XCTAssertEqual(d.labels, [2, 1])
    }

    func testSignedIntegersAndBytes() throws {
        XCTAssertEqual(try NPYLoader.array(npy("<i2", shape: "(2,)", data: [0xFF, 0xFF, 5, 0]), source: "x").values, [-1, 5])
        XCTAssertEqual(try NPYLoader.array(npy("|u1", shape: "(3,)", data: [0, 7, 255]), source: "x").values, [0, 7, 255])
    }

    func testRefusals() {
        XCTAssertThrowsError(try NPYLoader.array(npy("<f4", shape: "(1,)", data: [0, 0, 0, 0], fortran: true), source: "x")) {
            XCTAssertTrue("\($0)".contains("Fortran order"))
        }
        XCTAssertThrowsError(try NPYLoader.array(npy(">f4", shape: "(1,)", data: [0, 0, 0, 0]), source: "x"))
        XCTAssertThrowsError(try NPYLoader.array(npy("<c8", shape: "(1,)", data: Array(repeating: 0, count: 8)), source: "x"))
        XCTAssertThrowsError(try NPYLoader.array(npy("<f4", shape: "(2,)", data: [0, 0, 0, 0]), source: "x"))
        XCTAssertThrowsError(try NPYLoader.array(Array("not numpy".utf8), source: "x"))
    }
}

final class GlyphsTests: XCTestCase {
    func testSameSeedSameImagesOtherSeedOtherImages() {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let x = Glyphs.make(count: 20, size: 28, noise: 0.1, random: &a)!
        XCTAssertEqual(x.inputs, Glyphs.make(count: 20, size: 28, noise: 0.1, random: &b)!.inputs)
        XCTAssertNotEqual(x.inputs, Glyphs.make(count: 20, size: 28, noise: 0.1, random: &c)!.inputs)
        XCTAssertEqual(x.inputs.shape, [20, 28, 28, 1])
        XCTAssertEqual(x.classCounts, Array(repeating: 2, count: 10))
        XCTAssertTrue(x.inputs.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testDigitsDifferFromEachOtherMoreThanFromThemselves() {
        // Without noise, two drawings of one digit are closer than drawings of two digits, on average.
        var r = RandomGenerator(seed: 1)
        let d = Glyphs.make(count: 200, size: 16, noise: 0, random: &r)!
        let size = 256
        func distance(_ i: Int, _ j: Int) -> Float {
            (0..<size).reduce(0) { $0 + abs(d.inputs[i * size + $1] - d.inputs[j * size + $1]) }
        }
        var same: Float = 0, other: Float = 0
        for i in 0..<100 { same += distance(i, i + 10); other += distance(i, i + 1) }
        XCTAssertLessThan(same, other)
    }

    func testStratifiedSplitKeepsClassBalance() {
        var r = RandomGenerator(seed: 2)
        let d = Glyphs.make(count: 100, size: 8, noise: 0.1, random: &r)!
        let (train, test) = d.split(train: 0.8, random: &r)
        XCTAssertEqual(train.classCounts, Array(repeating: 8, count: 10))
        XCTAssertEqual(test.classCounts, Array(repeating: 2, count: 10))
    }
}
