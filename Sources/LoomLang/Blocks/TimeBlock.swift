import LoomCore

extension Blocks {
    /// `time STATEMENT` or `time { … }`: the statements, timed.
    static let time = BlockForm(
        signature: Signature("time", .session, [
            Parameter("statement", .expressions, required: true, positional: true, placeholder: "STATEMENT | { … }",
                      "a statement on the same line, or several in braces"),
        ], summary: "Runs a statement (or a block in braces) and prints how long it took, as IPython's %time does.",
        example: "time sleep 0.1"),
        body: .statements,
        parse: { p, keyword throws(LoomError) in try p.parseTimed(at: keyword) },
        run: { e, statement throws(LoomError) in
            guard case .timed(let body, _) = statement else { return false }
            try e.timed(body)
            return true
        })
}

extension Parser {
    /// `{ … }`, or one statement on the same line. A statement after `time`
    /// counts towards the nesting limit as a block does.
    mutating func parseTimed(at keyword: Token) throws(LoomError) -> Statement {
        if isSymbol(peek, "{") {
            let (body, close) = try parseBody(of: "time", at: keyword)
            return .timed(body: body, range: keyword.range.through(close.range))
        }
        guard !atLineEnd else { throw LoomError(.syntax, "`time` needs a statement after it, or a block in braces", at: peek.range) }
        try enter(at: keyword)
        defer { nesting -= 1 }
        let statement = try parseStatement()
        return .timed(body: [statement], range: keyword.range.through(statement.range))
    }
}

extension Evaluator {
    /// `time STATEMENT` or `time { … }`: runs them, then prints the wall-clock
    /// time on standard output (also when they fail).
    func timed(_ body: [Statement]) throws(LoomError) {
        let started = Monotonic.now
        defer { output.stream(.stdout, "time: \(duration(Monotonic.now - started)) (wall clock)\n") }
        try runBody(body)
    }
}
