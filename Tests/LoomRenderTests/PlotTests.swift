import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LoomCore
import LoomRender
import XCTest

/// Every plot type, text and SVG, against golden files (Golden/plots/).
/// `LOOM_UPDATE_GOLDEN=1 swift test` writes them anew; review the diff.
final class PlotTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/plots")

    func check(_ examples: [Gallery.Example]) throws {
        let update = ProcessInfo.processInfo.environment["LOOM_UPDATE_GOLDEN"] == "1"
        if update { try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true) }
        for example in examples {
            var files = [("\(example.name).txt", example.text + "\n")]
            if let svg = example.svg { files.append(("\(example.name).svg", svg + "\n")) }
            for (name, content) in files {
                let url = Self.folder.appendingPathComponent(name)
                if update { try content.write(to: url, atomically: true, encoding: .utf8); continue }
                let expected = try String(contentsOf: url, encoding: .utf8)
                XCTAssertEqual(content, expected, "differs from Golden/plots/\(name)")
            }
        }
    }

    func testGalleryMatchesGoldenFiles() throws { try check(Gallery.examples()) }

    func testEdgeCasesMatchGoldenFiles() throws { try check(Gallery.edgeCases) }

    func testTextStaysWithinTheWidth() {
        for example in Gallery.examples() where example.name != "table" {
            for line in example.text.split(separator: "\n") {
                XCTAssertLessThanOrEqual(line.count, 72, "\(example.name): \(line)")
            }
        }
        for example in Gallery.edgeCases {
            for line in example.text.split(separator: "\n") where !line.hasPrefix("scale") && !line.contains("×") {
                XCTAssertLessThanOrEqual(line.count, 40, "\(example.name): \(line)")
            }
        }
    }

    func testSVGIsWellFormedXML() throws {
        for example in Gallery.examples() + Gallery.edgeCases {
            guard let svg = example.svg else { continue }
            XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "\(example.name): not well-formed")
        }
    }

    /// SVG writes numbers at a fixed precision: values that differ only past
    /// it (as the same weights do after a different summation order) give
    /// the same bytes, and a visible change gives other bytes.
    func testSVGDependsOnlyOnWhatItShows() {
        let m = Matrix([[1.234, -2], [3, 0.25]]), nudged = Matrix([[1.234 + 1e-12, -2], [3, 0.25 - 1e-12]])
        XCTAssertEqual(Heatmap(m).svg(), Heatmap(nudged).svg())
        XCTAssertNotEqual(Heatmap(m).svg(), Heatmap(Matrix([[1.234, -2], [3, 0.75]])).svg())
        XCTAssertEqual(LinePlot([(name: "a", values: [1, 2])]).svg(), LinePlot([(name: "a", values: [1, 2 + 1e-12])]).svg())
        XCTAssertNotEqual(LinePlot([(name: "a", values: [1, 2])]).svg(), LinePlot([(name: "a", values: [1, 3])]).svg())
    }

    func testSpyCountsNonzeros() {
        let text = SpyPlot(Matrix([[0, 1, 0], [2, 0, 0]])).text(width: 40)
        XCTAssertTrue(text.contains("nz = 2 (33.3%)"), text)
    }

    func testHeatmapSaysWhenItAverages() {
        XCTAssertTrue(Heatmap(Matrix(rows: 1, columns: 200, values: Array(repeating: 1, count: 200))).text(width: 52)
            .contains("each character averages 4×4 cells"))
    }

    func testHistogramCountsEveryFiniteValueOnce() {
        let values = (0..<1000).map { Double($0) / 7 }
        XCTAssertEqual(Histogram(values, bins: 9).counts.counts.reduce(0, +), 1000)
    }

    func testBarsUseEighths() {
        XCTAssertEqual(BarChart.bar(0.5, width: 3), "█▌")
        XCTAssertEqual(BarChart.bar(1, width: 2), "██")
        XCTAssertEqual(BarChart.bar(0, width: 5), "")
        XCTAssertEqual(BarChart.bar(.nan, width: 5), "")
    }

    /// `compare`'s bars name each model with its nonzeros: 27 columns, whole at 80.
    func testBarLabelsAreWholeWhileTheBarsHaveRoom() {
        let chart = BarChart([(label: "ksparse.code (4.0 nonzeros)", value: 0.7695), (label: "K (4.0 nonzeros)", value: 0.6957)])
        let lines = chart.text(width: 80).split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("ksparse.code (4.0 nonzeros) ┤"), String(lines[0]))
        XCTAssertTrue(lines[1].hasPrefix("K (4.0 nonzeros)            ┤"), String(lines[1]))
        XCTAssertTrue(lines.allSatisfy { $0.count <= 80 })
    }

    func testBrailleDotsCombine() {
        var c = BrailleCanvas(columns: 1, rows: 1)
        c.set(0, 0)
        c.set(1, 3)
        XCTAssertEqual(c.lines(), ["⢁"])
    }
}

