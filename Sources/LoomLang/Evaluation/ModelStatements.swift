import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    func modelState(_ expr: Expr) throws(LoomError) -> ModelState {
        try item(expr, "a model") { if case .model(let m) = $0 { return m }; return nil }
    }

    /// `model NAME { … }`: builds the layers in order, checking that each
    /// fits the output of the one before.
    func defineModel(name: String, layers: [Command], range: SourceRange) throws(LoomError) {
        guard let first = layers.first, first.signature.keyword == "input" else {
            throw LoomError(.value, "a model starts with `input DIMS`, the shape of one sample", at: layers.first?.range ?? range)
        }
        let shape = try shapeValue(first, "shape")
        let model: Sequential
        do { model = try Sequential(name: name, inputShape: shape, random: RandomGenerator(seed: session.random.next())) } catch {
            throw LoomError(.value, error.message, at: first.range)
        }
        model.maxParameters = session.memoryLimit / Sequential.bytesPerWeight
        for layer in layers.dropFirst() {
            let spec = try layerSpec(layer)
            let given = layer.argument("as")?.name?.joined(separator: ".")
            let needed: Int
            do { needed = try Sequential.parameters(of: spec, input: model.outputShape) } catch {
                throw LoomError(.value, "`\(layer.signature.keyword)` is too large to build", at: layer.range)
            }
            let (bytes, overflow) = needed.multipliedReportingOverflow(by: Sequential.bytesPerWeight)
            try checkMemory(bytes: overflow ? Int.max : bytes, what: "`\(layer.signature.keyword)` (\(NumberFormat.grouped(needed)) weights)",
                            at: layer.range)
            do { try model.add(spec, name: given) } catch {
                throw LoomError(.value, "`\(layer.signature.keyword)` does not fit here: \(error.message)", at: layer.range)
            }
        }
        try checkMemory(bytes: model.parameterCount * Sequential.bytesPerWeight, what: "model `\(name)`", at: range)
        session.define(name, .model(ModelState(model: model)))
        output.display(summaryTable(model).bundle(width: session.width), displayID: nil, update: false)
    }

    func layerSpec(_ c: Command) throws(LoomError) -> LayerSpec {
        if c.argument("sparse") != nil {
            throw LoomError(.unavailable, "`sparse` masks are not available yet in this version of Loom", at: c.argument("sparse")!.range)
        }
        switch c.signature.keyword {
        case "input":
            throw LoomError(.value, "`input` comes once, as the first layer", at: c.range)
        case "dense":
            return .dense(units: try integer(c, "units", default: 1, in: 1...1_000_000), activation: try activation(c))
        case "conv2d":
            let padding = Conv2D.Padding(rawValue: c.argument("padding")?.name?.first ?? "valid") ?? .valid
            return .conv2d(filters: try integer(c, "filters", default: 1, in: 1...65536), kernel: try window(c, "kernel"),
                           activation: try activation(c), stride: try integer(c, "stride", default: 1, in: 1...64),
                           padding: padding)
        case "maxpool", "avgpool":
            let size = c.argument("size") == nil ? (2, 2) : try window(c, "size")
            let stride = c.argument("stride") == nil ? nil : try integer(c, "stride", default: 1, in: 1...64)
            return c.signature.keyword == "maxpool" ? .maxpool(size: size, stride: stride) : .avgpool(size: size, stride: stride)
        case "flatten":
            return .flatten
        case "dropout":
            let rate = try number(c, "rate")
            guard rate >= 0, rate < 1 else { throw LoomError(.value, "dropout rate must be in [0, 1)", at: c.argument("rate")?.range) }
            return .dropout(rate: Float(rate))
        default:
            throw LoomError(.unavailable, "`\(c.signature.keyword)` layers are not available yet in this version of Loom",
                            at: c.range)
        }
    }

    func activation(_ c: Command) throws(LoomError) -> ActivationFunction {
        ActivationFunction(rawValue: c.argument("activation")?.name?.first ?? "linear") ?? .linear
    }

    /// A shape argument with positive dimensions.
    func shapeValue(_ c: Command, _ name: String) throws(LoomError) -> [Int] {
        let expr = c.argument(name)!
        switch try evaluate(expr) {
        case .shape(let dims) where dims.allSatisfy({ $0 > 0 }): return dims
        case .number(let x) where x == x.rounded() && x > 0 && x < 1e9: return [Int(x)]
        case let v: throw LoomError(.type, "\(name) must be a shape like 28x28x1, not \(v.display)", at: expr.range)
        }
    }

    /// A window: `3x3`, or `3` for a square.
    func window(_ c: Command, _ name: String) throws(LoomError) -> (Int, Int) {
        let dims = try shapeValue(c, name)
        switch dims.count {
        case 1: return (dims[0], dims[0])
        case 2: return (dims[0], dims[1])
        default: throw LoomError(.type, "\(name) takes two dimensions, like 3x3", at: c.argument(name)?.range)
        }
    }

    // MARK: summary

    /// The parameter-sharing report: per layer, what is stored, what the same
    /// connections would cost unshared (locally connected), what a fully
    /// connected layer between the same input and output would cost.
    func summaryTable(_ model: Sequential) -> Table {
        var table = Table(title: "Model \(model.name): input \(Shape.text(model.inputShape))",
                          columns: [.init("layer"), .init("output"), .init("params", .right), .init("unshared", .right),
                                    .init("dense", .right), .init("sharing", .right), .init("MACs", .right)],
                          note: "params: stored weights and biases. unshared: the same connections without sharing "
                            + "(a locally connected layer). dense: a fully connected layer between the same input and "
                            + "output. sharing: unshared ÷ params. MACs: multiply-adds per sample.")
        var totals = (stored: 0, unshared: 0, dense: 0, madds: 0)
        var input = model.inputShape
        for block in model.blocks {
            let stored = block.parameters.reduce(0) { $0 + $1.value.count }
            let out = block.outputShape
            let inSize = input.reduce(1, *), outSize = out.reduce(1, *)
            var unshared = stored
            if let conv = block.main as? Conv2D {
                let positions = out[0] * out[1]
                unshared = positions * (conv.kernel.height * conv.kernel.width * input[2] * out[2] + out[2])
            }
            let dense = stored > 0 ? inSize * outSize + outSize : 0
            let madds = block.layers.reduce(0) { $0 + $1.multiplyAdds }
            table.append([block.name, Shape.text(out), NumberFormat.grouped(stored), NumberFormat.grouped(unshared),
                          NumberFormat.grouped(dense), stored > 0 ? sharing(unshared, stored) : "", NumberFormat.grouped(madds)])
            totals = (totals.stored + stored, totals.unshared + unshared, totals.dense + dense, totals.madds + madds)
            input = out
        }
        table.footer = ["total", "", NumberFormat.grouped(totals.stored), NumberFormat.grouped(totals.unshared),
                        NumberFormat.grouped(totals.dense), totals.stored > 0 ? sharing(totals.unshared, totals.stored) : "",
                        NumberFormat.grouped(totals.madds)]
        return table
    }

    func sharing(_ unshared: Int, _ stored: Int) -> String {
        NumberFormat.short(Double(unshared) / Double(stored), significant: 3) + "×"
    }

    func summary(_ c: Command) throws(LoomError) {
        let m = try modelState(c.argument("model")!)
        output.display(summaryTable(m.model).bundle(width: session.width), displayID: nil, update: false)
    }
}
