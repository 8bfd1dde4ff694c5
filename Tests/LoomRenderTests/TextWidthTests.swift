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

    /// Narrowing a table one column a step, the widest of its kind first:
    /// the reference the table's narrowing in runs must match.
    func referenceWidths(_ table: Table, width: Int) -> [Int] {
        let n = table.columns.count
        let all = [table.columns.map(\.title)] + table.rows
        var widths = (0..<n).map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        let budget = max(n * 2, width - (3 * n + 1))
        while widths.reduce(0, +) > budget {
            let wrapping = widths.indices.filter { table.columns[$0].wraps && widths[$0] > 12 }
            let text = widths.indices.filter { table.columns[$0].alignment == .left && widths[$0] > 4 }
            let candidates = !wrapping.isEmpty ? wrapping : !text.isEmpty ? text : Array(widths.indices)
            guard let widest = candidates.max(by: { widths[$0] < widths[$1] }), widths[widest] > 1 else { break }
            widths[widest] -= 1
        }
        return widths
    }

    func testTablesNarrowAsOneColumnAStepWould() {
        var random = SplitMix64(seed: 11)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        for _ in 0..<3000 {
            let n = 1 + below(5)
            let columns = (0..<n).map { _ in Table.Column("c", below(2) == 0 ? .left : .right, wraps: below(2) == 0) }
            let rows = (0..<(1 + below(3))).map { _ in (0..<n).map { _ in String(repeating: "x", count: below(4) == 0 ? below(200) : below(30)) } }
            let table = Table(columns: columns, rows: rows)
            let width = below(120)
            // The top border: each column's width plus its two spaces of padding.
            let border = table.text(width: width).split(separator: "\n")[0].dropFirst().dropLast()
            let shown = border.split(separator: "┬", omittingEmptySubsequences: false).map { $0.count - 2 }
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
