import LoomCore

extension Blocks {
    /// `model NAME { LAYERS }`: a sequential model, one layer a line.
    static let model = BlockForm(
        signature: Signature("model", .models, [Parameter("name", .newName, required: true, positional: true, "the model's name")],
                             body: "{ LAYERS }",
                             summary: "Defines a sequential model, one layer a line, in braces.",
                             example: "model m {\n  input 28x28x1\n  flatten\n  dense 10 softmax\n}"),
        body: .layers,
        parse: { p, keyword throws(LoomError) in try p.parseModel(at: keyword) },
        run: { e, statement throws(LoomError) in
            guard case .model(let name, let layers, let range) = statement else { return false }
            try e.defineModel(name: name, layers: layers, range: range)
            return true
        })
}

extension Parser {
    /// `NAME {`, then a layer a line (each read by its family's signature), then `}`.
    mutating func parseModel(at keyword: Token) throws(LoomError) -> Statement {
        let nameToken = peek
        guard let name = nameToken.word else { throw unexpected(nameToken, expected: "the model's name") }
        try Parser.refuseWord(name, naming: "a model", at: nameToken.range)
        _ = advance()
        let open = peek
        guard isSymbol(open, "{") else { throw unexpected(open, expected: "`{` to open the layers") }
        _ = advance()
        var layers: [Command] = []
        while true {
            skipNewlines()
            if isSymbol(peek, "}") { break }
            guard peek.kind != .end else {
                throw LoomError(.syntax, "the layers of `\(name)` are not closed; add `}` on a line of its own",
                                at: open.range)
            }
            let t = peek
            guard let word = t.word, let form = Layers.form(of: word) else {
                if case .name(let parts) = t.kind {
                    if let word = t.word, let hint = layerCallHint(word) { throw hint }
                    let name = parts.joined(separator: ".")
                    throw LoomError(.syntax, "unknown layer `\(name)`", at: t.range,
                                    suggestion: closest(to: name, in: Layers.keywords)
                                        ?? (Layers.form(of: name.lowercased()) != nil ? name.lowercased() : nil))
                }
                throw unexpected(t, expected: "a layer (\(Layers.keywords.joined(separator: ", ")))")
            }
            var arguments: [String: Expr] = [:]
            _ = advance()
            try parseArguments(of: form, into: &arguments)
            layers.append(Command(signature: form, arguments: arguments, range: t.range.through(tokens[max(0, i - 1)].range)))
            guard atLineEnd || isSymbol(peek, "}") else {
                throw Parser.stray(peek, after: "the layer")
            }
        }
        let close = advance()
        return .model(name: name, layers: layers, range: keyword.range.through(close.range))
    }
}

extension Evaluator {
    /// `model NAME { … }`: builds the layers in order, checking that each
    /// fits the output of the one before.
    func defineModel(name: String, layers: [Command], range: SourceRange) throws(LoomError) {
        let model = try buildModel(name: name, layers: layers, range: range)
        session.define(name, .object(ModelState(model: model)))
        show(summaryTable(model).bundle(width: session.width))
    }
}
