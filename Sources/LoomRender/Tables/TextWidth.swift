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

    /// The widest run of `s` without a space: as narrow as `s` wraps without cutting a word.
    public static func longestWord(_ s: String) -> Int {
        s.split(separator: " ").map(\.count).max() ?? 0
    }

    /// The width of `s` over at most two lines, split at the space that
    /// balances them best (`zero act.` → 4); its width when it has no space.
    public static func narrowestTwoLines(_ s: String) -> Int {
        let characters = Array(s)
        var best = characters.count
        for (i, c) in characters.enumerated() where c == " " {
            best = min(best, max(i, characters.count - i - 1))
        }
        return best
    }

    /// `s` broken into lines of at most `width` columns, at spaces where it
    /// can be, mid-word where a word is longer than the line. One pass over
    /// the characters, counting as it goes: a 4 MB string wraps in linear time.
    public static func wrap(_ s: String, to width: Int) -> [String] {
        guard width > 0, s.count > width else { return [s] }
        var lines: [String] = []
        var current = "", currentCount = 0
        var word = "", wordCount = 0
        /// A whole word (at most `width` long by now) joins the line or starts the next.
        func place() {
            guard wordCount > 0 else { return }
            if currentCount == 0 {
                (current, currentCount) = (word, wordCount)
            } else if currentCount + 1 + wordCount <= width {
                current += " " + word
                currentCount += 1 + wordCount
            } else {
                lines.append(current)
                (current, currentCount) = (word, wordCount)
            }
            (word, wordCount) = ("", 0)
        }
        for c in s {
            if c == " " { place(); continue }
            if wordCount == width {
                // Longer than a line: its first `width` characters are a line of their own.
                if currentCount > 0 { lines.append(current); (current, currentCount) = ("", 0) }
                lines.append(word)
                (word, wordCount) = ("", 0)
            }
            word.append(c)
            wordCount += 1
        }
        place()
        if currentCount > 0 || lines.isEmpty { lines.append(current) }
        return lines
    }
}
