/// An error in a cell, with what a person needs to fix it: where (line and
/// column), what was expected, and the closest known word.
public struct LoomError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case syntax = "SyntaxError"
        case name = "NameError"
        case type = "TypeError"
        case value = "ValueError"
        case interrupted = "Interrupted"
        case io = "IOError"
    }

    public var kind: Kind
    public var message: String
    public var range: SourceRange?
    public var suggestion: String?

    public init(_ kind: Kind, _ message: String, at range: SourceRange? = nil, suggestion: String? = nil) {
        self.kind = kind
        self.message = message
        self.range = range
        self.suggestion = suggestion
    }

    /// The one-line summary: the message and the suggestion.
    public var summary: String {
        suggestion.map { "\(message); did you mean `\($0)`?" } ?? message
    }

    /// The error as readable plain text: summary, location, the line with a
    /// caret under the offending token.
    /// Line `n` (from 1) of `source`, found without splitting the rest: the
    /// error of a cell of two million lines is shown at once.
    static func line(_ n: Int, of source: String) -> Substring? {
        let utf8 = source.utf8
        var start = utf8.startIndex, current = 1
        while current < n {
            guard let newline = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            start = utf8.index(after: newline)
            current += 1
        }
        let end = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        return source[start..<end]
    }

    public func render(source: String) -> [String] {
        var out = ["\(kind.rawValue): \(summary)"]
        guard let range else { return out }
        out.append("  --> line \(range.line), column \(range.column)")
        guard let line = LoomError.line(range.line, of: source) else { return out }
        let text = String(line).replacingTabs()
        let number = String(range.line)
        let gutter = String(repeating: " ", count: number.count)
        let width = max(1, min(range.end - range.start, max(1, text.unicodeScalars.count - range.column + 1)))
        out.append("\(gutter) |")
        out.append("\(number) | \(text)")
        out.append("\(gutter) | " + String(repeating: " ", count: max(0, range.column - 1))
                   + String(repeating: "^", count: width))
        return out
    }
}

extension String {
    func replacingTabs() -> String {
        var s = ""
        for c in unicodeScalars { s.unicodeScalars.append(c == "\t" ? " " : c) }
        return s
    }
}

/// The closest word to `word` among `candidates`, if it is close enough to
/// be a likely slip (edit distance at most a third of the word, at least 1).
func closest(to word: String, in candidates: [String]) -> String? {
    let limit = max(1, word.count / 3)
    var best: (String, Int)?
    // A suggestion is never the word itself: that helps nobody.
    for c in candidates where c.lowercased() != word.lowercased() {
        let d = editDistance(word.lowercased(), c.lowercased())
        if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    return best?.0
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], previous2[j - 2] + 1)
            }
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}
