import LoomCore
import LoomEngine
import LoomRender

/// Every layer a `model` block can hold, each family bound to its engine spec.
public enum Layers {
    static let name = Parameter("as", .newName, placeholder: "NAME", "a name for the layer (default: kind and position)")
    /// `share LAYER`, on the families with weights: the layer uses an earlier layer's
    /// parameters. Not a field of the spec: the model resolves it (`Sequential.add(_:sharing:)`).
    static let share = Parameter("share", .word, placeholder: "LAYER",
                                 "use an earlier layer's weights and biases, the same objects (same kind and shapes)")

    /// The first line of every model: one sample's shape. `defineModel` reads it.
    static let input = Signature("input", .layers, [Parameter("shape", .shape, required: true, positional: true, "one sample's shape")],
                                 summary: "The shape of the input: HxWxC for images, TxF for sequences.", example: "input 28x28x1")

    static let bindings: [LayerBinding] = [
        .family("dense", DenseSpec(units: 1, activation: .linear),
                summary: "A fully connected layer: y = g(Wx + b).", example: "dense 128 relu", [
            .integer("units", \.units, in: 1...1_000_000, positional: true, "output units"),
            activation(\.activation, default: .linear),
            .percent("sparse", \.sparsity, sparseDoc),
            .layerName("tied", \.tied, "use an earlier dense layer's kernel, transposed, with a bias of its own (a tied decoder)"),
            .optionalInteger("hashed", \.hashed, in: 1...1_000_000_000, placeholder: "R",
                             "draw the inputs×units weights from R real ones by a fixed hash (HashedNets)"),
            .flag("erk", \.erk, erkDoc),
            l2(\.l2),
        ], shares: true),
        .family("conv2d", Conv2DSpec(filters: 1, kernel: Window(1, 1), activation: .linear, stride: 1, padding: .valid),
                summary: "A 2-D convolution: the same filters at every position (parameter sharing).",
                example: "conv2d 32 3x3 relu", [
            .integer("filters", \.filters, in: 1...65536, positional: true, "output channels"),
            .window("kernel", \.kernel, "the filter size"),
            activation(\.activation, default: .linear),
            stride(\.stride),
            padding(\.padding),
            .percent("sparse", \.sparsity, sparseDoc),
            .flag("erk", \.erk, erkDoc),
            .integer("groups", \.groups, in: 1...65536, default: 1,
                     "input channels and filters split into G groups, each convolved on its own (G must divide both)"),
            l2(\.l2),
        ], shares: true),
        .family("depthwise", DepthwiseSpec(kernel: Window(1, 1)),
                summary: "A depthwise convolution: each input channel convolved with filters of its own "
                    + "(Keras's DepthwiseConv2D; conv2d with as many groups as channels).", example: "depthwise 3x3 relu", [
            .window("kernel", \.kernel, "the filter size"),
            .integer("multiplier", \.multiplier, in: 1...4096, default: 1, "filters per input channel"),
            activation(\.activation, default: .linear),
            stride(\.stride),
            padding(\.padding),
            l2(\.l2, "weight decay: the loss gains λ·Σw² over the kernel, not the bias (Keras's depthwise_regularizer L2(λ))"),
        ]),
        .family("separable", SeparableSpec(filters: 1, kernel: Window(1, 1)),
                summary: "A depthwise-separable convolution: depthwise, then a 1x1 convolution mixing the channels into "
                    + "the filters, one bias (Keras's SeparableConv2D).", example: "separable 32 3x3 relu", [
            .integer("filters", \.filters, in: 1...65536, positional: true, "output channels"),
            .window("kernel", \.kernel, "the depthwise filter size"),
            activation(\.activation, default: .linear),
            .integer("multiplier", \.multiplier, in: 1...4096, default: 1, "depthwise filters per input channel"),
            stride(\.stride),
            padding(\.padding),
            l2(\.l2, "weight decay: the loss gains λ·Σw² over the depthwise and the pointwise kernels, not the bias "
                   + "(Keras's depthwise_ and pointwise_regularizer L2(λ))"),
        ]),
        .family("local2d", Local2DSpec(filters: 1, kernel: Window(1, 1)),
                summary: "Locally connected: conv2d's connections with a kernel of its own at every position (no sharing).",
                example: "local2d 8 3x3 relu", [
            .integer("filters", \.filters, in: 1...65536, positional: true, "output channels"),
            .window("kernel", \.kernel, "the filter size"),
            activation(\.activation, default: .linear),
            .integer("stride", \.stride, in: 1...64, default: 1, "the step between windows"),
            .choice("padding", \.padding, default: .valid, "`same` keeps the spatial size"),
            l2(\.l2),
        ]),
        pooling("maxpool", .max, summary: "The maximum of each window."),
        pooling("avgpool", .average, summary: "The mean of each window."),
        .family("conv1d", Conv1DSpec(filters: 1, kernel: 1),
                summary: "A 1-D convolution over a sequence: the same filters at every position (sharing across positions).",
                example: "conv1d 16 3 relu", [
            .integer("filters", \.filters, in: 1...65536, positional: true, "output channels"),
            .integer("kernel", \.kernel, in: 1...4096, positional: true, placeholder: "K", "steps each filter spans"),
            activation(\.activation, default: .linear),
            .integer("stride", \.stride, in: 1...64, default: 1, "the step between windows"),
            .choice("padding", \.padding, default: .valid, "`same` keeps the number of steps"),
            l2(\.l2),
        ], shares: true),
        .family("local1d", Local1DSpec(filters: 1, kernel: 1),
                summary: "Locally connected over a sequence: conv1d's connections with a kernel of its own at every step.",
                example: "local1d 8 3 relu", [
            .integer("filters", \.filters, in: 1...65536, positional: true, "output channels"),
            .integer("kernel", \.kernel, in: 1...4096, positional: true, placeholder: "K", "steps each kernel spans"),
            activation(\.activation, default: .linear),
            .integer("stride", \.stride, in: 1...64, default: 1, "the step between windows"),
            .choice("padding", \.padding, default: .valid, "`same` keeps the number of steps"),
            l2(\.l2),
        ]),
        .family("maxpool1d", MaxPool1DSpec(size: 2, stride: nil),
                summary: "The maximum of each window of steps.", example: "maxpool1d 2", [
            .integer("size", \.size, in: 1...4096, positional: true, default: 2, "steps per window"),
            .optionalInteger("stride", \.stride, in: 1...64, placeholder: "N", "the step (default: the window)"),
        ]),
        .family("globalpool", GlobalPoolingSpec(mode: .max),
                summary: "Each feature's mean or maximum over all positions: closes a sequence (or image) model.",
                example: "globalpool max", [
            .choice("mode", \.mode, positional: true, "the mean (`avg`) or the maximum (`max`) of each feature"),
        ]),
        .family("flatten", FlattenSpec(), summary: "Flattens each sample to a vector.", example: "flatten", []),
        .family("reshape", ReshapeSpec(shape: [1]),
                summary: "The same values in a new shape: a flat output back into an image.", example: "reshape 28x28x1", [
            .value(Parameter("shape", .shape, required: true, positional: true,
                             "one sample's new shape, with as many values as the input"),
                   \.shape, default: nil, read: { a throws(LoomError) in try a.shape("shape") }, text: { Shape.text($0) },
                   draw: { random in (0...random.below(3)).map { _ in 1 + random.below(8) } }),
        ]),
        .family("batchnorm", BatchNormSpec(),
                summary: "Normalises each feature over the batch while training, and over its moving mean and variance "
                    + "when evaluating, then scales and shifts it (Keras's BatchNormalization).", example: "batchnorm", [
            .number("momentum", \.momentum, in: .belowOne, default: 0.99,
                    "the share of the moving mean and variance each training step keeps"),
            epsilon(\.epsilon),
        ]),
        .family("layernorm", LayerNormSpec(),
                summary: "Normalises each sample's features to mean 0 and variance 1, then scales and shifts them "
                    + "(Keras's LayerNormalization).", example: "layernorm", [
            epsilon(\.epsilon),
        ], shares: true),
        .family("dropout", DropoutSpec(rate: 0), summary: "Drops units at random while training.", example: "dropout 0.5", [
            .number("rate", \.rate, in: .belowOne, positional: true, placeholder: "F", "the share of units dropped in training"),
        ]),
    ] + RecurrentCells.all.map(recurrent) + [
        .family("threshold", ThresholdSpec(epsilon: 0),
                summary: "Keeps activations with |z| ≥ EPS, zeroes the rest.", example: "threshold 0.1", [
            .number("epsilon", \.epsilon, in: .nonNegative, positional: true, placeholder: "EPS", "the cut-off"),
        ]),
        .family("kwta", KWinnersSpec(k: .units(1)),
                summary: "k winners take all: keeps the k largest activations of each sample.", example: "kwta 10%", [
            .count("k", \.k, "winners kept per sample (per location of an image)"),
            .number("boost", \.boost, in: .nonNegative, default: 0,
                    "boosting strength: favours units that have won less than their share"),
            .optionalCount("inference", \.inference, "winners kept when evaluating and predicting (default: k)"),
            .flag("global", \.global, "on an image, k winners over all locations and channels"),
        ]),
        .family("activity", ActivitySpec(penalty: .l1, amount: 0),
                summary: "A penalty on the previous layer's output for sparse activity: L1 on its values, or (a sparse "
                    + "autoencoder's, on sigmoid units) the KL divergence of each unit's mean activation over the batch from RHO.",
                example: "activity l1 0.001", [
            .choice("penalty", \.penalty, positional: true,
                    "`l1`: λ·Σ|a|; `kl`: β·Σⱼ KL(ρ‖ρ̂ⱼ), ρ̂ⱼ unit j's mean over the batch (Ng's UFLDL notes; batches then train unsharded)"),
            .number("amount", \.amount, in: .nonNegative, positional: true, placeholder: "LAMBDA|RHO",
                    "l1: its weight λ; kl: the mean activation ρ each unit is drawn to, between 0 and 1"),
            .number("weight", \.weight, in: .nonNegative, default: 1, placeholder: "B", "multiplies the penalty (kl's β)"),
        ]),
        .family("lista", ListaSpec(steps: 1, from: ""),
                summary: "T unrolled ISTA steps whose two matrices and threshold are learned and shared by every step "
                    + "(LISTA, Gregor and LeCun 2010), started from a dictionary so that, untrained, it is ISTA.",
                example: "lista 3 from D alpha 0.1", [
            .integer("steps", \.steps, in: 1...1000, positional: true, placeholder: "T", "unrolled ISTA steps, all on the same weights"),
            .value(Parameter("from", .reference(.object(SessionDictionary.self)), required: true, placeholder: "DICT",
                             "the dictionary D it starts from: Wₑ = D, S = DDᵀ, θ = alpha/L (L = λₘₐₓ(DDᵀ), the step 1/L kept fixed)"),
                   \.from, default: nil, read: { a throws(LoomError) in try a.written("from").text }, text: { $0 },
                   draw: { random in "D\(random.below(3))" }),
            .number("alpha", \.alpha, in: .nonNegative, default: 0.1, placeholder: "A", "the L1 penalty the threshold starts from"),
        ]),
    ]

