import Foundation
import LoomCore
import LoomLang
import XCTest

/// A results table's CSV quoting and its grouped plot.
final class ResultsTableTests: LoomTestCase {
    func csv(of table: String) throws -> String {
        let path = NSTemporaryDirectory() + "loom-table-\(getpid()).csv"
        defer { unlink(path) }
        guard case .ok = run("save \(table) \"\(path)\"") else { throw XCTSkip("save failed") }
        return try String(decoding: XCTUnwrap(FileManager.default.contents(atPath: path)), as: UTF8.self)
    }

    /// RFC 4180: a field holding a CR, an LF, a quote or a comma is quoted,
    /// its quotes doubled — tested per scalar, so CR LF (one Character)
    /// and a quote joined by a combining mark are quoted too.
    func testFieldsWithLineBreaksQuotesOrCommasAreQuoted() throws {
        run("record t a=\"x\r\\n\" b=1")  // a CR written into the cell, then the escape `\n`: CR LF
        run("record t a=\"one\rtwo\" b=2")
        run("record t a=\"q\u{301}\" b=3")
        run("record t a=\"\\\"\u{301}\" b=4")  // an escaped quote, then a combining accent
        run("record t a=\"c,d\" b=5\nrecord t a=\"plain\" b=6")
        XCTAssertEqual(try csv(of: "t"),
                       "a,b\n\"x\r\n\",1\n\"one\rtwo\",2\nq\u{301},3\n\"\"\"\u{301}\",4\n\"c,d\",5\nplain,6\n")
    }

    /// `show table … by COL` finds each row's group by its label: 20,000
    /// groups take a moment, where a search per row took minutes.
    func testAPlotWithManyGroupsIsLinear() {
        let values = (0..<20_000).map(String.init).joined(separator: " ")
        run("for i in \(values) {\n  record r i=i g=i y=i*2\n}")
        let start = Monotonic.now
        guard case .ok = run("show table r x i y y by g") else { return XCTFail("\(String(describing: error("")))") }
        XCTAssertLessThan(Monotonic.now - start, 5)
        XCTAssertTrue(texts().last?.contains("# 19,997") ?? false)
    }
}
