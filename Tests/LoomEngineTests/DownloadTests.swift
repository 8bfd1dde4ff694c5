import Foundation
import XCTest
import LoomEngine

/// Downloads from a mirror on 127.0.0.1 (`Fixtures/mirror_server.py`) that
/// serves a fixture well or badly: what reaches the cache is the published
/// file or nothing.
final class DownloadTests: XCTestCase {
    var served = "", cache = ""
    var server: Process?
    var base = ""
    var fixture = PublishedFile(name: "", sha256: "", bytes: 0)

    override func setUpWithError() throws {
        let root = NSTemporaryDirectory() + "loom-download-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        served = root + "/served"
        cache = root + "/cache/fixture"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        try Data(bytes).write(to: URL(fileURLWithPath: served + "/train-images-idx3-ubyte.gz"))
        let (process, port, files) = try Self.startMirror(serving: served)
        server = process
        base = "http://127.0.0.1:\(port)"
        let listed = try XCTUnwrap(files["train-images-idx3-ubyte.gz"])
        fixture = PublishedFile(name: "train-images-idx3-ubyte.gz", sha256: listed.sha256, bytes: listed.bytes)
        XCTAssertEqual(fixture.bytes, 300_000)
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
        try? FileManager.default.removeItem(atPath: (served as NSString).deletingLastPathComponent)
    }

    /// Starts the mirror on a free port; its port and the size and SHA-256 of each file it serves.
    static func startMirror(serving folder: String) throws -> (Process, Int, [String: (bytes: Int, sha256: String)]) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mirror_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script.path, folder]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var text = ""
        while !text.contains("ready\n") {
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw XCTSkip("the local mirror did not start") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        var files: [String: (bytes: Int, sha256: String)] = [:]
        for line in lines where line.count == 3 { files[line[0]] = (Int(line[1]) ?? 0, line[2]) }
        return (process, Int(lines[0][0]) ?? 0, files)
    }

    /// What the cache folder holds (hidden temporaries too).
    func cached() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).sorted() }

    func testDownloadsIntoTheCacheWithProgress() throws {
        var reports: [Int] = []
        let path = try Downloader.fetch(fixture, from: [base + "/good/"], into: cache,
                                        progress: { received, total in XCTAssertEqual(total, 300_000); reports.append(received) })
        XCTAssertEqual(path, cache + "/train-images-idx3-ubyte.gz")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)),
                       try Data(contentsOf: URL(fileURLWithPath: served + "/train-images-idx3-ubyte.gz")))
        XCTAssertEqual(cached(), ["train-images-idx3-ubyte.gz"])
        XCTAssertEqual(reports.last, 300_000)
        XCTAssertEqual(reports, reports.sorted(), "progress only grows")
    }

    /// A refused connection, a missing file and a checksum mismatch: each mirror
    /// is tried in turn, and the first good one wins.
    func testFailingMirrorsAreSkipped() throws {
        let path = try Downloader.fetch(fixture, from: ["http://127.0.0.1:1/", base + "/missing/", base + "/bad", base + "/good/"],
                                        into: cache)
        XCTAssertEqual(path, cache + "/train-images-idx3-ubyte.gz")
        XCTAssertEqual(cached(), ["train-images-idx3-ubyte.gz"])
    }

    func testEveryFailureIsReportedAndNothingIsCached() throws {
        let mirrors = ["http://127.0.0.1:1/", base + "/missing/", base + "/bad/", base + "/short/", base + "/long/",
                       "http://loom-mirror.invalid/"]
        XCTAssertThrowsError(try Downloader.fetch(fixture, from: mirrors, into: cache)) { error in
            guard case Downloader.Failure.everyMirrorFailed(let attempts) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts.map(\.url), mirrors.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + "train-images-idx3-ubyte.gz" })
            let reasons = attempts.map(\.failure)
            XCTAssertTrue(reasons[0].lowercased().contains("connect"), reasons[0])
            XCTAssertEqual(reasons[1], "HTTP status 404")
            XCTAssertTrue(reasons[2].hasPrefix("its SHA-256 is "), reasons[2])
            XCTAssertTrue(reasons[2].hasSuffix("not the published \(fixture.sha256)"), reasons[2])
            XCTAssertTrue(reasons[3].lowercased().contains("transfer closed") || reasons[3].contains("150000 of its 300000"), reasons[3])
            XCTAssertEqual(reasons[4], "sent more than the 300000 bytes published")
            XCTAssertTrue(reasons[5].lowercased().contains("resolve"), reasons[5])
        }
        XCTAssertEqual(cached(), [], "no file and no temporary is left")
    }

    func testChecksumMismatchKeepsNothing() throws {
        let wrong = PublishedFile(name: fixture.name, sha256: String(repeating: "0", count: 64), bytes: fixture.bytes)
        XCTAssertThrowsError(try Downloader.fetch(wrong, from: [base + "/good/"], into: cache)) { error in
            guard case Downloader.Failure.everyMirrorFailed(let attempts) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts.first?.failure, "its SHA-256 is \(fixture.sha256), not the published \(wrong.sha256)")
        }
        XCTAssertEqual(cached(), [])
    }

    /// Stopped after 64 KiB of a slow transfer: the call ends at once, and
    /// neither the file nor its temporary is left.
    func testInterruptStopsAndDeletesThePartialFile() throws {
        var stop = false, lastReport = 0
        let started = Date()
        XCTAssertThrowsError(try Downloader.fetch(fixture, from: [base + "/slow/", base + "/good/"], into: cache,
                                                  progress: { received, _ in lastReport = received; if received >= 65_536 { stop = true } },
                                                  shouldStop: { stop })) { error in
            XCTAssertEqual(error as? Downloader.Failure, .interrupted)
        }
        XCTAssertLessThan(lastReport, 300_000)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "the slow transfer takes about 1 s whole")
        XCTAssertEqual(cached(), [])
    }

    func testMirrorsFromTheEnvironmentReplaceThePublishedOnes() throws {
        XCTAssertEqual(try Downloader.mirrors(of: Catalog.mnist) { _ in nil }, Catalog.mnist.mirrors)
        let env = ["LOOM_DATA_MIRRORS": " http://127.0.0.1:8000/a/  https://example.org/b "]
        XCTAssertEqual(try Downloader.mirrors(of: Catalog.mnist) { env[$0] }, ["http://127.0.0.1:8000/a/", "https://example.org/b"])
        for bad in ["file:///etc/", "ftp://example.org/", "http://", "", "example.org/mnist"] {
            XCTAssertThrowsError(try Downloader.mirrors(of: Catalog.mnist) { $0 == "LOOM_DATA_MIRRORS" ? bad : nil }) { error in
                XCTAssertTrue("\(error)".contains("LOOM_DATA_MIRRORS"), "\(error)")
            }
        }
    }

    /// The published sums are SHA-256 (64 hex digits), one per file, with the four MNIST names.
    func testCatalogListsTheFourFilesWithTheirSums() {
        for entry in [Catalog.mnist, Catalog.fashionMNIST] {
            XCTAssertEqual(entry.files.map(\.name), ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
            for file in entry.files {
                XCTAssertEqual(file.sha256.count, 64)
                XCTAssertTrue(file.sha256.allSatisfy { "0123456789abcdef".contains($0) })
            }
            XCTAssertTrue(entry.mirrors.allSatisfy { $0.hasSuffix("/") && ($0.hasPrefix("http://") || $0.hasPrefix("https://")) })
        }
        XCTAssertEqual(Catalog.fashionMNIST.classNames?.count, 10)
    }
}
