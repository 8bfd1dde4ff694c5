import Foundation
import LoomEngine
import XCTest

/// PNG and PGM decoding against files whose pixels are known (made by
/// Fixtures/make_pictures.py with zlib and struct alone), patches against
/// scikit-learn's `extract_patches_2d`, resizing and whitening.
final class PictureTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pictures")

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: PictureTests.folder.appendingPathComponent(name)))
    }

    func decode(_ name: String, channels: Int = 1) throws -> Picture {
        try PictureFile.decode(try bytes(name), channels: channels, source: name)
    }

    /// The grey fixture's values: (i·37 mod 256)/255, 7 wide and 6 high.
    let grey: [Float] = (0..<42).map { Float($0 * 37 % 256) / 255 }

    func testGreyPNGOfEightBitsDecodesToItsValues() throws {
        let picture = try decode("grey8.png")
        XCTAssertEqual([picture.width, picture.height, picture.channels], [7, 6, 1])
        XCTAssertEqual(picture.pixels, grey)
        XCTAssertEqual(try PictureFile.header(try bytes("grey8.png"), source: "g").storedChannels, 1)
    }

    func testSixteenBitInterlacedAndPGMFilesGiveTheSamePixels() throws {
        for name in ["grey16.png", "interlaced.png", "grey8-p5.pgm", "grey16-p5.pgm", "grey-p2.pgm"] {
            let picture = try decode(name)
            XCTAssertEqual([picture.width, picture.height], [7, 6], name)
            XCTAssertEqual(picture.pixels, grey, name)
        }
    }

    func testPGMOfTwoBytesAValueIsBigEndianAndDividedByItsLargestValue() throws {
        let picture = try decode("wide-p5.pgm")
        XCTAssertEqual([picture.width, picture.height], [4, 3])
        XCTAssertEqual(picture.pixels, (0..<12).map { Float($0 * 83 % 1001) / 1000 })
    }

    func testColourPNGKeepsItsChannelsOrBecomesGrey() throws {
        let rgb = try decode("rgb8.png", channels: 3)
        XCTAssertEqual(rgb.pixels, (0..<18).map { Float($0 * 29 % 256) / 255 })
        XCTAssertEqual(try PictureFile.header(try bytes("rgb8.png"), source: "c").storedChannels, 3)
        let grey = try decode("rgb8.png")
        XCTAssertEqual(grey.channels, 1)
        // Grey lies between each pixel's darkest and brightest channel.
        for i in 0..<6 {
            let channels = rgb.pixels[(3 * i)..<(3 * i + 3)]
            XCTAssertGreaterThanOrEqual(grey.pixels[i] + 1 / 255, channels.min()!)
            XCTAssertLessThanOrEqual(grey.pixels[i] - 1 / 255, channels.max()!)
        }
        // A grey file asked for three channels repeats its value.
        let repeated = try decode("grey8-p5.pgm", channels: 3)
        XCTAssertEqual(repeated.pixels, self.grey.flatMap { [$0, $0, $0] })
    }

    func testPalettePNGOfTwoBitsDecodesThroughItsPalette() throws {
        let expected = try NPYLoader.array(try bytes("palette2-expected.npy"), source: "expected")
        XCTAssertEqual(try decode("palette2.png").pixels, expected.values)
    }

    func testPatchesAreThoseOfScikitLearn() throws {
        let picture = try decode("grey8.png")
        let all = PhotoPatches.extract(from: [picture], size: 3, stride: 1)
        let expected = try NPYLoader.array(try bytes("grey8-patches3.npy"), source: "expected")
        XCTAssertEqual(all.shape, [20, 3, 3, 1])
        XCTAssertEqual(expected.shape, [20, 3, 3])
        XCTAssertEqual(all.storage, expected.values)
        let strided = PhotoPatches.extract(from: [picture], size: 3, stride: 2)
        let expectedStrided = try NPYLoader.array(try bytes("grey8-patches3-stride2.npy"), source: "expected")
        XCTAssertEqual(strided.shape, [6, 3, 3, 1])
        XCTAssertEqual(strided.storage, expectedStrided.values)
        XCTAssertEqual(PhotoPatches.count(width: 7, height: 6, size: 3, stride: 2), 6)
    }

    func testChosenPatchesAreDistinctPositionsAcrossPictures() throws {
        let picture = try decode("grey8.png")
        let all = PhotoPatches.extract(from: [picture, picture], size: 3, stride: 1)
        var random = RandomGenerator(seed: 3)
        let positions = PhotoPatches.choose(25, of: 40, random: &random)
        XCTAssertEqual(Set(positions).count, 25)
        XCTAssertTrue(positions.allSatisfy { (0..<40).contains($0) })
        let chosen = PhotoPatches.extract(from: [picture, picture], size: 3, stride: 1, positions: positions)
        for (slot, position) in positions.enumerated() {
            XCTAssertEqual(Array(chosen.storage[(slot * 9)..<(slot * 9 + 9)]), Array(all.storage[(position * 9)..<(position * 9 + 9)]))
        }
        var again = RandomGenerator(seed: 3)
        XCTAssertEqual(PhotoPatches.choose(25, of: 40, random: &again), positions)
        XCTAssertEqual(Set(PhotoPatches.choose(40, of: 40, random: &again)), Set(0..<40))
    }

    func testCentringTakesEachPatchsMeanOff() throws {
        var patches = PhotoPatches.extract(from: [try decode("grey8.png")], size: 3, stride: 1)
        let before = patches.storage
        PhotoPatches.centre(&patches)
        for p in 0..<20 {
            let row = (p * 9)..<(p * 9 + 9)
            let mean = before[row].reduce(0, +) / 9
            for i in row { XCTAssertEqual(patches.storage[i], before[i] - mean, accuracy: 1e-6) }
        }
    }

    func testResizingSamplesAtPixelCentresAsTensorFlowDoes() {
        // tf.image.resize([[0, 1], [2, 3]], (4, 4)), bilinear, half-pixel centres.
        let small = Picture(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3])
        let large = small.resized(width: 4, height: 4)
        XCTAssertEqual(large.pixels, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3])
        let down = large.resized(width: 2, height: 1)
        XCTAssertEqual(down.pixels, [1.125, 1.875])
        XCTAssertEqual(small.resized(width: 2, height: 2), small)
    }

    /// Whitened without regularisation, correlated samples have identity covariance.
    func testWhiteningGivesIdentityCovariance() throws {
        var random = RandomGenerator(seed: 11)
        let (n, d) = (4000, 6)
        // Mixed sources: strongly correlated features of unequal scales.
        let mixing: [Float] = (0..<(d * d)).map { _ in random.nextNormalFloat() }
        let sources: [Float] = (0..<(n * d)).map { _ in random.nextNormalFloat() }
        var x = GEMM.product(sources, mixing, m: n, n: d, k: d).map { $0 + 3 }
        let original = x
        try Whitening.zca(&x, samples: n, features: d, regularisation: 0)
        let covariance = GEMM.product(x, x, m: d, n: d, k: n, transposeA: true).map { Double($0) / Double(n - 1) }
        for i in 0..<d {
            XCTAssertEqual((0..<n).reduce(0.0) { $0 + Double(x[$1 * d + i]) } / Double(n), 0, accuracy: 1e-4)
            for j in 0..<d { XCTAssertEqual(covariance[i * d + j], i == j ? 1 : 0, accuracy: 2e-3, "(\(i), \(j))") }
        }
        // ZCA is the symmetric whitening: of all, the closest to the data (a rotation would also whiten).
        XCTAssertNotEqual(x, original)
        var constant = [Float](repeating: 0.5, count: 20)
        XCTAssertThrowsError(try Whitening.zca(&constant, samples: 10, features: 2))
    }

    /// Whitening gives the same values whatever the number of BLAS threads
    /// (its products run on one), as every result does.
    func testWhiteningDoesNotDependOnTheThreadCount() throws {
        var random = RandomGenerator(seed: 3)
        let n = 10_000, d = 64
        let x: [Float] = (0..<(n * d)).map { _ in random.nextNormalFloat() * 0.1 + Float.random(in: 0..<1, using: &random) }
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        var results: [[Float]] = []
        for threads in [1, 2, 4] {
            BLAS.setThreads(threads)
            var y = x
            try Whitening.zca(&y, samples: n, features: d)
            results.append(y)
        }
        XCTAssertTrue(results[0] == results[1], "one thread against two")
        XCTAssertTrue(results[0] == results[2], "one thread against four")
    }
}
