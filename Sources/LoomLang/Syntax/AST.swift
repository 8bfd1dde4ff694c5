/// An expression: a literal, a name, or arithmetic on them.
///
/// The tree is only as deep as parentheses, brackets and signs nest (the
/// parser refuses more than `Parser.maximumNesting`): `a + b - c …` is one
/// flat `chain`, so freeing, comparing or evaluating a 200,000-term sum
/// loops over an array instead of recursing once per term.
public struct Expr: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        case number(Double)
        case percent(Double)
        case shape([Int])
        case string(String)
        case name([String])
        case negate(Expr)
        /// `first op₁ operand₁ op₂ operand₂ …`, applied left to right, all of
        /// one precedence (`+ -` or `* /`).
        case chain(Expr, [Operation])
        /// `COLUMN=EXPR` in `record` (the column's name, then its value).
        case column(Expr, Expr)
        /// Several values (`print a b`).
        case list([Expr])
        /// A list value written in brackets: `[5%, 10%, 20%]`.
        case array([Expr])
        /// A flag that was given (`sequences`).
        case flag
    }

    public var kind: Kind
    public var range: SourceRange

    /// One step of a chain: an operator and its right operand.
    public struct Operation: Sendable, Equatable {
        public var op: Character
        public var operand: Expr
    }

    /// The dotted name, if the expression is just a name.
    public var name: [String]? {
        if case .name(let parts) = kind { return parts }
        return nil
    }
}

/// A statement or layer written with the words of a `Signature`.
public struct Command: Sendable, Equatable {
    public var signature: Signature
    public var arguments: [String: Expr]
    public var range: SourceRange

    public func argument(_ name: String) -> Expr? { arguments[name] }
}

/// One statement of a cell.
public enum Statement: Sendable, Equatable {
    case assignment(name: String, value: Expr, range: SourceRange)
    /// `r = evaluate m on d`: a statement's result kept under a name.
    case keep(name: String, command: Command, range: SourceRange)
    case expression(Expr)
    case command(Command)
    // The block forms' statements, each read and run by its form (Blocks/).
    /// `model NAME { … }`: a model's layers.
    case model(name: String, layers: [Command], range: SourceRange)
    /// `for NAME in V1 V2 … { … }`: the body once per value.
    indirect case loop(name: String, values: [Expr], body: [Statement], parallel: Bool, range: SourceRange)
    /// `time STATEMENT` or `time { … }`: the statements, timed.
    indirect case timed(body: [Statement], range: SourceRange)
    /// `quiet { … }`: the statements, their tables and plots not shown.
    indirect case quiet(body: [Statement], range: SourceRange)

    public var range: SourceRange {
        switch self {
        case .assignment(_, _, let r), .model(_, _, let r), .keep(_, _, let r), .loop(_, _, _, _, let r), .timed(_, let r), .quiet(_, let r): return r
        case .expression(let e): return e.range
        case .command(let c): return c.range
        }
    }
}

extension Statement {
    /// The name the statement defines, if any: `x = …`, `data d = …`, `r = evaluate …`, `model m { … }`.
    var definedName: String? {
        switch self {
        case .assignment(let name, _, _), .keep(let name, _, _), .model(let name, _, _): return name
        case .command(let c): return c.signature.bindsName ? c.argument("name")?.name?.joined(separator: ".") : nil
        case .expression, .loop, .timed, .quiet: return nil
        }
    }
}
