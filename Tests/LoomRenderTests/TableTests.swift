import LoomRender
import Foundation
import XCTest

/// Tables are compared with golden files in Golden/. Set LOOM_UPDATE_GOLDEN=1
/// to write them anew after a deliberate change, then review the diff.
final class TableTests: XCTestCase {
    func golden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try Self.golden(name, actual, file: file, line: line)
    }

    static func golden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
            .appendingPathComponent("Golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LOOM_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        XCTAssertEqual(actual, expected, "differs from Golden/\(name)", file: file, line: line)
    }

    var summary: Table {
        Table(title: "Model summary",
              columns: [.init("layer"), .init("output", .left), .init("parameters", .right)],
              rows: [["conv1", "26x26x32", NumberFormat.grouped(320)],
                     ["dense1", "128", NumberFormat.grouped(204_928)]],
              footer: ["total", "", NumberFormat.grouped(205_248)])
    }

    func testTextTableWithFooter() throws {
        try golden("table-summary.txt", summary.text(width: 80))
    }

    func testHTMLTableEscapesAndAligns() throws {
        var t = summary
        t.append(["<b>&", "x", "1"])
        try golden("table-summary.html", t.html())
    }

    func testMarkdownTableEscapesPipes() throws {
        var t = summary
        t.append(["a|b", "line\nbreak", "2"])
        try golden("table-summary.md", t.markdown())
    }

    func testNarrowWidthWrapsTextAtItsSpaces() throws {
        let t = Table(columns: [.init("name"), .init("description")],
                      rows: [["a", String(repeating: "long words ", count: 20)]])
        let text = t.text(width: 40)
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= 40 })
        try golden("table-narrow.txt", text)
    }

    func testEmptyTableStillDrawsItsHeader() throws {
        try golden("table-empty.txt", Table(columns: [.init("a"), .init("b", .right)]).text())
    }

    func testNumberFormats() {
        XCTAssertEqual(NumberFormat.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(NumberFormat.grouped(-1000), "-1,000")
        XCTAssertEqual(NumberFormat.grouped(999), "999")
        XCTAssertEqual(NumberFormat.short(0.25), "0.25")
        XCTAssertEqual(NumberFormat.short(3), "3")
        XCTAssertEqual(NumberFormat.short(1e-5), "1e-05")
        XCTAssertEqual(NumberFormat.short(123456.789), "123457")
        XCTAssertEqual(NumberFormat.short(.nan), "nan")
        XCTAssertEqual(NumberFormat.short(-.infinity), "-inf")
        XCTAssertEqual(NumberFormat.fixed(2.005, decimals: 1), "2.0")
        XCTAssertEqual(NumberFormat.fixed(-0.04, decimals: 1), "0.0")
        XCTAssertEqual(NumberFormat.percent(0.973), "97.3%")
    }
}

/// Tables wider than the page lose nothing: headers wrap, text wraps at its
/// spaces, columns split into blocks; names and numbers are never cut.
final class WideTableTests: XCTestCase {
    /// Every word of every cell of `table` appears whole in `text`, and no `…` was added.
    func assertNothingCut(_ table: Table, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(text.contains("…"), "a cell was cut:\n\(text)", file: file, line: line)
        let tokens = Set(text.split { $0 == " " || $0 == "\n" || $0 == "│" }.map(String.init))
        for word in (table.rows + (table.footer.map { [$0] } ?? [])).joined().flatMap({ $0.split(separator: " ") }) {
            XCTAssertTrue(tokens.contains(String(word)), "\(word) is missing or cut:\n\(text)", file: file, line: line)
        }
    }

    func assertWithin(_ width: Int, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        for l in text.split(separator: "\n") {
            XCTAssertLessThanOrEqual(l.count, width, "too wide: \(l)", file: file, line: line)
        }
    }

    /// `show sparsity` of a small CNN: 84 columns wide at its natural widths.
    var sparsity: Table {
        Table(title: "sparsity of cnn",
              columns: [.init("layer"), .init("weights", .right), .init("zero w.", .right), .init("nonzero", .right),
                        .init("zero act.", .right), .init("active", .right), .init("dead", .right), .init("on", .right)],
              rows: [["conv1", "320", "0.3%", "319", "48.5%", "11136/21632", "1,439", "1,224"],
                     ["flatten1", "0", "", "0", "", "", "", ""],
                     ["dropout1", "0", "", "0", "43.2%", "909/1600", "2", "0"]],
              footer: ["total", "34,826", "0.0%", "34,825", "", "", "", ""])
    }

