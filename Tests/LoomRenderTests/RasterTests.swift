import LoomRender
import XCTest

/// The PNG writer; `test_figures.py` also decodes its files with Python's zlib.
final class RasterTests: XCTestCase {
    func testBase64MatchesRFC4648() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                       "foobar": "Zm9vYmFy"]
        for (plain, coded) in vectors { XCTAssertEqual(Base64.encode(Array(plain.utf8)), coded) }
    }

    func testTheFileEndsWithTheStandardIENDChunk() {
        // Every PNG ends with these 12 bytes: a CRC-32 slip shows here.
        let png = Raster(width: 3, height: 2).png()
        XCTAssertEqual(Array(png.suffix(12)), [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    func testRunsCompressAndNoiseCostsAtMostNineBitsAByte() {
        XCTAssertLessThan(Raster(width: 300, height: 300).png().count, 3_000)  // of 360,300 bytes: 13 bits per 258
        var noise = Raster(width: 50, height: 50)
        var state: UInt64 = 1
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(state >> 56)
        }
        for y in 0..<50 { for x in 0..<50 { noise.set(x, y, next(), next(), next(), alpha: next()) } }
        XCTAssertLessThan(noise.png().count, (50 * (50 * 4 + 1)) * 9 / 8 + 64)
    }
}
