import LoomEngine

/// A statement's or layer's arguments as its fields read them (see
/// `Field`), with the types its signature gives them. An option left out
/// takes the signature's default (the one `help` shows), so a default is
/// written once; numbers are checked against their declared bounds; a
/// choice becomes a case of the enum it lists.
struct Arguments {
    let command: Command
    let evaluator: Evaluator

    var signature: Signature { command.signature }
    var range: SourceRange { command.range }

    func given(_ name: String) -> Bool { command.argument(name) != nil }
    func range(of name: String) -> SourceRange? { command.argument(name)?.range ?? command.range }
    /// The word given for `name` (a layer's name in `share h1`), nil when left out.
    func word(_ name: String) -> String? { command.argument(name)?.name?.joined(separator: ".") }

    /// The expression given for `name`; for parameters the parser requires.
    func expression(_ name: String) throws(LoomError) -> Expr {
        guard let expr = command.argument(name) else {
            throw LoomError(.syntax, "`\(signature.title)` needs \(name)", at: range)
        }
        return expr
    }

    /// The value given for `name`, else its default from the signature; nil
    /// when neither is there.
    func value(_ name: String) throws(LoomError) -> Value? {
        if let expr = command.argument(name) { return try evaluator.evaluate(expr) }
        guard let text = signature.parameter(named: name)?.defaultValue else { return nil }
        return Arguments.literal(text)
    }

    /// A default as written in a signature: a number, a percentage or a word.
    static func literal(_ text: String) -> Value {
        if text.hasSuffix("%"), let p = Double(text.dropLast()) { return .percent(p / 100) }
        if let x = Double(text) { return .number(x) }
        return .string(text)
    }

    // MARK: numbers

    /// A finite number within the parameter's declared bounds.
    func optionalNumber(_ name: String) throws(LoomError) -> Double? {
        guard let v = try value(name) else { return nil }
        guard let x = v.numeric, x.isFinite else { throw LoomError(.type, "\(name) must be a number", at: range(of: name)) }
        if let p = signature.parameter(named: name), let bounds = p.bounds, !bounds.contains(x) {
            throw LoomError(.value, "\(name) must be \(bounds.requirement(asPercent: p.kind == .fraction)), not \(v.precise)",
                            at: range(of: name))
        }
        return x
    }

    func number(_ name: String) throws(LoomError) -> Double {
        guard let x = try optionalNumber(name) else { throw LoomError(.syntax, "`\(signature.title)` needs \(name)", at: range) }
        return x
    }

    /// A whole number within the parameter's declared bounds (unless the
    /// handler checks a narrower range only the session knows: `bounded`
    /// false); `label` names it in messages when the parameter's name would
    /// not (`threads` for `set threads N`).
    func optionalInteger(_ name: String, as label: String? = nil, bounded: Bool = true) throws(LoomError) -> Int? {
        guard let v = try value(name) else { return nil }
        let what = label ?? name
        guard case .number(let x) = v, x == x.rounded() else {
            throw LoomError(.type, "\(what) must be a whole number, not \(v.precise)", at: range(of: name))
        }
        let bounds = (bounded ? signature.parameter(named: name)?.bounds?.integers : nil) ?? Int(-9e15)...Int(9e15)
        guard x >= Double(bounds.lowerBound), x <= Double(bounds.upperBound) else {
            throw LoomError(.value, "\(what) must be between \(bounds.lowerBound) and \(bounds.upperBound), not \(v.precise)",
                            at: range(of: name))
        }
        return Int(x)
    }

    func integer(_ name: String, as label: String? = nil) throws(LoomError) -> Int {
        guard let n = try optionalInteger(name, as: label) else {
            throw LoomError(.syntax, "`\(signature.title)` needs \(name)", at: range)
        }
        return n
    }

    /// A count or a share (`10` or `10%`), for k-winners.
    func count(_ name: String) throws(LoomError) -> KWinnersSpec.Count {
        switch try value(name) {
        case .percent(let f)? where f > 0 && f <= 1: return .share(f)
        case .number(let x)? where x == x.rounded() && x >= 1 && x < 1e9: return .units(Int(x))
        case let v:
            throw LoomError(.value, "\(name) must be a whole number of units or a share like 10%, not \(v?.precise ?? "nothing")",
                            at: range(of: name))
        }
    }

    // MARK: words

    func flag(_ name: String) -> Bool { given(name) }

    /// The case of `E` the argument names, else the signature's default; nil
    /// when neither is there. The parser only lets through the words the
    /// signature lists, and those are `E`'s cases (see `ParameterKind.choice(of:)`).
    func optionalChoice<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(LoomError) -> E? where E.RawValue == String {
        let word = command.argument(name)?.name?.first ?? signature.parameter(named: name)?.defaultValue
        guard let word else { return nil }
        guard let choice = E(rawValue: word) else {
            throw LoomError(.value, "`\(word)` is not one of the choices for \(name)", at: range(of: name))
        }
        return choice
    }

    func choice<E: RawRepresentable>(_ name: String, _ type: E.Type) throws(LoomError) -> E where E.RawValue == String {
        guard let choice = try optionalChoice(name, type) else {
            throw LoomError(.syntax, "`\(signature.title)` needs \(name)", at: range)
        }
        return choice
    }

    func string(_ name: String) throws(LoomError) -> String {
        guard case .string(let s)? = try value(name) else {
            throw LoomError(.type, "\(name) must be a string, like \"data/x.csv\"", at: range(of: name))
        }
        return s
    }

    /// One path or a list of them, at least one.
    func paths(_ name: String) throws(LoomError) -> [String] {
        let value = try value(name)
        if case .string(let s)? = value { return [s] }
        if case .list(let list)? = value, !list.items.isEmpty {
            var paths: [String] = []
            for item in list.items {
                guard case .string(let s) = item else { break }
                paths.append(s)
            }
            if paths.count == list.items.count { return paths }
        }
        throw LoomError(.type, "\(name) must be a path or a list of paths, like \"photo.png\" or [\"a.png\", \"b.png\"]",
                        at: range(of: name))
    }

    // MARK: shapes

    /// A shape with positive dimensions (`28x28x1`, or one number).
    func optionalShape(_ name: String) throws(LoomError) -> [Int]? {
        guard let v = try value(name) else { return nil }
        switch v {
        case .shape(let dims) where dims.allSatisfy({ $0 > 0 }): return dims
        case .number(let x) where x == x.rounded() && x > 0 && x < 1e9: return [Int(x)]
        default: throw LoomError(.type, "\(name) must be a shape like 28x28x1, not \(v.precise)", at: range(of: name))
        }
    }

    func shape(_ name: String) throws(LoomError) -> [Int] {
        guard let dims = try optionalShape(name) else { throw LoomError(.syntax, "`\(signature.title)` needs \(name)", at: range) }
        return dims
    }

    /// A window: `3x3`, or `3` for a square.
    func window(_ name: String) throws(LoomError) -> Window {
        let dims = try shape(name)
        switch dims.count {
        case 1: return Window(dims[0], dims[0])
        case 2: return Window(dims[0], dims[1])
        default: throw LoomError(.type, "\(name) takes two dimensions, like 3x3", at: range(of: name))
        }
    }
}
