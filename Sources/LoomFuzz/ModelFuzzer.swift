import LoomCore
import LoomEngine
import LoomLang

/// Random but well-formed models: layer stacks the parser accepts (whether
/// their shapes fit is up to chance), trained, evaluated and reported. Where
/// `Fuzzer.program` breaks programs to test the parser, these reach the
/// evaluator and the engine.
extension Fuzzer {
    static let activations = ["relu", "tanh", "sigmoid", "linear", "softmax"]

    public mutating func modelProgram() -> String {
        let size = 8 + random.below(9)
        var lines = ["seed \(random.below(100))", "data g = glyphs n \(2 + random.below(80)) size \(size)",
                     "split g train 0.\(3 + random.below(6))", "model m {", "  input \(size)x\(size)x1"]
        var convolutions = 0
        // Mostly image layers, then flat ones; now and then out of order.
        for _ in 0..<random.below(4) {
            switch random.below(8) {
            case 0, 1, 2:
                convolutions += 1
                lines.append("  conv2d \(1 + random.below(6)) \(1 + random.below(4))x\(1 + random.below(4)) \(pick(Fuzzer.activations))"
                             + " stride \(1 + random.below(3)) padding \(pick(["valid", "same"]))")
            case 3, 4:
                lines.append("  \(pick(["maxpool", "avgpool"])) \(1 + random.below(3))" + (random.below(2) == 0 ? "" : " stride \(1 + random.below(3))"))
            case 5: lines.append("  dropout 0.\(random.below(9))")
            case 6: lines.append("  flatten")
            default: lines.append("  dense \(1 + random.below(12)) \(pick(Fuzzer.activations))")
            }
        }
        lines.append("  flatten")
        for _ in 0..<random.below(3) {
            lines.append(random.below(3) == 0 ? "  dropout 0.\(random.below(9))" : "  dense \(1 + random.below(12)) \(pick(Fuzzer.activations))")
        }
        let softmax = random.below(5) > 0
        lines.append("  dense 10 \(softmax ? "softmax" : pick(Fuzzer.activations))")
        lines.append("}")
        lines.append("train m on g.train epochs \(1 + random.below(2)) batch \(1 + random.below(40))"
                     + " optimizer \(pick(["adam", "sgd", "momentum", "rmsprop"]))"
                     + " loss \(softmax && random.below(3) > 0 ? "crossentropy" : "mse")"
                     + (random.below(2) == 0 ? "" : " validate g.test"))
        lines += ["evaluate m on g.test", "show sparsity m on g.test", "predict m on g.test first 3 mistakes", "summary m"]
        if convolutions > 0 { lines.append("show filters m.conv1") }
        lines.append("show histogram m.dense1")
        return lines.joined(separator: "\n")
    }

    /// A random model that fits its input, with data to train it on: for
    /// checks on the engine itself.
    public mutating func engineCase() -> (model: () -> Sequential, inputs: Tensor, labels: [Int], options: FitOptions,
                                          optimizer: OptimizerKind) {
        let (h, w, c) = (4 + random.below(9), 4 + random.below(9), 1 + random.below(3))
        let classes = 2 + random.below(4)
        var specs: [LayerSpec] = []
        for _ in 0..<random.below(5) {
            switch random.below(4) {
            case 0:
                specs.append(.conv2d(filters: 1 + random.below(6), kernel: (1 + random.below(3), 1 + random.below(3)),
                                     activation: pickActivation(), stride: 1 + random.below(2),
                                     padding: random.below(2) == 0 ? .valid : .same))
            case 1:
                let size = (1 + random.below(3), 1 + random.below(3))
                let stride = random.below(2) == 0 ? nil : 1 + random.below(3)
                specs.append(random.below(2) == 0 ? .maxpool(size: size, stride: stride) : .avgpool(size: size, stride: stride))
            case 2: specs.append(.dropout(rate: Float(random.below(6)) / 10))
            default: specs.append(.flatten)
            }
        }
        specs.append(.flatten)
        if random.below(2) == 0 { specs.append(.dense(units: 2 + random.below(8), activation: pickActivation())) }
        let softmax = random.below(4) > 0
        specs.append(.dense(units: classes, activation: softmax ? .softmax : pickActivation()))
        let seed = random.next()
        let model = { () -> Sequential in
            let m = try! Sequential(name: "m", inputShape: [h, w, c], random: RandomGenerator(seed: seed))
            // Layers whose input does not fit are left out; a second flatten is harmless.
            for spec in specs { try? m.add(spec) }
            return m
        }
        let n = 1 + random.below(70)
        var inputs = Tensor(zeros: [n, h, w, c])
        for i in 0..<inputs.count { inputs[i] = Float(random.below(2001)) / 1000 - 1 }
        let labels = (0..<n).map { _ in random.below(classes) }
        let options = FitOptions(epochs: 1 + random.below(2), batchSize: 1 + random.below(40),
                                 loss: softmax && random.below(3) > 0 ? .crossentropy : .mse)
        return (model, inputs, labels, options, OptimizerKind.allCases[random.below(OptimizerKind.allCases.count)])
    }

    mutating func pick(_ choices: [String]) -> String { choices[random.below(choices.count)] }

    mutating func pickActivation() -> ActivationFunction {
        ActivationFunction.allCases[random.below(ActivationFunction.allCases.count)]
    }
}

extension FuzzRunner {
    /// Random models trained with one thread and then with `threads`: the
    /// weights must come out bit for bit the same. Returns the cases that
    /// differ, described.
    public static func threadIndependence(count: Int, seed: UInt64, threads: Int = 2) -> [String] {
        var fuzzer = Fuzzer(seed: seed)
        var differing: [String] = []
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        for n in 0..<count {
            let c = fuzzer.engineCase()
            func weights(threads t: Int) -> [UInt32] {
                Parallel.setThreads(t)
                let model = c.model()
                var random = RandomGenerator(seed: UInt64(n))
                _ = Trainer.fit(model, inputs: c.inputs, labels: c.labels, options: c.options,
                                optimizer: Optimizer(c.optimizer), random: &random, clock: { 0 })
                return model.parameters.flatMap { $0.value.storage.map(\.bitPattern) }
            }
            if weights(threads: 1) != weights(threads: threads) {
                let layers = c.model().layers.map(\.kind).joined(separator: " ")
                differing.append("case \(n): \(c.inputs.shape) \(layers), batch \(c.options.batchSize), \(c.optimizer)")
            }
        }
        return differing
    }
}
