import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `encode … patches size S stride T pool max|sum grid G`: images coded patch
/// by patch and pooled into a data set of features with the images' labels.
final class PooledCodesTests: LoomTestCase {
    var folder = ""

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-pooled-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        super.tearDown()
    }

    /// Two labelled 4×4 images (pixel (y, x) is 4y + x − 8, then its
    /// negative) and two 2×2 atoms that pick a patch's top-left and
    /// bottom-right pixel: thresholding at 0 codes a patch by those pixels.
    func handCase(pool: String) -> String {
        let first = (0..<16).map { String($0 - 8) }, second = (0..<16).map { String(8 - $0) }
        FileManager.default.createFile(atPath: folder + "/images.csv",
                                       contents: Data(("7," + first.joined(separator: ",") + "\n3," + second.joined(separator: ",") + "\n").utf8))
        FileManager.default.createFile(atPath: folder + "/atoms.csv", contents: Data("1,0,0,0\n0,0,0,1\n".utf8))
        return "data d = csv \"\(folder)/images.csv\" label first shape 4x4x1\n"
            + "dictionary D = csv \"\(folder)/atoms.csv\" shape 2x2x1\n"
            + "codes C = encode d with D threshold 0 patches size 2 stride 1 pool \(pool) grid 2\n"
    }

    func data(_ name: String) throws -> Dataset {
        guard case .object(let object)? = loom.session[name], let data = object as? SessionDataset else {
            throw XCTSkip("`\(name)` holds no data set")
        }
        return data.data
    }

    func testMaxPooledFeaturesOfAHandCaseKeepLabelsAndOrder() throws {
        let code = handCase(pool: "max")
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let c = try data("C"), d = try data("d")
        // Regions of the 3×3 patch positions: rows and columns {0, 1} and {2}; atom 1 then atom 2 in each.
        let first: [Float] = [8, 3, 6, 3, 1, 6, 2, 7]
        XCTAssertEqual(c.sampleShape, [8])
        XCTAssertEqual(c.inputs.storage, first + first)
        XCTAssertEqual(c.labels, d.labels)
        XCTAssertEqual(c.classNames, d.classNames)
    }

    func testSumPooledFeaturesOfAHandCase() throws {
        let code = handCase(pool: "sum")
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let first: [Float] = [-22, -2, -8, 2, 1, 11, 2, 7]
        XCTAssertEqual(try data("C").inputs.storage, first + first.map { -$0 })
    }

    func testAClassifierTrainsOnPooledCodes() throws {
        let code = """
            seed 4
            data g = glyphs n 400 size 16
            data p = patches n 2000 size 4
            dictionary D = learn p atoms 16 sparsity 2 iterations 3
            codes C = encode g with D omp sparsity 2 patches size 4 stride 2 grid 2
            split C train 0.8
            model m {
              input 64
              dense 10 softmax
            }
            train m on C.train epochs 40 batch 16 lr 0.01
            r = evaluate m on C.test
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        XCTAssertEqual(try data("C").sampleShape, [64])
        let accuracy = (Double((value("r.accuracy") ?? "").replacingOccurrences(of: "%", with: "")) ?? 0) / 100
        // Ten classes: chance is 0.1.
        XCTAssertGreaterThan(accuracy, 0.5)
    }

    func assertError(_ line: String, contains text: String, column: Int, file: StaticString = #filePath, lineNumber: UInt = #line) {
        let e = error(handCase(pool: "max") + line)
        XCTAssertTrue(e?.value.contains(text) ?? false, "\(String(describing: e?.value))", file: file, line: lineNumber)
        XCTAssertEqual(e?.traceback[1], "  --> line 4, column \(column)", file: file, line: lineNumber)
    }

    func testBadPatchOptionsAreNamedWithTheirPlace() {
        assertError("codes E = encode d with D threshold 0 patches size 3",
                    contains: "the atoms of `D` have 4 values but a 3x3 patch of 1 channel(s) has 9", column: 52)
        assertError("codes E = encode d with D threshold 0 patches size 2 stride 2 grid 3",
                    contains: "grid 3 is larger than the 2x2 patches", column: 68)
        assertError("codes E = encode d with D threshold 0 patches size 5",
                    contains: "a 5x5 patch does not fit in the 4x4 images", column: 52)
        assertError("codes E = encode d with D threshold 0 patches",
                    contains: "`patches` needs the patches' side", column: 39)
        assertError("codes E = encode d with D threshold 0 grid 2",
                    contains: "`grid` goes with `patches`", column: 44)
    }
}
