import LoomCore
import LoomRender
import XCTest

/// Figures hold their texts whole, line plots draw to scale and show
/// spreads and meeting series, and a column's numbers follow one rule.
final class FigureLayoutTests: XCTestCase {
    /// Each `<text>` of an SVG, with where it starts, its anchor and font size.
    func texts(of svg: String) -> [(x: Double, y: Double, anchor: String, size: Double, text: String)] {
        svg.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("<text") else { return nil }
            func attribute(_ name: String) -> String? {
                guard let r = line.range(of: " \(name)=\"") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
            let body = line.split(separator: ">", maxSplits: 1)[1].split(separator: "<")[0]
            let text = String(body).replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">")
            return (Double(attribute("x") ?? "") ?? 0, Double(attribute("y") ?? "") ?? 0, attribute("text-anchor") ?? "start",
                    Double(attribute("font-size") ?? "") ?? 0, text)
        }
    }

    /// The view box: its left edge, width and height.
    func viewBox(of svg: String) -> (x: Double, width: Double, height: Double) {
        guard let r = svg.range(of: "viewBox=\"") else { return (0, 0, 0) }
        let parts = svg[r.upperBound...].prefix { $0 != "\"" }.split(separator: " ").compactMap { Double($0) }
        return (parts[0], parts[2], parts[3])
    }

    /// No text reaches past the edge of its figure, at 0.6 em a character
    /// (the monospace advance).
    func assertTextsFit(_ svg: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let box = viewBox(of: svg)
        for t in texts(of: svg) {
            let w = Double(t.text.count) * t.size * 0.6
            let start = t.anchor == "end" ? t.x - w : t.anchor == "middle" ? t.x - w / 2 : t.x
            XCTAssertGreaterThanOrEqual(start, box.x, "\(name): `\(t.text)` starts left of the figure", file: file, line: line)
            XCTAssertLessThanOrEqual(start + w, box.x + box.width, "\(name): `\(t.text)` is cut on the right", file: file, line: line)
            XCTAssertLessThanOrEqual(t.y, box.height, "\(name): `\(t.text)` is below the figure", file: file, line: line)
        }
    }

    func testNoFigureCutsItsTexts() {
        let long = "lstm1 cell gate: rows 1–1 input kernel, 2–51 recurrent kernel, a column per unit"
        let small = Matrix(rows: 4, columns: 3, values: (0..<12).map { Double($0) / 10 })
        let figures: [(String, Plot)] = [
            ("heatmap", Heatmap(small, title: long)),
            ("spy", SpyPlot(small, title: long)),
            ("grid", ImageGrid([Matrix(rows: 2, columns: 2, values: [0, 0.1, 0.5, 0.775])], title: "a")),
            ("grid, long title", ImageGrid([small], title: long)),
            ("line", LinePlot([(name: "the relative reconstruction error", values: [1, 2]),
                               (name: "each atom's time", values: [2, 1])], title: long + ", relative error")),
            ("bars", BarChart([(label: "a very long label of a bar, longer than the column", value: 123_456.5)], title: long)),
            ("histogram", Histogram([1e-9, 2e-9, 3.3e-9], title: long)),
        ]
        for (name, plot) in figures { assertTextsFit(plot.svg(), name) }
        for example in Gallery.examples() + Gallery.edgeCases { if let svg = example.svg { assertTextsFit(svg, example.name) } }
    }

    /// The colour scale names its true extremes, whole.
    func testTheColourScaleShowsItsTrueMaximum() {
        let svg = ImageGrid([Matrix(rows: 2, columns: 2, values: [0, 0.1, 0.5, 0.775])]).svg()
        XCTAssertTrue(texts(of: svg).contains { $0.text == "0.775" }, svg)
        assertTextsFit(svg, "scale")
    }

    /// Points stand where their x says: 90 of 0…100 is 90% of the way along.
    func testSeriesXPlacesPointsToScale() {
        let plot = LinePlot([(name: "a", values: [0, 1, 0]), (name: "b", values: [0.5])], seriesX: [[0, 90, 100], [50]])
        let rows = plot.text(width: 60).split(separator: "\n").map(String.init).filter { $0.contains("┤") }
        let top = rows[0], start = top.firstIndex(of: "┤")!
        let marker = top[top.index(after: start)...].firstIndex(of: "•").map { top.distance(from: start, to: $0) - 1 }
        let width = 60 - top.distance(from: top.startIndex, to: start) - 1
        XCTAssertEqual(Double(marker ?? 0) / Double(width - 1), 0.9, accuracy: 0.03, top)
        // b's point at 50, halfway.
        let middle = rows.first { $0.contains("×") } ?? ""
        let b = middle.distance(from: middle.firstIndex(of: "┤")!, to: middle.firstIndex(of: "×")!) - 1
        XCTAssertEqual(Double(b) / Double(width - 1), 0.5, accuracy: 0.03, middle)
    }

    /// Two series on one character show `*`, named in the legend, not one hiding the other.
    func testSeriesThatMeetAreMarked() {
        let text = LinePlot([(name: "loss", values: [3, 2, 1]), (name: "validation loss", values: [3, 2.5, 2])]).text(width: 40)
        XCTAssertTrue(text.contains("*"), text)
        XCTAssertTrue(text.contains("* several at once"), text)
        let apart = LinePlot([(name: "a", values: [3, 2, 1]), (name: "b", values: [1, 2.5, 3])]).text(width: 40)
        XCTAssertFalse(apart.contains("several"), apart)
    }

    /// A spread reaches the axis range, is drawn as a band in SVG and as bars in text.
    func testSpreadsAreDrawn() {
        let plot = LinePlot([(name: "acc", values: [0.5, 0.6]), (name: "b", values: [0.55, 0.5])],
                            spreads: [[(low: 0.4, high: 0.7), (low: 0.6, high: 0.6)], []], yFormat: LinePlot.percent)
        let text = plot.text(width: 40)
        XCTAssertTrue(text.contains("70%") && text.contains("40%"), text)
        XCTAssertTrue(text.contains("│ lowest to highest"), text)
        XCTAssertTrue(plot.svg().contains("<polygon"), plot.svg())
    }

    func testAColumnOfNumbersFollowsOneRule() {
        XCTAssertEqual(NumberFormat.column([9.749, 98.05]), ["9.75", "98.05"])
        XCTAssertEqual(NumberFormat.column([5, 10, 20]), ["5", "10", "20"])
        XCTAssertEqual(NumberFormat.column([5, 10.5, 20]), ["5.0", "10.5", "20.0"])
        XCTAssertEqual(NumberFormat.column([0.5, 0.125, 2]), ["0.500", "0.125", "2.000"])
        XCTAssertEqual(NumberFormat.column([1234, 1_234_567]), ["1,234", "1,234,567"])
        XCTAssertEqual(NumberFormat.column([.nan, 0.25]), ["nan", "0.25"])
    }
}
