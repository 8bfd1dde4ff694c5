import Foundation
import XCTest
import LoomEngine

/// The fixtures `Fixtures/make_archives.py` wrote with numpy and Python's zipfile and tarfile.
func archiveFixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name)
    return [UInt8](try Data(contentsOf: url))
}

/// Asserts `body` throws an error whose text starts with `prefix` and contains `fragment`.
func assertRefused<T>(_ body: @autoclosure () throws -> T, naming prefix: String, _ fragment: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertTrue("\(error)".hasPrefix(prefix), "\(error)", file: file, line: line)
        XCTAssertTrue(fragment.isEmpty || "\(error)".contains(fragment), "\(error)", file: file, line: line)
    }
}

/// Zip archives and `.npz` files: what numpy wrote reads back exactly;
/// damaged and hostile archives are refused by name.
final class ZipArchiveTests: XCTestCase {
    func testReadsDeflatedArraysNumpyWrote() throws {
        let bytes = try archiveFixture("keras.npz")
        let archive = try ZipArchive(bytes, source: "keras.npz")
        XCTAssertEqual(NPZLoader.keys(archive), ["x_train", "y_train", "x_test", "y_test"])
        XCTAssertEqual(archive.entries.map(\.method), [8, 8, 8, 8])
        let (shape, values) = try NPYLoader.array(try archive.read(archive.entries[3]), source: "y_test")
        XCTAssertEqual(shape, [6])
        XCTAssertEqual(values, [0, 1, 2, 0, 1, 3])
    }

    func testReadsStoredArraysNumpyWrote() throws {
        let archive = try ZipArchive(try archiveFixture("arrays.npz"), source: "arrays.npz")
        XCTAssertEqual(archive.entries.map(\.method), [0, 0, 0])
        let (shape, labels) = try NPYLoader.array(try archive.read(XCTUnwrap(archive.entry("y.npy"))), source: "y")
        XCTAssertEqual(shape, [5])
        XCTAssertEqual(labels, [0, 1, 1, 0, 2])
    }

    func testReadsZip64Fields() throws {
        let archive = try ZipArchive(try archiveFixture("zip64.npz"), source: "zip64.npz")
        let (shape, values) = try NPYLoader.array(try archive.read(archive.entries[0]), source: "x")
        XCTAssertEqual(shape, [2, 2])
        XCTAssertEqual(values, [1.5, -2, 0.25, 8])
    }

