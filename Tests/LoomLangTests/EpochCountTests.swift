import LoomCore
import LoomLang
import XCTest

/// Records displays and stops the cell when one shows `stopAt`, as a user
/// pressing interrupt while that epoch's line is up.
final class InterruptingOutput: OutputSink {
    var stopAt: String?
    var displays: [String] = []
    var streams: [String] = []
    func stream(_ stream: LoomCore.OutputStream, _ text: String) { streams.append(text) }
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        let text = bundle.plainText ?? ""
        displays.append(text)
        if let stopAt, text.contains(stopAt) { interruptFlag.store(true, ordering: .relaxed) }
    }
    func clearOutput(wait: Bool) {}
}

/// Epochs are counted one way everywhere: as the model's epochs so far.
final class EpochCountTests: LoomTestCase {
    let setup = "seed 1\ndata g = glyphs n 64 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}"

    /// The epoch numbers of a history table's rows.
    func epochs(in table: String) -> [Int] {
        table.split(separator: "\n").compactMap { line in
            line.split(separator: "│").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    func testARetrainedModelCountsOnInTheProgressLineAndTheTable() {
        run(setup + "\ntrain m on g epochs 2 batch 32")
        let sink = InterruptingOutput()
        guard case .ok = loom.execute("train m on g epochs 3 batch 32", output: sink) else { return XCTFail() }
        let progress = sink.displays.filter { $0.hasPrefix("epoch ") }
        XCTAssertTrue(progress.first?.hasPrefix("epoch 3/5") ?? false, "\(progress)")
        XCTAssertTrue(progress.last?.hasPrefix("epoch 5/5") ?? false, "\(progress)")
        let table = sink.displays.first { $0.hasPrefix("training") } ?? ""
        XCTAssertEqual(epochs(in: table), [3, 4, 5], table)
    }

    func testAnInterruptNamesTheEpochTheTableEndsOn() {
        run(setup + "\ntrain m on g epochs 2 batch 32")
        let sink = InterruptingOutput()
        sink.stopAt = "epoch 4/"
        guard case .error(let e) = loom.execute("train m on g epochs 50 batch 32", output: sink) else { return XCTFail() }
        let table = sink.displays.first { $0.hasPrefix("training") } ?? ""
        let last = epochs(in: table).last ?? -1
        XCTAssertGreaterThanOrEqual(last, 4, table)
        XCTAssertTrue(e.value.contains("training stopped by the user after epoch \(last);"), e.value)
        XCTAssertTrue(sink.displays.last { $0.hasPrefix("epoch ") }?.hasPrefix("epoch \(last)/52") ?? false)
    }

    /// A long run shows its first and last epochs and the best; `show
    /// history` shows every one.
    func testALongRunsTableIsShortenedAndShowHistoryShowsAll() {
        run(setup + "\nset progress off\ntrain m on g epochs 3 batch 32")
        run("train m on g epochs 60 batch 32")
        let table = texts().last { $0.hasPrefix("training") } ?? ""
        let shown = epochs(in: table)
        XCTAssertEqual(Array(shown.prefix(5)), [4, 5, 6, 7, 8], table)
        XCTAssertEqual(Array(shown.suffix(5)), [59, 60, 61, 62, 63], table)
        XCTAssertLessThanOrEqual(shown.count, 11, table)
        XCTAssertTrue(table.contains("⋮"), table)
        XCTAssertTrue(table.contains("epochs 4 to 63: the first and last 5") && table.contains("`show history m`"), table)
        run("show history m")
        XCTAssertEqual(epochs(in: texts().last ?? ""), Array(1...63))
        XCTAssertTrue(value("model fresh {\n  input 4\n  dense 2 softmax\n}\nshow history fresh")?.contains("no training history") ?? false
                      || (texts().last?.contains("no training history") ?? false))
    }

    func testTheRowsOfALongHistory() {
        XCTAssertEqual(HistoryRows.shown(count: 40, best: 3), (0..<40).map { Optional($0) })
        XCTAssertEqual(HistoryRows.shown(count: 50, best: 20), [0, 1, 2, 3, 4, nil, 20, nil, 45, 46, 47, 48, 49])
        XCTAssertEqual(HistoryRows.shown(count: 50, best: 2), [0, 1, 2, 3, 4, nil, 45, 46, 47, 48, 49])
        XCTAssertEqual(HistoryRows.shown(count: 50, best: 5), [0, 1, 2, 3, 4, 5, nil, 45, 46, 47, 48, 49])
        XCTAssertEqual(HistoryRows.shown(count: 1881, best: nil).count, 11)
    }

    /// `quiet { … }` shows no progress, lines included.
    func testQuietShowsNoProgressLines() {
        run(setup + "\nset progress stream\nquiet {\n  train m on g epochs 2 batch 32\n}")
        XCTAssertFalse(out.streams.contains { $0.1.contains("epoch ") }, "\(out.streams)")
        run("train m on g epochs 2 batch 32")
        XCTAssertTrue(out.streams.contains { $0.1.hasPrefix("epoch 4/4") }, "\(out.streams)")
    }
}
