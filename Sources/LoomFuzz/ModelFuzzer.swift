import LoomCore
import LoomEngine
import LoomLang

/// Random but well-formed models: layer stacks the parser accepts (whether
/// their shapes fit is up to chance), trained, evaluated and reported. Where
/// `Fuzzer.program` breaks programs to test the parser, these reach the
/// evaluator and the engine.
extension Fuzzer {
    /// The layer families a model can use today, from the language's own table.
    static let builtLayers = Layers.all.filter { $0.keyword != "input" }
    static let activations = ActivationFunction.allCases.map(\.rawValue)

    /// A random line of the family `keyword`, drawn from its declared
    /// fields (small sizes, each option at its default or not) and written
    /// as `save` writes it.
    mutating func layerLine(_ keyword: String) -> String {
        guard let spec = Layers.randomSpec(keyword, random: &random), let line = Layers.definition(of: spec) else { return keyword }
        return line
    }

    /// A random model body on `input`: up to five lines of any built
    /// family, each redrawn until it fits the shape so far (now and then a
    /// line that does not fit is kept, so shape errors are reached too), then
    /// `flatten` where needed and a dense output of `classes` units.
    mutating func layerLines(input: [Int], classes: Int = 10, outputActivation: String) -> [String] {
        guard let trial = try? Sequential(name: "trial", inputShape: input, random: RandomGenerator(seed: 0)) else { return [] }
        var lines: [String] = []
        for _ in 0..<random.below(6) {
            for _ in 0..<8 {
                let line = layerLine(pick(Fuzzer.builtLayers).keyword)
                guard let spec = try? Layers.spec(line) else { continue }
                if random.below(16) == 0 || (try? trial.add(spec)) != nil {
                    lines.append(line)
                    break
                }
            }
        }
        if trial.outputShape.count != 1 { lines.append("flatten") }
        lines.append("dense \(classes) \(outputActivation)")
        return lines
    }

    /// Images (glyphs) or, half the time, sequences (sines) to train on, and
    /// the model's input shape.
    mutating func trainingData() -> (lines: [String], input: [Int]) {
        let n = 2 + random.below(80)
        if random.below(2) == 0 {
            let size = 8 + random.below(9)
            return (["data g = glyphs n \(n) size \(size)"], [size, size, 1])
        }
        let steps = 1 + random.below(12)
        return (["data g = sines n \(n) steps \(steps) classes 10"], [steps, 1])
    }

    public mutating func modelProgram() -> String {
        let (data, input) = trainingData()
        var lines = ["seed \(random.below(100))"] + data
            + ["split g train 0.\(3 + random.below(6))", "model m {", "  input \(Shape.text(input))"]
        let softmax = random.below(5) > 0
        let body = layerLines(input: input, outputActivation: softmax ? "softmax" : pick(Fuzzer.activations))
        lines += body.map { "  " + $0 }
        lines.append("}")
        let loss = softmax && random.below(3) > 0 ? "crossentropy" : "mse"
        let validated = random.below(2) == 0
        // The rest of train's options (batch, optimizer, patience, monitor,
        // restore, schedule) are drawn from its declared fields.
        lines.append("h = " + statement("train", ["model": "m", "on": "g.train", "epochs": String(1 + random.below(3)), "loss": loss,
                                                   "validate": validated ? "g.test" : nil, "lr": nil, "target": nil,
                                                   "checkpoint": nil]))
        lines += ["r = evaluate m on g.test", "record runs loss=r.loss epochs=h.epochs params=m.params",
                  "show sparsity m on g.test", "predict m on g.test first 3 mistakes", "summary m"]
        if random.below(3) == 0 {
            lines += ["model c = copy m" + (random.below(2) == 0 ? " fresh" : ""), "compare m c on g.test", "runs"]
        }
        // Now and then a pruning round: prune (per layer or global), retrain, perhaps rewind.
        if random.below(3) == 0 {
            lines.append("prune m \(random.below(100))%" + (random.below(2) == 0 ? " global" : ""))
            if random.below(2) == 0 { lines.append("rewind m") }
            lines += [statement("train", ["model": "m", "on": "g.train", "epochs": "1", "loss": loss, "validate": nil, "lr": nil,
                                          "target": nil, "checkpoint": nil, "patience": nil, "restore": nil]),
                      "evaluate m on g.test", "show pruning m"]
        }
        if body.contains(where: { $0.hasPrefix("conv2d") }) { lines.append("show filters m.conv1") }
        for family in ["depthwise", "separable"] where body.contains(where: { $0.hasPrefix(family) }) {
            lines += ["show filters m.\(family)1", "show weights m.\(family)1"]
        }
        lines.append("show histogram m.dense1")
        return lines.joined(separator: "\n")
    }

