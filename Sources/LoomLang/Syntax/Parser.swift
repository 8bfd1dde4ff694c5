import LoomCore

/// Turns tokens into statements, guided by the signature table: positional
/// shorthand and named options both work (`conv2d 32 3x3 relu` is
/// `conv2d filters 32 kernel 3x3 activation relu`).
public struct Parser {
    var tokens: [Token]
    var i = 0
    /// Parentheses and signs open around the expression being read: each
    /// level is a few stack frames here and in the evaluator, so a hostile
    /// cell (6,000 parentheses, 100,000 minus signs) gets an error, not a crash.
    var nesting = 0
    static let maximumNesting = 200
    var interruptible = false

    /// With `interruptible` (a cell being run), an interrupt stops a long read.
    public static func parse(_ source: String, interruptible: Bool = false) throws(LoomError) -> [Statement] {
        var parser = Parser(tokens: try Lexer.tokenize(source, interruptible: interruptible))
        parser.interruptible = interruptible
        return try parser.parseCell()
    }

    init(tokens: [Token]) { self.tokens = tokens }

    var peek: Token { tokens[i] }
    func peek(_ k: Int) -> Token { tokens[min(i + k, tokens.count - 1)] }
    mutating func advance() -> Token {
        let t = tokens[i]
        if i < tokens.count - 1 { i += 1 }
        return t
    }

    var atLineEnd: Bool { peek.kind == .newline || peek.kind == .end }

    mutating func skipNewlines() { while peek.kind == .newline { _ = advance() } }

    func isSymbol(_ t: Token, _ c: Character) -> Bool { t.kind == .symbol(c) }

    func unexpected(_ t: Token, expected: String, suggestion: String? = nil) -> LoomError {
        LoomError(.syntax, "expected \(expected), found \(t.kind.describe)", at: t.range, suggestion: suggestion)
    }

    /// A token left over after a whole statement, layer or expression.
    static func stray(_ t: Token, after what: String) -> LoomError {
        LoomError(.syntax, "found \(t.kind.describe) after the end of \(what)", at: t.range)
    }

    mutating func parseCell() throws(LoomError) -> [Statement] {
        var statements: [Statement] = []
        skipNewlines()
        while peek.kind != .end {
            // A cell of a million lines can be stopped while it is read, too.
            if interruptible, statements.count % 1024 == 1023, Interruption.local {
                throw LoomError(.interrupted, "stopped by the user while the cell was read", at: peek.range)
            }
            statements.append(try parseStatement())
            guard atLineEnd else { throw Parser.stray(peek, after: "the statement") }
            skipNewlines()
        }
        return statements
    }

    mutating func parseStatement() throws(LoomError) -> Statement {
        let first = peek
        guard let word = first.word else {
            if isSymbol(first, "}") { throw LoomError(.syntax, "`}` without a `model … {` or `for … {` to close", at: first.range) }
            return .expression(try parseExpression())
        }
        if isSymbol(peek(1), "=") {
            try Parser.refuseWord(word, naming: "a variable", layers: true, at: first.range)
            _ = advance(); _ = advance()
            // `r = evaluate m on d` keeps a statement's result.
            if let keyword = peek.word, !Statements.forms(of: keyword).isEmpty {
                let command = try parseCommand(Statements.forms(of: keyword))
                return .keep(name: word, command: command, range: first.range.through(command.range))
            }
            let value = try parseExpression()
            return .assignment(name: word, value: value, range: first.range.through(value.range))
        }
        if let block = Blocks.form(of: word) {
            // A keyword with a block and `KEYWORD NAME = …` forms: `model NEW = copy M` is a statement.
            let named = Statements.forms(of: word).filter(\.bindsName)
            if !named.isEmpty, isSymbol(peek(2), "=") { return .command(try parseCommand(named)) }
            let keyword = advance()
            return try block.parse(&self, keyword)
        }
        let forms = Statements.forms(of: word)
        if !forms.isEmpty { return .command(try parseCommand(forms)) }
        // Not a statement: an expression, unless words follow that make it a
        // misspelt statement.
        let start = i
        if let expression = try? parseExpression(), atLineEnd { return .expression(expression) }
        i = start
        let suggestion = Parser.statementFor(word)
        if suggestion != nil || !atLineEndAfterFirstToken {
            throw LoomError(.syntax, "unknown statement `\(word)`", at: first.range, suggestion: suggestion)
        }
        return .expression(try parseExpression())
    }

