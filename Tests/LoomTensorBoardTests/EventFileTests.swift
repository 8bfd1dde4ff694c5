import Foundation
import LoomCore
import LoomTensorBoard
import XCTest

/// Event files as TensorBoard names and reads them: the version event
/// first, a step's figures per write, each write in the file at once.
final class EventFileTests: XCTestCase {
    var folder: String!

    override func setUp() {
        folder = NSTemporaryDirectory() + "loom-tb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func events(_ path: String) throws -> [LoggedEvent] {
        try LoggedEvent.events(in: Files.read(path), source: path)
    }

    /// The version event's bytes as tensorboard's protobuf classes encode
    /// `Event(wall_time=1700000000.5, file_version="brain.Event:2")`.
    func testTheFirstRecordIsTheVersionEvent() throws {
        let file = try EventFile(folder: folder + "/runs/a", wallTime: 1_700_000_000.5, host: "box")
        XCTAssertEqual(file.path, folder + "/runs/a/events.out.tfevents.1700000000.box")
        let expected: [UInt8] = [0x09, 0x00, 0x00, 0x20, 0x40, 0xFC, 0x54, 0xD9, 0x41, 0x1A, 0x0D] + Array("brain.Event:2".utf8)
        XCTAssertEqual(try Files.read(file.path), TFRecord.frame(expected))
    }

    func testScalarsAndHistogramsParseBackAfterEachWrite() throws {
        let file = try EventFile(folder: folder, wallTime: 1_000, host: "box")
        try file.write(step: 1, scalars: [("loss", 0.5), ("accuracy", 0.25)], wallTime: 1_001)
        // Written at once: a reader sees the step before the writer is gone.
        XCTAssertEqual(try events(file.path).map(\.step), [0, 1])
        try file.write(step: 2, scalars: [("loss", 0.375)], histograms: [("dense1/kernel", [-1, 0, 0, 2])], wallTime: 1_002)
        let read = try events(file.path)
        XCTAssertEqual(read.map(\.fileVersion), ["brain.Event:2", nil, nil])
        XCTAssertEqual(read.map(\.wallTime), [1_000, 1_001, 1_002])
        XCTAssertEqual(read[1].scalars, ["loss": 0.5, "accuracy": 0.25])
        XCTAssertEqual(read[2].scalars, ["loss": 0.375])
        let h = try XCTUnwrap(read[2].histograms["dense1/kernel"])
        XCTAssertEqual([h.min, h.max, h.count, h.sum, h.sumOfSquares], [-1, 2, 4, 1, 5])
        XCTAssertEqual(h.counts.reduce(0, +), 4)
        XCTAssertEqual(h.counts.count, 30)
        XCTAssertEqual(h.upperEdges.last, 2)
        XCTAssertEqual(h.counts.first, 1)   // -1 alone below -0.9
        XCTAssertEqual(h.counts[10], 2)     // the zeros, in [0, 0.1)
        XCTAssertEqual(h.counts.last, 1)    // 2, the greatest, in the last bucket
    }

    func testHistogramOfEqualValuesHasOneBucket() {
        let h = Histogram([3, 3, 3])
        XCTAssertEqual(h.upperEdges, [3])
        XCTAssertEqual(h.counts, [3])
        XCTAssertEqual(Histogram([]).counts, [])
    }

    func testASecondWriterInTheSameSecondAddsAFile() throws {
        let first = try EventFile(folder: folder, wallTime: 5, host: "box")
        let second = try EventFile(folder: folder, wallTime: 5, host: "box")
        XCTAssertEqual(second.path, first.path + ".2")
        XCTAssertEqual(try events(first.path).count, 1)
        XCTAssertEqual(try events(second.path).count, 1)
    }

    func testAFileWhereTheFolderShouldBeIsRefused() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Files.writeAtomically(Array("x".utf8), to: folder + "/runs")
        XCTAssertThrowsError(try EventFile(folder: folder + "/runs")) {
            XCTAssertEqual(($0 as? FileError)?.reason, "not a folder; the log goes into a folder of event files")
        }
        XCTAssertThrowsError(try EventFile(folder: ""))
    }
    /// The event files in `folder`.
    func eventFiles(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("events.out") }.sorted()
    }

    /// The folders made for the log are synced, then the new file with its
    /// version event, then its folder: a crash right after the log starts
    /// leaves the file in place.
    func testANewFileAndItsFoldersAreSyncedInOrder() throws {
        var steps: [EventFile.CreationStep] = []
        let file = try EventFile(folder: folder + "/runs/new/", wallTime: 7, host: "box") { steps.append($0) }
        XCTAssertEqual(steps, [.foldersSynced, .written, .synced, .folderSynced])
        XCTAssertEqual(try events(file.path).map(\.fileVersion), ["brain.Event:2"])
        let nested = try EventFile(folder: folder + "/runs/new/a//b", wallTime: 7, host: "box")
        XCTAssertEqual(nested.path, folder + "/runs/new/a//b/events.out.tfevents.7.box")
    }

    /// A failure at any step of the creation is an error and leaves no
    /// event file behind; the next writer starts cleanly.
    func testAFailureWhileCreatingLeavesNoFile() throws {
        for failing in EventFile.CreationStep.allCases {
            XCTAssertThrowsError(try EventFile(folder: folder, wallTime: 9, host: "box") { step throws(FileError) in
                if step == failing { throw FileError(path: "x", reason: "injected") }
            }) { XCTAssertEqual(($0 as? FileError)?.reason, "injected", "failing after \(failing)") }
            XCTAssertEqual(eventFiles(in: folder), [], "failing after \(failing)")
        }
        let file = try EventFile(folder: folder, wallTime: 9, host: "box")
        XCTAssertEqual(eventFiles(in: folder), ["events.out.tfevents.9.box"])
        XCTAssertEqual(try events(file.path).count, 1)
    }
}