    /// A random model that fits its input, with data to train it on: for
    /// checks on the engine itself. Its lines are read through the
    /// language's layer table; those that do not fit are left out.
    public mutating func engineCase() -> (model: () -> Sequential, inputs: Tensor, labels: [Int], options: FitOptions,
                                          optimizer: OptimizerKind) {
        // Images or, half the time, sequences.
        let shape = random.below(2) == 0 ? [4 + random.below(9), 4 + random.below(9), 1 + random.below(3)]
            : [1 + random.below(9), 1 + random.below(3)]
        let classes = 2 + random.below(4)
        let softmax = random.below(4) > 0
        let lines = layerLines(input: shape, classes: classes,
                               outputActivation: softmax ? "softmax" : pick(Fuzzer.activations))
        let specs = lines.compactMap { try? Layers.spec($0) }
        let seed = random.next()
        let model = { () -> Sequential in
            let m = try! Sequential(name: "m", inputShape: shape, random: RandomGenerator(seed: seed))
            // Layers whose input does not fit are left out.
            for spec in specs { try? m.add(spec) }
            return m
        }
        let n = 1 + random.below(70)
        var inputs = Tensor(zeros: [n] + shape)
        for i in 0..<inputs.count { inputs[i] = Float(random.below(2001)) / 1000 - 1 }
        let labels = (0..<n).map { _ in random.below(classes) }
        let options = FitOptions(epochs: 1 + random.below(2), batchSize: 1 + random.below(40),
                                 loss: softmax && random.below(3) > 0 ? .crossentropy : .mse)
        return (model, inputs, labels, options, OptimizerKind.allCases[random.below(OptimizerKind.allCases.count)])
    }

    /// A sparse coding session: data (patches, now and then glyphs of
    /// another size), a dictionary learned by a random method and coding,
    /// codes by a random coder, and the reports on them. One case in ten asks
    /// for more nonzeros than there are atoms, which must end in an error.
    public mutating func codingProgram() -> String {
        let n = 1 + random.below(120), size = 2 + random.below(7), atoms = 1 + random.below(12)
        var lines = ["seed \(random.below(100))",
                     random.below(5) == 0 ? "data p = glyphs n \(n) size 8" : "data p = patches n \(n) size \(size)"]
        let method = pick(DictionaryLearning.Method.allCases)
        let sparsity = random.below(10) == 0 ? atoms + 1 : 1 + random.below(atoms)
        // Iterations, batch, tolerance and centring are drawn from learn's declared fields.
        let online = method == .online && random.below(2) == 0
        let learn = statement("dictionary learn", ["name": "D", "data": "p", "atoms": String(atoms), "method": method.rawValue,
                                                   "alpha": online ? "0.0\(1 + random.below(9))" : nil,
                                                   "sparsity": online ? nil : String(sparsity)])
        let positive = random.below(3) == 0 ? " positive" : ""
        let coder = pick(["omp sparsity \(sparsity)", "omp error 0.\(random.below(10))", "lasso alpha 0.0\(random.below(10))\(positive)",
                          "\(pick(["ista", "fista"])) alpha 0.0\(random.below(10)) iterations \(1 + random.below(40))\(positive)",
                          "threshold 0.\(random.below(10))\(positive)"])
        lines += [learn, "codes C = encode p with D \(coder)", statement("show atoms", ["dictionary": "D"]), "show codes C",
                  "show codes C sample \(1 + random.below(n + 2))", "list", "D", "C"]
        return lines.joined(separator: "\n")
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[random.below(choices.count)] }

    /// A line of the form `title` with random values its fields allow, the
    /// arguments in `given` set (nil leaves one out).
    mutating func statement(_ title: String, _ given: [String: String?]) -> String {
        Statements.randomLine(title, given: given, random: &random) ?? title
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
                _ = Trainer.fit(model, on: Dataset(inputs: c.inputs, labels: c.labels), options: c.options,
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
