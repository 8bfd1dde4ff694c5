/// Widths of text as a terminal shows it: one column per character, which
/// holds for the Latin, box-drawing, block and braille characters Loom draws.
public enum TextWidth {
    public static func of(_ s: String) -> Int { s.count }

    /// `s` cut to `width` columns, ending in `…` when it was longer.
    public static func truncate(_ s: String, to width: Int) -> String {
        guard s.count > width else { return s }
        guard width > 1 else { return String(s.prefix(width)) }
        return String(s.prefix(width - 1)) + "…"
    }

    /// `s` padded with spaces to `width` columns, on the left when `right`.
    public static func pad(_ s: String, to width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// `s` broken into lines of at most `width` columns, at spaces where it
    /// can be, mid-word where a word is longer than the line.
    public static func wrap(_ s: String, to width: Int) -> [String] {
        guard width > 0, s.count > width else { return [s] }
        var lines: [String] = []
        var current = ""
        for word in s.split(separator: " ", omittingEmptySubsequences: true) {
            var word = Substring(word)
            while word.count > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = word.dropFirst(width)
            }
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }
}
