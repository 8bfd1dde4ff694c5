import LoomCore
import LoomRender

/// The statement and layer reference in Markdown, generated from the
/// signature table; docs/language.md embeds it between markers, and a test
/// keeps the two the same.
public enum Reference {
    public static let beginMarker = "<!-- BEGIN GENERATED REFERENCE (make docs) -->"
    public static let endMarker = "<!-- END GENERATED REFERENCE -->"

    public static func markdown() -> String {
        var out: [String] = []
        for category in Category.allCases {
            let forms = (Statements.all + Layers.all).filter { $0.category == category }
            guard !forms.isEmpty else { continue }
            out.append("### \(category.rawValue.prefix(1).uppercased() + category.rawValue.dropFirst())")
            out.append("")
            for form in forms {
                out.append("#### `\(form.usage)`")
                out.append("")
                out.append(form.summary)
                out.append("")
                if let table = Help.parameterTable(form) {
                    out.append(table.markdown())
                    out.append("")
                }
                out.append("```")
                out.append(form.example)
                out.append("```")
                out.append("")
            }
        }
        return out.joined(separator: "\n")
    }

    /// `document` with the text between the markers replaced by the reference.
    public static func splice(into document: String) -> String? {
        guard let begin = document.range(of: beginMarker), let end = document.range(of: endMarker),
              begin.upperBound <= end.lowerBound else { return nil }
        return String(document[..<begin.upperBound]) + "\n" + markdown() + "\n" + String(document[end.lowerBound...])
    }
}
