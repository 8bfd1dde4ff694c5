import LoomCore
import LoomRender
import XCTest

/// Wrapping text in one pass, and numbers at the ends of the double range.
final class TextWidthTests: XCTestCase {
    /// The plain statement of what wrapping does, word by word: the reference.
    func referenceWrap(_ s: String, to width: Int) -> [String] {
        guard width > 0, s.count > width else { return [s] }
        var lines: [String] = [], current = ""
        for word in s.split(separator: " ") {
            var word = String(word)
            while word.count > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if current.isEmpty { current = word } else if current.count + 1 + word.count <= width { current += " " + word } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    func testWrapMatchesTheWordByWordReference() {
        var random = SplitMix64(seed: 7)
        let letters = Array("ab  é—x")
        for _ in 0..<2000 {
            let length = Int(random.next() % 60)
            let s = String((0..<length).map { _ in letters[Int(random.next() % UInt64(letters.count))] })
            let width = Int(random.next() % 12)
            XCTAssertEqual(TextWidth.wrap(s, to: width), referenceWrap(s, to: width), "\(s.debugDescription) at \(width)")
        }
        XCTAssertEqual(TextWidth.wrap("abcdefgh ij", to: 4), ["abcd", "efgh", "ij"])
        XCTAssertEqual(TextWidth.wrap("ab  cd", to: 3), ["ab", "cd"])
    }

    /// A 4 MB word and 4 MB of words wrap in linear time (the quadratic
    /// version took minutes).
    func testWrappingFourMegabytesIsLinear() {
        let start = Monotonic.now
        let word = String(repeating: "x", count: 4 << 20)
        let lines = TextWidth.wrap(word, to: 50)
        XCTAssertEqual(lines.count, (4 << 20 + 49) / 50)
        XCTAssertEqual(lines.last?.count, (4 << 20) % 50)
        let words = TextWidth.wrap(String(repeating: "abc ", count: 1 << 20), to: 50)
        XCTAssertEqual(words.count, (1 << 20) / 12 + 1)
        XCTAssertLessThan(Monotonic.now - start, 10)
    }

    /// 10³²⁴ is infinite: subnormals were shown as `infe-323`.
    func testSubnormalsFormatLikeOtherNumbers() {
        XCTAssertEqual(NumberFormat.short(5e-324, significant: 12), "4.94065645841e-324")
        XCTAssertEqual(NumberFormat.short(-5e-324), "-4.94066e-324")
        XCTAssertEqual(NumberFormat.short(1e-310, significant: 12), "1e-310")
        // As Python's '%.12g' shows them: a subnormal holds fewer digits than it was written with.
        XCTAssertEqual(NumberFormat.short(1e-312, significant: 12), "9.99999999998e-313")
        XCTAssertEqual(NumberFormat.short(1e-320, significant: 12), "9.99988867183e-321")
        XCTAssertEqual(NumberFormat.short(2.2250738585072014e-308, significant: 12), "2.22507385851e-308")
        XCTAssertEqual(NumberFormat.short(1.7976931348623157e308, significant: 12), "1.79769313486e+308")
        XCTAssertEqual(NumberFormat.short(1e-5), "1e-05")
        // Every power of ten down to the smallest subnormal reads back as itself, to 12 digits.
        for e in 1...323 {
            let x = Double("1e-\(e)")!
            let text = NumberFormat.short(x, significant: 12)
            let back = Double(text) ?? .nan
            XCTAssertLessThanOrEqual(abs(back - x), 1e-11 * x, "1e-\(e) shown as \(text)")
        }
    }

    /// Fitting a table one column a step, the widest first: prose columns
    /// down to 12, then every column down to what it needs whole (text its
    /// longest word, numbers their widest); still too wide, blocks of
    /// columns as full as those narrowest widths allow, each led by the
    /// first column. The reference the table's narrowing in runs must match.
    func referenceWidths(_ table: Table, width: Int) -> [[Int]] {
        let n = table.columns.count
        let cells = (0..<n).map { i in table.rows.map { i < $0.count ? $0[i] : "" } }
        let natural = (0..<n).map { i in ([table.columns[i].title] + cells[i]).map(\.count).max()! }
        let floors = (0..<n).map { i -> Int in
            let column = table.columns[i]
            if column.wraps { return min(natural[i], 12) }
            let header = column.title.count  // one word
            if column.alignment == .right { return max(header, cells[i].map(\.count).max() ?? 0) }
            return max(header, cells[i].flatMap { $0.split(separator: " ").map(\.count) }.max() ?? 0)
        }
        func span(_ widths: [Int]) -> Int { widths.reduce(3 * widths.count + 1, +) }
        func narrow(_ widths: inout [Int], _ floors: [Int], _ budget: Int) {
            while widths.reduce(0, +) > budget {
                guard let widest = widths.indices.filter({ widths[$0] > floors[$0] }).max(by: { widths[$0] < widths[$1] }) else { return }
                widths[widest] -= 1
            }
        }
        func layout(_ columns: [Int]) -> [Int] {
            var widths = columns.map { natural[$0] }
            let budget = width - span(columns.map { _ in 0 })
            narrow(&widths, columns.map { table.columns[$0].wraps ? floors[$0] : natural[$0] }, budget)
            narrow(&widths, columns.map { floors[$0] }, budget)
            return widths
        }
        guard n > 1, span(layout(Array(0..<n))) > width else { return [layout(Array(0..<n))] }
        var blocks: [[Int]] = [], current = [0]
        for i in 1..<n {
            if current.count > 1, span((current + [i]).map { floors[$0] }) > width { blocks.append(current); current = [0] }
            current.append(i)
        }
        return (blocks + [current]).map(layout)
    }

    func testTablesNarrowAsOneColumnAStepWould() {
        var random = SplitMix64(seed: 11)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        /// Words of up to 12 letters, now and then one long word.
        func cell() -> String {
            let length = below(4) == 0 ? below(200) : below(30)
            return String((0..<length).map { _ in below(below(3) == 0 ? 30 : 6) == 0 ? " " : "x" })
        }
        for _ in 0..<3000 {
            let n = 1 + below(5)
            let columns = (0..<n).map { _ in Table.Column("c", below(2) == 0 ? .left : .right, wraps: below(2) == 0) }
            let rows = (0..<(1 + below(3))).map { _ in (0..<n).map { _ in cell() } }
            let table = Table(columns: columns, rows: rows)
            let width = below(120)
            // Each block's top border: its columns' widths plus their two spaces of padding.
            let borders = table.text(width: width).split(separator: "\n").filter { $0.hasPrefix("┌") }
            let shown = borders.map { $0.dropFirst().dropLast().split(separator: "┬", omittingEmptySubsequences: false).map { $0.count - 2 } }
            XCTAssertEqual(shown, referenceWidths(table, width: width), "\(rows.map { $0.map(\.count) }) at \(width)")
        }
    }

    /// A 4 MB cell is narrowed to the page at once, not a column a step.
    func testAFourMegabyteCellFitsThePageQuickly() {
        let start = Monotonic.now
        let table = Table(columns: [.init("name"), .init("value", wraps: true)],
                          rows: [["s", String(repeating: "y", count: 4 << 20)], ["t", String(repeating: "abc ", count: 1 << 20)]])
        let text = table.text(width: 80)
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
        XCTAssertLessThan(Monotonic.now - start, 10)
    }
}
