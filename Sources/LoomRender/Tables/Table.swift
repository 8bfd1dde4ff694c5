import LoomCore

/// A table of text cells, drawn as aligned box-drawing text, HTML or Markdown.
///
/// Numbers are right-aligned; a footer row (totals) is set apart by a rule.
/// Too wide for the page, the widest columns are cut with `…`.
public struct Table: Sendable, Equatable {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable, Equatable {
        public var title: String
        public var alignment: Alignment
        /// Prose columns wrap at word boundaries when the table is too wide,
        /// instead of being cut.
        public var wraps: Bool
        public init(_ title: String, _ alignment: Alignment = .left, wraps: Bool = false) {
            self.title = title
            self.alignment = alignment
            self.wraps = wraps
        }
    }

    public var title: String?
    public var columns: [Column]
    public var rows: [[String]]
    public var footer: [String]?
    /// A line under the table saying what its columns mean.
    public var note: String?

    public init(title: String? = nil, columns: [Column], rows: [[String]] = [], footer: [String]? = nil, note: String? = nil) {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.footer = footer
        self.note = note
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// All views of the table in one bundle.
    public func bundle(width: Int = 80) -> MimeBundle {
        MimeBundle([("text/plain", text(width: width)), ("text/html", html()), ("text/markdown", markdown())])
    }

    func cell(_ row: [String], _ i: Int) -> String { i < row.count ? row[i] : "" }

    // MARK: text

    /// Box-drawing text no wider than `width` columns (at least the borders).
    public func text(width: Int = 80) -> String {
        let n = columns.count
        guard n > 0 else { return title ?? "" }
        let all = [columns.map(\.title)] + rows + (footer.map { [$0] } ?? [])
        var widths = (0..<n).map { i in all.map { TextWidth.of(cell($0, i)) }.max() ?? 0 }
        // Borders and padding take 3 columns per cell plus one.
        narrow(&widths, to: max(n * 2, width - (3 * n + 1)))
        func line(_ left: String, _ mid: String, _ right: String) -> String {
            left + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: mid) + right
        }
        func row(_ cells: [String]) -> String {
            let pieces = (0..<n).map { i -> [String] in
                columns[i].wraps ? TextWidth.wrap(cell(cells, i), to: widths[i])
                    : [TextWidth.truncate(cell(cells, i), to: widths[i])]
            }
            let height = pieces.map(\.count).max() ?? 1
            return (0..<height).map { line in
                "│" + (0..<n).map { i in
                    " " + TextWidth.pad(line < pieces[i].count ? pieces[i][line] : "", to: widths[i],
                                        right: columns[i].alignment == .right) + " "
                }.joined(separator: "│") + "│"
            }.joined(separator: "\n")
        }
        var out: [String] = []
        if let title { out.append(title) }
        out.append(line("┌", "┬", "┐"))
        out.append(row(columns.map(\.title)))
        out.append(line("├", "┼", "┤"))
        for r in rows { out.append(row(r)) }
        if let footer {
            out.append(line("├", "┼", "┤"))
            out.append(row(footer))
        }
        out.append(line("└", "┴", "┘"))
        if let note { out += TextWidth.wrap(note, to: max(20, width)) }
        return out.joined(separator: "\n")
    }

    /// Narrows the wrapping (prose) columns first, then text, numbers last:
    /// a column at a time, the widest of its kind (the first of equals), as
    /// if by one column a step, but a run of equal steps at once — a cell of
    /// 4 MB is not narrowed four million times.
    func narrow(_ widths: inout [Int], to budget: Int) {
        var total = widths.reduce(0, +)
        while total > budget {
            let wrapping = widths.indices.filter { columns[$0].wraps && widths[$0] > 12 }
            let text = widths.indices.filter { columns[$0].alignment == .left && widths[$0] > 4 }
            let (candidates, least) = !wrapping.isEmpty ? (wrapping, 12) : !text.isEmpty ? (text, 4) : (Array(widths.indices), 1)
            guard let widest = candidates.max(by: { widths[$0] < widths[$1] }), widths[widest] > 1 else { break }
            // The columns as wide as the widest lose one each in turn, down to the next width of their kind.
            let top = widths[widest]
            let tied = candidates.filter { widths[$0] == top }
            let next = max(least, candidates.filter { widths[$0] < top }.map { widths[$0] }.max() ?? 0)
            let rounds = min(top - next, (total - budget) / tied.count)
            if rounds > 0 {
                for i in tied { widths[i] -= rounds }
                total -= rounds * tied.count
            } else {
                widths[widest] -= 1
                total -= 1
            }
        }
    }

    // MARK: HTML

    public func html() -> String {
        func cells(_ tag: String, _ values: [String]) -> String {
            (0..<columns.count).map { i in
                let align = columns[i].alignment == .right ? " style=\"text-align:right\"" : " style=\"text-align:left\""
                return "<\(tag)\(align)>\(HTML.escape(cell(values, i)))</\(tag)>"
            }.joined()
        }
        var out = "<table class=\"loom-table\">"
        if let title { out += "<caption>\(HTML.escape(title))</caption>" }
        out += "<thead><tr>\(cells("th", columns.map(\.title)))</tr></thead><tbody>"
        for r in rows { out += "<tr>\(cells("td", r))</tr>" }
        out += "</tbody>"
        if let footer { out += "<tfoot><tr>\(cells("th", footer))</tr></tfoot>" }
        return out + "</table>" + (note.map { "<p>\(HTML.escape($0))</p>" } ?? "")
    }

    // MARK: Markdown

    public func markdown() -> String {
        func row(_ values: [String]) -> String {
            "| " + (0..<columns.count).map { Markdown.escapeCell(cell(values, $0)) }.joined(separator: " | ") + " |"
        }
        var out: [String] = []
        if let title { out.append("**\(Markdown.escapeCell(title))**"); out.append("") }
        out.append(row(columns.map(\.title)))
        out.append("| " + columns.map { $0.alignment == .right ? "---:" : ":---" }.joined(separator: " | ") + " |")
        for r in rows { out.append(row(r)) }
        if let footer { out.append(row(footer.map { $0.isEmpty ? "" : "**\($0)**" })) }
        if let note { out += ["", note] }
        return out.joined(separator: "\n")
    }
}

/// Escaping for text placed in HTML.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

enum Markdown {
    static func escapeCell(_ s: String) -> String {
        s.replacingAll("|", with: "\\|").replacingAll("\n", with: " ")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
