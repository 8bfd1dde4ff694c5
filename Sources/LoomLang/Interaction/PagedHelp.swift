/// `?topic` or `topic?` — a cell holding only that — asks for help in the
/// front end's pager, as IPython's `?` does; `?` alone pages the overview.
/// `help topic` shows the same help as an output instead, which is what a
/// notebook keeps.
enum PagedHelp {
    struct Request {
        /// nil for the overview.
        var topic: String?
        /// Where the topic is, for errors.
        var range: SourceRange
    }

    static func request(in code: String) -> Request? {
        let scalars = Array(code.unicodeScalars)
        let blank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = scalars.firstIndex(where: { !blank($0) }),
              let last = scalars.lastIndex(where: { !blank($0) }) else { return nil }
        var (start, end) = (first, last + 1)
        if scalars[first] == "?" {
            start += 1
        } else if scalars[last] == "?" {
            end -= 1
        } else {
            return nil
        }
        while start < end, scalars[start] == " " || scalars[start] == "\t" { start += 1 }
        while end > start, scalars[end - 1] == " " || scalars[end - 1] == "\t" { end -= 1 }
        let topic = scalars[start..<end]
        guard topic.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "." || $0 == " " })
        else { return nil }
        let lineStart = scalars[..<start].lastIndex(of: "\n").map { $0 + 1 } ?? 0
        let line = scalars[..<start].filter { $0 == "\n" }.count + 1
        let range = SourceRange(line: line, column: start - lineStart + 1, start: start, end: max(end, start + 1))
        return Request(topic: topic.isEmpty ? nil : String(String.UnicodeScalarView(topic)), range: range)
    }
}
