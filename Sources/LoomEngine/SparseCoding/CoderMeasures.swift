import LoomCore

/// How well a sparse coder codes a set of signals: the figures `compare`
/// sets side by side for dictionaries, autoencoders and LISTA layers, so
/// that coders made in different ways are measured in one way.
public struct CoderMeasures: Sendable, Equatable {
    /// ‖X − X̂‖_F ÷ ‖X‖_F over all samples, X̂ the reconstruction (0 for
    /// signals of zeros rebuilt exactly).
    public var relativeError: Double
    /// Nonzero code values a sample, on average.
    public var meanNonzeros: Double
    /// Atoms (code units) that are zero in every code: never used on the data.
    public var deadAtoms: Int
    public var atoms: Int
    /// Coding's wall time ÷ samples; rebuilding the signals is not counted.
    public var secondsPerSample: Double

    public init(relativeError: Double, meanNonzeros: Double, deadAtoms: Int, atoms: Int, secondsPerSample: Double) {
        self.relativeError = relativeError
        self.meanNonzeros = meanNonzeros
        self.deadAtoms = deadAtoms
        self.atoms = atoms
        self.secondsPerSample = secondsPerSample
    }

    /// The figures of `codes` with their reconstructions' error and coding time.
    init(_ codes: SparseCodes, relativeError: Double, seconds: Double) {
        self.init(relativeError: relativeError, meanNonzeros: codes.meanNonzeros,
                  deadAtoms: codes.usage.filter { $0 == 0 }.count, atoms: codes.atoms,
                  secondsPerSample: seconds / Double(max(1, codes.samples)))
    }

    /// ‖x − y‖ ÷ ‖x‖ over all values, in double precision.
    public static func relativeError(_ x: [Float], _ y: [Float]) -> Double {
        precondition(x.count == y.count, "relativeError: \(x.count) values against \(y.count)")
        var residual = 0.0, total = 0.0
        for i in x.indices {
            let d = Double(x[i]) - Double(y[i])
            residual += d * d
            total += Double(x[i]) * Double(x[i])
        }
        return total > 0 ? (residual / total).squareRoot() : residual.squareRoot()
    }
}

/// Runs each kind of coder on signals, timing the coding alone.
public enum CoderMeasurement {
    /// `signals` (`[samples, length]`) coded over `dictionary` by `encoder`,
    /// rebuilt as codes·D; nil when `shouldStop` said stop.
    public static func dictionary(_ signals: Tensor, _ dictionary: SparseDictionary, _ encoder: SparseEncoder,
                                  shouldStop: () -> Bool = { false }) -> CoderMeasures? {
        let started = Monotonic.now
        guard let codes = SparseCoding.encode(signals, with: dictionary, encoder, shouldStop: shouldStop) else { return nil }
        let seconds = Monotonic.now - started
        return CoderMeasures(codes, relativeError: SparseCoding.relativeError(signals, codes, dictionary), seconds: seconds)
    }

    /// A model whose outputs are codes over `dictionary` (one ending in a
    /// LISTA layer), its inputs rebuilt as outputs·D.
    public static func codingModel(_ model: Sequential, _ inputs: Tensor, over dictionary: SparseDictionary,
                                   batchSize: Int = Sequential.inferenceBatch, shouldStop: () -> Bool = { false }) -> CoderMeasures? {
        let samples = inputs.batch
        precondition(model.outputShape == [dictionary.count] && inputs.sampleSize == dictionary.length,
                     "codingModel: outputs \(model.outputShape), \(inputs.sampleSize) input values, \(dictionary.count) atoms")
        let started = Monotonic.now
        guard let output = model.predict(inputs, batchSize: batchSize, shouldStop: shouldStop) else { return nil }
        let seconds = Monotonic.now - started
        let codes = SparseCodes(values: output.storage, samples: samples, atoms: dictionary.count)
        let signals = inputs.reshaped([samples, inputs.sampleSize])
        return CoderMeasures(codes, relativeError: SparseCoding.relativeError(signals, codes, dictionary), seconds: seconds)
    }

    /// An autoencoder: the outputs of block `codeBlock` are the codes (their
    /// units the atoms, timed through that block), the model's outputs the
    /// reconstructions of `inputs`.
    public static func autoencoder(_ model: Sequential, codeBlock: Int, _ inputs: Tensor, batchSize: Int = Sequential.inferenceBatch,
                                   shouldStop: () -> Bool = { false }) -> CoderMeasures? {
        precondition(model.blocks.indices.contains(codeBlock) && model.outputShape.reduce(1, *) == inputs.sampleSize,
                     "autoencoder: block \(codeBlock) of \(model.blocks.count), outputs \(model.outputShape)")
        let started = Monotonic.now
        guard let codes = model.outputs(throughBlock: codeBlock, inputs, batchSize: batchSize, shouldStop: shouldStop) else {
            return nil
        }
        let seconds = Monotonic.now - started
        guard let rebuilt = model.predict(inputs, batchSize: batchSize, shouldStop: shouldStop) else { return nil }
        return CoderMeasures(SparseCodes(values: codes.storage, samples: inputs.batch, atoms: codes.sampleSize),
                             relativeError: CoderMeasures.relativeError(inputs.storage, rebuilt.storage), seconds: seconds)
    }
}

extension Sequential {
    /// The outputs of blocks 0 … `last` for `x`, `batchSize` samples at a
    /// time, without training: a hidden layer's outputs (an autoencoder's
    /// codes). The layers run as written, as in `blockOutputs`.
    public func outputs(throughBlock last: Int, _ x: Tensor, batchSize: Int = Sequential.inferenceBatch,
                        shouldStop: () -> Bool = { false }) -> Tensor? {
        let shape = blocks[last].outputShape, n = x.batch
        var out: [Float] = []
        out.reserveCapacity(n * shape.reduce(1, *))
        var start = 0
        while start < n {
            if shouldStop() { return nil }
            var y = x.gathering(samples: Array(start..<min(n, start + batchSize)))
            for block in blocks.prefix(last + 1) { for layer in block.layers { y = layer.forward(y, training: false) } }
            out += y.storage
            start += batchSize
        }
        return Tensor(shape: [n] + shape, storage: out)
    }

    /// The narrowest hidden block (fewest output values), the last of equals
    /// so that a `kwta`, `threshold` or `dropout` after a code layer is the
    /// code; nil for a model of fewer than two blocks.
    public var narrowestHiddenBlock: Int? {
        guard blocks.count >= 2 else { return nil }
        let sizes = blocks.dropLast().map { $0.outputShape.reduce(1, *) }
        let least = sizes.min()!
        return sizes.lastIndex(of: least)
    }
}
