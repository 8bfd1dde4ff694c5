import LoomCore

/// A table of text cells, drawn as aligned box-drawing text, HTML or Markdown.
///
/// Numbers are right-aligned; a footer row (totals) is set apart by a rule.
/// Too wide for the page, text wraps and the columns split into blocks: no
/// cell is cut.
public struct Table: Sendable, Equatable {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable, Equatable {
        public var title: String
        public var alignment: Alignment
        /// Prose columns wrap first when the table is too wide, down to 12
        /// columns, cutting a word longer than that; other text wraps only at spaces.
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

    /// Box-drawing text within `width` columns where it can be, cutting
    /// nothing: see `ColumnFit` for how a wide table is narrowed and split.
    public func text(width: Int = 80) -> String {
        guard !columns.isEmpty else { return title ?? "" }
        var out: [String] = []
        if let title { out.append(title) }
        for block in ColumnFit(self, width: width).blocks { out += box(block) }
        if let note { out += TextWidth.wrap(note, to: max(20, width)) }
        return out.joined(separator: "\n")
    }

    /// One block of columns in a box: header, rows, and the footer set apart.
    func box(_ block: ColumnFit.Block) -> [String] {
        let widths = block.widths
        func line(_ left: String, _ mid: String, _ right: String) -> String {
            left + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: mid) + right
        }
        func row(_ cells: [String]) -> String {
            let pieces = zip(block.columns, widths).map { i, width in TextWidth.wrap(cell(cells, i), to: width) }
            let height = pieces.map(\.count).max() ?? 1
            return (0..<height).map { line in
                "│" + zip(block.columns, widths).enumerated().map { k, column in
                    " " + TextWidth.pad(line < pieces[k].count ? pieces[k][line] : "", to: column.1,
                                        right: columns[column.0].alignment == .right) + " "
                }.joined(separator: "│") + "│"
            }.joined(separator: "\n")
        }
        var out = [line("┌", "┬", "┐"), row(columns.map(\.title)), line("├", "┼", "┤")]
        for r in rows { out.append(row(r)) }
        if let footer {
            out.append(line("├", "┼", "┤"))
            out.append(row(footer))
        }
        out.append(line("└", "┴", "┘"))
        return out
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
