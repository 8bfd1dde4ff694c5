import LoomCore
import LoomRender

/// The text of `help` and of Shift-Tab inspection, from the signature table.
public enum Help {
    /// `help` alone: every statement and layer; `help WORD`: one of them.
    static func bundle(for topic: String?, width: Int, range: SourceRange?) throws(LoomError) -> MimeBundle {
        guard let topic else { return overview(width: width) }
        if topic == "plots" { return plotsIntroduction }
        if let bundle = explain(topic, width: width) { return bundle }
        let words = Statements.keywords + Layers.keywords + Statements.all.compactMap(\.subword)
        throw LoomError(.name, "no help for `\(topic)`", at: range, suggestion: closest(to: topic, in: words))
    }

    static func overview(width: Int) -> MimeBundle {
        var table = Table(title: "Loom statements and layers (help WORD explains one)",
                          columns: [.init("category"), .init("form"), .init("what it does", wraps: true)])
        for category in Category.allCases {
            let forms = (Statements.all + Layers.all).filter { $0.category == category }
            for (i, form) in forms.enumerated() {
                table.append([i == 0 ? category.rawValue : "", form.title, form.summary])
            }
        }
        return table.bundle(width: width)
    }

    static let plotsIntroduction = MimeBundle(text:
        "Loom draws reports as tables and plots: text, and in notebooks vector figures beside it "
        + "(`set plots text` for text alone, `set plots svg` for figures in a terminal too). "
        + "An example of each follows.")

    /// One display per kind of table and plot, drawn as the session draws.
    static func plotExamples(width: Int, svg: Bool) -> [MimeBundle] {
        Gallery.examples(width: width).map { example in
            var representations = [(mime: "text/plain", content: example.caption + "\n" + example.text)]
            if svg, let figure = example.svg { representations.append((mime: "image/svg+xml", content: figure)) }
            return MimeBundle(representations)
        }
    }

    /// Help on a statement, a form (`show filters`), a layer or an option.
    public static func explain(_ topic: String, width: Int = 80) -> MimeBundle? {
        let words = topic.split(separator: " ").map(String.init)
        var forms = (Statements.all + Layers.all).filter { $0.title == topic }
        // `help show` explains every `show` form, not only `show NAME`.
        let family = Statements.forms(of: topic)
        if family.contains(where: { $0.subword != nil }), !family.contains(where: \.bindsName) { forms = family }
        if forms.isEmpty, let first = words.first {
            forms = Statements.forms(of: first) + Layers.all.filter { $0.keyword == first }
        }
        // A form's second word alone: `help csv` is `help data csv`.
        if forms.isEmpty { forms = Statements.all.filter { $0.subword == topic } }
        if !forms.isEmpty { return describe(forms, width: width) }
        let users = (Statements.all + Layers.all).filter { $0.parameter(named: topic) != nil }
        guard !users.isEmpty else { return nil }
        var table = Table(title: "`\(topic)` is an option of:", columns: [.init("form"), .init("meaning", wraps: true), .init("default")])
        for form in users {
            let p = form.parameter(named: topic)!
            table.append([form.title, p.doc, p.defaultValue ?? ""])
        }
        return table.bundle(width: width)
    }

    static func describe(_ forms: [Signature], width: Int) -> MimeBundle {
        var text: [String] = []
        var markdown: [String] = []
        var html: [String] = []
        for form in forms {
            let table = parameterTable(form)
            let example = form.example.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
            text.append([form.usage, "", form.summary, ""].joined(separator: "\n")
                        + (table.map { $0.text(width: width) + "\n" } ?? "")
                        + "\nExample:\n" + example)
            markdown.append("`\(form.usage)`\n\n\(form.summary)\n\n" + (table.map { $0.markdown() + "\n\n" } ?? "")
                            + "```\n\(form.example)\n```")
            html.append("<p><code>\(HTML.escape(form.usage))</code></p><p>\(HTML.escape(form.summary))</p>"
                        + (table?.html() ?? "") + "<pre>\(HTML.escape(form.example))</pre>")
        }
        return MimeBundle([("text/plain", text.joined(separator: "\n\n")),
                           ("text/markdown", markdown.joined(separator: "\n\n")),
                           ("text/html", html.joined(separator: "<hr>"))])
    }

    static func parameterTable(_ form: Signature) -> Table? {
        guard !form.parameters.isEmpty else { return nil }
        var table = Table(columns: [.init("option"), .init("value", wraps: true), .init("default"), .init("meaning", wraps: true)])
        for p in form.parameters {
            let option = p.positional ? "(\(p.name))" : p.name
            var value = p.placeholder ?? p.kind.placeholder
            if case .choice(let options) = p.kind { value = options.joined(separator: ", ") }
            if let bounds = p.bounds { value += ", \(bounds.text(asPercent: p.kind == .fraction))" }
            table.append([option, p.kind == .flag ? "" : value,
                          p.required ? "required" : (p.defaultValue ?? ""), p.doc])
        }
        return table
    }
}
