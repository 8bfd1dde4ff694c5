import LoomCore
import LoomEngine
import LoomRender

/// Every layer a `model` block can hold, each family bound to its engine spec.
public enum Layers {
    static let name = Parameter("as", .newName, placeholder: "NAME", "a name for the layer (default: kind and position)")
    static let sparse = Parameter("sparse", .fraction, placeholder: "P%", "a fixed random mask with this share of zero weights")
    static func activation(default value: ActivationFunction) -> Parameter {
        Parameter("activation", .choice(of: ActivationFunction.self), positional: true, default: value.rawValue, "the activation")
    }

    /// The first line of every model: one sample's shape. `defineModel` reads it.
    static let input = Signature("input", .layers, [Parameter("shape", .shape, required: true, positional: true, "one sample's shape")],
                                 summary: "The shape of the input: HxWxC for images, TxF for sequences.", example: "input 28x28x1")

    static let bindings: [LayerBinding] = [
        .family(Signature("dense", .layers, [
            Parameter("units", .integer, required: true, positional: true, "output units"),
            activation(default: .linear), sparse, name,
        ], summary: "A fully connected layer: y = g(Wx + b).", example: "dense 128 relu"),
        read: { a throws(LoomError) in
            DenseSpec(units: try a.integer("units", in: 1...1_000_000), activation: try a.choice("activation", ActivationFunction.self),
                      sparsity: try a.optionalNumber("sparse"))
        }, write: { "dense \($0.units) \($0.activation.rawValue)" + Layers.sparseText($0.sparsity) }),

        .family(Signature("conv2d", .layers, [
            Parameter("filters", .integer, required: true, positional: true, "output channels"),
            Parameter("kernel", .shape, required: true, positional: true, "the filter size"),
            activation(default: .linear),
            Parameter("stride", .integer, default: "1", "the step between windows"),
            Parameter("padding", .choice(of: Conv2D.Padding.self), default: "valid", "`same` keeps the spatial size"),
            sparse, name,
        ], summary: "A 2-D convolution: the same filters at every position (parameter sharing).",
        example: "conv2d 32 3x3 relu"),
        read: { a throws(LoomError) in
            Conv2DSpec(filters: try a.integer("filters", in: 1...65536), kernel: try a.window("kernel"),
                       activation: try a.choice("activation", ActivationFunction.self), stride: try a.integer("stride", in: 1...64),
                       padding: try a.choice("padding", Conv2D.Padding.self), sparsity: try a.optionalNumber("sparse"))
        }, write: { s in
            "conv2d \(s.filters) \(s.kernel.text) \(s.activation.rawValue) stride \(s.stride) padding \(s.padding.rawValue)"
                + Layers.sparseText(s.sparsity)
        }),

        pooling("maxpool", .max, summary: "The maximum of each window."),
        pooling("avgpool", .average, summary: "The mean of each window."),

        .family(Signature("conv1d", .layers, [
            Parameter("filters", .integer, required: true, positional: true, "output channels"),
            Parameter("kernel", .integer, required: true, positional: true, placeholder: "K", "steps each filter spans"),
            activation(default: .linear),
            Parameter("stride", .integer, default: "1", "the step between windows"),
            Parameter("padding", .choice(of: Conv2D.Padding.self), default: "valid", "`same` keeps the number of steps"),
            name,
        ], summary: "A 1-D convolution over a sequence: the same filters at every position (sharing across positions).",
        example: "conv1d 16 3 relu"),
        read: { a throws(LoomError) in
            Conv1DSpec(filters: try a.integer("filters", in: 1...65536), kernel: try a.integer("kernel", in: 1...4096),
                       activation: try a.choice("activation", ActivationFunction.self), stride: try a.integer("stride", in: 1...64),
                       padding: try a.choice("padding", Conv2D.Padding.self))
        }, write: { s in
            "conv1d \(s.filters) \(s.kernel) \(s.activation.rawValue) stride \(s.stride) padding \(s.padding.rawValue)"
        }),

        .family(Signature("maxpool1d", .layers, [
            Parameter("size", .integer, positional: true, default: "2", "steps per window"),
            Parameter("stride", .integer, "the step (default: the window)"), name,
        ], summary: "The maximum of each window of steps.", example: "maxpool1d 2"),
        read: { a throws(LoomError) in
            MaxPool1DSpec(size: try a.integer("size", in: 1...4096), stride: try a.optionalInteger("stride", in: 1...64))
        }, write: { s in "maxpool1d \(s.size)" + (s.stride.map { " stride \($0)" } ?? "") }),

        .family(Signature("globalpool", .layers, [
            Parameter("mode", .choice(of: GlobalPoolingSpec.Mode.self), required: true, positional: true,
                      "the mean (`avg`) or the maximum (`max`) of each feature"), name,
        ], summary: "Each feature's mean or maximum over all positions: closes a sequence (or image) model.",
        example: "globalpool max"),
        read: { a throws(LoomError) in GlobalPoolingSpec(mode: try a.choice("mode", GlobalPoolingSpec.Mode.self)) },
        write: { "globalpool \($0.mode.rawValue)" }),

        .family(Signature("flatten", .layers, [name], summary: "Flattens each sample to a vector.", example: "flatten"),
                read: { _ throws(LoomError) in FlattenSpec() }, write: { _ in "flatten" }),

        .family(Signature("dropout", .layers, [
            Parameter("rate", .fraction, required: true, positional: true, "the share of units dropped in training"), name,
        ], summary: "Drops units at random while training.", example: "dropout 0.5"),
        read: { a throws(LoomError) in
            let rate = try a.number("rate")
            guard rate >= 0, rate < 1 else { throw LoomError(.value, "dropout rate must be in [0, 1)", at: a.range(of: "rate")) }
            return DropoutSpec(rate: Float(rate))
        }, write: { "dropout \($0.rate)" }),

    ] + RecurrentCells.all.map(recurrent) + [
        .family(Signature("threshold", .layers, [
            Parameter("epsilon", .number, required: true, positional: true, placeholder: "EPS", "the cut-off"), name,
        ], summary: "Keeps activations with |z| ≥ EPS, zeroes the rest.", example: "threshold 0.1"),
        read: { a throws(LoomError) in ThresholdSpec(epsilon: Float(try a.number("epsilon"))) },
        write: { "threshold \($0.epsilon)" }),
        .family(Signature("kwta", .layers, [
            Parameter("k", .countOrPercent, required: true, positional: true, "winners kept per sample (per location of an image)"),
            Parameter("boost", .number, default: "0", "boosting strength: favours units that have won less than their share"),
            Parameter("inference", .countOrPercent, placeholder: "K|K%", "winners kept when evaluating and predicting (default: k)"),
            Parameter("global", .flag, "on an image, k winners over all locations and channels"), name,
        ], summary: "k winners take all: keeps the k largest activations of each sample.", example: "kwta 10%"),
        read: { a throws(LoomError) in
            KWinnersSpec(k: try a.count("k"), boost: Float(try a.number("boost")),
                         inference: a.given("inference") ? try a.count("inference") : nil, global: a.flag("global"))
        }, write: { s in
            "kwta \(Layers.text(s.k))" + (s.boost > 0 ? " boost \(s.boost)" : "")
                + (s.inference.map { " inference \(Layers.text($0))" } ?? "") + (s.global ? " global" : "")
        }),
        .family(Signature("activity", .layers, [
            Parameter("penalty", .choice(["l1"]), required: true, positional: true, "the penalty"),
            Parameter("lambda", .number, required: true, positional: true, placeholder: "LAMBDA", "its weight"), name,
        ], summary: "An L1 penalty on the previous layer's output, for sparse activity.",
        example: "activity l1 0.001"),
        read: { a throws(LoomError) in ActivityL1Spec(lambda: Float(try a.number("lambda"))) },
        write: { "activity l1 \($0.lambda)" }),
    ]

