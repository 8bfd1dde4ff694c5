import LoomCore
import LoomEngine

/// A layer family as the language sees it: its keyword and its fields, each
/// bound to a property of the engine's spec (see `Field`). From that one
/// declaration come the signature (parsing, help, completion, the
/// reference), reading a line into a spec, writing a spec back as a line
/// (what `save` stores), and random valid specs (the round-trip test, the
/// model fuzzer). The engine declares the rest beside the layer (`LayerSpec`).
struct LayerBinding: Sendable {
    let signature: Signature
    /// How the model names a layer of this family given no `as NAME` (`conv` for conv2d: conv1, conv2, …).
    let namePrefix: String
    let read: @Sendable (Arguments) throws(LoomError) -> any LayerSpec
    /// The line for a spec of this family (without `as NAME`); nil for other families' specs.
    let write: @Sendable (any LayerSpec) -> String?
    /// A random spec the family's fields allow, with small sizes.
    let draw: @Sendable (inout SplitMix64) -> any LayerSpec
    /// Whether two specs of this family are the same (false for other families').
    let same: @Sendable (any LayerSpec, any LayerSpec) -> Bool

    /// The family `keyword`, whose lines start from `blank` and set `fields`
    /// in order. `owns` tells its specs from those of families sharing the
    /// spec type (`maxpool` and `avgpool` are both `PoolingSpec`s); a family
    /// with weights `shares` (takes `share LAYER`).
    static func family<S: LayerSpec & Equatable>(_ keyword: String, _ blank: S, summary: String, example: String,
                                                 owns: @escaping @Sendable (S) -> Bool = { _ in true },
                                                 _ fields: [Field<S>], shares: Bool = false) -> LayerBinding {
        let common = shares ? [Layers.share, Layers.name] : [Layers.name]
        let signature = Signature(keyword, .layers, fields.map(\.parameter) + common, summary: summary, example: example)
        @Sendable func mine(_ spec: any LayerSpec) -> S? { (spec as? S).flatMap { owns($0) ? $0 : nil } }
        return LayerBinding(
            signature: signature,
            namePrefix: blank.blockPrefix,
            read: { a throws(LoomError) in
                var spec = blank
                for field in fields { try field.read(a, &spec) }
                return spec
            },
            write: { spec in
                mine(spec).map { s in ([keyword] + fields.compactMap { $0.write(s) }).joined(separator: " ") }
            },
            draw: { random in
                var spec = blank
                for field in fields { field.draw(&spec, &random) }
                return spec
            },
            same: { a, b in mine(a).map { $0 == mine(b) } ?? false })
    }
}