    func testCRCMatchesZlibsKnownValue() {
        XCTAssertEqual(ZipArchive.crc32(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testDamagedEntryFailsItsCRC() throws {
        var bytes = try archiveFixture("arrays.npz")
        let archive = try ZipArchive(bytes, source: "arrays.npz")
        // The last byte of the first entry's data (x.npy, stored).
        let entry = archive.entries[0]
        bytes[30 + entry.name.utf8.count + localExtraLength(bytes) + entry.compressedSize - 1] ^= 0x01
        let damaged = try ZipArchive(bytes, source: "bad.npz")
        assertRefused(try damaged.read(damaged.entries[0]), naming: "bad.npz: the entry x.npy", "fails its CRC-32 check")
    }

    func testTruncatedArchivesAreRefused() throws {
        let bytes = try archiveFixture("keras.npz")
        for cut in [0, 3, 100, bytes.count / 2, bytes.count - 30, bytes.count - 1] {
            assertRefused(try NPZLoader.plan(Array(bytes.prefix(cut)), source: "cut.npz").load(),
                          naming: "cut.npz", "")
        }
    }

    func testForgedSizesAreRefusedBeforeAllocating() throws {
        let bytes = try archiveFixture("keras.npz")
        let directory = try centralDirectoryOffset(bytes)
        // The first entry claims 3 GB uncompressed from a few hundred bytes.
        var forged = bytes
        forged.replaceSubrange((directory + 24)..<(directory + 28), with: [0x00, 0x5E, 0xD0, 0xB2])
        let archive = try ZipArchive(forged, source: "bomb.npz")
        assertRefused(try archive.read(archive.entries[0]), naming: "bomb.npz: the entry x_train.npy", "more than deflate can expand")
        // An offset past the end, and an entry count the directory cannot hold.
        var offset = bytes
        offset.replaceSubrange((directory + 42)..<(directory + 46), with: [0xFF, 0xFF, 0xFF, 0x7F])
        let moved = try ZipArchive(offset, source: "moved.npz")
        assertRefused(try moved.read(moved.entries[0]), naming: "moved.npz: the entry x_train.npy", "no local header")
        var count = bytes
        count.replaceSubrange((count.count - 12)..<(count.count - 10), with: [0xFF, 0xFF])
        assertRefused(try ZipArchive(count, source: "count.npz"), naming: "count.npz", "claims 65535 entries")
    }

    func testUnsupportedMethodIsNamed() throws {
        var bytes = try archiveFixture("arrays.npz")
        let directory = try centralDirectoryOffset(bytes)
        bytes[directory + 10] = 12  // bzip2
        let archive = try ZipArchive(bytes, source: "bz.npz")
        assertRefused(try archive.read(archive.entries[0]), naming: "bz.npz: the entry x.npy", "compression method 12")
    }

    /// Where the central directory starts (the end record's field; no comment).
    func centralDirectoryOffset(_ bytes: [UInt8]) throws -> Int {
        let end = bytes.count - 22
        XCTAssertEqual(Array(bytes[end..<(end + 4)]), [0x50, 0x4B, 0x05, 0x06])
        return (0..<4).reduce(0) { $0 | Int(bytes[end + 16 + $1]) << (8 * $1) }
    }

    /// The first local header's extra field length.
    func localExtraLength(_ bytes: [UInt8]) -> Int { Int(bytes[28]) | Int(bytes[29]) << 8 }
}

/// `.npz` archives as data sets: Keras's layout as train and test, one
/// array as samples, chosen keys, and the errors that say what to pick.
final class NPZLoaderTests: XCTestCase {
    func testKerasLayoutReadsAsTrainAndTestImages() throws {
        let plan = try NPZLoader.plan(try archiveFixture("keras.npz"), source: "keras.npz")
        guard case .split(let train, let test) = try plan.load() else { return XCTFail("expected train and test") }
        XCTAssertEqual(train.inputs.shape, [12, 4, 4, 1])
        XCTAssertEqual(test.inputs.shape, [6, 4, 4, 1])
        XCTAssertEqual(train.labels, (0..<12).map { $0 % 3 })
        XCTAssertEqual(test.labels, [0, 1, 2, 0, 1, 3])
        // Both parts count the classes either holds (class 3 is only in the test part).
        XCTAssertEqual(train.classes, 4)
        XCTAssertEqual(test.classes, 4)
        // One-byte images scaled to [0, 1] as `idx` scales them: the raw bytes over 255.
        let archive = try ZipArchive(try archiveFixture("keras.npz"), source: "keras.npz")
        let raw = try NPYLoader.array(try archive.read(archive.entries[0]), source: "x_train").values
        XCTAssertEqual(train.inputs.storage, raw.map { $0 / 255 })
        XCTAssertEqual(plan.bytesNeeded, 5 * archive.entries.reduce(0) { $0 + $1.size })
    }

    func testChosenKeysAndTheOnlyArray() throws {
        let bytes = try archiveFixture("arrays.npz")
        guard case .one(let labelled) = try NPZLoader.plan(bytes, samples: "x", labels: "y", source: "a").load(),
              case .one(let regression) = try NPZLoader.plan(bytes, samples: "x", targets: "t", source: "a").load(),
              case .one(let only) = try NPZLoader.plan(try archiveFixture("zip64.npz"), source: "z").load() else {
            return XCTFail("expected one data set each")
        }
        XCTAssertEqual(labelled.inputs.shape, [5, 3])
        XCTAssertEqual(labelled.labels, [0, 1, 1, 0, 2])
        XCTAssertEqual(regression.targetShape, [2])
        XCTAssertEqual(only.inputs.storage, [1.5, -2, 0.25, 8])  // not scaled: float samples are read as they are
    }

    func testErrorsListTheArraysAndHowToPick() throws {
        let bytes = try archiveFixture("arrays.npz")
        assertRefused(try NPZLoader.plan(bytes, source: "arrays.npz"), naming: "arrays.npz holds 3 arrays (`x`, `y`, `t`)",
                      "`samples KEY`")
        assertRefused(try NPZLoader.plan(bytes, samples: "x", labels: "z", source: "arrays.npz"),
                      naming: "arrays.npz holds no array `z` for the labels", "it holds `x`, `y`, `t`")
        assertRefused(try NPZLoader.plan(bytes, labels: "y", source: "arrays.npz"), naming: "name the samples too", "`x`")
        assertRefused(try NPZLoader.plan(Array("not a zip".utf8), source: "text.npz"), naming: "text.npz is not an .npz archive", "")
        // Samples and labels that disagree in count.
        assertRefused(try NPZLoader.plan(bytes, samples: "t", labels: "x", source: "arrays.npz").load(),
                      naming: "arrays.npz (x.npy)", "labels for 5 samples")
    }
}
