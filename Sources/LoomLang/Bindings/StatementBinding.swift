/// A statement form and what runs it, side by side: one entry per form in the
/// tables of `Statements`, from which the parser, completion, inspection,
/// `help` and the reference read the signatures, and the evaluator the
/// handlers.
struct StatementBinding: Sendable {
    typealias Handler = @Sendable (Evaluator, Arguments) throws(LoomError) -> Void
    /// A statement whose result `NAME = …` can keep; it shows its output itself.
    typealias ResultHandler = @Sendable (Evaluator, Arguments) throws(LoomError) -> SessionResult

    enum Kind: Sendable {
        /// Built: `handler` runs it.
        case handler(Handler)
        /// Built, and gives a result (`r = evaluate …`).
        case result(ResultHandler)
        /// A block form (`model … { }`), which reads and runs itself.
        case block(BlockForm)
    }

    let signature: Signature
    let kind: Kind

    static func bind(_ signature: Signature, _ handler: @escaping Handler) -> StatementBinding {
        StatementBinding(signature: signature, kind: .handler(handler))
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
        @Sendable func handle(_ e: Evaluator, _ a: Arguments) throws(LoomError) {
            let kept: SessionResult = try run(e, a)
            _ = kept
        }
        return handle
    }

    static func result(_ signature: Signature, _ handler: @escaping ResultHandler) -> StatementBinding {
        StatementBinding(signature: signature, kind: .result(handler))
    }

    static func block(_ form: BlockForm) -> StatementBinding {
        StatementBinding(signature: form.signature, kind: .block(form))
    }

    /// The block form the entry declares, if it is one.
    var block: BlockForm? {
        if case .block(let form) = kind { return form }
        return nil
    }
}
