import LoomCore

/// A parameter that cannot be written as one Loom assignment: a name that is
/// not a variable name, or a value holding a control character.
public struct ParameterError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Parameters as papermill injects them: a new cell tagged
/// `injected-parameters`, holding Loom assignments, right after the cell
/// tagged `parameters` (or first, when there is none, of which papermill
/// warns: `hasParametersCell`). A cell injected by an earlier run is
/// replaced; unlike papermill, which keeps it where it was, the new one goes
/// after the `parameters` cell, so that cell's defaults never override it.
///
/// Each parameter becomes exactly one assignment of exactly its value: names
/// are checked against Loom's rule, values are escaped one Unicode scalar at a
/// time (as the lexer reads them, so no character boundary can hide a quote
/// or a line end), and control characters other than newline and tab are
/// refused.
public enum Parameters {
    /// `reserved`: the statement and layer words, which cannot name a variable.
    public static func inject(_ parameters: [(name: String, value: String)], into notebook: inout Notebook,
                              reserved: Set<String>) throws(ParameterError) {
        guard !parameters.isEmpty else { return }
        let source = try self.source(parameters, reserved: reserved)
        var cells = notebook.cells.filter { !Notebook.tags($0).contains("injected-parameters") }
        let cell: JSONObject = [
            "cell_type": "code", "execution_count": .null, "id": .string("injected-parameters"),
            "metadata": ["tags": ["injected-parameters"]], "outputs": [], "source": .string(source),
        ]
        let at = cells.firstIndex { Notebook.tags($0).contains("parameters") }.map { $0 + 1 } ?? 0
        cells.insert(cell, at: at)
        notebook.cells = cells
    }

    /// Whether a cell is tagged `parameters`. Without one the parameters go in
    /// a first cell, and papermill warns "Input notebook does not contain a
    /// cell with tag 'parameters'".
    public static func hasParametersCell(_ notebook: Notebook) -> Bool {
        notebook.cells.contains { Notebook.tags($0).contains("parameters") }
    }

    /// The injected cell's text: `# Parameters`, then `NAME = VALUE` for each.
    public static func source(_ parameters: [(name: String, value: String)], reserved: Set<String>) throws(ParameterError) -> String {
        try check(parameters, reserved: reserved)
        return "# Parameters\n" + parameters.map { "\($0.name) = \(literal($0.value))" }.joined(separator: "\n")
    }

    /// Refuses a name that is not a Loom variable name and a value that holds
    /// a control character, naming the parameter and the character.
    public static func check(_ parameters: [(name: String, value: String)], reserved: Set<String>) throws(ParameterError) {
        for (name, value) in parameters {
            guard isName(name) else {
                throw ParameterError(description: "'\(visible(name))' is not a Loom name: use letters, digits and _, "
                                     + "starting with a letter or _")
            }
            guard !reserved.contains(name) else {
                throw ParameterError(description: "`\(name)` is a statement or layer word and cannot name a variable")
            }
            if let at = value.unicodeScalars.firstIndex(where: isRefused) {
                let scalar = value.unicodeScalars[at]
                let position = value.unicodeScalars.distance(from: value.unicodeScalars.startIndex, to: at) + 1
                throw ParameterError(description: "the value of `\(name)` holds a control character, \(codePoint(scalar)) at "
                                     + "character \(position); a parameter is text without them (newline and tab are kept)")
            }
        }
    }

