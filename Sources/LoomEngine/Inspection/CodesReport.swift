/// What `show codes` reports of a set of codes, as values.
extension SparseCodes {
    /// Nonzeros per code, on average (0 for no codes).
    public var meanNonzeros: Double { Double(nonzerosPerSample.reduce(0, +)) / Double(max(1, samples)) }
    /// The most nonzeros in any code.
    public var maxNonzeros: Int { nonzerosPerSample.max() ?? 0 }
    /// Atoms at least one code uses.
    public var atomsUsed: Int { usage.filter { $0 > 0 }.count }
    /// OMP's relative error ‖X − CD‖/‖X‖ after each of its steps (one
    /// nonzero per code, two, …), from `residualByStep`; nil when that was
    /// not recorded or the signals are all zeros.
    public var relativeErrorByStep: [Double]? {
        guard let sums = residualByStep, let energy = sums.first, energy > 0 else { return nil }
        return sums.dropFirst().map { ($0 / energy).squareRoot() }
    }
}

/// One sample's code taken apart (`show codes C sample I`): the signal, its
/// reconstruction from the atoms the code uses, the relative error, and
/// each of those atoms times its weight — the terms that add up to the
/// reconstruction.
public struct CodedSample: Sendable, Equatable {
    /// An atom the code uses and its weight.
    public struct Term: Sendable, Equatable {
        public let atom: Int
        public let weight: Float
    }

    public let signal: [Float]
    /// Σ weight · atom over `terms`, in their order.
    public let rebuilt: [Float]
    /// ‖signal − rebuilt‖ ÷ ‖signal‖; 0 for a signal of zeros.
    public let relativeError: Double
    /// The code's nonzeros, by decreasing |weight|.
    public let terms: [Term]
    /// Each term's atom times its weight, one after another (`length` values each).
    public let weightedAtoms: [Float]

    /// Sample `i` of `signals` (a row each) and its code in `codes` over `dictionary`.
    public init(sample i: Int, codes: SparseCodes, dictionary: SparseDictionary, signals: Tensor) {
        let n = dictionary.length
        let code = Array(codes.code(i))
        let used = code.indices.filter { code[$0] != 0 }.sorted { abs(code[$0]) > abs(code[$1]) }
        terms = used.map { Term(atom: $0, weight: code[$0]) }
        signal = Array(signals.storage[(i * n)..<((i + 1) * n)])
        var rebuilt = [Float](repeating: 0, count: n)
        for k in used { for (t, v) in dictionary.atom(k).enumerated() { rebuilt[t] += code[k] * v } }
        self.rebuilt = rebuilt
        let residual = zip(signal, rebuilt).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let energy = signal.reduce(0.0) { $0 + Double($1) * Double($1) }
        relativeError = energy > 0 ? (residual / energy).squareRoot() : 0
        weightedAtoms = used.flatMap { k in dictionary.atom(k).map { $0 * code[k] } }
    }
}