/// A sink that records displays, for the progress throttle.
final class RecordingSink: OutputSink {
    var displays: [(String, String?, Bool)] = []
    var streams: [String] = []
    var liveDisplays = LiveDisplays.updatedInPlace
    func stream(_ stream: LoomCore.OutputStream, _ text: String) { streams.append(text) }
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        displays.append((bundle.plainText ?? "", displayID, update))
    }
    func clearOutput(wait: Bool) {}
}

final class ProgressTests: XCTestCase {
    func testLineHasCountsRateAndTimes() {
        var bar = ProgressBar(label: "epoch 1/2", total: 100, unit: "batch")
        bar.completed = 25
        bar.elapsed = 5
        bar.metrics = [(name: "loss", value: "0.5")]
        XCTAssertEqual(bar.text(width: 80), "epoch 1/2 ████▌············· 25/100 ·     5 batch/s · 00:05 < 00:15 · loss 0.5")
    }

    /// At a steady speed the rate shown is the true one in every update,
    /// across epochs (it once fell every epoch, dividing one epoch's batches
    /// by the whole run's time), and the run's remaining time is shown.
    func testTheRateTellsTheTruthAcrossEpochs() {
        let epochs = 12, batches = 75, secondsPerBatch = 1.0 / 300
        for epoch in 1...epochs {
            for batch in 1...batches {
                var bar = ProgressBar(label: "epoch \(epoch)/\(epochs)", total: batches, unit: "batch")
                bar.completed = batch
                let done = (epoch - 1) * batches + batch
                bar.run = (done, epochs * batches)
                bar.elapsed = Double(done) * secondsPerBatch
                let rate = try! XCTUnwrap(bar.rate)
                XCTAssertEqual(rate, 300, accuracy: 30, "epoch \(epoch), batch \(batch)")
                if epoch < epochs { XCTAssertNotNil(bar.runRemaining) }
            }
        }
        var bar = ProgressBar(label: "epoch 2/4", total: 10, unit: "batch")
        bar.completed = 5
        bar.run = (15, 40)
        bar.elapsed = 15
        XCTAssertTrue(bar.text(width: 100).contains("00:15 < 00:05 · all < 00:25"), bar.text(width: 100))
    }

    /// A line too long for the page loses whole figures, never half a word.
    func testANarrowLineDropsWholeFigures() {
        var bar = ProgressBar(label: "epoch 1/2", total: 100, unit: "batch")
        bar.completed = 25
        bar.elapsed = 5
        bar.run = (25, 200)
        bar.metrics = [("loss", "0.5123"), ("acc", "93.1%"), ("mae", "0.0123")]
        for width in [50, 60, 70, 80, 90, 120] {
            let line = bar.text(width: width)
            XCTAssertLessThanOrEqual(TextWidth.of(line), width)
            XCTAssertFalse(line.contains("…"), "width \(width): \(line)")
            XCTAssertTrue(line.hasSuffix("0.5123") || line.hasSuffix("93.1%") || line.hasSuffix("0.0123")
                          || line.hasSuffix(":15") || line.hasSuffix(":35"), line)
        }
        XCTAssertEqual(bar.html().components(separatedBy: "█").count, 1, "the HTML shows one bar: the progress element")
    }

    func testStreamModeWritesALinePerMilestone() {
        let sink = RecordingSink()
        let display = ProgressDisplay(output: sink, displayID: "p", width: 80, mode: .stream)
        var bar = ProgressBar(label: "x", total: 10)
        for i in 0...10 {
            bar.completed = i
            bar.elapsed = Double(i)
            display.show(bar, force: i == 0 || i == 5 || i == 10)
        }
        XCTAssertEqual(sink.displays.count, 0)
        XCTAssertEqual(sink.streams.count, 2, "the milestones after the start: \(sink.streams)")
        XCTAssertTrue(sink.streams.allSatisfy { $0.hasSuffix("\n") })
        let off = RecordingSink()
        ProgressDisplay(output: off, displayID: "q", width: 80, mode: .off).show(bar, force: true)
        XCTAssertTrue(off.displays.isEmpty && off.streams.isEmpty)
    }