    /// Refuses a statement's word as a new name of the session: the name
    /// would read as that statement at the start of a line (`train` alone
    /// would not show a model `train`). Layer words, which start no line
    /// outside a model, may name objects (`model dense { … }`), not variables.
    /// `what`: what the name would name ("a model"), nil for any name.
    static func refuseWord(_ name: String, naming what: String? = nil, layers: Bool = false,
                           at range: SourceRange?) throws(LoomError) {
        guard Statements.keywordSet.contains(name) || (layers && Layers.keywordSet.contains(name)) else { return }
        let kind = Statements.keywordSet.contains(name) ? "statement" : "layer"
        throw LoomError(.syntax, "`\(name)` is a \(kind) word and cannot " + (what.map { "name \($0)" } ?? "be a name"), at: range)
    }

    var atLineEndAfterFirstToken: Bool {
        let k = peek(1).kind
        return k == .newline || k == .end
    }

    // MARK: commands

    /// One of `forms` (all with the same first word), chosen by the second
    /// word or, for `KEYWORD NAME = SUBWORD`, the third. A form without a
    /// second word (`show NAME`) takes any other word; its parameter's name
    /// reaches a name that is also a form's word (`show name filters`).
    mutating func parseCommand(_ forms: [Signature]) throws(LoomError) -> Command {
        let keywordToken = advance()
        var arguments: [String: Expr] = [:]
        var form = forms[0]
        if forms.contains(where: \.bindsName) {
            let nameToken = peek
            guard let name = nameToken.word else {
                throw unexpected(nameToken, expected: "a name to define (`\(forms[0].keyword) NAME = …`)")
            }
            try Parser.refuseWord(name, at: nameToken.range)
            _ = advance()
            guard isSymbol(peek, "=") else { throw unexpected(peek, expected: "`=`") }
            _ = advance()
            arguments["name"] = Expr(kind: .name([name]), range: nameToken.range)
        }
        let bare = forms.contains(where: \.bindsName) ? nil : forms.first { $0.subword == nil }
        let subwords = forms.compactMap(\.subword)
        let second = peek
        func unknownForm() -> LoomError {
            let found = second.word.map { "unknown form `\($0)`" } ?? "expected one of \(subwords.joined(separator: ", "))"
            return LoomError(.syntax, "\(found) after `\(keywordToken.text)`; expected one of \(subwords.joined(separator: ", "))",
                             at: second.range, suggestion: second.word.flatMap { closest(to: $0, in: subwords) })
        }
        if !subwords.isEmpty {
            if let sub = second.word, let chosen = forms.first(where: { $0.subword == sub }) {
                _ = advance()
                form = chosen
            } else if let bare, case .name = second.kind {
                form = bare
            } else {
                throw unknownForm()
            }
        }
        let start = keywordToken.range, argumentsStart = i
        do { try parseArguments(of: form, into: &arguments) } catch {
            guard let bare, !subwords.isEmpty else { throw error }
            // A misspelt form's word (`show filtres cnn.conv1`) is named as one.
            if form.subword == nil, second.word.flatMap({ closest(to: $0, in: subwords) }) != nil { throw unknownForm() }
            // `show filters` alone: say how to show a name `filters`.
            if let sub = form.subword, i == argumentsStart, atLineEnd || isSymbol(peek, "}"), let p = bare.parameters.first {
                var error = error
                error.message += "; `\(form.keyword) \(p.name) \(sub)` shows a name `\(sub)`"
                throw error
            }
            throw error
        }
        let end = tokens[max(0, i - 1)].range
        return Command(signature: form, arguments: arguments, range: start.through(end))
    }

