import Foundation
import LoomCore
import XCTest

/// `train … log "FOLDER" [histograms every N]`: the folder and its event
/// files, the options' errors, completion and Shift-Tab help.
final class TrainingLogStatementTests: LoomTestCase {
    var folder: String!

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-log-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        run("seed 1\ndata d = glyphs n 40 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func files(_ path: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func testEachTrainAddsAnEventFileToTheFolderItMakes() {
        XCTAssertNil(error("train m on d epochs 2 log \"\(folder!)/runs/a\" histograms every 1"))
        XCTAssertNil(error("train m on d epochs 1 log \"\(folder!)/runs/a\""))
        let names = files(folder + "/runs/a")
        XCTAssertEqual(names.count, 2, "\(names)")
        XCTAssertTrue(names.allSatisfy { $0.hasPrefix("events.out.tfevents.") }, "\(names)")
    }

    func testHistogramsNeedALogAndEveryN() {
        XCTAssertTrue(error("train m on d histograms every 2")?.value.contains("`histograms` go into the `log` folder") == true)
        XCTAssertTrue(error("train m on d log \"x\" histograms 2")?.value.contains("`every N` after histograms") == true)
        XCTAssertTrue(error("train m on d log \"x\" histograms every 0")?.value.contains("between 1 and") == true)
    }

    func testAFileInTheFoldersPlaceIsRefusedBeforeTraining() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Files.writeAtomically(Array("x".utf8), to: folder + "/runs")
        let e = error("train m on d epochs 1 log \"\(folder!)/runs\"")
        XCTAssertTrue(e?.value.contains("cannot write the log") == true && e?.value.contains("not a folder") == true, "\(String(describing: e))")
        run("print m.epochs")
        XCTAssertEqual(out.stdout.split(separator: "\n").last, "0", "no epoch ran")
    }

    func testCompletionAndHelpKnowTheOptions() {
        func matches(_ code: String) -> [String] { loom.complete(code, cursor: code.unicodeScalars.count).matches }
        XCTAssertTrue(matches("train m on d lo").contains("log"))
        XCTAssertEqual(matches("train m on d log \"runs\" hist"), ["histograms"])
        XCTAssertEqual(matches("train m on d log \"runs\" histograms "), ["every"])
        XCTAssertTrue(loom.inspect("log", cursor: 1, detailLevel: 0)?.plainText?.contains("TensorBoard") == true)
        XCTAssertTrue(loom.inspect("every", cursor: 1, detailLevel: 0)?.plainText?.contains("histograms every N") == true)
    }
}