    /// Control characters (but newline and tab, which strings escape) and the
    /// Unicode line and paragraph separators.
    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control: return scalar != "\n" && scalar != "\t"
        case .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `text` with its control characters shown as code points, for a message.
    static func visible(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || isRefused(scalar) {
                shown += "<\(codePoint(scalar))>"
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// The names in `parameters` that the notebook's `parameters` cell does
    /// not assign (`NAME = …` at the start of a line), in their order: what
    /// papermill warns about as unknown parameters. Empty when there is no
    /// such cell (nothing to check against).
    public static func unknown(_ parameters: [(name: String, value: String)], in notebook: Notebook) -> [String] {
        guard let cell = notebook.cells.first(where: { Notebook.tags($0).contains("parameters") }) else { return [] }
        var defined = Set<String>()
        for line in Notebook.text(cell["source"]).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = String(parts[0].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if isName(name) { defined.insert(name) }
        }
        return parameters.map(\.name).filter { !defined.contains($0) }
    }

    /// A number or percentage stays as written (`5`, `-0.5`, `1e-3`, `10%`);
    /// a list of numbers, percentages, strings and lists (`[5%, 10%]`, for a
    /// sweep) is written back item by item; anything else becomes a string.
    static func literal(_ value: String) -> String {
        if isNumber(value.unicodeScalars[...]) { return value }
        if value.unicodeScalars.first == "[" {
            var reader = ListReader(scalars: Array(value.unicodeScalars))
            if let list = reader.list(depth: 0), reader.atEnd { return list }
        }
        return quoted(value.unicodeScalars)
    }

    /// A Loom string literal holding exactly `scalars`: a double quote and a
    /// backslash are escaped, newline and tab written as `\n` and `\t`.
    static func quoted<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in scalars {
            switch scalar {
            case "\"": out.append(contentsOf: #"\""#.unicodeScalars)
            case "\\": out.append(contentsOf: #"\\"#.unicodeScalars)
            case "\n": out.append(contentsOf: #"\n"#.unicodeScalars)
            case "\t": out.append(contentsOf: #"\t"#.unicodeScalars)
            default: out.append(scalar)
            }
        }
        out.append("\"")
        return String(out)
    }

    /// A number as Loom's lexer reads one, with an optional `-` before it and
    /// `%` after it: digits, a fraction, an exponent.
    static func isNumber(_ text: Substring.UnicodeScalarView) -> Bool {
        var rest = text
        if rest.first == "-" { rest.removeFirst() }
        if rest.last == "%" { rest.removeLast() }
        func digits() -> Int {
            var count = 0
            while let c = rest.first, c >= "0" && c <= "9" { rest.removeFirst(); count += 1 }
            return count
        }
        let whole = digits()
        var fraction = 0
        if rest.first == "." {
            rest.removeFirst()
            fraction = digits()
            if fraction == 0 { return false }
        }
        guard whole + fraction > 0 else { return false }
        if rest.first == "e" || rest.first == "E" {
            rest.removeFirst()
            if rest.first == "+" || rest.first == "-" { rest.removeFirst() }
            if digits() == 0 { return false }
        }
        return rest.isEmpty
    }

    /// A valid Loom variable name, as the lexer reads one (statement words aside).
    public static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}

/// Reads a bracketed list of literals, as the lexer would, and writes it back
/// with each string re-escaped by `Parameters.quoted`: nothing but literals
/// can come out, whatever went in.
struct ListReader {
    let scalars: [Unicode.Scalar]
    var i = 0
    /// Deeper lists are taken as text (the parser allows 200 levels).
    static let maximumDepth = 64

    var atEnd: Bool { mutating get { skipBlanks(); return i == scalars.count } }

    mutating func skipBlanks() {
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
    }

    mutating func list(depth: Int) -> String? {
        skipBlanks()
        guard depth < ListReader.maximumDepth, i < scalars.count, scalars[i] == "[" else { return nil }
        i += 1
        var items: [String] = []
        skipBlanks()
        if i < scalars.count, scalars[i] == "]" { i += 1; return "[]" }
        while true {
            guard let item = self.item(depth: depth) else { return nil }
            items.append(item)
            skipBlanks()
            guard i < scalars.count else { return nil }
            if scalars[i] == "]" { i += 1; return "[" + items.joined(separator: ", ") + "]" }
            guard scalars[i] == "," else { return nil }
            i += 1
        }
    }

    mutating func item(depth: Int) -> String? {
        skipBlanks()
        guard i < scalars.count else { return nil }
        let c = scalars[i]
        if c == "[" { return list(depth: depth + 1) }
        if c == "\"" || c == "'" { return string(quote: c) }
        let start = i
        while i < scalars.count, !" \t,]".unicodeScalars.contains(scalars[i]) { i += 1 }
        let token = String(String.UnicodeScalarView(scalars[start..<i]))
        return Parameters.isNumber(token.unicodeScalars[...]) ? token : nil
    }

    /// A quoted string with the lexer's escapes (`\n`, `\t`, `\\`, `\"`, `\'`;
    /// any other backslash stays), on one line.
    mutating func string(quote: Unicode.Scalar) -> String? {
        i += 1
        var value: [Unicode.Scalar] = []
        while i < scalars.count, scalars[i] != "\n" {
            let c = scalars[i]
            i += 1
            if c == quote { return Parameters.quoted(value) }
            if c == "\\", i < scalars.count, scalars[i] != "\n" {
                let e = scalars[i]
                i += 1
                switch e {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "\\", "\"", "'": value.append(e)
                default: value += ["\\", e]
                }
                continue
            }
            value.append(c)
        }
        return nil
    }
}
