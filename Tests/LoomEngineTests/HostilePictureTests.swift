import Foundation
import LoomEngine
import XCTest

/// Damaged and hostile PNG and PGM files: each refused with a message that
/// names the file and what is wrong, before any large allocation.
final class HostilePictureTests: XCTestCase {
    func message(_ bytes: [UInt8], atMost limit: Int = .max) -> String {
        do { _ = try PictureFile.decode(bytes, channels: 1, atMost: limit, source: "x"); return "" } catch { return error.message }
    }

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: PictureTests.folder.appendingPathComponent(name)))
    }

    /// A PNG's signature, an IHDR for `width`×`height` grey pixels and the
    /// start of an IDAT (a few bytes of a zlib stream): what libpng reads a header from.
    func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
        func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(kind.utf8) + data
            var crc: UInt32 = 0xFFFF_FFFF
            for b in body {
                crc ^= UInt32(b)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return be(UInt32(data.count)) + body + be(~crc)
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be(width) + be(height) + [8, 0, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x63, 0x00])
    }

    func testTruncatedPNGIsRefusedAsDamaged() throws {
        let png = try fixture("grey8.png")
        for cut in [9, 20, 40, png.count - 20, png.count - 17] {
            XCTAssertTrue(message(Array(png.prefix(cut))).hasPrefix("x: damaged PNG file ("), "cut at \(cut): \(message(Array(png.prefix(cut))))")
        }
    }

    func testPNGWithBadChecksumOrCorruptDataIsRefused() throws {
        var png = try fixture("grey8.png")
        png[30] ^= 0xFF  // inside IHDR's CRC
        XCTAssertTrue(message(png).hasPrefix("x: damaged PNG file ("), message(png))
        var data = try fixture("grey8.png")
        data[45] ^= 0x55  // inside the compressed pixels
        XCTAssertTrue(message(data).hasPrefix("x: damaged PNG file ("), message(data))
    }

    func testPNGThatClaimsHugeDimensionsIsRefusedBeforeDecoding() {
        let header = pngHeader(width: 100_000, height: 100_000)
        XCTAssertEqual(try PictureFile.header(header, source: "x").pixelCount, 10_000_000_000)
        XCTAssertEqual(message(header, atMost: 1 << 30),
                       "x: 100000x100000 pixels would need 60000000000 bytes to decode, more than the 1073741824 available")
        // Past libpng's own limit of a million pixels a side.
        XCTAssertTrue(message(pngHeader(width: 2_000_000, height: 1)).contains("damaged PNG file"))
        XCTAssertTrue(message(pngHeader(width: 0, height: 5)).contains("damaged PNG file"))
    }

    func testOtherBytesAreNeitherFormat() {
        XCTAssertEqual(message([]), "x: not a PNG or PGM file (its first bytes are neither signature)")
        XCTAssertEqual(message(Array("GIF89a".utf8)), "x: not a PNG or PGM file (its first bytes are neither signature)")
    }

    func pgm(_ text: String, _ data: [UInt8] = []) -> String { message(Array(text.utf8) + data) }

    func testDamagedPGMHeadersAreNamed() {
        XCTAssertEqual(pgm("P5\n3 2\n"), "x: the PGM header is cut short (it needs a width, a height and a largest value)")
        XCTAssertEqual(pgm("P5 3 2 0\n", [0, 0, 0, 0, 0, 0]), "x: the PGM file's largest value is 0; it must be 1 to 65535")
        XCTAssertEqual(pgm("P5 3 2 70000\n"), "x: the largest value in the PGM file is above 65535")
        XCTAssertEqual(pgm("P5 0 2 255\n"), "x: the PGM file has no pixels (0x2)")
        XCTAssertEqual(pgm("P5 3x 2 255\n"), "x: the width in the PGM file is not a whole number (byte 4)")
        XCTAssertEqual(pgm("P5 99999999 2 255\n"), "x: the width in the PGM file is above 16777216")
        XCTAssertEqual(pgm("P5 3 2 255"), "x: the PGM header ends without the whitespace before the pixels (truncated file?)")
    }

    func testTruncatedPGMIsRefusedBeforeAllocating() {
        XCTAssertEqual(pgm("P5 16777216 16777216 65535\n", [1, 2, 3]),
                       "x: the PGM file says 16777216x16777216 pixels, which need 562949953421312 bytes, but 3 follow the header (truncated file?)")
        XCTAssertEqual(pgm("P5 3 2 255\n", [1, 2, 3, 4, 5]),
                       "x: the PGM file says 3x2 pixels, which need 6 bytes, but 5 follow the header (truncated file?)")
        XCTAssertEqual(pgm("P2 3 2 255\n1 2 3 4 55 "), "x: the PGM file ends after 5 of its 6 values (truncated file?)")
    }

    func testPGMValuesAboveTheLargestAreNamed() {
        XCTAssertEqual(pgm("P5 3 2 100\n", [1, 2, 3, 4, 101, 6]), "x: pixel 5 (row 2) is 101, above the file's largest value 100")
        XCTAssertEqual(pgm("P2 3 2 9\n1 2 3 4 5 10"), "x: pixel 6 (row 2) is 10, above the file's largest value 9")
        XCTAssertEqual(pgm("P2 3 2 9\n1 2 3 4 -5 6"), "x: pixel 5 in the PGM file is not a whole number (byte 17)")
    }
}