    /// `auto` follows the front end: in place in notebooks, lines where
    /// updates are lost (`jupyter console`), nothing where displays are
    /// hidden (`quiet { … }`), even when lines were asked for.
    func testTheWayFollowsTheFrontEnd() {
        let modes: [(LiveDisplays, ProgressDisplay.Mode, ProgressDisplay.Mode)] = [
            (.updatedInPlace, .auto, .display), (.shownOnce, .auto, .stream), (.hidden, .auto, .off),
            (.hidden, .stream, .off), (.hidden, .display, .off), (.shownOnce, .display, .display),
            (.updatedInPlace, .stream, .stream), (.shownOnce, .off, .off),
        ]
        for (live, asked, chosen) in modes {
            let sink = RecordingSink()
            sink.liveDisplays = live
            XCTAssertEqual(ProgressDisplay(output: sink, displayID: "p", width: 80, mode: asked).mode, chosen, "\(live), \(asked)")
        }
        let quiet = RecordingSink()
        quiet.liveDisplays = .hidden
        let display = ProgressDisplay(output: quiet, displayID: "p", width: 80, mode: .stream)
        var bar = ProgressBar(label: "x", total: 2)
        for i in 0...2 {
            bar.completed = i
            bar.elapsed = Double(i) * 10
            display.show(bar, force: true)
        }
        display.finish()
        XCTAssertTrue(quiet.streams.isEmpty && quiet.displays.isEmpty)
    }

    /// A run of short epochs writes a line every `lineInterval` seconds, not
    /// one per epoch; the run's end always shows, and a long epoch shows a
    /// line within `quietLimit`.
    func testStreamLinesComeAtASaneRate() {
        let sink = RecordingSink()
        let display = ProgressDisplay(output: sink, displayID: "p", width: 80, mode: .stream, lineInterval: 2, quietLimit: 15)
        var bar = ProgressBar(label: "epoch", total: 10, unit: "batch")
        display.show(bar, force: true)
        let epochs = 100
        for epoch in 1...epochs {
            for batch in 1...10 {
                bar.label = "epoch \(epoch)/\(epochs)"
                bar.completed = batch
                bar.run = ((epoch - 1) * 10 + batch, epochs * 10)
                bar.elapsed = Double((epoch - 1) * 10 + batch) * 0.01  // 0.1 s an epoch, 10 s in all
                display.show(bar, force: batch == 10)
            }
        }
        XCTAssertEqual(sink.streams.count, 5, "about every 2 s, and the end: \(sink.streams)")
        XCTAssertTrue(sink.streams.last!.hasPrefix("epoch 100/100"))

        let slow = RecordingSink()
        let long = ProgressDisplay(output: slow, displayID: "q", width: 80, mode: .stream, lineInterval: 2, quietLimit: 15)
        var one = ProgressBar(label: "epoch 1/1", total: 100, unit: "batch")
        long.show(one, force: true)
        for batch in 1...99 {
            one.completed = batch
            one.elapsed = Double(batch)  // a second a batch
            long.show(one)
        }
        XCTAssertEqual(slow.streams.count, 6, "every 15 s of a 99-second epoch: \(slow.streams)")
    }

    /// A loop that stops early (an interrupt) ends on a line of where it got to.
    func testFinishShowsTheLastStateOnce() {
        let sink = RecordingSink()
        let display = ProgressDisplay(output: sink, displayID: "p", width: 80, mode: .stream)
        var bar = ProgressBar(label: "epoch 1/9", total: 10)
        display.show(bar, force: true)
        bar.completed = 3
        bar.elapsed = 0.5
        display.show(bar)
        XCTAssertTrue(sink.streams.isEmpty)
        display.finish()
        display.finish()
        XCTAssertEqual(sink.streams.count, 1)
        XCTAssertTrue(sink.streams[0].contains("3/10"), sink.streams[0])
    }

    func testClock() {
        XCTAssertEqual(ProgressBar.clock(65), "01:05")
        XCTAssertEqual(ProgressBar.clock(3725), "1:02:05")
        XCTAssertEqual(ProgressBar.clock(.nan), "--:--")
    }

