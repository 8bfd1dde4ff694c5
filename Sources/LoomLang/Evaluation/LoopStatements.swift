import LoomCore

extension Evaluator {
    /// `for NAME in V1 V2 … { … }`: NAME takes each value in turn — a number,
    /// a percentage, a string, or what a name holds (a model or data set
    /// itself, not a copy) — and the body runs with it. The body sees and
    /// changes the session's names like any cell; NAME keeps the last value
    /// afterwards. A line of the body holding only a value shows it. An
    /// interrupt stops the loop between iterations (and inside training, as
    /// anywhere); an error says in which iteration it happened.
    func loop(_ name: String, over values: [Expr], _ body: [Statement], at range: SourceRange) throws(LoomError) {
        // Every value is checked before the first iteration runs.
        var items: [(item: SessionItem, text: String)] = []
        for expr in values {
            if let parts = expr.name, case .object(let object)? = session[parts.joined(separator: ".")] {
                items.append((.object(object), parts.joined(separator: ".")))
            } else if case .list(let values) = try evaluate(expr) {
                // A list (`[5%, 10%]`, or a name holding one) gives each of its values.
                items += values.map { (.value($0), $0.display) }
            } else {
                let value = try evaluate(expr)
                items.append((.value(value), value.display))
            }
        }
        for (n, (item, text)) in items.enumerated() {
            if interruptFlag.load(ordering: .relaxed) {
                throw LoomError(.interrupted, "the loop was stopped by the user before `\(name) = \(text)` "
                                + "(\(n) of \(items.count) iterations done)", at: range)
            }
            session.define(name, item)
            do { try runBody(body) } catch {
                var error = error
                error.message += " (in the iteration `\(name) = \(text)`)"
                throw error
            }
        }
    }

    /// A block's statements; a line holding only a value shows it.
    func runBody(_ body: [Statement]) throws(LoomError) {
        for statement in body {
            if let shown = try run([statement]), case .expression = statement { show(shown) }
        }
    }

    /// `quiet { … }`: runs the statements without showing their tables, plots
    /// and progress; what they print, warnings and errors still show. For a
    /// sweep whose `record` table says what matters.
    func quietly(_ body: [Statement]) throws(LoomError) {
        let shown = output
        output = DisplaysDropped(shown)
        defer { output = shown }
        try runBody(body)
    }

    /// `time STATEMENT` or `time { … }`: runs them, then prints the wall-clock
    /// time on standard output (also when they fail).
    func timed(_ body: [Statement]) throws(LoomError) {
        let started = Monotonic.now
        defer { output.stream(.stdout, "time: \(duration(Monotonic.now - started)) (wall clock)\n") }
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
}