    mutating func parseArguments(of form: Signature, into arguments: inout [String: Expr]) throws(LoomError) {
        let positionals = form.parameters.filter(\.positional)
        var nextPositional = 0
        while !atLineEnd && !isSymbol(peek, "}") {
            let t = peek
            if let word = t.word, let p = form.parameter(named: word), arguments[p.name] == nil,
               !p.positional || (p.kind != .expressions && isNamedUse(p)) {
                _ = advance()
                if p.kind != .flag, let error = Parser.writtenWithEquals(t, peek, peek(1)) { throw error }
                arguments[p.name] = p.kind == .flag ? Expr(kind: .flag, range: t.range)
                    : try parseValue(p, after: t, options: Set(form.parameters.map(\.name)))
                continue
            }
            while nextPositional < positionals.count, arguments[positionals[nextPositional].name] != nil {
                nextPositional += 1
            }
            guard nextPositional < positionals.count else {
                let left = form.parameters.filter { arguments[$0.name] == nil && !$0.positional }
                let options = left.map(\.name)
                let suggestion = t.word.flatMap { closest(to: $0, in: options) ?? Parser.otherFrameworksOptions[$0] }
                    ?? Parser.optionFor(t, among: left)
                if t.word != nil, var error = Parser.writtenWithEquals(t, peek(1), peek(2)) {
                    error.suggestion = suggestion
                    throw error
                }
                throw LoomError(.syntax, Parser.leftOver(t, in: form, options: options) + Parser.ownerNote(t.word, besides: form),
                                at: t.range, suggestion: suggestion)
            }
            let p = positionals[nextPositional]
            arguments[p.name] = try parseValue(p, after: nil, options: Set(form.parameters.map(\.name)))
            nextPositional += 1
        }
        if let missing = form.parameters.first(where: { $0.required && arguments[$0.name] == nil }) {
            let what = missing.positional ? (missing.placeholder ?? missing.name.uppercased())
                : "`\(missing.name) \(missing.placeholder ?? missing.kind.placeholder)`"
            throw LoomError(.syntax, "`\(form.title)` needs \(what): \(form.usage)", at: peek.range)
        }
    }

    /// For a layer line given another family's option (`conv2d … tied c`):
    /// which families take it, so the error says where the word belongs.
    static func ownerNote(_ word: String?, besides form: Signature) -> String {
        guard form.category == .layers, let word else { return "" }
        let owners = Layers.all.filter { $0.keyword != form.keyword && $0.parameter(named: word).map { !$0.positional } == true }
        guard !owners.isEmpty, owners.count <= 3 else { return "" }
        return " (`\(word)` belongs to " + owners.map { "`\($0.keyword)`" }.joined(separator: ", ") + ")"
    }

    /// A positional parameter's own name may also introduce it
    /// (`conv2d filters 32`), but only when a value follows.
    func isNamedUse(_ p: Parameter) -> Bool {
        switch peek(1).kind {
        case .newline, .end: return false
        default: return true
        }
    }

