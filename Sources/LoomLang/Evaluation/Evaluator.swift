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
    let output: OutputSink

    init(session: Session, output: OutputSink) {
        self.session = session
        self.output = output
    }

    /// Runs `statements`; returns the value of a final bare expression.
    func run(_ statements: [Statement]) throws(LoomError) -> MimeBundle? {
        var result: MimeBundle?
        for statement in statements {
            result = nil
            switch statement {
            case .assignment(let name, let expr, _):
                session.define(name, .value(try evaluate(expr)))
            case .expression(let expr):
                // A bare name of a data set or model shows what it holds.
                if let name = expr.name?.joined(separator: "."), let item = session[name], !item.isValue {
                    result = MimeBundle(text: "\(name): \(item.kindName), \(item.describe)")
                } else {
                    result = MimeBundle(text: try evaluate(expr).display)
                }
            case .command(let command):
                try run(command)
            case .model(let name, let layers, let range):
                try defineModel(name: name, layers: layers, range: range)
            }
        }
        return result
    }

    // MARK: commands

    func run(_ c: Command) throws(LoomError) {
        switch c.signature.title {
        case "print": output.stream(.stdout, try line(c))
        case "warn": output.stream(.stderr, try line(c))
        case "seed":
            let n = try integer(c, "n")
            session.random = RandomGenerator(seed: UInt64(bitPattern: Int64(n)))
        case "help":
            let topic = c.argument("topic")?.name?.joined(separator: ".")
            output.display(try Help.bundle(for: topic, width: session.width, range: c.argument("topic")?.range),
                           displayID: nil, update: false)
            if topic == "plots" {
                for bundle in Help.plotExamples(width: session.width, svg: session.plotStyle == .svg) {
                    output.display(bundle, displayID: nil, update: false)
                }
            }
        case "list":
            output.display(listing(), displayID: nil, update: false)
        case "delete":
            let expr = c.argument("name")!
            let name = expr.name!.joined(separator: ".")
            guard session.delete(name) else { throw unknownName(name, at: expr.range) }
        case "reset": session.reset()
        case "set plots":
            session.plotStyle = PlotStyle(rawValue: c.argument("style")!.name![0]) ?? .text
        case "set width":
            let n = try integer(c, "columns")
            guard (20...1000).contains(n) else {
                throw LoomError(.value, "width must be between 20 and 1000 columns, not \(n)", at: c.argument("columns")?.range)
            }
            session.width = n
        case "set threads":
            let n = try integer(c, "n")
            guard (1...256).contains(n) else {
                throw LoomError(.value, "threads must be between 1 and 256, not \(n)", at: c.argument("n")?.range)
            }
            session.threads = n
            Parallel.setThreads(n)
        case "set memory":
            session.memoryLimit = try integer(c, "mib", default: 0, in: 16...1_048_576) * 1_048_576
        case "sleep": try sleep(seconds: try number(c, "seconds"), at: c.range)
        case "clear": output.clearOutput(wait: false)
        case "data glyphs": try makeGlyphs(c)
        case "data csv", "data idx", "data npy": try loadData(c)
        case "split": try split(c)
        case "summary": try summary(c)
        case "train": try train(c)
        case "evaluate": show(try evaluate(c))
        case "predict": show(try predict(c))
        case "show weights": show(try showWeights(c))
        case "show filters": show(try showFilters(c))
        case "show histogram": show(try showHistogram(c))
        case "show sparsity": show(try showSparsity(c))
        case "save": try save(c)
        case "load": try load(c)
        default:
            throw LoomError(.unavailable, "`\(c.signature.title)` is not available yet in this version of Loom",
                            at: c.range)
        }
    }

    func show(_ bundle: MimeBundle) { output.display(bundle, displayID: nil, update: false) }

    func line(_ c: Command) throws(LoomError) -> String {
        guard case .list(let items)? = c.argument("values")?.kind else { return "\n" }
        var parts: [String] = []
        for item in items { parts.append(try evaluate(item).display) }
        return parts.joined(separator: " ") + "\n"
    }

    /// Sleeps in short steps, checking the interrupt flag between them. A
    /// sleep of more than a second shows its progress, updated in place.
    func sleep(seconds: Double, at range: SourceRange) throws(LoomError) {
        guard seconds.isFinite, seconds >= 0, seconds <= 86_400 else {
            throw LoomError(.value, "sleep takes 0 to 86400 seconds", at: range)
        }
        let steps = Int((seconds * 100).rounded())
        var bar = ProgressBar(label: "sleep", total: steps, unit: "step")
        let progress = seconds > 1 ? ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width) : nil
        progress?.show(bar, force: true)
        for step in 0..<steps {
            if interruptFlag.load(ordering: .relaxed) { throw LoomError(.interrupted, "interrupted by the user", at: range) }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
            bar.completed = step + 1
            bar.elapsed = Double(step + 1) / 100
            progress?.show(bar, force: step + 1 == steps)
        }
        if interruptFlag.load(ordering: .relaxed) { throw LoomError(.interrupted, "interrupted by the user", at: range) }
    }

    func listing() -> MimeBundle {
        var table = Table(columns: [.init("name"), .init("kind"), .init("value")])
        for name in session.names {
            guard let item = session[name] else { continue }
            table.append([name, item.kindName, item.describe])
        }
        if session.names.isEmpty { return MimeBundle(text: "Nothing defined yet.") }
        return table.bundle(width: session.width)
    }

    // MARK: expressions

    func unknownName(_ name: String, at range: SourceRange) -> LoomError {
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
        case .name(let parts):
            let name = parts.joined(separator: ".")
            guard let item = session[name] else { throw unknownName(name, at: e.range) }
            guard case .value(let v) = item else {
                throw LoomError(.type, "`\(name)` is a \(item.kindNoun), not a value (a line holding only `\(name)` shows it)",
                                at: e.range)
            }
            return v
        case .negate(let inner):
            let v = try evaluate(inner)
            switch v {
            case .number(let x): return .number(-x)
            case .percent(let p): return .percent(-p)
            default: throw LoomError(.type, "cannot negate a \(v.typeName)", at: e.range)
            }
        case .binary(let op, let l, let r):
            return try arithmetic(op, try evaluate(l), try evaluate(r), at: e.range)
        }
    }

    func arithmetic(_ op: Character, _ a: Value, _ b: Value, at range: SourceRange) throws(LoomError) -> Value {
        if op == "+", case .string(let x) = a { return .string(x + b.display) }
        if op == "+", case .string(let y) = b { return .string(a.display + y) }
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

    // MARK: typed arguments

    func number(_ c: Command, _ name: String) throws(LoomError) -> Double {
        let expr = c.argument(name)!
        guard let x = try evaluate(expr).numeric, x.isFinite else {
            throw LoomError(.type, "\(name) must be a number", at: expr.range)
        }
        return x
    }

    /// An optional whole-number option, `fallback` when absent, checked against `range`.
    func integer(_ c: Command, _ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(LoomError) -> Int {
        guard c.argument(name) != nil else { return fallback }
        let n = try integer(c, name)
        guard range.contains(n) else {
            throw LoomError(.value, "\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(n)",
                            at: c.argument(name)?.range)
        }
        return n
    }

    func integer(_ c: Command, _ name: String) throws(LoomError) -> Int {
        let expr = c.argument(name)!
        let v = try evaluate(expr)
        guard case .number(let x) = v, x == x.rounded(), abs(x) < 9e15 else {
            throw LoomError(.type, "\(name) must be a whole number, not \(v.display)", at: expr.range)
        }
        return Int(x)
    }
}