    func testUpdatesAreThrottledButTheLastIsForced() {
        let sink = RecordingSink()
        let display = ProgressDisplay(output: sink, displayID: "p1", width: 80, interval: 0.25)
        var bar = ProgressBar(label: "x", total: 1000)
        for i in 0...1000 {
            bar.completed = i
            bar.elapsed = Double(i) * 0.001  // one second in all
            display.show(bar, force: i == 0 || i == 1000)
        }
        XCTAssertEqual(sink.displays.count, 5)  // at 0, 0.25, 0.5, 0.75 s, and the last
        XCTAssertEqual(sink.displays.first?.2, false)
        XCTAssertTrue(sink.displays.dropFirst().allSatisfy { $0.1 == "p1" && $0.2 })
        XCTAssertTrue(sink.displays.last!.0.contains("1,000/1,000"))
    }
}

final class RenderingDocsTests: XCTestCase {
    /// docs/rendering.md and its figures must be what the gallery draws now
    /// (run `make docs` after changing a plot).
    func testDocsShowTheCurrentGallery() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs")
        let markdown = try String(contentsOf: docs.appendingPathComponent("rendering.md"), encoding: .utf8)
        XCTAssertTrue(markdown == Gallery.markdown(svgFolder: "gallery"), "docs/rendering.md is out of date: run `make docs`")
        for example in Gallery.examples() {
            guard let svg = example.svg else { continue }
            let stored = try String(contentsOf: docs.appendingPathComponent("gallery/\(example.name).svg"), encoding: .utf8)
            XCTAssertTrue(stored == svg + "\n", "docs/gallery/\(example.name).svg is out of date: run `make docs`")
        }
    }
}

final class CanvasTests: XCTestCase {
    func testGlyphCanvasShadesAndWritesGlyphs() {
        var c = GlyphCanvas(columns: 4, rows: 2)
        c.set(0, 0, intensity: 1)
        c.set(1, 0, intensity: 0.5)
        c.set(2, 0, intensity: 0.1)  // the lowest fifth: blank
        c.set(0, 1, intensity: 0.3)
        c.set(3, 1, glyph: "×")
        c.set(9, 9, glyph: "!")  // outside: ignored
        XCTAssertEqual(c.lines(), ["█▒  ", "░  ×"])
    }

    /// A reconstruction's faint background (a sigmoid's outputs just above
    /// 0) draws blank, as its input's zeros do, and its strokes as the
    /// input's: the shades are five equal steps of the values' range.
    func testAReconstructionDrawsAsItsInput() {
        let input = Matrix(rows: 5, columns: 5, values: (0..<25).map { $0 % 5 == 2 || $0 / 5 == 2 ? 1 : 0 })
        let output = Matrix(rows: 5, columns: 5, values: input.values.map { 0.03 + 0.94 * $0 })
        let lines = ImageGrid([input, output], labels: ["in", "out"]).text(width: 40).split(separator: "\n")
        let drawn = lines.filter { $0.hasPrefix("│") }
        XCTAssertEqual(drawn.map { String($0.prefix(7)) }, ["│  █  │", "│  █  │", "│█████│", "│  █  │", "│  █  │"])
        for line in drawn { XCTAssertEqual(line.prefix(7), line.suffix(7), String(line)) }
    }

    func testSignedValuesWithinAFifthOfTheLargestAreBlank() {
        let text = Heatmap(Matrix([[-1, -0.5, -0.1, 0, 0.1, 0.5, 1]])).text(width: 40)
        XCTAssertTrue(text.contains("│●∙   ▒█│"), text)
    }

    func testAnImageGridOfRowsShowsEachRowAsAnImage() {
        let rows = Matrix(rows: 2, columns: 4, values: [0, 1, 1, 0, 1, 1, 1, 1])
        let grid = ImageGrid(rowsOf: rows, shape: (2, 2), labels: ["a", "b"])
        XCTAssertEqual(grid.images, [Matrix([[0, 1], [1, 0]]), Matrix([[1, 1], [1, 1]])])
        XCTAssertEqual(grid.text(width: 40), ImageGrid([Matrix([[0, 1], [1, 0]]), Matrix([[1, 1], [1, 1]])], labels: ["a", "b"])
            .text(width: 40))
    }
}