    static let sparseDoc = "a fixed random mask with this share of zero weights"
    static let erkDoc = "with `sparse P%`: P% over all the model's `erk` layers together, each layer's density by Erdős–Rényi-Kernel "
        + "(in proportion to the sum of its kernel's dimensions over their product: small layers denser)"

    /// Weight decay on a layer's kernel: Keras's `kernel_regularizer=L2(λ)`.
    static func l2<S>(_ path: WritableKeyPath<S, Float> & Sendable,
                      _ doc: String = "weight decay: the loss gains λ·Σw² over the kernel, not the bias (Keras's kernel_regularizer L2(λ))")
        -> Field<S> {
        .number("l2", path, in: .nonNegative, default: 0, placeholder: "LAMBDA", doc)
    }

    static func activation<S>(_ path: WritableKeyPath<S, ActivationFunction> & Sendable,
                              default value: ActivationFunction) -> Field<S> {
        .choice("activation", path, positional: true, default: value, "the activation")
    }

    /// The step between windows of a 2-D convolution.
    static func stride<S>(_ path: WritableKeyPath<S, Int> & Sendable) -> Field<S> {
        .integer("stride", path, in: 1...64, default: 1, "the step between windows")
    }

    /// A 2-D convolution's padding.
    static func padding<S>(_ path: WritableKeyPath<S, Conv2D.Padding> & Sendable) -> Field<S> {
        .choice("padding", path, default: .valid, "`same` keeps the spatial size")
    }