    /// `options`: the form's option words, where a list of names stops.
    mutating func parseValue(_ p: Parameter, after nameToken: Token?, options: Set<String> = []) throws(LoomError) -> Expr {
        let t = peek
        switch p.kind {
        case .references:
            var items: [Expr] = []
            while case .name(let parts) = peek.kind, !(parts.count == 1 && options.contains(parts[0])) {
                items.append(Expr(kind: .name(parts), range: peek.range))
                _ = advance()
            }
            guard let first = items.first else { throw unexpected(t, expected: "names (\(p.doc))") }
            return Expr(kind: .list(items), range: first.range.through(items.last!.range))
        case .newName, .word:
            guard let word = t.word else { throw unexpected(t, expected: "a name for \(p.name)") }
            // A layer's own name (`as`) names a part of its model, not a name of the session.
            if p.kind == .newName, p.name != Layers.name.name { try Parser.refuseWord(word, at: t.range) }
            _ = advance()
            return Expr(kind: .name([word]), range: t.range)
        case .reference:
            guard case .name(let parts) = t.kind else {
                throw unexpected(t, expected: "a name (\(p.doc))")
            }
            _ = advance()
            return Expr(kind: .name(parts), range: t.range)
        case .choice(let options):
            guard let word = t.word else {
                throw unexpected(t, expected: "\(p.name): one of \(options.joined(separator: ", "))")
            }
            guard options.contains(word) else {
                throw LoomError(.syntax, "unknown \(p.name) `\(word)`; expected one of \(options.joined(separator: ", "))",
                                at: t.range, suggestion: closest(to: word, in: options))
            }
            _ = advance()
            return Expr(kind: .name([word]), range: t.range)
        case .flag:
            return Expr(kind: .flag, range: (nameToken ?? t).range)
        case .expressions:
            var items: [Expr] = []
            while !atLineEnd && !isSymbol(peek, "}") {
                items.append(try parseExpression())
                if isSymbol(peek, ",") { _ = advance() }
            }
            let range = items.first.map { $0.range.through(items.last!.range) } ?? t.range
            return Expr(kind: .list(items), range: range)
        case .schedule:
            // The form's word, then its numbers: `step 5 0.5`, `cosine`, `warmup 3`.
            guard let word = t.word, let form = Schedules.form(word) else {
                throw LoomError(.syntax, "expected a schedule: \(Schedules.choices)", at: t.range,
                                suggestion: t.word.flatMap { closest(to: $0, in: Schedules.forms.map(\.word)) })
            }
            _ = advance()
            var items = [Expr(kind: .name([word]), range: t.range)]
            for _ in form.numbers {
                guard !atLineEnd else { throw unexpected(peek, expected: "`\(form.usage)`") }
                items.append(try parseUnary())
            }
            return Expr(kind: .list(items), range: t.range.through(items.last!.range))
        case .pruneSchedule:
            return try parsePruneSchedule(p, at: t)
        case .epoch:
            guard t.word == "epoch" else { throw unexpected(t, expected: "`epoch E` after \(p.name)") }
            _ = advance()
            if atLineEnd { throw unexpected(peek, expected: "an epoch after `epoch`") }
            return try parseUnary()
        case .epochs:
            return try parseEpochs(p, at: t, options: options)
        case .every:
            guard t.word == "every" else { throw unexpected(t, expected: "`every N` after \(p.name)") }
            _ = advance()
            if atLineEnd { throw unexpected(peek, expected: "a number of epochs after `every`") }
            return try parseUnary()
        case .rewiring:
            // The method, then `every N` and `fraction F` in any order, each once.
            let methods = Rewirings.methods
            guard let word = t.word, methods.contains(word) else {
                throw LoomError(.syntax, "expected a rewiring: \(methods.joined(separator: " or "))", at: t.range,
                                suggestion: t.word.flatMap { closest(to: $0, in: methods) })
            }
            _ = advance()
            var items = [Expr(kind: .name([word]), range: t.range)], seen: Set<String> = []
            while let option = peek.word, Rewirings.options.contains(option), !seen.contains(option) {
                seen.insert(option)
                items.append(Expr(kind: .name([option]), range: peek.range))
                _ = advance()
                guard !atLineEnd else { throw unexpected(peek, expected: "a number after `\(option)`") }
                items.append(try parseUnary())
            }
            return Expr(kind: .list(items), range: t.range.through(items.last!.range))
        case .columns:
            var pairs: [Expr] = []
            while !atLineEnd && !isSymbol(peek, "}") {
                let column = peek
                guard let word = column.word, isSymbol(peek(1), "=") else {
                    throw unexpected(column, expected: "COLUMN=VALUE (like `acc=r.accuracy`)")
                }
                _ = advance(); _ = advance()
                let value = try parseExpression()
                pairs.append(Expr(kind: .column(Expr(kind: .name([word]), range: column.range), value),
                                  range: column.range.through(value.range)))
                if isSymbol(peek, ",") { _ = advance() }
            }
            guard let first = pairs.first else { throw unexpected(t, expected: "COLUMN=VALUE pairs") }
            return Expr(kind: .list(pairs), range: first.range.through(pairs.last!.range))
        case .shareOrPattern:
            // `80%`, or `N:M` kept as the list of its two numbers.
            if atLineEnd { throw unexpected(t, expected: "a share like 80% or a pattern like 2:4 for \(p.name)") }
            let first = try parseExpression()
            guard isSymbol(peek, ":") else { return first }
            _ = advance()
            if atLineEnd { throw unexpected(peek, expected: "M after `:` (a pattern like 2:4)") }
            let second = try parseUnary()
            return Expr(kind: .list([first, second]), range: first.range.through(second.range))
        case .number, .integer, .fraction, .countOrPercent, .shape, .string:
            if atLineEnd { throw unexpected(t, expected: "a value for \(p.name)") }
            return try parseExpression()
        }
    }

