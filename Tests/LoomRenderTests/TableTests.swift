import LoomRender
import Foundation
import XCTest

/// Tables are compared with golden files in Golden/. Set LOOM_UPDATE_GOLDEN=1
/// to write them anew after a deliberate change, then review the diff.
final class TableTests: XCTestCase {
    func golden(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
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

    func testNarrowWidthTruncatesTheWidestColumns() throws {
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
