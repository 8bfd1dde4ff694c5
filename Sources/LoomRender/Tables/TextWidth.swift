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
}
