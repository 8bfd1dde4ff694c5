import LoomCore

/// Splits a cell into tokens: words, dotted names, numbers, percentages,
/// shapes, strings and symbols; `#` comments and blank space are skipped,
/// line ends kept (a statement is one line).
struct Lexer {
    let scalars: [Unicode.Scalar]
    var i = 0
    var line = 1
    var lineStart = 0
    /// Characters before `i` on this line, for the column (scalars that join
    /// a previous character are rare in code; columns count scalars).
    var column: Int { i - lineStart + 1 }

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    /// With `interruptible` (a cell being run), an interrupt stops a long read.
    static func tokenize(_ source: String, interruptible: Bool = false) throws(LoomError) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let t = try lexer.next()
            tokens.append(t)
            if t.kind == .end { return tokens }
            // A huge cell can be stopped while it is read.
            if interruptible, tokens.count % 4096 == 0, Interruption.local {
                throw LoomError(.interrupted, "stopped by the user while the cell was read", at: t.range)
            }
        }
    }

    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < scalars.count ? scalars[i + k] : nil }

    func range(from start: Int, column: Int) -> SourceRange {
        SourceRange(line: line, column: column, start: start, end: i)
    }

    func text(from start: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<i])
        return String(s)
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }

    static func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c >= "0" && c <= "9"
    }

    mutating func next() throws(LoomError) -> Token {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "#" { while let d = peek(), d != "\n" { i += 1 }; continue }
            if c == "\\" && peek(1) == "\n" { i += 2; line += 1; lineStart = i; continue }
            break
        }
        let start = i, col = column
        guard let c = peek() else { return Token(kind: .end, range: range(from: start, column: col), text: "") }
        if c == "\n" {
            i += 1
            let t = Token(kind: .newline, range: SourceRange(line: line, column: col, start: start, end: i), text: "\n")
            line += 1
            lineStart = i
            return t
        }
        if Lexer.isLetter(c) { return lexName(start, col) }
        if Lexer.isDigit(c) || (c == "." && Lexer.isDigit(peek(1))) { return try lexNumber(start, col) }
        if c == "\"" || c == "'" { return try lexString(quote: c, start, col) }
        if "=+-*/(){}[],:".unicodeScalars.contains(c) {
            i += 1
            return Token(kind: .symbol(Character(c)), range: range(from: start, column: col), text: String(c))
        }
        i += 1
        throw LoomError(.syntax, "unexpected character `\(c)`", at: range(from: start, column: col))
    }

    mutating func lexName(_ start: Int, _ col: Int) -> Token {
        var parts: [String] = []
        var partStart = i
        while true {
            while let c = peek(), Lexer.isLetter(c) || Lexer.isDigit(c) { i += 1 }
            parts.append(text(from: partStart))
            // A dot joins names only when a name follows at once: `digits.train`.
            if peek() == ".", let n = peek(1), Lexer.isLetter(n) {
                i += 1
                partStart = i
                continue
            }
            break
        }
        return Token(kind: .name(parts), range: range(from: start, column: col), text: text(from: start))
    }

    mutating func lexNumber(_ start: Int, _ col: Int) throws(LoomError) -> Token {
        while Lexer.isDigit(peek()) { i += 1 }
        // A shape: integers joined by `x`, as in 28x28x1.
        if peek() == "x", Lexer.isDigit(peek(1)), !text(from: start).contains(".") {
            var dims = [Int(text(from: start)) ?? 0]
            while peek() == "x", Lexer.isDigit(peek(1)) {
                i += 1
                let d = i
                while Lexer.isDigit(peek()) { i += 1 }
                guard let v = Int(text(from: d)) else {
                    throw LoomError(.syntax, "shape dimension too large", at: range(from: start, column: col))
                }
                dims.append(v)
            }
            if let c = peek(), Lexer.isLetter(c) || c == "." {
                i += 1
                throw LoomError(.syntax, "malformed shape `\(text(from: start))`; write shapes as 28x28x1",
                                at: range(from: start, column: col))
            }
            return Token(kind: .shape(dims), range: range(from: start, column: col), text: text(from: start))
        }
        if peek() == "." && Lexer.isDigit(peek(1)) {
            i += 1
            while Lexer.isDigit(peek()) { i += 1 }
        }
        if peek() == "e" || peek() == "E" {
            let save = i
            i += 1
            if peek() == "+" || peek() == "-" { i += 1 }
            if Lexer.isDigit(peek()) {
                while Lexer.isDigit(peek()) { i += 1 }
            } else {
                i = save
            }
        }
        let literal = text(from: start)
        guard let value = Double(literal) else {
            throw LoomError(.syntax, "malformed number `\(literal)`", at: range(from: start, column: col))
        }
        if peek() == "%" {
            i += 1
            return Token(kind: .percent(value), range: range(from: start, column: col), text: text(from: start))
        }
        if let c = peek(), Lexer.isLetter(c) {
            while let d = peek(), Lexer.isLetter(d) || Lexer.isDigit(d) { i += 1 }
            throw LoomError(.syntax, "malformed number `\(text(from: start))`", at: range(from: start, column: col))
        }
        return Token(kind: .number(value), range: range(from: start, column: col), text: literal)
    }

    mutating func lexString(quote: Unicode.Scalar, _ start: Int, _ col: Int) throws(LoomError) -> Token {
        i += 1
        var value = String.UnicodeScalarView()
        while true {
            guard let c = peek(), c != "\n" else {
                throw LoomError(.syntax, "unterminated string; close it with \(quote) on the same line",
                                at: range(from: start, column: col))
            }
            i += 1
            if c == quote { break }
            if c == "\\", let e = peek(), e != "\n" {
                i += 1
                switch e {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "\\", "\"", "'": value.append(e)
                default: value.append("\\"); value.append(e)
                }
                continue
            }
            value.append(c)
        }
        return Token(kind: .string(String(value)), range: range(from: start, column: col), text: text(from: start))
    }
}