    // MARK: expressions

    mutating func parseExpression() throws(LoomError) -> Expr {
        let first = try parseTerm()
        var rest: [Expr.Operation] = []
        while case .symbol(let op) = peek.kind, op == "+" || op == "-" {
            _ = advance()
            rest.append(Expr.Operation(op: op, operand: try parseTerm()))
        }
        return chain(first, rest)
    }

    mutating func parseTerm() throws(LoomError) -> Expr {
        let first = try parseUnary()
        var rest: [Expr.Operation] = []
        while case .symbol(let op) = peek.kind, op == "*" || op == "/" {
            _ = advance()
            rest.append(Expr.Operation(op: op, operand: try parseUnary()))
        }
        return chain(first, rest)
    }

    /// Operands joined by operators of one precedence as one flat node (a
    /// single operand as itself), however many terms: no tree per term.
    func chain(_ first: Expr, _ rest: [Expr.Operation]) -> Expr {
        guard let last = rest.last else { return first }
        return Expr(kind: .chain(first, rest), range: first.range.through(last.operand.range))
    }

    mutating func parseUnary() throws(LoomError) -> Expr {
        if isSymbol(peek, "-") {
            let minus = advance()
            try enter(at: minus)
            defer { nesting -= 1 }
            let operand = try parseUnary()
            return Expr(kind: .negate(operand), range: minus.range.through(operand.range))
        }
        return try parsePrimary()
    }

    /// One level deeper, refused past `maximumNesting` (as Python refuses too many nested parentheses).
    mutating func enter(at t: Token) throws(LoomError) {
        nesting += 1
        guard nesting <= Parser.maximumNesting else {
            throw LoomError(.syntax, "nested too deeply: more than \(Parser.maximumNesting) parentheses, signs or loops inside each other",
                            at: t.range)
        }
    }

    mutating func parsePrimary() throws(LoomError) -> Expr {
        let t = peek
        switch t.kind {
        case .number(let v): _ = advance(); return Expr(kind: .number(v), range: t.range)
        case .percent(let v): _ = advance(); return Expr(kind: .percent(v), range: t.range)
        case .shape(let dims): _ = advance(); return Expr(kind: .shape(dims), range: t.range)
        case .string(let s): _ = advance(); return Expr(kind: .string(s), range: t.range)
        case .name(let parts): _ = advance(); return Expr(kind: .name(parts), range: t.range)
        case .symbol("["):
            _ = advance()
            try enter(at: t)
            defer { nesting -= 1 }
            var items: [Expr] = []
            while !isSymbol(peek, "]") {
                guard peek.kind != .end, peek.kind != .newline else { throw unexpected(peek, expected: "`]` to close the list") }
                items.append(try parseExpression())
                if isSymbol(peek, ",") { _ = advance() }
            }
            let close = advance()
            return Expr(kind: .array(items), range: t.range.through(close.range))
        case .symbol("("):
            if let error = tupleAsShape(at: t) { throw error }
            _ = advance()
            try enter(at: t)
            defer { nesting -= 1 }
            let inner = try parseExpression()
            guard isSymbol(peek, ")") else { throw unexpected(peek, expected: "`)`") }
            let close = advance()
            return Expr(kind: inner.kind, range: t.range.through(close.range))
        default:
            throw unexpected(t, expected: "a value")
        }
    }
}
