import LoomCore

extension Blocks {
    /// `quiet { … }`: the statements, their tables and plots not shown.
    static let quiet = BlockForm(
        signature: Signature("quiet", .session, [
            Parameter("block", .expressions, required: true, positional: true, placeholder: "{ … }", "the statements, in braces"),
        ], summary: "Runs statements without showing their tables, plots and progress (prints, warnings and errors still show).",
        example: "quiet {\n  x = 1\n}"),
        body: .statements,
        parse: { p, keyword throws(LoomError) in
            guard p.isSymbol(p.peek, "{") else { throw p.unexpected(p.peek, expected: "`{` to open the block (`quiet {`)") }
            let (body, close) = try p.parseBody(of: "quiet", at: keyword)
            return .quiet(body: body, range: keyword.range.through(close.range))
        },
        run: { e, statement throws(LoomError) in
            guard case .quiet(let body, _) = statement else { return false }
            try e.quietly(body)
            return true
        })
}

extension Evaluator {
    /// `quiet { … }`: runs the statements without showing their tables, plots
    /// and progress; what they print, warnings and errors still show. For a
    /// sweep whose `record` table says what matters.
    func quietly(_ body: [Statement]) throws(LoomError) {
        let shown = output
        output = DisplaysDropped(shown)
        defer { output = shown }
        try runBody(body)
    }
}

/// Passes streams on and drops displays: what `quiet { … }` shows.
final class DisplaysDropped: OutputSink {
    let inner: OutputSink
    init(_ inner: OutputSink) { self.inner = inner }
    func stream(_ stream: OutputStream, _ text: String) { inner.stream(stream, text) }
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {}
    func clearOutput(wait: Bool) {}
    func page(_ bundle: MimeBundle) { inner.page(bundle) }
    func askExit() { inner.askExit() }
    /// Progress is a display too: in `stream` mode as well, none shows.
    var liveDisplays: LiveDisplays { .hidden }
}
