/// What a statement's handler receives: its request filled and checked by
/// the form's fields (`a.epochs`), with where each argument was written
/// (`a.range(of: \.monitor)`), so a handler names no argument by a string.
@dynamicMemberLookup
struct Request<Spec> {
    let filled: Spec
    let command: Command
    let fields: [Field<Spec>]

    subscript<V>(dynamicMember path: KeyPath<Spec, V>) -> V { filled[keyPath: path] }

    var range: SourceRange { command.range }
    var signature: Signature { command.signature }

    /// The name `KEYWORD NAME = …` defines (`data d = …`).
    var defined: String { command.argument("name")?.name?.joined(separator: ".") ?? "" }

    /// Whether the line gave the field bound to `path` (an option left out takes its default).
    func given(_ path: PartialKeyPath<Spec>) -> Bool { parameter(path).map { command.argument($0) != nil } ?? false }

    /// Where the argument of the field bound to `path` was written; the statement's range when it was not.
    func range(of path: PartialKeyPath<Spec>) -> SourceRange {
        parameter(path).flatMap { command.argument($0)?.range } ?? command.range
    }

    /// Where item `index` of the list given for the field bound to `path` was
    /// written (`keep epochs 1 9`'s `9`); the whole argument's range when there is no such item.
    func range(of path: PartialKeyPath<Spec>, item index: Int) -> SourceRange {
        guard let name = parameter(path), case .list(let items)? = command.argument(name)?.kind,
              items.indices.contains(index) else { return range(of: path) }
        return items[index].range
    }

    /// The value of an option that another makes necessary (`show table … x COL` needs `y COL`).
    func required<V>(_ path: KeyPath<Spec, V?>) throws(LoomError) -> V {
        guard let value = filled[keyPath: path] else {
            throw LoomError(.syntax, "`\(signature.title)` needs \(parameter(path) ?? "more")", at: range)
        }
        return value
    }

    /// A whole number already read within its declared bounds, checked
    /// against a range only the session knows (a sample of these codes).
    func integer(_ path: KeyPath<Spec, Int?>, within limit: ClosedRange<Int>) throws(LoomError) -> Int? {
        guard let n = filled[keyPath: path] else { return nil }
        guard limit.contains(n) else {
            throw LoomError(.value, "\(parameter(path) ?? "it") must be between \(limit.lowerBound) and \(limit.upperBound), not \(n)",
                            at: range(of: path))
        }
        return n
    }

    /// The name of the parameter bound to `path`, as messages write it.
    func optionName(of path: AnyKeyPath) -> String { parameter(path) ?? "" }

    private func parameter(_ path: AnyKeyPath) -> String? { fields.first { $0.holds(path) }?.parameter.name }
}
