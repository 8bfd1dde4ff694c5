import XCTest
import LoomEngine

/// tar archives as `tar` and Python's tarfile write them (GNU long names,
/// ustar prefixes, pax paths), and the damaged ones refused by name.
final class TarArchiveTests: XCTestCase {
    func tar(_ fixture: String) throws -> TarArchive {
        try TarArchive(try Gzip.decompress(try archiveFixture(fixture), source: fixture), source: fixture)
    }

    func text(_ archive: TarArchive, _ entry: TarArchive.Entry) -> String { String(decoding: archive.read(entry), as: UTF8.self) }

    func testLongNamesOfEachFormat() throws {
        let gnu = try tar("names-gnu.tar.gz")
        XCTAssertEqual(gnu.entries.map(\.name), ["folder/" + String(repeating: "a", count: 120) + ".txt", "short.txt"])
        XCTAssertEqual(gnu.entries.map { text(gnu, $0) }, ["long\n", "short\n"])
        let ustar = try tar("names-ustar.tar.gz")
        let prefixed = String(repeating: "p", count: 80) + "/" + String(repeating: "q", count: 60) + ".txt"
        XCTAssertEqual(try text(ustar, XCTUnwrap(ustar.entry(prefixed))), "prefixed\n")
        let pax = try tar("names-pax.tar.gz")
        XCTAssertEqual(pax.entries.map(\.name), ["pax/" + String(repeating: "é", count: 70) + ".txt"])
        XCTAssertEqual(text(pax, pax.entries[0]), "pax\n")
    }

    func testBadChecksumIsRefused() throws {
        var bytes = try Gzip.decompress(try archiveFixture("names-gnu.tar.gz"), source: "t")
        bytes[2560 + 10] ^= 0x20  // a letter of short.txt's header (after the long name, its file and the folder)
        assertRefused(try TarArchive(bytes, source: "bad.tar"), naming: "bad.tar: the header at byte 2560", "fails its checksum")
    }

    func testSizePastTheEndIsRefused() throws {
        let bytes = try Gzip.decompress(try archiveFixture("names-gnu.tar.gz"), source: "t")
        // short.txt's header, then 100 bytes of its 512-byte block: its 6 bytes fit, so it reads;
        // a size of 1 GB in the same header does not.
        var big = Array(bytes.prefix(2560 + 512 + 100))
        XCTAssertEqual(try TarArchive(big, source: "cut.tar").entries.map(\.name).last, "short.txt")
        let size = Array("07346545000\0".utf8)  // 1,000,000,000 in octal
        big.replaceSubrange((2560 + 124)..<(2560 + 136), with: size)
        var sum = 0
        for i in 2560..<(2560 + 512) { sum += (2560 + 148..<2560 + 156).contains(i) ? 32 : Int(big[i]) }
        big.replaceSubrange((2560 + 148)..<(2560 + 156), with: Array((String(sum, radix: 8).leftPadded(to: 6) + "\0 ").utf8))
        assertRefused(try TarArchive(big, source: "big.tar"), naming: "big.tar: the entry at byte 2560 holds 1000000000 bytes",
                      "past the end of the archive")
    }

    func testTruncatedHeaderAndNonTarAreRefused() throws {
        let bytes = try Gzip.decompress(try archiveFixture("names-gnu.tar.gz"), source: "t")
        assertRefused(try TarArchive(Array(bytes.prefix(300)), source: "cut.tar"), naming: "cut.tar", "ends inside a header")
        assertRefused(try TarArchive([UInt8](repeating: 0x41, count: 1024), source: "a.tar"), naming: "a.tar", "not a tar header")
        XCTAssertEqual(try TarArchive([UInt8](repeating: 0, count: 1024), source: "empty.tar").entries, [])
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// CIFAR-10's binary version: the fixture's images, computed from the rule
/// the fixture script drew them by, in Keras's layout (N×32×32×3).
final class CIFAR10Tests: XCTestCase {
    /// Sample n (label `label`): red 8x + 17n, green 8y + 25·label, blue 4(x + 2y) + n, mod 256, over 255.
    func expected(_ n: Int, label: Int) -> [Float] {
        var out: [Float] = []
        for y in 0..<32 {
            for x in 0..<32 {
                out += [(8 * x + 17 * n) % 256, (8 * y + 25 * label) % 256, (4 * (x + 2 * y) + n) % 256].map { Float($0) / 255 }
            }
        }
        return out
    }

    func testArchiveReadsAsKerasLaysItOut() throws {
        let (train, test) = try CIFAR10.load(archive: try archiveFixture("cifar-10-binary.tar.gz"), source: "cifar.tar.gz")
        XCTAssertEqual(train.inputs.shape, [5, 32, 32, 3])
        XCTAssertEqual(test.inputs.shape, [2, 32, 32, 3])
        XCTAssertEqual(train.labels, [3, 7, 0, 9, 1])
        XCTAssertEqual(test.labels, [5, 2])
        XCTAssertEqual(train.classes, 10)
        XCTAssertEqual(train.classNames?.first, "airplane")
        XCTAssertEqual(test.classNames?.last, "truck")
        XCTAssertEqual(train.inputs.storage, zip(0..<5, [3, 7, 0, 9, 1]).flatMap { expected($0, label: $1) })
        XCTAssertEqual(test.inputs.storage, expected(5, label: 5) + expected(6, label: 2))
    }

    func testFolderReadsTheSame() throws {
        let folder = NSTemporaryDirectory() + "cifar-\(getpid())/"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tar = try TarArchive(try Gzip.decompress(try archiveFixture("cifar-10-binary.tar.gz"), source: "c"), source: "c")
        for entry in tar.entries {
            try Data(tar.read(entry)).write(to: URL(fileURLWithPath: folder + entry.name.split(separator: "/").last!))
        }
        let fromFolder = try CIFAR10.load(path: folder)
        let fromArchive = try CIFAR10.load(archive: try archiveFixture("cifar-10-binary.tar.gz"), source: "c")
        XCTAssertEqual(fromFolder.train.inputs.storage, fromArchive.train.inputs.storage)
        XCTAssertEqual(fromFolder.test.labels, fromArchive.test.labels)
        try FileManager.default.removeItem(atPath: folder + CIFAR10.testFile)
        assertRefused(try CIFAR10.load(folder: folder), naming: folder, "has no test_batch.bin")
    }

    func testDamagedBatchesAreRefusedByName() throws {
        let good = [UInt8](repeating: 1, count: CIFAR10.recordBytes)
        assertRefused(try CIFAR10.dataset([good, Array(good.dropLast())], names: ["a.bin", "b.bin"], source: "cifar"),
                      naming: "cifar (b.bin): 3072 bytes", "not a whole number of 3073-byte records")
        var label = good
        label[0] = 10
        assertRefused(try CIFAR10.dataset([label], names: ["c.bin"], source: "cifar"), naming: "cifar (c.bin): record 1 has label 10",
                      "10 classes")
        assertRefused(try CIFAR10.load(archive: try archiveFixture("names-gnu.tar.gz"), source: "other.tar.gz"),
                      naming: "other.tar.gz has no data_batch_1.bin", "test_batch.bin")
    }
}
