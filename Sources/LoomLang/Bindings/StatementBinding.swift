/// A statement form and what runs it, side by side: one entry per form in the
/// tables of `Statements`, from which the parser, completion, inspection,
/// `help` and the reference read the signatures, and the evaluator the
/// handlers.
struct StatementBinding: Sendable {
    typealias Handler = @Sendable (Evaluator, Arguments) throws(LoomError) -> Void

    enum Kind: Sendable {
        /// Built: `handler` runs it.
        case handler(Handler)
        /// A block the parser turns into a statement of its own (`model … { }`).
        case block
    }

    let signature: Signature
    let kind: Kind

    static func bind(_ signature: Signature, _ handler: @escaping Handler) -> StatementBinding {
        StatementBinding(signature: signature, kind: .handler(handler))
    }

    static func block(_ signature: Signature) -> StatementBinding {
        StatementBinding(signature: signature, kind: .block)
    }
}
