import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `data m = mnist [fashion] [n N] [path DIR]` on small IDX files in MNIST's
/// layout, written here: each image's first pixel is its index, so the
/// samples a part holds can be read back.
final class MNISTStatementTests: LoomTestCase {
    var folder = ""

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-mnist-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        unsetenv("LOOM_DATA")
        unsetenv("LOOM_DATA_MIRRORS")
        super.tearDown()
    }

    /// An IDX file of unsigned bytes with `shape`.
    static func idx(_ shape: [Int], _ values: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for d in shape { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + values
    }

    /// The four files in `dir`: 2×3 images whose first pixel is the image's
    /// index, with `trainLabels` and `testLabels`; gzip-compressed with `gzip` when `compressed`.
    func writeSet(in dir: String, trainLabels: [UInt8], testLabels: [UInt8], compressed: Bool) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func images(_ n: Int) -> [UInt8] { Self.idx([n, 2, 3], (0..<n).flatMap { [UInt8($0), 255, 0, 0, 0, 51] }) }
        let files = [("train-images-idx3-ubyte", images(trainLabels.count)),
                     ("train-labels-idx1-ubyte", Self.idx([trainLabels.count], trainLabels)),
                     ("t10k-images-idx3-ubyte", images(testLabels.count)),
                     ("t10k-labels-idx1-ubyte", Self.idx([testLabels.count], testLabels))]
        for (name, bytes) in files {
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            if compressed { try gzip(path) }
        }
    }

    func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-nf", path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }

    /// The data set `name` holds, or nil.
    func dataset(_ name: String) -> Dataset? {
        guard case .object(let d as SessionDataset)? = loom.session[name] else { return nil }
        return d.data
    }

    /// The first pixel of each sample, scaled back to the index it holds.
    func indices(_ name: String) throws -> [Int] {
        let data = try XCTUnwrap(dataset(name))
        return (0..<data.count).map { Int((data.inputs.storage[$0 * 6] * 255).rounded()) }
    }

    let trainLabels: [UInt8] = [3, 1, 1, 0, 2, 1, 1, 3, 0, 1, 2, 1]
    let testLabels: [UInt8] = [0, 1, 2, 3, 3, 2]

    func testReadsTheFourGzipFilesFromPath() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        XCTAssertNil(error("data m = mnist path \"\(folder)\""))
        XCTAssertEqual(try indices("m.train"), Array(0..<12))
        XCTAssertEqual(try indices("m.test"), Array(0..<6))
        let train = try XCTUnwrap(dataset("m.train"))
        XCTAssertEqual(train.inputs.shape, [12, 2, 3, 1])
        XCTAssertEqual(train.labels, trainLabels.map(Int.init))
        XCTAssertEqual(train.inputs.storage[1], 1)
        XCTAssertEqual(train.inputs.storage[5], 0.2)
        XCTAssertNil(train.classNames)
        let table = try XCTUnwrap(texts().first { $0.contains("m.train │") }, "\(texts())")
        XCTAssertTrue(table.contains("m.train │      12 │ 2 6 2 2"), table)
        let picture = try XCTUnwrap(out.displays.last)
        XCTAssertTrue(picture.plainText?.hasPrefix("the first of m.train\n") == true, "the training part's first samples are drawn")
        XCTAssertNotNil(picture["image/svg+xml"])
        XCTAssertTrue(table.contains("m.test  │       6 │ 1 1 2 2"), table)
        XCTAssertNil(dataset("m"), "only the parts are defined")
    }

    func testReadsUncompressedFilesToo() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: false)
        XCTAssertNil(error("data m = mnist path \"\(folder)/\""))
        XCTAssertEqual(try indices("m.test"), Array(0..<6))
    }

    /// Train labels 3 1 1 0 2 1 1 3 0 1 2 1 hold 2, 6, 2 and 2 of classes 0–3.
    /// `n 7`: even shares give 1 each and 3 left, one more to classes 0, 1, 2;
    /// `n 10`: 2 each with 2 left, both to class 1, the only one with more.
    func testNTakesTheFirstNStratifiedInFileOrder() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        XCTAssertNil(error("data m = mnist n 7 path \"\(folder)\""))
        XCTAssertEqual(try indices("m.train"), [0, 1, 2, 3, 4, 8, 10])
        XCTAssertEqual(dataset("m.train")?.classCounts, [2, 2, 2, 1])
        XCTAssertEqual(try indices("m.test"), Array(0..<6), "a part with fewer than N samples is kept whole")
        XCTAssertNil(error("data m = mnist n 10 path \"\(folder)\""))
        XCTAssertEqual(dataset("m.train")?.classCounts, [2, 4, 2, 2])
        XCTAssertNil(error("data m = mnist n 3 path \"\(folder)\""))
        XCTAssertEqual(try indices("m.test"), [0, 1, 2])
    }

    func testFashionKeepsItsClassNames() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        XCTAssertNil(error("data f = mnist fashion path \"\(folder)\""))
        let train = try XCTUnwrap(dataset("f.train"))
        XCTAssertEqual(train.classNames?.first, "T-shirt/top")
        XCTAssertEqual(train.classNames?[7], "Sneaker")
        XCTAssertEqual(train.className(9), "Ankle boot")
        XCTAssertTrue(texts().contains { $0.contains("Fashion-MNIST from \(folder)") }, "\(texts())")
    }

    /// Without `path`, the cache: `$LOOM_DATA/mnist`, `$LOOM_DATA/fashion-mnist`.
    func testReadsTheCacheThatLOOMDATANames() throws {
        try writeSet(in: folder + "/fashion-mnist", trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        setenv("LOOM_DATA", folder, 1)
        XCTAssertNil(error("data f = mnist fashion n 4"))
        XCTAssertEqual(try indices("f.test"), [0, 1, 2, 3])
        setenv("LOOM_DATA_MIRRORS", "http://127.0.0.1:1/", 1)  // no test reaches the internet
        let missing = try XCTUnwrap(error("data m = mnist"))
        XCTAssertEqual(missing.name, "IOError")
        XCTAssertTrue(missing.value.contains(folder + "/mnist"), missing.value)
    }

    func testMissingFilesAreNamedWithTheFolder() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        try FileManager.default.removeItem(atPath: folder + "/t10k-labels-idx1-ubyte.gz")
        let e = try XCTUnwrap(error("data m = mnist path \"\(folder)\""))
        XCTAssertEqual(e.name, "IOError")
        XCTAssertTrue(e.value.contains("t10k-labels-idx1-ubyte.gz"), e.value)
        XCTAssertFalse(e.value.contains("train-images"), e.value)
        XCTAssertTrue(e.value.contains(folder), e.value)
        XCTAssertNil(dataset("m.train"), "nothing is defined")
    }

    func testBadFilesAreNamed() throws {
        try writeSet(in: folder, trainLabels: trainLabels, testLabels: testLabels, compressed: false)
        // Labels for a different number of images.
        try Data(Self.idx([5], [0, 1, 2, 3, 4])).write(to: URL(fileURLWithPath: folder + "/t10k-labels-idx1-ubyte"))
        var e = try XCTUnwrap(error("data m = mnist path \"\(folder)\""))
        XCTAssertTrue(e.value.contains("t10k-labels-idx1-ubyte: 5 labels for 6 images"), e.value)
        // A truncated gzip file.
        try gzip(folder + "/train-images-idx3-ubyte")
        let path = folder + "/train-images-idx3-ubyte.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: path))
        e = try XCTUnwrap(error("data m = mnist path \"\(folder)\""))
        XCTAssertTrue(e.value.contains(path), e.value)
        XCTAssertTrue(e.value.contains("cut short"), e.value)
    }

    /// Offline (a refused port, a host that cannot resolve): the error names
    /// the files still missing, each URL tried and why, and the folder; the
    /// files already in the cache are not fetched again, and nothing is kept.
    func testOfflineErrorNamesFilesURLsAndFolder() throws {
        try writeSet(in: folder + "/mnist", trainLabels: trainLabels, testLabels: testLabels, compressed: true)
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.removeItem(atPath: folder + "/mnist/" + name)
        }
        setenv("LOOM_DATA", folder, 1)
        setenv("LOOM_DATA_MIRRORS", "http://127.0.0.1:1/ http://loom-mirror.invalid/mnist", 1)
        let e = try XCTUnwrap(error("data m = mnist"))
        XCTAssertEqual(e.name, "IOError")
        let lines = e.value.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "MNIST: cannot download t10k-images-idx3-ubyte.gz; tried")
        XCTAssertTrue(lines[1].hasPrefix("  http://127.0.0.1:1/t10k-images-idx3-ubyte.gz: "), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("  http://loom-mirror.invalid/mnist/t10k-images-idx3-ubyte.gz: "), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("Put t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (from any of those mirrors"), lines[3])
        XCTAssertTrue(lines[3].contains("in \(folder)/mnist"), lines[3])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/mnist").sorted(),
                       ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"], "nothing partial is kept")
        XCTAssertTrue(out.displays.contains { $0.plainText?.hasPrefix("downloading t10k-images-idx3-ubyte.gz") == true },
                      "a progress bar is shown")
    }

    func testMirrorsMustBeHTTP() throws {
        setenv("LOOM_DATA", folder, 1)
        setenv("LOOM_DATA_MIRRORS", "file:///etc/", 1)
        let e = try XCTUnwrap(error("data m = mnist"))
        XCTAssertEqual(e.value, "$LOOM_DATA_MIRRORS: `file:///etc/` is not an http:// or https:// URL")
    }
}
