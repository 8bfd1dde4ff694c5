import LoomCore

/// A statement with a body in braces (`model`, `for`, `quiet`, `time`): its
/// signature, how it reads from its keyword on, and how it runs what it
/// read, in one declaration (one file per form in this folder). Its entry
/// in the statement table (`.block(Blocks.loop)`) places it in `help` and
/// the reference; the parser, the evaluator and completion find it there.
struct BlockForm: Sendable {
    /// What the braces hold: completion offers layers in a model, statements elsewhere.
    enum Body: Sendable {
        case layers
        case statements
    }

    typealias Reader = @Sendable (inout Parser, _ keyword: Token) throws(LoomError) -> Statement
    typealias Runner = @Sendable (Evaluator, Statement) throws(LoomError) -> Bool

    let signature: Signature
    let body: Body
    /// Reads the form; the parser has just read its keyword.
    let parse: Reader
    /// Runs a statement `parse` made; false, running nothing, for any other
    /// statement (so the evaluator needs no case per form).
    let run: Runner

    var keyword: String { signature.keyword }
}

/// The block forms, each declared in its own file as an extension of this.
public enum Blocks {
    /// Every block form, in the statement table's order.
    static let all: [BlockForm] = Statements.bindings.compactMap(\.block)

    /// The block forms' signatures (also among `Statements.all`).
    public static var signatures: [Signature] { all.map(\.signature) }

    static let byKeyword: [String: BlockForm] = Dictionary(uniqueKeysWithValues: all.map { ($0.keyword, $0) })

    /// The block form `keyword` starts, if any.
    static func form(of keyword: String) -> BlockForm? { byKeyword[keyword] }

    /// Runs a block statement through the form that read it.
    static func run(_ statement: Statement, in evaluator: Evaluator) throws(LoomError) {
        for form in all {
            if try form.run(evaluator, statement) { return }
        }
        throw LoomError(.syntax, "no block form runs this statement", at: statement.range)
    }
}

extension Parser {
    /// `{`, statements a line each, `}`: the body of a loop or a timed block.
    /// Blocks inside blocks count towards the nesting limit like parentheses.
    mutating func parseBody(of what: String, at keyword: Token) throws(LoomError) -> ([Statement], Token) {
        let open = advance()
        try enter(at: keyword)
        defer { nesting -= 1 }
        var body: [Statement] = []
        while true {
            skipNewlines()
            if isSymbol(peek, "}") { break }
            guard peek.kind != .end else {
                throw LoomError(.syntax, "the body of `\(what)` is not closed; add `}` on a line of its own", at: open.range)
            }
            body.append(try parseStatement())
            guard atLineEnd || isSymbol(peek, "}") else {
                throw Parser.stray(peek, after: "the statement")
            }
        }
        return (body, advance())
    }
}

extension Evaluator {
    /// A block's statements; a line holding only a value shows it.
    func runBody(_ body: [Statement]) throws(LoomError) {
        for statement in body {
            if let shown = try run([statement]), case .expression = statement { show(shown) }
        }
    }
}
