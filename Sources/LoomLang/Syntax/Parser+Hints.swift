/// Errors that teach: what Python, Keras and PyTorch habits become in Loom.
extension Parser {
    /// Other frameworks' words for Loom's statements, suggested when a line
    /// starts with one (`fit` is Keras's `train`).
    static let otherFrameworksWords = ["fit": "train", "fit_transform": "train", "score": "evaluate"]

    /// Keras's names for `train`'s options.
    static let otherFrameworksOptions = ["batch_size": "batch", "learning_rate": "lr", "validation_data": "validate"]

    /// A number left over where one option alone still takes a number
    /// (`split g 0.8` → `train 0.8`): that option with the number.
    static func optionFor(_ t: Token, among left: [Parameter]) -> String? {
        guard t.word == nil, left.count == 1 else { return nil }
        switch (t.kind, left[0].kind) {
        case (.number, .number), (.number, .integer), (.number, .fraction), (.number, .countOrPercent),
             (.percent, .countOrPercent), (.percent, .shareOrPattern), (.percent, .fraction), (.shape, .shape):
            return "\(left[0].name) \(t.text)"
        default:
            return nil
        }
    }

    /// The statement to suggest for an unknown first word.
    static func statementFor(_ word: String) -> String? {
        closest(to: word, in: Statements.keywords) ?? otherFrameworksWords[word]
            ?? (Statements.keywordSet.contains(word.lowercased()) ? word.lowercased() : nil)
    }

    /// `epochs=20` or `epochs: 20`: options are a word and a value, as in
    /// `epochs 20`. An error when `sign` (after the option's word) is `=` or `:`.
    static func writtenWithEquals(_ option: Token, _ sign: Token, _ value: Token) -> LoomError? {
        guard sign.kind == .symbol("=") || sign.kind == .symbol(":") else { return nil }
        let example = value.kind == .newline || value.kind == .end ? "\(option.text) VALUE" : "\(option.text) \(value.text)"
        return LoomError(.syntax, "options are written `\(example)`, with no `\(sign.text)` between the word and its value",
                         at: option.range.through(sign.range))
    }

    /// A word or value after a form's arguments that no parameter takes:
    /// which option words are left, in a sentence.
    static func leftOver(_ t: Token, in form: Signature, options: [String]) -> String {
        let found = "found \(t.kind.describe)"
        switch options.count {
        case 0: return "\(found), but `\(form.title)` takes nothing more"
        case 1: return "\(found) where `\(form.title)` takes only its option `\(options[0])`"
        default: return "\(found) where `\(form.title)` takes one of its options " + options.map { "`\($0)`" }.joined(separator: ", ")
        }
    }

    /// `(3,3)` or `(3, 3)` where a size goes: Loom writes sizes `3x3`. Nil
    /// unless numbers and commas alone fill the parentheses.
    func tupleAsShape(at open: Token) -> LoomError? {
        guard isSymbol(open, "(") else { return nil }
        var numbers: [String] = []
        var k = 1
        while true {
            let t = peek(k)
            guard case .number = t.kind else { return nil }
            numbers.append(t.text)
            let next = peek(k + 1)
            if isSymbol(next, ")") { break }
            guard isSymbol(next, ","), numbers.count < 4 else { return nil }
            k += 2
        }
        guard numbers.count >= 2 else { return nil }
        let shape = numbers.joined(separator: "x")
        return LoomError(.syntax, "sizes are written `\(shape)`, not as a tuple", at: open.range.through(peek(k + 1).range),
                         suggestion: shape)
    }

    /// `Dense(10, activation="relu")` inside a model: Loom's layer line for
    /// a Keras-style call, its words lower-cased, `name=value` as `name
    /// value` (`activation=` as the bare activation) and tuples as sizes.
    /// Nil when `word` is no layer's name in any case.
    func layerCallHint(_ word: String) -> LoomError? {
        let keyword = word.lowercased()
        guard Layers.form(of: keyword) != nil else { return nil }
        var words = [keyword]
        var k = 1
        guard isSymbol(peek(k), "(") else { return nil }
        k += 1
        var tuple: [String]?
        while true {
            let t = peek(k)
            switch t.kind {
            case .newline, .end: return layerCall(words, at: k)
            case .symbol(")") where tuple != nil:
                words.append(tuple!.joined(separator: "x"))
                tuple = nil
            case .symbol(")"): return layerCall(words, at: k)
            case .symbol("("): tuple = []
            case .symbol(","), .symbol("="): break
            case .string(let s): words.append(s)
            case .name where isSymbol(peek(k + 1), "="):
                if t.text != "activation" { words.append(t.text) }
            default:
                if tuple != nil { tuple!.append(t.text) } else { words.append(t.text) }
            }
            k += 1
        }
    }

    private func layerCall(_ words: [String], at k: Int) -> LoomError {
        let line = words.joined(separator: " ")
        return LoomError(.syntax, "layers are written as a word and its values, without parentheses or commas: `\(line)`",
                         at: peek.range.through(peek(k).range))
    }
}
