import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `data … = patches from …` and `data … = images …` on small PGM files
/// written in a temporary folder, whose pixels the tests know.
final class PhotoStatementTests: LoomTestCase {
    var folder = ""

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-photos-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        super.tearDown()
    }

    /// A binary PGM of `width`×`height` whose pixel i is (i + offset) mod 256.
    func writePGM(_ name: String, width: Int, height: Int, offset: Int = 0) {
        let path = folder + "/" + name
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let pixels = (0..<(width * height)).map { UInt8(($0 + offset) % 256) }
        FileManager.default.createFile(atPath: path, contents: Data(Array("P5 \(width) \(height) 255\n".utf8) + pixels))
    }

    func dataset(_ name: String) -> Dataset? {
        guard case .object(let d as SessionDataset)? = loom.session[name] else { return nil }
        return d.data
    }

    func testPatchesFromAFolderAreEveryPositionOfEachFileInNameOrder() {
        writePGM("b.pgm", width: 5, height: 4, offset: 100)
        writePGM("a.pgm", width: 4, height: 4)
        FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data("not a picture".utf8))
        guard case .ok = run("data p = patches from \"\(folder)\" size 3"), let p = dataset("p") else { return XCTFail("\(String(describing: error("")))") }
        // a.pgm: 2×2 positions, then b.pgm: 3×2.
        XCTAssertEqual(p.inputs.shape, [10, 3, 3, 1])
        XCTAssertEqual(Array(p.inputs.storage[0..<3]), [0, 1, 2].map { Float($0) / 255 })
        XCTAssertEqual(Array(p.inputs.storage[(4 * 9)..<(4 * 9 + 3)]), [100, 101, 102].map { Float($0) / 255 })
        XCTAssertEqual(p.inputs.storage[5 * 9], 101 / 255, "b.pgm's second patch starts one pixel across")
    }

    /// A binary PGM of `side`×`side` random pixels.
    func writeNoise(_ name: String, side: Int, seed: UInt64) -> String {
        var random = RandomGenerator(seed: seed)
        let pixels = (0..<(side * side)).map { _ in UInt8(random.nextUnitFloat() * 255) }
        FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(Array("P5 \(side) \(side) 255\n".utf8) + pixels))
        return folder + "/" + name
    }

    func testNPatchesAreDistinctAndTheSameForTheSameSeed() {
        _ = writeNoise("a.pgm", side: 20, seed: 1)
        run("seed 5\ndata p = patches from \"\(folder)/a.pgm\" size 4 stride 2 n 30 center")
        run("seed 5\ndata q = patches from [\"\(folder)/a.pgm\"] size 4 stride 2 n 30 center")
        guard let p = dataset("p"), let q = dataset("q") else { return XCTFail("\(texts())") }
        XCTAssertEqual(p.inputs.shape, [30, 4, 4, 1])
        XCTAssertEqual(p.inputs.storage, q.inputs.storage)
        let rows = (0..<30).map { Array(p.inputs.storage[($0 * 16)..<($0 * 16 + 16)]) }
        XCTAssertEqual(Set(rows.map { $0.map(\.bitPattern) }).count, 30)
        for row in rows { XCTAssertEqual(row.reduce(0, +) / 16, 0, accuracy: 1e-5) }
    }

    func testWhitenedPatchesHaveNearIdentityCovariance() {
        let path = writeNoise("noise.pgm", side: 64, seed: 2)
        guard case .ok = run("data w = patches from \"\(path)\" size 2 whiten"), let w = dataset("w") else { return XCTFail() }
        let (n, d) = (w.count, 4)
        let x = w.inputs.storage
        for i in 0..<d {
            for j in 0..<d {
                let c = (0..<n).reduce(0.0) { $0 + Double(x[$1 * d + i]) * Double(x[$1 * d + j]) } / Double(n - 1)
                // ε is a tenth of the mean eigenvalue, so the diagonal is near 1/1.1.
                XCTAssertEqual(c, i == j ? 1 / 1.1 : 0, accuracy: 0.03, "(\(i), \(j))")
            }
        }
    }

    func testPatchErrorsNameTheProblem() {
        writePGM("small.pgm", width: 3, height: 3)
        XCTAssertEqual(error("data p = patches from \"\(folder)/small.pgm\" size 4")?.value,
                       "\(folder)/small.pgm: 3x3 pixels, smaller than a patch of 4x4")
        XCTAssertEqual(error("data p = patches from \"\(folder)/small.pgm\" size 2 n 5")?.value,
                       "n is 5, but the photographs hold 4 patches of 2x2 at stride 1")
        XCTAssertEqual(error("data p = patches from \"\(folder)/small.pgm\" noise 0.1")?.value,
                       "noise makes synthetic patches noisy; photographs bring their own")
        XCTAssertEqual(error("data p = patches stride 2")?.value,
                       "stride is for patches cut from photographs (`patches from \"photo.png\" …`)")
        XCTAssertEqual(error("data p = patches from [\"\(folder)/small.pgm\", 3]")?.value,
                       "from must be a path or a list of paths, like \"photo.png\" or [\"a.png\", \"b.png\"]")
        try? FileManager.default.createDirectory(atPath: folder + "/empty", withIntermediateDirectories: true)
        XCTAssertEqual(error("data p = patches from \"\(folder)/empty\"")?.value, "\(folder)/empty holds no PNG or PGM files")
        XCTAssertNil(loom.session["p"], "a refused statement binds nothing")
    }

    func testPatchesFromPhotographsAreCheckedAgainstMemoryBeforeDecoding() {
        writePGM("big.pgm", width: 600, height: 600)
        run("set memory 16")
        let refused = error("data p = patches from \"\(folder)/big.pgm\" size 8")?.value ?? ""
        XCTAssertTrue(refused.hasPrefix("351,649 patches of 8x8x1 from 1 photographs would need"), refused)
    }

    func testImagesFolderGivesAClassPerSubfolderInNameOrder() {
        writePGM("dogs/1.pgm", width: 4, height: 3, offset: 50)
        writePGM("cats/2.pgm", width: 4, height: 3, offset: 10)
        writePGM("cats/1.pgm", width: 4, height: 3)
        guard case .ok = run("data d = images \"\(folder)/\""), let d = dataset("d") else { return XCTFail("\(texts())") }
        XCTAssertEqual(d.inputs.shape, [3, 3, 4, 1])
        XCTAssertEqual(d.classNames, ["cats", "dogs"])
        XCTAssertEqual(d.labels, [0, 0, 1])
        XCTAssertEqual(d.inputs.storage[0], 0)
        XCTAssertEqual(d.inputs.storage[12], 10 / 255)
        XCTAssertEqual(d.inputs.storage[24], 50 / 255)
        XCTAssertTrue(texts().first?.hasPrefix("d: 3 samples of 3x4x1, 2 classes") ?? false, "\(texts())")
    }

    func testImagesOfAnotherSizeAreAnErrorUnlessResized() {
        writePGM("a/1.pgm", width: 4, height: 3)
        writePGM("b/1.pgm", width: 6, height: 2)
        XCTAssertEqual(error("data d = images \"\(folder)\"")?.value,
                       "\(folder)/b/1.pgm is 6x2, but \(folder)/a/1.pgm is 4x3: give `size WxH` to resize them all")
        guard case .ok = run("data d = images \"\(folder)\" size 8x5 colour"), let d = dataset("d") else { return XCTFail() }
        XCTAssertEqual(d.inputs.shape, [2, 5, 8, 3])
        writePGM("c/readme.txt", width: 1, height: 1)
        XCTAssertEqual(error("data e = images \"\(folder)\"")?.value, "\(folder)/c holds no PNG or PGM files")
        XCTAssertEqual(error("data e = images \"\(folder)/a/1.pgm\"")?.value,
                       "\(folder)/a/1.pgm is not a folder; `images` takes a folder with one subfolder per class")
    }
}
