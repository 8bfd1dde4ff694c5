import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

/// Runs the statements of one cell against the session. A failing statement
/// throws; what earlier statements defined stays.
final class Evaluator {
    let session: Session
    /// Where output goes; `quiet { … }` swaps in a sink that drops displays.
    var output: OutputSink
    /// The name the running statement defines (`data d = …`), whose old
    /// object's memory is freed by the replacement; nil for other statements.
    var defining: String? {
        get { session.memory.replacing }
        set { session.memory.replacing = newValue }
    }

    /// Whether the user asked to stop: what long loops in the engine poll.
    static let interrupted: @Sendable () -> Bool = { Interruption.local }

    init(session: Session, output: OutputSink) {
        self.session = session
        self.output = output
    }

    /// Runs `statements`; returns the value of a final bare expression.
    func run(_ statements: [Statement]) throws(LoomError) -> MimeBundle? {
        var result: MimeBundle?
        // What a statement replaces counts as freed only while it runs.
        defer { defining = nil }
        for statement in statements {
            result = nil
            // A cell of a million statements stops between two of them.
            if Interruption.agreed() {
                throw LoomError(.interrupted, "stopped by the user before this statement", at: statement.range)
            }
            defining = statement.definedName
            switch statement {
            case .assignment(let name, let expr, _):
                let value = try evaluate(expr)
                try checkMemory(value, named: name, at: statement.range)
                session.define(name, .value(value))
            case .expression(let expr):
                let displays = try self.displays(of: expr)
                displays.dropLast().forEach(show)
                result = displays.last
            case .command(let command):
                try run(command)
            case .keep(let name, let command, _):
                try keep(name, command)
            case .model, .loop, .timed, .quiet:
                // A block: the form that read it runs it.
                try Blocks.run(statement, in: self)
            }
        }
        return result
    }

    // MARK: commands

    /// Runs a statement through its form's handler (see `Statements`).
    func run(_ c: Command) throws(LoomError) {
        // Every form but the blocks, which the parser reads through their own form, has a handler.
        guard let handler = Statements.handlers[c.signature.title] else {
            throw LoomError(.syntax, "`\(c.signature.keyword)` starts a line of its own, with its block", at: c.range)
        }
        try handler(self, c)
    }

    func show(_ bundle: MimeBundle) { output.display(bundle, displayID: nil, update: false) }

    /// What a line holding only `expr` shows, and `show NAME`: an object's
    /// displays (the object says what they are), else the value.
    func displays(of expr: Expr) throws(LoomError) -> [MimeBundle] {
        if let name = expr.name?.joined(separator: "."), case .object(let object)? = session[name] {
            return object.display(as: name, width: session.width)
        }
        return [MimeBundle(text: try evaluate(expr).display)]
    }

    // MARK: expressions

    func unknownName(_ name: String, at range: SourceRange) -> LoomError {
        if Statements.keywords.contains(name) || Layers.keywords.contains(name) {
            return LoomError(.name, "`\(name)` is a statement, not a value: it goes at the start of a line (`help \(name)`)",
                             at: range)
        }
        let known = session.names + Statements.keywords
        return LoomError(.name, "unknown name `\(name)`", at: range, suggestion: closest(to: name, in: known))
    }

    func evaluate(_ e: Expr) throws(LoomError) -> Value {
        switch e.kind {
        case .number(let x): return .number(x)
        case .percent(let p): return .percent(p / 100)
        case .string(let s): return .string(s)
        case .shape(let dims): return .shape(dims)
        case .flag: return .number(1)
        case .list(let items):
            guard let first = items.first else { return .string("") }
            return try evaluate(first)
        case .array(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item)) }
            return .list(try checked(ValueList(values), at: e.range))
        case .name(let parts):
            return try value(of: parts, at: e.range)
        case .negate(let inner):
            let v = try evaluate(inner)
            switch v {
            case .number(let x): return .number(-x)
            case .percent(let p): return .percent(-p)
            default: throw LoomError(.type, "cannot negate a \(v.typeName)", at: e.range)
            }
        case .chain(let first, let rest):
            return try evaluateChain(first, rest)
        case .column(_, let value):
            return try evaluate(value)
        }
    }

    /// `a + b - c …`, one flat chain, folded left to right in a loop: a
    /// 200,000-term sum takes no more stack than one term. A string grows
    /// in place, so a long chain of strings costs its length, not its square.
    @inline(never)
    func evaluateChain(_ first: Expr, _ rest: [Expr.Operation]) throws(LoomError) -> Value {
        var value = try evaluate(first)
        for (n, step) in rest.enumerated() {
            if n % 4096 == 4095, Interruption.local {
                throw LoomError(.interrupted, "stopped by the user while the expression was evaluated", at: step.operand.range)
            }
            let operand = try evaluate(step.operand)
            if step.op == "+", case .string(var text) = value {
                value = .number(0)  // lets `text` be the only owner of its buffer
                let addition = operand.display
                try checkJoining(text, addition, at: first.range.through(step.operand.range))
                text += addition
                value = .string(text)
            } else {
                value = try arithmetic(step.op, value, operand, at: first.range.through(step.operand.range))
            }
        }
        return value
    }

    /// `list` if it is within the bounds every list keeps (depth, values,
    /// the session's memory), which keep every walk over it short.
    func checked(_ list: ValueList, at range: SourceRange) throws(LoomError) -> ValueList {
        if list.depth > ValueList.maximumDepth {
            throw LoomError(.value, "lists nest at most \(ValueList.maximumDepth) deep (lists inside lists); this one would be \(list.depth)",
                            at: range)
        }
        if list.values > ValueList.maximumValues {
            throw LoomError(.value, "a list holds at most \(NumberFormat.grouped(ValueList.maximumValues)) values, counting those of "
                            + "the lists inside it each time they appear; this one would hold \(NumberFormat.grouped(list.values))", at: range)
        }
        try checkMemory(bytes: list.bytes, what: "this list, counting the lists inside it each time they appear,", at: range)
        return list
    }

    /// What a name holds, or an object's field (`m.params`). Kept out of
    /// `evaluate`, whose frame is paid once per level of a deep expression.
    @inline(never)
    func value(of parts: [String], at range: SourceRange) throws(LoomError) -> Value {
        let name = parts.joined(separator: ".")
        guard let item = session[name] else {
            if let value = try field(parts, at: range) { return value }
            throw unknownName(name, at: range)
        }
        guard case .value(let v) = item else {
            throw LoomError(.type, "`\(name)` is a \(item.kindNoun), not a value (a line holding only `\(name)` shows it)",
                            at: range)
        }
        return v
    }

    func arithmetic(_ op: Character, _ a: Value, _ b: Value, at range: SourceRange) throws(LoomError) -> Value {
        if op == "+", case .string(let x) = a { return .string(try joined(x, b.display, at: range)) }
        if op == "+", case .string(let y) = b { return .string(try joined(a.display, y, at: range)) }
        guard let x = a.numeric, let y = b.numeric else {
            throw LoomError(.type, "cannot apply `\(op)` to a \(a.typeName) and a \(b.typeName)", at: range)
        }
        switch op {
        case "+": return .number(x + y)
        case "-": return .number(x - y)
        case "*": return .number(x * y)
        default:
            guard y != 0 else { throw LoomError(.value, "division by zero", at: range) }
            return .number(x / y)
        }
    }
}
