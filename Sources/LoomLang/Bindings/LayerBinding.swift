import LoomEngine

/// A layer family as the language sees it: its signature (parsing, help,
/// completion, the reference), how a line's arguments become the engine's
/// spec, and how a spec is written back as a line (what `save` stores). The
/// engine declares the rest beside the layer (`LayerSpec`).
struct LayerBinding: Sendable {
    typealias Reader = @Sendable (Arguments) throws(LoomError) -> any LayerSpec
    typealias Writer = @Sendable (any LayerSpec) -> String?

    let signature: Signature
    let read: Reader
    /// The line for a spec of this family (without `as NAME`); nil for other families' specs.
    let write: Writer

    /// A built family whose lines become specs of type `S`.
    static func family<S: LayerSpec>(_ signature: Signature, read: @escaping @Sendable (Arguments) throws(LoomError) -> S,
                                     write: @escaping @Sendable (S) -> String?) -> LayerBinding {
        LayerBinding(signature: signature, read: { a throws(LoomError) in try read(a) },
                     write: { spec in (spec as? S).flatMap(write) })
    }
}