    func testATableSlightlyTooWideWrapsItsLongHeadersNotItsNames() throws {
        let text = sparsity.text(width: 80)
        assertWithin(80, text)
        assertNothingCut(sparsity, text)
        XCTAssertEqual(text, """
            sparsity of cnn
            ┌──────────┬─────────┬─────────┬─────────┬───────┬─────────────┬───────┬───────┐
            │ layer    │ weights │ zero w. │ nonzero │  zero │      active │  dead │    on │
            │          │         │         │         │  act. │             │       │       │
            ├──────────┼─────────┼─────────┼─────────┼───────┼─────────────┼───────┼───────┤
            │ conv1    │     320 │    0.3% │     319 │ 48.5% │ 11136/21632 │ 1,439 │ 1,224 │
            │ flatten1 │       0 │         │       0 │       │             │       │       │
            │ dropout1 │       0 │         │       0 │ 43.2% │    909/1600 │     2 │     0 │
            ├──────────┼─────────┼─────────┼─────────┼───────┼─────────────┼───────┼───────┤
            │ total    │  34,826 │    0.0% │  34,825 │       │             │       │       │
            └──────────┴─────────┴─────────┴─────────┴───────┴─────────────┴───────┴───────┘
            """)
    }

    func testATableThatFitsIsDrawnAsItWas() {
        let text = sparsity.text(width: 84)
        XCTAssertEqual(text.split(separator: "\n")[2], "│ layer    │ weights │ zero w. │ nonzero │ zero act. │      active │  dead │    on │")
    }

    /// `compare`'s coder table, 80 wide until a time gains a digit.
    func testACellGainingADigitWrapsAHeaderInstead() {
        let coders = Table(columns: [.init("coder"), .init("codes by"), .init("rel. error", .right), .init("nonzeros", .right),
                                     .init("dead", .right), .init("time", .right)],
                           rows: [["ksparse.code", "autoencoder: code", "0.7695", "4.00", "0 of 64", "12.05 µs"]])
        let text = coders.text(width: 80)
        assertWithin(80, text)
        assertNothingCut(coders, text)
        XCTAssertTrue(text.contains("│ ksparse.code │ autoencoder: code │ 0.7695 │"), text)
        XCTAssertTrue(text.contains("│   rel. │") && text.contains("│  error │"), text)
    }

    func testTextCellsWrapAtTheirSpacesAndNamesStayWhole() {
        let t = Table(columns: [.init("coder"), .init("codes by"), .init("rel. error", .right), .init("nonzeros", .right),
                                .init("dead", .right), .init("time", .right)],
                      rows: [["K", "fista alpha 0.2 iterations 30 tolerance 0", "0.3220", "26.06", "0 of 64", "3.61 µs"],
                             ["L", "lista 3 steps", "0.3541", "22.61", "0 of 64", "0.52 µs"]])
        let text = t.text(width: 66)
        assertWithin(66, text)
        assertNothingCut(t, text)
        // Broken between words only, in order, down the column.
        let phrase = text.split(separator: "\n").filter { $0.hasPrefix("│ ") }.map { $0.split(separator: "│")[1] }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertEqual(Array(phrase.dropFirst().dropLast()).joined(separator: " "), "fista alpha 0.2 iterations 30 tolerance 0", text)
        XCTAssertEqual(phrase.last, "lista 3 steps")
    }

    /// A comparison of eight models: too wide even narrowed, it splits into
    /// blocks of columns, each with the measures' names (as pandas does).
    func testAVeryWideTableSplitsIntoBlocksRepeatingItsFirstColumn() throws {
        let models = (1...8).map { "model\($0)" }
        let t = Table(title: "8 models", columns: [.init("")] + models.map { .init($0, .right) },
                      rows: [["stored"] + models.indices.map { NumberFormat.grouped(100_000 * ($0 + 1)) },
                             ["infer/sample"] + models.indices.map { "0.0\($0)56 ms" }],
                      note: "stored: weights and biases kept.")
        let text = t.text(width: 80)
        assertWithin(80, text)
        assertNothingCut(t, text)
        XCTAssertEqual(text.components(separatedBy: "│ stored").count - 1, 2, "two blocks, each naming its rows:\n\(text)")
        XCTAssertEqual(text.components(separatedBy: "8 models").count - 1, 1, "the title once")
        XCTAssertTrue(text.hasSuffix("└" + text.split(separator: "└").last!.split(separator: "\n")[0] + "\nstored: weights and biases kept."))
        for m in models { XCTAssertEqual(text.components(separatedBy: m).count - 1, 1, "\(m) once") }
        try TableTests.golden("table-blocks.txt", text)
    }

    func testAColumnWiderThanThePageIsDrawnWhole() {
        let name = String(repeating: "x", count: 100)
        let t = Table(columns: [.init("layer"), .init("parameters", .right)], rows: [[name, "1,234,567"]])
        let text = t.text(width: 80)
        assertNothingCut(t, text)
        XCTAssertTrue(text.contains("│ \(name) │  1,234,567 │"), text)
    }
}
