import CBLAS
import LoomCore

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
    /// The same lasso by proximal gradient, all samples of a chunk at once:
    /// ISTA, or FISTA when `accelerated`. Each sample stops after `iterations`,
    /// once an iteration changes its objective by at most `tolerance` times
    /// it, or once its signs settle and an exact solve on its support passes
    /// the KKT conditions (`SupportFinish`); a tolerance of 0 runs every
    /// iteration on every sample, with no finish.
    case proximalGradient(alpha: Double, positive: Bool, accelerated: Bool, iterations: Int, tolerance: Double)
    /// Soft thresholding of Dx: αₖ = sign(cₖ)·max(|cₖ| − cut, 0).
    case threshold(Double, positive: Bool)

    public static func lasso(alpha: Double, positive: Bool = false) -> SparseEncoder {
        .lasso(alpha: alpha, positive: positive, tolerance: 1e-4)
    }
}

/// Sparse coding of many signals at once: the matrix products shared by the
/// whole batch, then each signal on its own, the samples split across threads.
///
/// Work is cut into fixed chunks of 256 samples whatever the thread count,
/// and BLAS runs on one thread inside each, so every number comes out the
/// same on any number of threads.
public enum SparseCoding {
    static let chunk = 256

    /// Calls `body` on consecutive ranges of `rows` rows (`chunk` each, the
    /// last shorter), the ranges split across threads. False, with some
    /// ranges left undone, when `shouldStop` said stop (it is asked between
    /// rounds of a few ranges per thread).
    @discardableResult
    static func inChunks(_ rows: Int, shouldStop: () -> Bool = { false }, _ body: (Range<Int>) -> Void) -> Bool {
        BLAS.singleThreaded {
            let chunks = (rows + chunk - 1) / chunk
            let round = max(1, Parallel.threads) * 4
            for first in stride(from: 0, to: chunks, by: round) {
                if shouldStop() { return false }
                Parallel.chunks(min(chunks, first + round) - first) { range in
                    for c in range { body(((first + c) * chunk)..<min(rows, (first + c + 1) * chunk)) }
                }
            }
            return true
        }
    }

    /// The bytes `encode` allocates for `samples` signals over `dictionary`:
    /// the Gram matrix, the correlations and the codes, each thread's OMP
    /// factor or proximal gradient's five chunk-sized buffers and its exact
    /// finish's factor, and the residuals an error measure takes of the codes after.
    public static func encodingBytes(samples: Int, over dictionary: SparseDictionary, _ encoder: SparseEncoder) -> Int {
        let k = dictionary.count, n = dictionary.length
        var steps = 0
        if case .omp(let sparsity, _) = encoder { steps = min(sparsity ?? min(k, n), k) }
        var perThread = MemoryAccount.sum(MemoryAccount.product(steps, steps), 3 * k)
        if case .proximalGradient = encoder { perThread = MemoryAccount.sum(MemoryAccount.product(5 * chunk, k), MemoryAccount.product(2 * k, k)) }
        return MemoryAccount.sum(dictionary.gramBytes, MemoryAccount.product(samples, k, 8),
                                 MemoryAccount.product(samples, n + 4, 4),
                                 MemoryAccount.product(max(1, Parallel.threads), perThread, 4))
    }

    /// Codes each row of `signals` (`[samples, …]`, each sample `dictionary.length`
    /// values). `warmStart` (the lasso by either solver) starts from earlier codes.
    /// `shouldStop` is asked between chunks of samples; nil when it said stop.
    public static func encode(_ signals: Tensor, with dictionary: SparseDictionary, _ encoder: SparseEncoder,
                              warmStart: SparseCodes? = nil, shouldStop: () -> Bool = { false }) -> SparseCodes? {
        BLAS.singleThreaded { encodeOnChunks(signals, dictionary, encoder, warmStart: warmStart, shouldStop: shouldStop) }
    }

    static func encodeOnChunks(_ signals: Tensor, _ dictionary: SparseDictionary, _ encoder: SparseEncoder,
                               warmStart: SparseCodes?, shouldStop: () -> Bool) -> SparseCodes? {
        let problem = CodingProblem(signals, dictionary)
        switch encoder {
        case .omp(let sparsity, let error):
            return BatchOMP.encode(problem, sparsity: sparsity ?? min(dictionary.count, dictionary.length),
                                   relativeError: error, shouldStop: shouldStop)?.codes
        case .lasso(let alpha, let positive, let tolerance):
            return LassoCD.encode(problem, alpha: alpha, positive: positive, tolerance: tolerance,
                                  warmStart: warmStart, shouldStop: shouldStop)
        case .proximalGradient(let alpha, let positive, let accelerated, let iterations, let tolerance):
            return ProximalGradient.encode(problem, alpha: alpha, positive: positive, accelerated: accelerated,
                                           iterations: iterations, tolerance: tolerance, warmStart: warmStart, shouldStop: shouldStop)
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
        var norms = [Double](repeating: 0, count: codes.samples)
        let n = dictionary.length, k = dictionary.count
        codes.values.withUnsafeBufferPointer { c in
            dictionary.atoms.withUnsafeBufferPointer { d in
                r.withUnsafeMutableBufferPointer { out in
                    norms.withUnsafeMutableBufferPointer { squared in
                        inChunks(codes.samples) { rows in
                            let p = out.baseAddress! + rows.lowerBound * n
                            GEMM.multiply(c.baseAddress! + rows.lowerBound * k, d.baseAddress!, into: p, m: rows.count,
                                          n: n, k: k, alpha: -1, beta: 1)
                            for i in rows { squared[i] = Double(cblas_sdot(Int32(n), out.baseAddress! + i * n, 1, out.baseAddress! + i * n, 1)) }
                        }
                    }
                }
            }
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
        gram = BLAS.singleThreaded { dictionary.gram }
        let n = dictionary.length, samples = signals.batch, k = dictionary.count
        var c = [Float](repeating: 0, count: samples * k)
        signals.storage.withUnsafeBufferPointer { x in
            dictionary.atoms.withUnsafeBufferPointer { d in
                c.withUnsafeMutableBufferPointer { out in
                    SparseCoding.inChunks(samples) { rows in
                        GEMM.multiply(x.baseAddress! + rows.lowerBound * n, d.baseAddress!, transposeB: true,
                                      into: out.baseAddress! + rows.lowerBound * k, m: rows.count, n: k, k: n)
                    }
                }
            }
        }
        correlations = c
        squaredNorms = signals.storage.withUnsafeBufferPointer { x in
            (0..<samples).map { i in
                var s = 0.0
                for v in x[(i * n)..<((i + 1) * n)] { s += Double(v) * Double(v) }
                return s
            }
        }
    }

    /// Runs `body` on the samples' chunks across threads (`SparseCoding.inChunks`).
    func forEachChunk(shouldStop: () -> Bool, _ body: (Range<Int>) -> Void) -> Bool {
        SparseCoding.inChunks(samples, shouldStop: shouldStop, body)
    }
}
