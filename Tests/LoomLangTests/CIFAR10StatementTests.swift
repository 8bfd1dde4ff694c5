import Foundation
import LoomEngine
import LoomLang
import XCTest

/// `data c = cifar10 [n N] [path DIR]` on the archive fixture in CIFAR-10's
/// binary layout (`LoomEngineTests/Fixtures/make_archives.py`): five
/// training records labelled 3 7 0 9 1, two test records labelled 5 2.
final class CIFAR10StatementTests: LoomTestCase {
    var folder = ""
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../LoomEngineTests/Fixtures/cifar-10-binary.tar.gz").standardized.path

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "loom-cifar-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        unsetenv("LOOM_DATA")
        unsetenv("LOOM_DATA_MIRRORS")
    }

    func dataset(_ name: String) -> Dataset? {
        guard case .object(let d as SessionDataset)? = loom.session[name] else { return nil }
        return d.data
    }

    func testReadsTheArchiveFromPath() throws {
        try FileManager.default.copyItem(atPath: fixture, toPath: folder + "/cifar-10-binary.tar.gz")
        XCTAssertNil(error("data c = cifar10 path \"\(folder)\""))
        let train = try XCTUnwrap(dataset("c.train")), test = try XCTUnwrap(dataset("c.test"))
        XCTAssertEqual(train.labels, [3, 7, 0, 9, 1])
        XCTAssertEqual(test.labels, [5, 2])
        XCTAssertEqual(train.inputs.shape, [5, 32, 32, 3])
        XCTAssertEqual(train.className(9), "truck")
        XCTAssertTrue(texts().last?.contains("c.train │       5 │ 1 1 0 1 0 0 0 1 0 1") == true, texts().last ?? "")
    }

    /// `n 2` of labels 3 7 0 9 1: one each for the two lowest classes present, 0 and 1.
    func testNIsStratifiedAndTheCacheMayHoldTheExtractedFolder() throws {
        try FileManager.default.createDirectory(atPath: folder + "/cifar-10", withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xzf", fixture, "-C", folder + "/cifar-10"]
        try tar.run()
        tar.waitUntilExit()
        setenv("LOOM_DATA", folder, 1)
        XCTAssertNil(error("data c = cifar10 n 2"))
        XCTAssertEqual(dataset("c.train")?.labels, [0, 1])
        XCTAssertEqual(dataset("c.test")?.labels, [5, 2])
    }

    func testMissingArchiveIsDownloadedOrNamed() throws {
        let e = try XCTUnwrap(error("data c = cifar10 path \"\(folder)\""))
        XCTAssertEqual(e.name, "IOError")
        XCTAssertTrue(e.value.contains("cifar-10-binary.tar.gz"), e.value)
        setenv("LOOM_DATA", folder, 1)
        setenv("LOOM_DATA_MIRRORS", "http://127.0.0.1:1/", 1)
        let offline = try XCTUnwrap(error("data c = cifar10"))
        XCTAssertTrue(offline.value.hasPrefix("CIFAR-10: cannot download cifar-10-binary.tar.gz; tried\n  http://127.0.0.1:1/cifar-10-binary.tar.gz: "),
                      offline.value)
        XCTAssertTrue(offline.value.contains("in \(folder)/cifar-10"), offline.value)
    }
}
