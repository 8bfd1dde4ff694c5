import LoomCore

/// A statement form and what runs it, side by side: one entry per form in the
/// tables of `Statements`, from which the parser, completion, inspection,
/// `help` and the reference read the signatures, and the evaluator the
/// handlers. A form with arguments declares them as fields bound to a
/// request (see `Field`); its handler receives the request filled.
struct StatementBinding: Sendable {
    typealias Handler = @Sendable (Evaluator, Command) throws(LoomError) -> Void
    /// A statement whose result `NAME = …` can keep; it shows its output itself.
    typealias ResultHandler = @Sendable (Evaluator, Command) throws(LoomError) -> SessionResult

    enum Kind: Sendable {
        /// Built: `handler` runs it.
        case handler(Handler)
        /// Built, and gives a result (`r = evaluate …`).
        case result(ResultHandler)
        /// A block form (`model … { }`), which reads and runs itself.
        case block(BlockForm)
    }

    /// The words of a line of the form, from its fields: a random valid one,
    /// or a parsed one read and written back. Nil for block forms.
    struct Lines: Sendable {
        /// Random valid values (names from `names`, by parameter), written.
        let draw: @Sendable (inout SplitMix64, [String: String?]) -> String
        let rewrite: @Sendable (Command, Evaluator) throws(LoomError) -> String
    }

    let signature: Signature
    let kind: Kind
    let lines: Lines?

    /// A form without arguments.
    static func bind(_ signature: Signature, _ run: @escaping @Sendable (Evaluator) throws(LoomError) -> Void) -> StatementBinding {
        form(signature, Blank(), []) { e, _ throws(LoomError) in try run(e) }
    }

    /// A form whose arguments `fields` read into a copy of `blank`, which `run` receives.
    static func bind<S: Sendable>(_ signature: Signature, _ blank: S, _ fields: [Field<S>],
                                  _ run: @escaping @Sendable (Evaluator, Request<S>) throws(LoomError) -> Void) -> StatementBinding {
        form(signature, blank, fields, run)
    }

    /// A form that gives a result `NAME = …` keeps.
    static func result<S: Sendable>(_ signature: Signature, _ blank: S, _ fields: [Field<S>],
                                    _ run: @escaping @Sendable (Evaluator, Request<S>) throws(LoomError) -> SessionResult) -> StatementBinding {
        var signature = signature
        signature.parameters = fields.map(\.parameter)
        return StatementBinding(signature: signature, kind: .result { e, c throws(LoomError) in try run(e, try fill(blank, fields, c, e)) },
                                lines: lines(signature, blank, fields))
    }

    static func block(_ form: BlockForm) -> StatementBinding {
        StatementBinding(signature: form.signature, kind: .block(form), lines: nil)
    }

    private static func form<S: Sendable>(_ signature: Signature, _ blank: S, _ fields: [Field<S>],
                                          _ run: @escaping @Sendable (Evaluator, Request<S>) throws(LoomError) -> Void) -> StatementBinding {
        var signature = signature
        signature.parameters = fields.map(\.parameter)
        return StatementBinding(signature: signature, kind: .handler { e, c throws(LoomError) in try run(e, try fill(blank, fields, c, e)) },
                                lines: lines(signature, blank, fields))
    }

    /// `c`'s arguments read into a copy of `blank`, field by field, in order.
    static func fill<S>(_ blank: S, _ fields: [Field<S>], _ c: Command, _ e: Evaluator) throws(LoomError) -> Request<S> {
        let a = Arguments(command: c, evaluator: e)
        var spec = blank
        for field in fields { try field.read(a, &spec) }
        return Request(filled: spec, command: c, fields: fields)
    }

    /// The writer and drawer of the form's lines: positional values always,
    /// options where they differ from their defaults.
    static func lines<S: Sendable>(_ signature: Signature, _ blank: S, _ fields: [Field<S>]) -> Lines {
        @Sendable func line(_ name: String, _ spec: S, _ given: [String: String?]) -> String {
            let head = [signature.keyword] + (signature.bindsName ? [name, "="] : []) + (signature.subword.map { [$0] } ?? [])
            return (head + fields.compactMap { field in
                let p = field.parameter
                guard let override = given[p.name] else {
                    // A positional value that is also an option's word (`encode … threshold`) is written by name.
                    let words = field.write(spec)
                    return p.positional && words.flatMap(signature.parameter(named:)) != nil ? words.map { "\(p.name) \($0)" } : words
                }
                return override.map { p.kind == .flag ? p.name : p.positional ? $0 : "\(p.name) \($0)" }
            }).joined(separator: " ")
        }
        return Lines(draw: { random, given in
            var spec = blank
            for field in fields { field.draw(&spec, &random) }
            return line(given["name"].flatMap { $0 } ?? "v\(random.below(100))", spec, given)
        }, rewrite: { c, e throws(LoomError) in
            let request = try fill(blank, fields, c, e)
            return line(request.defined, request.filled, [:])
        })
    }

    /// What runs the form as a statement of its own (a result is shown, not kept).
    var handler: Handler? {
        switch kind {
        case .handler(let run): return run
        case .result(let run): return StatementBinding.discarding(run)
        case .block: return nil
        }
    }

    static func discarding(_ run: @escaping ResultHandler) -> Handler {
        @Sendable func handle(_ e: Evaluator, _ c: Command) throws(LoomError) {
            let kept: SessionResult = try run(e, c)
            _ = kept
        }
        return handle
    }

    /// The block form the entry declares, if it is one.
    var block: BlockForm? {
        if case .block(let form) = kind { return form }
        return nil
    }
}

/// The request of a form without arguments.
struct Blank: Sendable {}
