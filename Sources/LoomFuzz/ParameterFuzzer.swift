import LoomCore
import LoomLang
import LoomNotebook

/// `loom run -p NAME VALUE` checked against the parser: a parameter is either
/// refused, or its injected cell is exactly one assignment to NAME whose value
/// is VALUE — the string VALUE, scalar for scalar, or VALUE itself read as a
/// Loom literal (a number, a percentage, a list of them or of strings).
public enum ParameterFuzzer {
    public enum Outcome: Equatable, Sendable {
        case refused
        case exact
        /// The injected cell says something else: what, and the cell.
        case violation(String)
    }

    /// The words `loom run` keeps from naming a parameter.
    static let reserved = Statements.wordsNoVariableMayUse

    public static func check(name: String, value: String) -> Outcome {
        guard let source = try? Parameters.source([(name, value)], reserved: reserved) else { return .refused }
        let statements: [Statement]
        do { statements = try Parser.parse(source) } catch { return .violation("the cell does not parse (\(error)):\n\(source)") }
        guard statements.count == 1, case .assignment(let assigned, let expression, _) = statements[0] else {
            return .violation("\(statements.count) statements, not one assignment:\n\(source)")
        }
        guard assigned.unicodeScalars.elementsEqual(name.unicodeScalars) else {
            return .violation("assigns `\(assigned)`, not `\(name)`:\n\(source)")
        }
        if case .string(let text) = expression.kind {
            return text.unicodeScalars.elementsEqual(value.unicodeScalars) ? .exact : .violation("the string differs:\n\(source)")
        }
        // Not a string: the value must have been a literal already, read the same way.
        guard isLiteral(expression), let written = try? Parser.parse("x = " + value), written.count == 1,
              case .assignment(_, let original, _) = written[0], same(original, expression) else {
            return .violation("the value is not the string given nor that literal:\n\(source)")
        }
        return .exact
    }

    /// Numbers, percentages, strings and lists of them; a sign before a number.
    static func isLiteral(_ e: Expr) -> Bool {
        switch e.kind {
        case .number, .percent, .string: return true
        case .negate(let inner):
            switch inner.kind {
            case .number, .percent: return true
            default: return false
            }
        case .array(let items): return items.allSatisfy(isLiteral)
        default: return false
        }
    }

    /// The same tree, wherever it was written; strings compared scalar for scalar.
    static func same(_ a: Expr, _ b: Expr) -> Bool {
        switch (a.kind, b.kind) {
        case (.number(let x), .number(let y)), (.percent(let x), .percent(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.negate(let x), .negate(let y)): return same(x, y)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        default: return false
        }
    }

    /// Fuzzed bytes as a parameter: before the first 0 byte the name (`x`
    /// when there is none), after it the value.
    public static func check(_ bytes: [UInt8]) -> Outcome {
        guard let zero = bytes.firstIndex(of: 0) else { return check(name: "x", value: String(decoding: bytes, as: UTF8.self)) }
        return check(name: String(decoding: bytes[..<zero], as: UTF8.self),
                     value: String(decoding: bytes[(zero + 1)...], as: UTF8.self))
    }

    /// Pieces that have broken escaping before: quotes and backslashes, line
    /// ends, a prepended mark that joins the next character (U+0600), joiners
    /// and combining marks, list punctuation, numbers, statement words.
    static let pieces = ["\"", "'", "\\", "\n", "\r", "\r\n", "\t", "\u{0600}", "\u{0301}", "\u{200D}", "\u{2028}", "\u{85}",
                         "\u{0}", "\u{1B}", "[", "]", ",", " ", "#", "=", "%", "-", ".", "e", "5", "10%", "1e-3", "x",
                         "print \"INJECTED\"", "train", "é", "👩‍👩‍👧", "\\n", "{", "}", "\u{0345}"]

    /// `count` seeded random parameters; the violations found.
    public static func random(count: Int, seed: UInt64) -> [String] {
        var random = SplitMix64(seed: seed)
        var violations: [String] = []
        func text(_ n: Int) -> String { (0..<n).map { _ in pieces[random.below(pieces.count)] }.joined() }
        for _ in 0..<count {
            var value = text(random.below(8))
            if random.below(3) == 0 { value = "[" + value + "]" }
            let name = random.below(4) == 0 ? "x" + text(random.below(3)) : "x"
            if case .violation(let what) = check(name: name, value: value) { violations.append(what) }
        }
        return violations
    }
}
