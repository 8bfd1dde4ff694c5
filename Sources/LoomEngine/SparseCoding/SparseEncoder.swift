import CBLAS

/// How a signal is coded over a dictionary.
public enum SparseEncoder: Sendable, Equatable {
    /// Orthogonal matching pursuit: atoms chosen greedily, the coefficients
    /// refitted by least squares after each. Stops at `sparsity` nonzeros, or
    /// once ‖x − αᵀD‖ ≤ `relativeError`·‖x‖ (whichever comes first when
    /// both are given; with neither, at as many atoms as the signal has values).
    case omp(sparsity: Int?, relativeError: Double?)
    /// The lasso, min ½‖x − αᵀD‖² + alpha·‖α‖₁ (scikit-learn's
    /// `sparse_encode` convention), by coordinate descent on the Gram matrix
    /// until the duality gap is below `tolerance`·‖x‖².
    case lasso(alpha: Double, positive: Bool, tolerance: Double)
    /// Soft thresholding of Dx: αₖ = sign(cₖ)·max(|cₖ| − cut, 0).
    case threshold(Double, positive: Bool)

    public static func lasso(alpha: Double, positive: Bool = false) -> SparseEncoder {
        .lasso(alpha: alpha, positive: positive, tolerance: 1e-4)
    }
}

/// Sparse coding of many signals at once: the matrix products shared by the
/// whole batch, then each signal on its own, the samples split across threads.
public enum SparseCoding {
    /// Codes each row of `signals` (`[samples, …]`, each sample `dictionary.length`
    /// values). `warmStart` (lasso only) starts from earlier codes.
    /// `shouldStop` is asked between chunks of samples; nil when it said stop.
    public static func encode(_ signals: Tensor, with dictionary: SparseDictionary, _ encoder: SparseEncoder,
                              warmStart: SparseCodes? = nil, shouldStop: () -> Bool = { false }) -> SparseCodes? {
        let problem = CodingProblem(signals, dictionary)
        switch encoder {
        case .omp(let sparsity, let error):
            return BatchOMP.encode(problem, sparsity: sparsity ?? min(dictionary.count, dictionary.length),
                                   relativeError: error, shouldStop: shouldStop)?.codes
        case .lasso(let alpha, let positive, let tolerance):
            return LassoCD.encode(problem, alpha: alpha, positive: positive, tolerance: tolerance,
                                  warmStart: warmStart, shouldStop: shouldStop)
        case .threshold(let cut, let positive):
            return softThreshold(problem, cut: Float(cut), positive: positive)
        }
    }

    static func softThreshold(_ p: CodingProblem, cut: Float, positive: Bool) -> SparseCodes {
        let values = p.correlations.map { c -> Float in
            let kept = max(abs(c) - cut, 0)
            return positive ? (c > 0 ? kept : 0) : (c < 0 ? -kept : kept)
        }
        return SparseCodes(values: values, samples: p.samples, atoms: p.atoms)
    }

    /// The residuals X − C·D (`samples` × `length`) and each one's squared norm.
    public static func residuals(_ signals: Tensor, _ codes: SparseCodes,
                                 _ dictionary: SparseDictionary) -> (values: [Float], squaredNorms: [Double]) {
        precondition(codes.samples == signals.batch && signals.sampleSize == dictionary.length)
        var r = signals.storage
        codes.values.withUnsafeBufferPointer { c in
            dictionary.atoms.withUnsafeBufferPointer { d in
                r.withUnsafeMutableBufferPointer {
                    GEMM.multiply(c.baseAddress!, d.baseAddress!, into: $0.baseAddress!, m: codes.samples,
                                  n: dictionary.length, k: dictionary.count, alpha: -1, beta: 1)
                }
            }
        }
        let n = dictionary.length
        let norms = r.withUnsafeBufferPointer { p in
            (0..<codes.samples).map { i in Double(cblas_sdot(Int32(n), p.baseAddress! + i * n, 1, p.baseAddress! + i * n, 1)) }
        }
        return (r, norms)
    }

    /// ‖X − C·D‖_F / ‖X‖_F (0 for all-zero signals coded as zeros).
    public static func relativeError(_ signals: Tensor, _ codes: SparseCodes, _ dictionary: SparseDictionary) -> Double {
        let residual = residuals(signals, codes, dictionary).squaredNorms.reduce(0, +)
        let total = signals.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
        return total > 0 ? (residual / total).squareRoot() : residual.squareRoot()
    }
}

/// What every coder of one batch shares: the signals, the Gram matrix DDᵀ,
/// the correlations X·Dᵀ and each signal's squared norm.
struct CodingProblem {
    let signals: Tensor
    let dictionary: SparseDictionary
    let gram: [Float]
    let correlations: [Float]
    let squaredNorms: [Double]

    var samples: Int { signals.batch }
    var atoms: Int { dictionary.count }

    init(_ signals: Tensor, _ dictionary: SparseDictionary) {
        precondition(signals.sampleSize == dictionary.length,
                     "encode: samples of \(signals.sampleSize) values, atoms of \(dictionary.length)")
        self.signals = signals
        self.dictionary = dictionary
        gram = dictionary.gram
        let n = dictionary.length, samples = signals.batch
        correlations = signals.storage.withUnsafeBufferPointer { dictionary.correlations($0.baseAddress!, samples: samples) }
        squaredNorms = signals.storage.withUnsafeBufferPointer { x in
            (0..<samples).map { i in
                var s = 0.0
                for v in x[(i * n)..<((i + 1) * n)] { s += Double(v) * Double(v) }
                return s
            }
        }
    }

    /// Runs `body` on chunks of samples across threads, BLAS on one thread
    /// inside each; false when `shouldStop` said stop between chunks.
    func forEachChunk(shouldStop: () -> Bool, _ body: (Range<Int>) -> Void) -> Bool {
        let chunkSize = 256
        let chunks = (samples + chunkSize - 1) / chunkSize
        let parallel = Parallel.threads > 1 && chunks > 1
        if parallel { BLAS.setThreads(1) }
        defer { if parallel { BLAS.setThreads(Parallel.threads) } }
        // A few chunks per thread at a time, so a stop is seen within one round.
        let round = max(1, Parallel.threads) * 4
        for first in stride(from: 0, to: chunks, by: round) {
            if shouldStop() { return false }
            let last = min(chunks, first + round)
            Parallel.chunks(last - first) { range in
                for c in range {
                    let start = (first + c) * chunkSize
                    body(start..<min(samples, start + chunkSize))
                }
            }
        }
        return true
    }
}
