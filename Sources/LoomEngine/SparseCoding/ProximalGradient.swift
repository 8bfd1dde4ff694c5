import LoomCore

/// The lasso, min ½‖x − αᵀD‖² + λ‖α‖₁ (the objective `LassoCD` solves), by
/// proximal gradient: a gradient step of 1/L, L the largest eigenvalue of
/// the Gram matrix G = DDᵀ, then soft thresholding at λ/L (ISTA); FISTA adds
/// Beck and Teboulle's momentum, tₖ₊₁ = (1 + √(1 + 4tₖ²))/2.
///
/// A chunk of samples moves together: the gradient of the whole chunk is
/// Q − C with Q = A·G, one sgemm an iteration. The momentum point's Q is
/// Qₖ + β(Qₖ − Qₖ₋₁) by linearity, so that single product also gives the
/// objective at every iterate. Each chunk stops after `iterations` or once
/// ‖Aₖ₊₁ − Aₖ‖ ≤ `tolerance`·‖Aₖ₊₁‖.
enum ProximalGradient {
    /// What a chunk's run leaves: its objective before the first step and after each.
    struct ChunkRun { var objectives: [Double] = [] }

    static func encode(_ p: CodingProblem, alpha: Double, positive: Bool, accelerated: Bool, iterations: Int,
                       tolerance: Double, warmStart: SparseCodes?, shouldStop: () -> Bool) -> SparseCodes? {
        let atoms = p.atoms, samples = p.samples
        if let warmStart { precondition(warmStart.samples == samples && warmStart.atoms == atoms, "proximal gradient: warm start of another shape") }
        var codes = warmStart?.values ?? [Float](repeating: 0, count: samples * atoms)
        let lipschitz = largestEigenvalue(of: p.dictionary)
        let chunks = (samples + SparseCoding.chunk - 1) / SparseCoding.chunk
        var runs = [ChunkRun](repeating: ChunkRun(), count: chunks)
        let finished = codes.withUnsafeMutableBufferPointer { out in
            runs.withUnsafeMutableBufferPointer { runs in
                p.gram.withUnsafeBufferPointer { g in
                    p.correlations.withUnsafeBufferPointer { c in
                        p.forEachChunk(shouldStop: shouldStop) { range in
                            let solver = Solver(gram: g.baseAddress!, atoms: atoms, lipschitz: lipschitz, alpha: alpha,
                                                positive: positive, accelerated: accelerated)
                            let norms = p.squaredNorms[range].reduce(0, +)
                            runs[range.lowerBound / SparseCoding.chunk].objectives = solver.run(
                                out.baseAddress! + range.lowerBound * atoms, rows: range.count,
                                correlations: c.baseAddress! + range.lowerBound * atoms, squaredNorms: norms,
                                iterations: iterations, tolerance: tolerance)
                        }
                    }
                }
            }
        }
        guard finished else { return nil }
        var result = SparseCodes(values: codes, samples: samples, atoms: atoms)
        result.objectiveByIteration = summedByIteration(runs.map(\.objectives))
        return result
    }

    /// The objectives of every chunk added up iteration by iteration, a chunk
    /// that stopped early counting its last (as OMP's residual by step does).
    static func summedByIteration(_ runs: [[Double]]) -> [Double] {
        let length = runs.map(\.count).max() ?? 0
        return (0..<length).map { k in runs.reduce(0) { $0 + ($1.isEmpty ? 0 : $1[min(k, $1.count - 1)]) } }
    }

    /// λₘₐₓ(DDᵀ) = λₘₐₓ(DᵀD), from the smaller of the two in double
    /// precision; the trace (an upper bound, so still a safe step) should
    /// LAPACK not converge.
    static func largestEigenvalue(of d: SparseDictionary) -> Double {
        let k = d.count, n = d.length, side = min(k, n)
        let product = k <= n ? GEMM.product(d.atoms, d.atoms, m: k, n: k, k: n, transposeB: true)
            : GEMM.product(d.atoms, d.atoms, m: n, n: n, k: k, transposeA: true)
        let matrix = product.map(Double.init)
        if let largest = LAPACK.symmetricEigen(matrix, n: side)?.values.last, largest.isFinite { return max(largest, 0) }
        return (0..<side).reduce(0.0) { $0 + matrix[$1 * side + $1] }
    }

    /// One chunk's iterations over shared read-only data.
    struct Solver {
        let gram: UnsafePointer<Float>
        let atoms: Int
        let lipschitz: Double
        let alpha: Double
        let positive: Bool
        let accelerated: Bool

        /// Runs from the codes in `a` (`rows` × `atoms`, overwritten with the
        /// result); returns the objective before the first step and after each.
        func run(_ a: UnsafeMutablePointer<Float>, rows: Int, correlations c: UnsafePointer<Float>, squaredNorms: Double,
                 iterations: Int, tolerance: Double) -> [Double] {
            let count = rows * atoms
            var q = [Float](repeating: 0, count: count), previousQ = q, previous = q
            q.withUnsafeMutableBufferPointer { GEMM.multiply(a, gram, into: $0.baseAddress!, m: rows, n: atoms, k: atoms) }
            var objectives = [objective(a, q, c, count: count, squaredNorms: squaredNorms)]
            guard lipschitz > 0 else { return objectives }
            let step = Float(1 / lipschitz), cut = Float(alpha / lipschitz)
            var t = 1.0
            for _ in 0..<iterations {
                let next = (1 + (1 + 4 * t * t).squareRoot()) / 2
                let beta = accelerated ? Float((t - 1) / next) : 0
                t = next
                var change = 0.0, size = 0.0
                previous.withUnsafeMutableBufferPointer { old in
                    q.withUnsafeBufferPointer { q in
                        previousQ.withUnsafeBufferPointer { oldQ in
                            for i in 0..<count {
                                let y = a[i] + beta * (a[i] - old[i])
                                let gradient = q[i] + beta * (q[i] - oldQ[i]) - c[i]
                                let v = y - step * gradient
                                let new = positive ? max(v - cut, 0) : (v > cut ? v - cut : (v < -cut ? v + cut : 0))
                                let moved = Double(new - a[i])
                                change += moved * moved
                                size += Double(new) * Double(new)
                                old[i] = a[i]
                                a[i] = new
                            }
                        }
                    }
                }
                swap(&q, &previousQ)
                q.withUnsafeMutableBufferPointer { GEMM.multiply(a, gram, into: $0.baseAddress!, m: rows, n: atoms, k: atoms) }
                objectives.append(objective(a, q, c, count: count, squaredNorms: squaredNorms))
                if change <= tolerance * tolerance * size { break }
            }
            return objectives
        }

        /// Σ ½‖x − αᵀD‖² + λ‖α‖₁ = Σ ½‖x‖² − α·c + ½α·q + λ‖α‖₁, q = Gα.
        func objective(_ a: UnsafePointer<Float>, _ q: [Float], _ c: UnsafePointer<Float>, count: Int, squaredNorms: Double) -> Double {
            var ac = 0.0, aq = 0.0, l1 = 0.0
            for i in 0..<count {
                let v = Double(a[i])
                ac += v * Double(c[i])
                aq += v * Double(q[i])
                l1 += abs(v)
            }
            return max(0, 0.5 * squaredNorms - ac + 0.5 * aq) + alpha * l1
        }
    }
}
