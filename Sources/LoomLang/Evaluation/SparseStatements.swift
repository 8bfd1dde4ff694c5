import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    func sparseDictionary(_ expr: Expr) throws(LoomError) -> SessionDictionary { try object(expr, SessionDictionary.self) }

    /// The signals of `data` for `dictionary`, checked: as many values a
    /// sample as an atom has, all finite.
    func signals(_ data: Dataset, for dictionary: SessionDictionary, name: String, at range: SourceRange) throws(LoomError) -> Tensor {
        let length = dictionary.dictionary.length
        guard data.inputs.sampleSize == length else {
            throw LoomError(.value, "the data's samples are \(Shape.text(data.sampleShape)) (\(data.inputs.sampleSize) values) "
                            + "but the atoms of `\(name)` have \(length)", at: range)
        }
        return try finite(dictionary.signals(data), at: range)
    }

    /// `x` when every sample is finite and small enough to code: coding
    /// squares a sample's norm in single precision, so it must stay below
    /// the square root of the largest float (about 1.8e19).
    func finite(_ x: Tensor, at range: SourceRange) throws(LoomError) -> Tensor {
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) {
            throw LoomError(.value, "sample \(bad / max(1, x.sampleSize) + 1) holds a value that is not a finite number", at: range)
        }
        let n = x.sampleSize
        for i in 0..<x.batch {
            let squared = x.storage[(i * n)..<((i + 1) * n)].reduce(0.0) { $0 + Double($1) * Double($1) }
            guard squared < Double(Float.greatestFiniteMagnitude) else {
                throw LoomError(.value, "sample \(i + 1) is too large to code in single precision (its norm is "
                                + "\(NumberFormat.short(squared.squareRoot(), significant: 3)); it must stay below 1.8e19): scale the data",
                                at: range)
            }
        }
        return x
    }

    /// `dictionary NAME = learn DATA atoms K (sparsity T | alpha A) [method …] [iterations N] [batch B] [tolerance X] [center]`
    func learnDictionary(_ a: Request<LearnRequest>) throws(LoomError) {
        let dataExpr = a.data.expr
        let data = try dataset(a.data.expr)
        let atoms = a.atoms
        let method = a.method
        let coding: DictionaryLearning.Coding
        switch (a.sparsity, a.alpha) {
        case (let t?, nil):
            guard t <= atoms else {
                throw LoomError(.value, "sparsity \(t) is more than the \(atoms) atoms to learn", at: a.range(of: \.sparsity))
            }
            coding = .sparsity(t)
        case (nil, let alpha?):
            guard method == .online else {
                throw LoomError(.value, "\(method.rawValue) codes with OMP: give `sparsity T`, or learn with the lasso by "
                                + "`method online`", at: a.range(of: \.alpha))
            }
            coding = .lasso(alpha: alpha)
        case (nil, nil):
            throw LoomError(.syntax, "`dictionary learn` needs `sparsity T` (nonzeros per code) or `alpha A` (a lasso penalty)",
                            at: a.range)
        case (_?, _?):
            throw LoomError(.value, "give `sparsity` (OMP) or `alpha` (lasso), not both", at: a.range(of: \.alpha))
        }
        let iterations = a.iterations
        let batch = a.batch
        let tolerance = a.tolerance
        let sampleSize = data.inputs.sampleSize
        guard data.count > 0 else { throw LoomError(.value, "`\(a.data.text)` holds no samples to learn from", at: dataExpr.range) }
        let options = DictionaryLearning.Options(atoms: atoms, coding: coding, method: method, iterations: iterations,
                                                 batch: batch, tolerance: tolerance)
        try checkMemory(bytes: DictionaryLearning.learningBytes(samples: data.count, length: sampleSize, options),
                        what: "learning \(atoms) atoms from \(NumberFormat.grouped(data.count)) samples", at: a.range)
        let centered = a.center
        let x = try finite(centered ? SessionDictionary.centering(data.inputs.reshaped([data.count, sampleSize]))
                                    : data.inputs.reshaped([data.count, sampleSize]), at: dataExpr.range)
        useThreads(session.threads)

        let progress = ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width, mode: session.progress)
        let started = Monotonic.now
        var bar = ProgressBar(label: "\(method.rawValue)", total: iterations, unit: "iteration")
        progress.show(bar, force: true)
        let result = DictionaryLearning.learn(x, options, random: &session.random,
                                              shouldStop: Evaluator.interrupted) { n, cost in
            bar.completed = n
            bar.elapsed = Monotonic.now - started
            bar.metrics = [("relative error", NumberFormat.fixed(cost, decimals: 4))]
            progress.show(bar, force: n == iterations)
        }
        let seconds = Monotonic.now - started
        guard let result else {
            throw LoomError(.interrupted, "learning stopped by the user before its first iteration finished; nothing was defined",
                            at: a.range)
        }
        let name = a.defined, dataName = a.data.text
        let codingText: String
        switch coding {
        case .sparsity(let t): codingText = "sparsity \(t)"
        case .lasso(let alpha): codingText = "alpha \(NumberFormat.short(alpha))"
        }
        let dictionary = SessionDictionary(result.dictionary, sampleShape: data.sampleShape, centered: centered,
                                           origin: "learned by \(method.rawValue) (\(codingText)) on \(dataName)",
                                           costs: result.costs, usage: result.codes.usage, coding: coding)
        session.define(name, .object(dictionary))
        let error = SparseCoding.relativeError(x, result.codes, result.dictionary)
        var lines = ["\(name): \(atoms) atoms of \(Shape.text(data.sampleShape)) learned by \(method.rawValue) on \(dataName) "
                     + "in \(duration(seconds)), \(result.costs.count) iteration(s); relative error \(NumberFormat.fixed(error, decimals: 4))"]
        if result.converged { lines.append("stopped early: the last iteration improved the cost by less than the tolerance") }
        if result.restartedAtoms > 0 {
            lines.append("\(result.restartedAtoms) unused atom(s) restarted from the worst-coded samples along the way")
        }
        show(MimeBundle(text: lines.joined(separator: "\n")))
        if result.costs.count > 1 {
            show(plot(LinePlot([(name: "relative error", values: result.costs)], title: "cost by iteration",
                               xLabel: "iteration", height: 8)))
        }
        if result.interrupted {
            throw LoomError(.interrupted, "learning stopped by the user after \(result.costs.count) iteration(s); `\(name)` keeps "
                            + "the atoms of the last finished one", at: a.range)
        }
    }

    /// `dictionary NAME = csv PATH [shape DIMS]` or `npy PATH [shape DIMS]`:
    /// atoms learned elsewhere, one a row.
    func readDictionary(_ a: Request<DictionaryFile>) throws(LoomError) {
        let (bytes, path) = try fileBytes(a, \.path)
        try checkMemory(bytes: bytes.count * 2, what: path, at: a.range)
        let rows: Dataset
        do {
            rows = a.signature.subword == "csv" ? try CSVLoader.load(bytes: bytes, label: .none, source: path)
                : try NPYLoader.load(samples: bytes, labels: nil, samplesSource: path, labelsSource: "")
        } catch { throw LoomError(.value, error.message, at: a.range) }
        let count = rows.count, length = rows.inputs.sampleSize
        let shape = a.shape ?? [length]
        guard Shape.count(shape) == length else {
            throw LoomError(.value, "shape \(Shape.text(shape)) holds \(Shape.count(shape).map(NumberFormat.grouped) ?? "too many") values "
                            + "but the atoms in \(path) have \(length)",
                            at: a.range(of: \.shape))
        }
        let dictionary = try SessionDictionary.checkedDictionary(rows.inputs.storage, count: count, length: length, source: path,
                                                                  at: a.range, evaluator: self)
        let name = a.defined
        let object = SessionDictionary(dictionary, sampleShape: shape, centered: a.center, origin: "read from \(path)")
        session.define(name, .object(object))
        show(MimeBundle(text: "\(name): \(object.describe)"))
    }

    /// `codes NAME = encode DATA with DICT [omp|lasso|ista|fista|threshold] …`, or `with L`, a LISTA model;
    /// with `patches …`, pooled patch codes of whole images (see `encodePooled`)
    func encode(_ a: Request<EncodeRequest>) throws(LoomError) {
        if case .object(let object)? = session[a.with.text], let state = object as? ModelState { return try encode(a, through: state) }
        if a.patches { return try encodePooled(a) }
        try refusePoolingOptions(a)
        let dictionaryName = a.with.text
        let dictionary = try sparseDictionary(a.with.expr)
        let dataName = a.data.text
        let data = try dataset(a.data.expr)
        let x = try signals(data, for: dictionary, name: dictionaryName, at: a.data.range)
        let (encoder, coder) = try sparseEncoder(a, \.coder, atoms: dictionary.dictionary.count)
        useThreads(session.threads)
        try checkMemory(bytes: SparseCoding.encodingBytes(samples: x.batch, over: dictionary.dictionary, encoder),
                        what: "\(NumberFormat.grouped(x.batch)) codes over \(NumberFormat.grouped(dictionary.dictionary.count)) atoms "
                            + "with their Gram matrix", at: a.range)
        let started = Monotonic.now
        guard let codes = SparseCoding.encode(x, with: dictionary.dictionary, encoder,
                                              shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "coding stopped by the user; nothing was defined", at: a.range)
        }
        let seconds = Monotonic.now - started
        let name = a.defined
        let object = SessionCodes(codes, dictionary: dictionary, dictionaryName: dictionaryName, dataName: dataName,
                                  signals: x, coder: coder, seconds: seconds, of: data)
        dictionary.usage = codes.usage
        session.define(name, .object(object))
        var text = "\(name): \(object.describe), in \(duration(seconds))"
        if let objectives = codes.objectiveByIteration, let last = objectives.last {
            text += "\nobjective \(NumberFormat.short(last, significant: 6)) after \(NumberFormat.grouped(objectives.count - 1)) iteration(s)"
        }
        if codes.dependentStops > 0 {
            text += "\nnote: \(NumberFormat.grouped(codes.dependentStops)) sample(s) stopped before their target: the next atom "
                + "was a combination of those already chosen (coherence \(NumberFormat.fixed(Double(dictionary.dictionary.coherence), decimals: 4)))"
        }
        show(MimeBundle(text: text))
    }

    /// The coder the options name, and how to write it: `threshold X` picks
    /// thresholding, `alpha` the lasso, else OMP.
    func sparseEncoder<Options>(_ a: Request<Options>, _ root: WritableKeyPath<Options, CoderChoice>,
                                atoms: Int) throws(LoomError) -> (SparseEncoder, String) {
        let c = a.filled[keyPath: root]
        func path<V>(_ option: KeyPath<CoderChoice, V>) -> KeyPath<Options, V> { root.appending(path: option) }
        let named = c.method
        let method = named ?? (c.threshold != nil ? .threshold : c.alpha != nil ? .lasso : .omp)
        let positive = c.positive
        func refuse<V>(_ option: KeyPath<CoderChoice, V>, _ methods: String) throws(LoomError) {
            if a.given(path(option)) {
                throw LoomError(.value, "`\(a.optionName(of: path(option)))` goes with \(methods), not \(method.rawValue)",
                                at: a.range(of: path(option)))
            }
        }
        switch method {
        case .omp:
            try refuse(\.alpha, "lasso"); try refuse(\.threshold, "threshold"); try refuse(\.positive, "lasso and threshold")
            try refuse(\.iterations, "ista and fista"); try refuse(\.tolerance, "ista and fista")
            let sparsity = c.sparsity
            let error = c.error
            guard sparsity != nil || error != nil else {
                throw LoomError(.syntax, "omp needs `sparsity T` (nonzeros per code) or `error E` (the relative error to reach)",
                                at: a.range)
            }
            if let sparsity, sparsity > atoms {
                throw LoomError(.value, "sparsity \(sparsity) is more than the dictionary's \(atoms) atoms", at: a.range(of: path(\.sparsity)))
            }
            if let error, !(0..<1).contains(error) {
                throw LoomError(.value, "error is a relative error, at least 0 and below 1", at: a.range(of: path(\.error)))
            }
            let text = ["omp"] + (sparsity.map { ["sparsity \($0)"] } ?? []) + (error.map { ["error \(NumberFormat.short($0))"] } ?? [])
            return (.omp(sparsity: sparsity, relativeError: error), text.joined(separator: " "))
        case .lasso, .ista, .fista:
            try refuse(\.sparsity, "omp"); try refuse(\.error, "omp"); try refuse(\.threshold, "threshold")
            guard let alpha = c.alpha else {
                throw LoomError(.syntax, "\(method.rawValue) needs `alpha A`, the L1 penalty", at: a.range)
            }
            let text = "\(method.rawValue) alpha \(NumberFormat.short(alpha))" + (positive ? " positive" : "")
            guard method != .lasso else {
                try refuse(\.iterations, "ista and fista"); try refuse(\.tolerance, "ista and fista")
                return (.lasso(alpha: alpha, positive: positive), text)
            }
            let iterations = c.iterations ?? Evaluator.proximalIterations, tolerance = c.tolerance ?? Evaluator.proximalTolerance
            return (.proximalGradient(alpha: alpha, positive: positive, accelerated: method == .fista, iterations: iterations,
                                      tolerance: tolerance),
                    text + (c.iterations.map { " iterations \($0)" } ?? "") + (c.tolerance.map { " tolerance \(NumberFormat.short($0))" } ?? ""))
        case .threshold:
            try refuse(\.sparsity, "omp"); try refuse(\.error, "omp"); try refuse(\.alpha, "lasso")
            try refuse(\.iterations, "ista and fista"); try refuse(\.tolerance, "ista and fista")
            guard let cut = c.threshold else {
                throw LoomError(.syntax, "threshold needs its cut-off: `threshold X`", at: a.range)
            }
            return (.threshold(cut, positive: positive), "threshold \(NumberFormat.short(cut))" + (positive ? " positive" : ""))
        }
    }

    /// The first coder option the line gave (`sparsity`, `alpha`, …), found through `root`; nil when it gave none.
    func givenCoderOption<Options>(_ a: Request<Options>, _ root: WritableKeyPath<Options, CoderChoice>) -> PartialKeyPath<Options>? {
        CoderChoice.paths.lazy.compactMap { (root as PartialKeyPath<Options>).appending(path: $0) }.first { a.given($0) }
    }

    /// `0.49 µs`, `12.4 µs`, `312 µs`, `1.05 ms`: three figures at most, so a
    /// slower run (a busy machine) widens no table column and wraps no cell.
    func timePerSample(_ seconds: Double) -> String {
        let (value, unit) = seconds < 1e-3 ? (seconds * 1e6, "µs") : (seconds * 1e3, "ms")
        return NumberFormat.fixed(value, decimals: value < 10 ? 2 : value < 100 ? 1 : 0) + " " + unit
    }

    /// `3.1 ms`, `2.40 s`.
    func duration(_ seconds: Double) -> String {
        seconds < 1 ? NumberFormat.fixed(seconds * 1000, decimals: 1) + " ms" : NumberFormat.fixed(seconds, decimals: 2) + " s"
    }
}

/// The coders `encode` offers.
enum SparseMethod: String, CaseIterable { case omp, lasso, ista, fista, threshold }

extension Evaluator {
    /// ISTA's and FISTA's iteration cap and tolerance on the objective's
    /// change when not given: 1e-7 stops FISTA within 1e-4 of the lowest
    /// objective on the digits and photograph patches (1e-6, samples
    /// stopping on their own, ends 1.2e-4 above it on the digits).
    static let proximalIterations = 1000
    static let proximalTolerance = 1e-7
}
