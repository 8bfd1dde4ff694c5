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
    /// `flatten` where needed and a dense output of `classes` units. Now and
    /// then a line shares an earlier layer's weights, or a pair of dense lines
    /// does (`share`, `tied`).
    mutating func layerLines(input: [Int], classes: Int = 10, outputActivation: String) -> [String] {
        guard let trial = try? Sequential(name: "trial", inputShape: input, random: RandomGenerator(seed: 0)) else { return [] }
        var lines: [String] = []
        /// Adds `line` to the trial under the name the model will give it.
        func fits(_ line: String) -> Bool {
            guard let spec = try? Layers.spec(line) else { return false }
            let name = spec.blockPrefix + String(trial.blocks.filter { $0.spec.blockPrefix == spec.blockPrefix }.count + 1)
            return (try? trial.add(spec, name: name, sharing: Layers.sharedLayer(line))) != nil
        }
        for _ in 0..<random.below(6) {
            if random.below(6) == 0, let pair = borrowingPair(after: trial.outputShape, named: trial.blocks), fits(pair.0), fits(pair.1) {
                lines += [pair.0, pair.1]
                continue
            }
            for _ in 0..<8 {
                let line = (random.below(4) == 0 ? borrowingLine(on: trial) : nil) ?? layerLine(pick(Fuzzer.builtLayers).keyword)
                guard (try? Layers.spec(line)) != nil else { continue }
                if random.below(16) == 0 || fits(line) {
                    lines.append(line)
                    break
                }
            }
        }
        if trial.outputShape.count != 1 { lines.append("flatten") }
        lines.append("dense \(classes) \(outputActivation)")
        return lines
    }

    /// A line that uses the weights of an earlier layer it fits: the same
    /// line with `share LAYER` where the output so far is that layer's input,
    /// or a dense line `tied` to a dense layer with as many units as the
    /// output so far has values.
    mutating func borrowingLine(on trial: Sequential) -> String? {
        let output = trial.outputShape
        let lenders = trial.blocks.filter { !$0.ownParameters.isEmpty && $0.borrowing == nil }
        let shares = lenders.filter { $0.main.inputShape == output }.compactMap { lender in
            Layers.definition(of: lender.spec).map { "\($0) share \(lender.name)" }
        }
        let activation = pick(ActivationFunction.allCases)
        let ties = lenders.compactMap { lender -> String? in
            guard let dense = lender.main as? Dense, dense.inputShape.count == 1, dense.outputShape == output else { return nil }
            return Layers.definition(of: DenseSpec(units: dense.inputShape[0], activation: activation, tied: lender.name))
        }
        let lines = shares + ties
        return lines.isEmpty ? nil : pick(lines)
    }

    /// Two dense lines on a flat or sequence `output`, the second on the
    /// first's weights: `dense N` then `dense N share` it (N the output's
    /// width), or `dense K` then `dense N tied` to it (an encoder and its
    /// tied decoder). nil on an image.
    mutating func borrowingPair(after output: [Int], named blocks: [Block]) -> (String, String)? {
        guard output.count <= 2, let width = output.last else { return nil }
        let first = "dense" + String(blocks.filter { $0.spec.blockPrefix == "dense" }.count + 1)
        let activations = (pick(Fuzzer.activations), pick(Fuzzer.activations))
        if random.below(2) == 0 {
            return ("dense \(width) \(activations.0)", "dense \(width) \(activations.1) share \(first)")
        }
        return ("dense \(1 + random.below(8)) \(activations.0)", "dense \(width) \(activations.1) tied \(first)")
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
        let epochs = 1 + random.below(3)
        // Now and then gradual pruning (which takes no early stopping) and a kept epoch, within the run's epochs.
        let gradual = random.below(3) == 0
        let kept = random.below(3) == 0 ? 1 + random.below(epochs) : nil
        var options: [String: String?] = ["model": "m", "on": "g.train", "epochs": String(epochs), "loss": loss,
                                          "validate": validated ? "g.test" : nil, "lr": nil, "target": nil, "checkpoint": nil,
                                          "keep": kept.map { "epoch \($0)" }, "log": nil, "histograms": nil]
        // `.some(nil)` leaves an option out; a key that is absent is drawn.
        options["prune"] = .some(gradual ? "to \(random.below(100))%" + (random.below(2) == 0 ? " every \(1 + random.below(4))" : "")
            + (random.below(2) == 0 ? " global" : "") : nil)
        if gradual { (options["patience"], options["restore"]) = (.some(nil), .some(nil)) }
        // AdamW's decay only with adamw (with another optimizer it is an error by design).
        if random.below(4) == 0 {
            (options["optimizer"], options["decay"]) = (.some("adamw"), .some("0.00\(1 + random.below(9))"))
        } else {
            options["decay"] = .some(nil)
        }
        // The rest of train's options (batch, optimizer, patience, monitor,
        // restore, schedule) are drawn from its declared fields.
        lines.append("h = " + statement("train", options))
        lines += ["r = evaluate m on g.test", "record runs loss=r.loss epochs=h.epochs params=m.params",
                  "show sparsity m on g.test", "predict m on g.test first 3 mistakes", "summary m"]
        if random.below(3) == 0 {
            lines += ["model c = copy m" + (random.below(2) == 0 ? " fresh" : ""), "compare m c on g.test", "runs"]
        }
        // Now and then a pruning round: prune (per layer or global), retrain, perhaps rewind.
        if random.below(3) == 0 {
            lines.append("prune m \(random.below(100))%" + (random.below(2) == 0 ? " global" : ""))
            if random.below(2) == 0 { lines.append("rewind m" + (kept.map { " to epoch \($0)" } ?? "")) }
            lines += [statement("train", ["model": "m", "on": "g.train", "epochs": "1", "loss": loss, "validate": nil, "lr": nil,
                                          "target": nil, "checkpoint": nil, "patience": nil, "restore": nil, "log": nil,
                                          "histograms": nil, "decay": nil]),
                      "evaluate m on g.test", "show pruning m"]
        }
        // Whole units pruned and removed, where a hidden dense layer has some.
        if body.filter({ $0.hasPrefix("dense") }).count > 1, random.below(4) == 0 {
            lines += ["prune m 50% units", "compact m", "summary m", "evaluate m on g.test"]
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
        let specs = lines.compactMap { line in (try? Layers.spec(line)).map { ($0, Layers.sharedLayer(line)) } }
        let seed = random.next()
        let model = { () -> Sequential in
            let m = try! Sequential(name: "m", inputShape: shape, random: RandomGenerator(seed: seed))
            // Layers whose input does not fit are left out.
            for (spec, lender) in specs { try? m.add(spec, sharing: lender) }
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
        lines += [learn, "codes C = encode p with D \(coder)", statement("show atoms", ["source": "D"]), "show codes C",
                  "show codes C sample \(1 + random.below(n + 2))", "list", "D", "C"]
        // Now and then the images coded by their patches and pooled: only a patch of the data's own size fits D,
        // at one position, so grid 1; one case in eight asks for a smaller patch or a larger grid, which must end in an error.
        if random.below(4) == 0 {
            let side = lines[1].contains("glyphs") ? 8 : size, misfit = random.below(8) == 0
            lines.append("codes P = encode p with D \(coder) patches size \(misfit ? side - 1 : side) stride \(1 + random.below(2)) "
                         + "pool \(pick(PatchPooling.Pool.allCases).rawValue) grid \(misfit ? 2 : 1)")
        }
        // Now and then a LISTA model from D, fitted to C or to the lasso objective, and coding with it.
        let input = lines[1].contains("glyphs") ? "8x8x1" : "\(size)x\(size)x1"
        var coders = ["D"]
        if random.below(2) == 0 {
            let alpha = random.below(2) == 0 ? " alpha 0.0\(1 + random.below(9))" : ""
            lines += ["model L {", "  input \(input)", "  lista \(1 + random.below(5)) from D\(alpha)", "}",
                      "train L on p \(random.below(2) == 0 ? "target C" : "loss lasso") epochs \(1 + random.below(2))",
                      "codes E = encode p with L", "show codes E", "summary L"]
            coders.append("L")
        }
        // Now and then the coders side by side, with an autoencoder of the data trained a little, D by
        // its own coder or by C's, and one case in eight a classifier among them, which must end in an error.
        if random.below(3) == 0 {
            let values = lines[1].contains("glyphs") ? 64 : size * size, units = 1 + random.below(values)
            lines += ["model A {", "  input \(input)", "  flatten", "  dense \(units) relu as code",
                      random.below(2) == 0 ? "  kwta \(1 + random.below(units))" : "  dropout 0.1", "  dense \(values)",
                      "  reshape \(input)", "}", "train A on p target inputs epochs 1"]
            coders.append(pick(["A", "A.code"]))
            if random.below(8) == 0 { lines += ["model K {", "  input \(input)", "  flatten", "  dense 2 softmax", "}"]; coders.append("K") }
            let first = random.below(coders.count), order = coders[first...] + coders[..<first]
            lines.append("r = compare \(order.joined(separator: " ")) on p" + (random.below(2) == 0 ? " \(coder)" : ""))
            lines.append("r")
        }
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