    static func epsilon<S>(_ path: WritableKeyPath<S, Float> & Sendable) -> Field<S> {
        .number("epsilon", path, in: .positive, default: 0.001, "added to the variance before its square root")
    }

    static func pooling(_ keyword: String, _ mode: Pooling2D.Mode, summary: String) -> LayerBinding {
        .family(keyword, PoolingSpec(mode: mode, size: Window(2, 2), stride: nil), summary: summary, example: "\(keyword) 2",
                owns: { $0.mode == mode }, [
            .window("size", \.size, default: Window(2, 2), "the window"),
            .optionalInteger("stride", \.stride, in: 1...64, placeholder: "N", "the step (default: the window)"),
        ])
    }

    static func recurrent(_ cell: any RecurrentCell.Type) -> LayerBinding {
        .family(cell.kind, RecurrentSpec(cell: cell, units: 1), summary: cell.summary, example: "\(cell.kind) 50 tanh",
                owns: { $0.cell == cell }, [
            .integer("units", \.units, in: 1...65536, positional: true, "hidden units"),
            activation(\.activation, default: .tanh),
            .flag("sequences", \.returnsSequences, "return the whole sequence, not just the last step"),
            .flag("bidirectional", \.bidirectional, "a second cell reads the sequence backwards; the outputs are concatenated"),
            l2(\.l2, "weight decay: the loss gains λ·Σw² over the kernel and the recurrent kernel, not the bias "
                   + "(Keras's kernel_ and recurrent_regularizer L2(λ))"),
        ], shares: true)
    }

