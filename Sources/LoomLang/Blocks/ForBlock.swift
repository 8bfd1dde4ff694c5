import LoomCore

extension Blocks {
    /// `for NAME in V1 V2 … [parallel] { … }`: the body once per value.
    static let loop = BlockForm(
        signature: Signature("for", .session, [
            Parameter("name", .newName, required: true, positional: true, placeholder: "NAME in", "the name each value is bound to"),
            Parameter("values", .expressions, required: true, positional: true, placeholder: "V1 V2 … [parallel] { … }",
                      "numbers, percentages, strings or names (a model, a data set), then the body in braces; `parallel` "
                      + "deals the iterations to the ranks under mpirun (each from the names before the loop)"),
        ], summary: "Runs the body once per value: sweeps over sizes, sparsities, models.",
        example: "for k in 5% 10% 20% {\n  print \"winners\" k\n}"),
        body: .statements,
        parse: { p, keyword throws(LoomError) in try p.parseLoop(at: keyword) },
        run: { e, statement throws(LoomError) in
            guard case .loop(let name, let values, let body, let parallel, let range) = statement else { return false }
            try e.loop(name, over: values, body, parallel: parallel, at: range)
            return true
        })
}

extension Parser {
    /// `NAME in V1 V2 … {`, then statements a line each, then `}`.
    mutating func parseLoop(at keyword: Token) throws(LoomError) -> Statement {
        let nameToken = peek
        guard let name = nameToken.word, !nameToken.text.contains(".") else {
            throw unexpected(nameToken, expected: "a name for the loop's value (`for k in 1 2 3 {`)")
        }
        try Parser.refuseWord(name, naming: "a variable", layers: true, at: nameToken.range)
        _ = advance()
        guard peek.word == "in" else { throw unexpected(peek, expected: "`in` after `for \(name)`") }
        _ = advance()
        var values: [Expr] = []
        var parallel = false
        while !isSymbol(peek, "{") {
            if peek.word == "parallel", isSymbol(peek(1), "{"), !values.isEmpty {
                parallel = true
                _ = advance()
                break
            }
            guard !atLineEnd else {
                throw LoomError(.syntax, values.isEmpty ? "`for \(name) in` needs values, then `{`" : "expected `{` to open the loop's body",
                                at: peek.range)
            }
            values.append(try parseExpression())
        }
        guard !values.isEmpty else { throw LoomError(.syntax, "`for \(name) in` needs values before `{`", at: peek.range) }
        let (body, close) = try parseBody(of: "for \(name)", at: keyword)
        return .loop(name: name, values: values, body: body, parallel: parallel, range: keyword.range.through(close.range))
    }
}

extension Evaluator {
    /// `for NAME in V1 V2 … { … }`: NAME takes each value in turn — a number,
    /// a percentage, a string, or what a name holds (a model or data set
    /// itself, not a copy) — and the body runs with it. The body sees and
    /// changes the session's names like any cell; NAME keeps the last value
    /// afterwards. A line of the body holding only a value shows it. An
    /// interrupt stops the loop between iterations (and inside training, as
    /// anywhere); an error says in which iteration it happened.
    func loop(_ name: String, over values: [Expr], _ body: [Statement], parallel: Bool, at range: SourceRange) throws(LoomError) {
        // Every value is checked before the first iteration runs.
        var items: [(item: SessionItem, text: String)] = []
        for expr in values {
            if let parts = expr.name, case .object(let object)? = session[parts.joined(separator: ".")] {
                items.append((.object(object), parts.joined(separator: ".")))
            } else if case .list(let list) = try evaluate(expr) {
                // A list (`[5%, 10%]`, or a name holding one) gives each of its values.
                items += list.items.map { (.value($0), $0.display) }
            } else {
                let value = try evaluate(expr)
                items.append((.value(value), value.display))
            }
        }
        if parallel { return try parallelLoop(name, over: items, body, at: range) }
        for (n, (item, text)) in items.enumerated() {
            if Interruption.agreed() {
                throw LoomError(.interrupted, "the loop was stopped by the user before `\(name) = \(text)` "
                                + "(\(n) of \(items.count) iterations done)", at: range)
            }
            session.define(name, item)
            do { try runBody(body) } catch { throw error.inIteration(name, text) }
        }
    }
}
