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
}