    public static let all: [Signature] = [input] + bindings.map(\.signature)

    public static func form(of keyword: String) -> Signature? {
        all.first { $0.keyword == keyword }
    }

    public static let keywords: [String] = all.map(\.keyword)
    static let keywordSet = Set(keywords)

    /// The binding of the family `keyword` names.
    static func binding(_ keyword: String) -> LayerBinding? {
        bindings.first { $0.signature.keyword == keyword }
    }

    /// The engine spec of one layer line (`conv2d 3 2x2 relu`), read as a
    /// model block reads it.
    public static func spec(_ line: String) throws(LoomError) -> any LayerSpec {
        guard case .model(_, let layers, _)? = try Parser.parse("model m {\n  \(line)\n}").first, let layer = layers.first else {
            throw LoomError(.syntax, "`\(line)` is not one layer line")
        }
        return try Evaluator(session: Session(), output: DiscardedOutput()).layerSpec(layer)
    }

    /// The layer a line's `share LAYER` names, nil when it has none.
    public static func sharedLayer(_ line: String) -> String? {
        guard case .model(_, let layers, _)? = try? Parser.parse("model m {\n  \(line)\n}").first else { return nil }
        return layers.first?.argument(share.name)?.name?.joined(separator: ".")
    }

    /// A spec as a model line: its family's writer.
    public static func definition(of spec: any LayerSpec) -> String? {
        for binding in bindings { if let line = binding.write(spec) { return line } }
        return nil
    }

    /// A random spec of the family `keyword`, drawn from its fields (small
    /// sizes): what the round-trip test and the model fuzzer write.
    public static func randomSpec(_ keyword: String, random: inout SplitMix64) -> (any LayerSpec)? {
        binding(keyword)?.draw(&random)
    }

    /// Whether two specs are of one family with equal fields.
    public static func same(_ a: any LayerSpec, _ b: any LayerSpec) -> Bool {
        bindings.contains { $0.same(a, b) }
    }
}