    static func pooling(_ keyword: String, _ mode: Pooling2D.Mode, summary: String) -> LayerBinding {
        .family(Signature(keyword, .layers, [
            Parameter("size", .shape, positional: true, default: "2", "the window"),
            Parameter("stride", .integer, "the step (default: the window)"), name,
        ], summary: summary, example: "\(keyword) 2"),
        read: { a throws(LoomError) in
            PoolingSpec(mode: mode, size: try a.window("size"), stride: try a.optionalInteger("stride", in: 1...64))
        }, write: { s in
            s.mode == mode ? "\(keyword) \(s.size.text)" + (s.stride.map { " stride \($0)" } ?? "") : nil
        })
    }

    static func recurrent(_ cell: any RecurrentCell.Type) -> LayerBinding {
        .family(Signature(cell.kind, .layers, [
            Parameter("units", .integer, required: true, positional: true, "hidden units"),
            activation(default: .tanh),
            Parameter("sequences", .flag, "return the whole sequence, not just the last step"),
            Parameter("bidirectional", .flag, "a second cell reads the sequence backwards; the outputs are concatenated"), name,
        ], summary: cell.summary, example: "\(cell.kind) 50 tanh"),
        read: { a throws(LoomError) in
            RecurrentSpec(cell: cell, units: try a.integer("units", in: 1...65536),
                          activation: try a.choice("activation", ActivationFunction.self), returnsSequences: a.flag("sequences"),
                          bidirectional: a.flag("bidirectional"))
        }, write: { s in
            s.cell == cell ? "\(cell.kind) \(s.units) \(s.activation.rawValue)" + (s.returnsSequences ? " sequences" : "")
                + (s.bidirectional ? " bidirectional" : "") : nil
        })
    }

    public static let all: [Signature] = [input] + bindings.map(\.signature)

    public static func form(of keyword: String) -> Signature? {
        all.first { $0.keyword == keyword }
    }

    public static let keywords: [String] = all.map(\.keyword)
    static let keywordSet = Set(keywords)

    /// ` sparse P%`, or nothing.
    static func sparseText(_ sparsity: Double?) -> String {
        sparsity.map { " sparse " + NumberFormat.short($0 * 100, significant: 6) + "%" } ?? ""
    }

    /// A winners count as a line writes it: `10` or `10%`.
    static func text(_ k: KWinnersSpec.Count) -> String {
        switch k {
        case .units(let n): return String(n)
        case .share(let f): return NumberFormat.short(f * 100, significant: 6) + "%"
        }
    }

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

    /// A spec as a model line: its family's writer.
    public static func definition(of spec: any LayerSpec) -> String? {
        for binding in bindings { if let line = binding.write(spec) { return line } }
        return nil
    }
}
