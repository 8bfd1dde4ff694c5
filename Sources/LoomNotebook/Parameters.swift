import LoomCore

/// Parameters as papermill injects them: a new cell tagged
/// `injected-parameters`, holding Loom assignments, right after the cell
/// tagged `parameters` (or first, when there is none). A cell injected by an
/// earlier run is replaced.
public enum Parameters {
    public static func inject(_ parameters: [(name: String, value: String)], into notebook: inout Notebook) {
        guard !parameters.isEmpty else { return }
        var cells = notebook.cells.filter { !Notebook.tags($0).contains("injected-parameters") }
        let source = "# Parameters\n" + parameters.map { "\($0.name) = \(literal($0.value))" }.joined(separator: "\n")
        let cell: JSONObject = [
            "cell_type": "code", "execution_count": .null, "id": .string("injected-parameters"),
            "metadata": ["tags": ["injected-parameters"]], "outputs": [], "source": .string(source),
        ]
        let at = cells.firstIndex { Notebook.tags($0).contains("parameters") }.map { $0 + 1 } ?? 0
        cells.insert(cell, at: at)
        notebook.cells = cells
    }

    /// The names in `parameters` that the notebook's `parameters` cell does
    /// not assign (`NAME = …` at the start of a line), in their order: what
    /// papermill warns about as unknown parameters. Empty when there is no
    /// such cell (nothing to check against).
    public static func unknown(_ parameters: [(name: String, value: String)], in notebook: Notebook) -> [String] {
        guard let cell = notebook.cells.first(where: { Notebook.tags($0).contains("parameters") }) else { return [] }
        var defined = Set<String>()
        for line in Notebook.text(cell["source"]).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = String(parts[0].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if isName(name) { defined.insert(name) }
        }
        return parameters.map(\.name).filter { !defined.contains($0) }
    }

    /// Numbers and percentages stay as written; anything else becomes a
    /// string literal.
    static func literal(_ value: String) -> String {
        if Double(value) != nil { return value }
        if value.hasSuffix("%"), Double(value.dropLast()) != nil { return value }
        // A list, for a sweep (`-p ks "[5%, 10%]"`), is Loom already.
        if value.hasPrefix("["), value.hasSuffix("]"), !value.contains("\n") { return value }
        var escaped = ""
        for c in value {
            switch c {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(c)
            }
        }
        return "\"\(escaped)\""
    }

    /// A valid Loom variable name.
    public static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}
