import LoomCore
import LoomEngine
import LoomRender

/// What a statement found, kept under a name by `r = evaluate …`: its
/// figures as fields (`r.accuracy`), and the output it showed, shown again
/// by a line holding only its name.
public final class SessionResult: SessionObject {
    /// `evaluation of m on d.test`.
    public let title: String
    public let values: [(name: String, value: Value)]
    public let shown: [MimeBundle]

    init(_ title: String, _ values: [(name: String, value: Value)], shown: [MimeBundle]) {
        self.title = title
        self.values = values
        self.shown = shown
    }

    public static let kind = "result"
    public static let noun = "result"
    public var describe: String {
        title + ": " + values.map { "\($0.name) \($0.value.display)" }.joined(separator: ", ")
    }
    /// The displays it showed when it was made, shown again.
    public func display(as name: String, width: Int) -> [MimeBundle] { shown.isEmpty ? [line(as: name)] : shown }
    public func savedFile(as name: String) -> SavedFile? { nil }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }
    /// Its values and the displays it shows again (figures included).
    public var bytes: Int {
        values.reduce(0) { $0 + $1.name.utf8.count + $1.value.bytes }
            + shown.reduce(0) { $0 + $1.data.members.reduce(0) { $0 + ($1.value.stringValue?.utf8.count ?? 0) } }
    }
    public var fieldNames: [String] { values.map(\.name) }
    public func field(_ name: String) -> Value? { values.first { $0.name == name }?.value }
}

extension Evaluator {
    /// Shows each of `bundles` and returns the result holding them and `values`.
    func result(_ title: String, _ values: [(String, Value?)], showing bundles: [MimeBundle]) -> SessionResult {
        bundles.forEach(show)
        return SessionResult(title, values.compactMap { name, value in value.map { (name, $0) } }, shown: bundles)
    }

    /// `NAME = STATEMENT`: runs a statement that gives a result and keeps it.
    func keep(_ name: String, _ c: Command) throws(LoomError) {
        guard let run = Statements.resultHandlers[c.signature.title] else {
            let forms = Statements.bindings.filter { if case .result = $0.kind { return true } else { return false } }
                .map { "`\($0.signature.title)`" }
            throw LoomError(.type, "`\(c.signature.title)` gives no result to keep; `\(name) = …` keeps the results of "
                            + forms.joined(separator: ", "), at: c.range)
        }
        session.define(name, .object(try run(self, c)))
    }

    /// `NAME.FIELD` of an object: a model's `params`, a result's `accuracy`.
    func field(_ parts: [String], at range: SourceRange) throws(LoomError) -> Value? {
        guard parts.count >= 2 else { return nil }
        let owner = parts.dropLast().joined(separator: ".")
        // A list's summary: `runs.acc.mean` (a table's column), `ks.max` (a variable).
        if case .value(.list(let list))? = session[owner] { return try summary(of: list, owner, parts.last!, at: range) }
        if session[owner] == nil, parts.count >= 3, case .list(let list)? = try field(Array(parts.dropLast()), at: range) {
            return try summary(of: list, owner, parts.last!, at: range)
        }
        guard case .object(let object)? = session[owner] else { return nil }
        if let value = object.field(parts.last!) { return value }
        let fields = object.fieldNames
        throw LoomError(.name, "`\(owner)` (a \(object.kindNoun)) has no `\(parts.last!)`"
                        + (fields.isEmpty ? "" : "; it has " + fields.map { "`\($0)`" }.joined(separator: ", ")),
                        at: range, suggestion: closest(to: parts.last!, in: fields))
    }
}

extension Evaluator {
    /// A list's `mean`, `min`, `max` or `count`: percentages stay percentages.
    func summary(of list: ValueList, _ owner: String, _ name: String, at range: SourceRange) throws(LoomError) -> Value {
        let summaries = ["mean", "min", "max", "count"]
        guard summaries.contains(name) else {
            throw LoomError(.name, "`\(owner)` (a list) has no `\(name)`; it has " + summaries.map { "`\($0)`" }.joined(separator: ", "),
                            at: range, suggestion: closest(to: name, in: summaries))
        }
        if name == "count" { return .number(Double(list.items.count)) }
        var numbers: [Double] = []
        for item in list.items {
            guard let x = item.numeric else {
                throw LoomError(.type, "`\(owner).\(name)` needs numbers; `\(owner)` holds a \(item.typeName)", at: range)
            }
            numbers.append(x)
        }
        guard !numbers.isEmpty else { throw LoomError(.value, "`\(owner)` is empty: it has no \(name)", at: range) }
        let x = name == "mean" ? numbers.reduce(0, +) / Double(numbers.count) : name == "min" ? numbers.min()! : numbers.max()!
        let percentages = list.items.allSatisfy { if case .percent = $0 { return true } else { return false } }
        return percentages ? .percent(x) : .number(x)
    }
}

extension ModelState {
    public var fieldNames: [String] { ["params", "nonzero", "bytes", "epochs", "layers"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "params": return .number(Double(model.parameterCount))
        case "nonzero": return .number(Double(model.nonzeroParameters))
        case "bytes": return .number(Double(storedBytes.stored))
        case "epochs": return .number(Double(epochsTrained))
        case "layers": return .number(Double(model.blocks.count))
        default: return nil
        }
    }
}

extension SessionDataset {
    public var fieldNames: [String] { ["samples", "classes", "values"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "samples": return .number(Double(data.count))
        case "classes": return .number(Double(data.classes))
        case "values": return .number(Double(data.inputs.sampleSize))
        default: return nil
        }
    }
}

extension SessionDictionary {
    public var fieldNames: [String] { ["atoms", "error"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "atoms": return .number(Double(dictionary.count))
        case "error": return costs.last.map { .number($0) }
        default: return nil
        }
    }
}

extension SessionCodes {
    public var fieldNames: [String] { ["error", "nonzeros", "samples", "seconds"] }
    public func field(_ name: String) -> Value? {
        switch name {
        case "error": return .number(relativeError)
        case "nonzeros": return .number(meanNonzeros)
        case "samples": return .number(Double(codes.samples))
        case "seconds": return .number(seconds)
        default: return nil
        }
    }
}
