import LoomEngine
import XCTest

/// Files whose headers or labels would trap or ask for absurd memory: each is
/// refused with a message naming what is wrong.
final class HostileFileTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func npy(_ descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { f in (0..<4).map { UInt8((f.bitPattern >> (8 * UInt32($0))) & 0xFF) } }
    }

    func testShapeCountRefusesOverflowAndNegativeDimensions() {
        XCTAssertEqual(Shape.count([3, 4, 5]), 60)
        XCTAssertEqual(Shape.count([]), 1)
        XCTAssertNil(Shape.count([9_999_999_999, 9_999_999_999]))
        XCTAssertNil(Shape.count([1 << 32, 1 << 32]))
        XCTAssertNil(Shape.count([6, -1, -4]))
    }

    func testCSVShapeThatOverflowsIsAnError() {
        let text = message { _ = try CSVLoader.load("1,2,0\n", shape: [9_999_999_999, 9_999_999_999], source: "a.csv") }
        XCTAssertEqual(text, "a.csv: rows have 2 values, which do not make a 9999999999x9999999999 sample "
                       + "(more values than any file holds)")
    }

    func testCSVLabelsOutOfRangeNameTheRow() {
        let text = message { _ = try CSVLoader.load("1,0\n2,1e12\n", source: "a.csv") }
        XCTAssertEqual(text, "a.csv, row 2, column 2: the label `1e12` is not a class number (a whole number from 0 to 9999)")
        XCTAssertTrue(message { _ = try CSVLoader.load("1,-1\n", source: "a.csv") }.contains("row 1, column 2"))
    }

    func testNPYShapeThatOverflowsOrIsNegativeIsAnError() {
        let huge = message { _ = try NPYLoader.array(npy("<f4", shape: "(4294967296, 4294967296)", data: []), source: "x.npy") }
        XCTAssertTrue(huge.contains("x.npy: the header promises 4294967296x4294967296 values"), huge)
        let wide = message { _ = try NPYLoader.array(npy("<f8", shape: "(2305843009213693952,)", data: []), source: "x.npy") }
        XCTAssertTrue(wide.contains("the header promises"), wide)
        let negative = message { _ = try NPYLoader.array(npy("<f4", shape: "(6, -1, -4)", data: []), source: "x.npy") }
        XCTAssertEqual(negative, "x.npy: the shape (6, -1, -4) must hold whole numbers from 0, not `-1`")
        let words = message { _ = try NPYLoader.array(npy("<f4", shape: "('a', 2)", data: []), source: "x.npy") }
        XCTAssertTrue(words.contains("must hold whole numbers"), words)
    }

    func testNPYLabelsThatAreNotClassNumbersNameTheSample() {
        let samples = npy("<f4", shape: "(3, 1)", data: floats([1, 2, 3]))
        for (bad, text) in [(Float.infinity, "inf"), (Float.nan, "nan"), (1e12, "1e+12"), (2.5, "2.5"), (-1, "-1")] {
            let labels = npy("<f4", shape: "(3,)", data: floats([0, bad, 1]))
            let error = message { _ = try NPYLoader.load(samples: samples, labels: labels, samplesSource: "x", labelsSource: "y.npy") }
            XCTAssertEqual(error, "y.npy, label 2: the label `\(text)` is not a class number (a whole number from 0 to 9999)")
        }
    }

    func testIDXLabelsThatAreNotClassNumbersAreRefused() {
        func idx(type: UInt8, dims: [Int], data: [UInt8]) -> [UInt8] {
            [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8((d >> (8 * (3 - $0))) & 0xFF) } } + data
        }
        let images = idx(type: 0x08, dims: [2, 1, 1], data: [0, 0])
        for bad: Float in [1e30, .nan, 2e8] {
            let bits = bad.bitPattern
            let data = [UInt8](repeating: 0, count: 4) + (0..<4).map { UInt8((bits >> (8 * (3 - UInt32($0)))) & 0xFF) }
            let labels = idx(type: 0x0D, dims: [2], data: data)
            let error = message { _ = try IDXLoader.load(images: images, labels: labels, imagesSource: "i", labelsSource: "l") }
            XCTAssertTrue(error.hasPrefix("l, label 2: the label"), error)
        }
        let huge = message { _ = try IDXLoader.array(idx(type: 0x0E, dims: [1 << 31, 1 << 31, 1 << 31], data: []), source: "x") }
        XCTAssertTrue(huge.contains("the header promises"), huge)
    }

    func testClassesComeFromTheLabelsPresent() throws {
        let d = try CSVLoader.load("1,3\n2,1\n")
        XCTAssertEqual(d.classes, 4)
        XCTAssertEqual(d.classCounts, [0, 1, 0, 1])
    }
}

final class HostileSafeTensorsTests: XCTestCase {
    func file(_ header: String, data: Int = 8) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + [UInt8](repeating: 0, count: data)
    }

    func refused(_ tensor: String) -> String {
        do {
            _ = try SafeTensors.decode(file("{\"t\":{\"dtype\":\"F32\",\(tensor)}}"), source: "x.safetensors")
            return ""
        } catch { return error.message }
    }

    func testSizesThatOverflowAndShapesThatAreNotNumbersAreRefused() {
        let bad = "x.safetensors: tensor t has a bad shape or byte range"
        XCTAssertEqual(refused("\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]"), bad)
        XCTAssertEqual(refused("\"shape\":[2305843009213693952],\"data_offsets\":[0,8]"), bad)
        XCTAssertEqual(refused("\"shape\":[2],\"data_offsets\":[0,9223372036854775807]"), bad)
        XCTAssertEqual(refused("\"shape\":[\"2\"],\"data_offsets\":[0,8]"), bad)
        XCTAssertEqual(refused("\"shape\":[2,\"a\"],\"data_offsets\":[0,8]"), bad)
        XCTAssertEqual(refused("\"shape\":[-2],\"data_offsets\":[0,8]"), bad)
        XCTAssertEqual(refused("\"shape\":[2],\"data_offsets\":[0,8]"), "")
    }

    /// Two tensors may not share bytes (safetensors' own loader refuses it too).
    func testOverlappingTensorsAreRefused() {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        XCTAssertThrowsError(try SafeTensors.decode(file(header), source: "x.safetensors")) { error in
            XCTAssertEqual((error as? DataError)?.message, "x.safetensors: tensors a and b overlap in the file")
        }
        let apart = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        XCTAssertNoThrow(try SafeTensors.decode(file(apart), source: "x.safetensors"))
    }
}
