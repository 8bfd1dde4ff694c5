import CBLAS

/// Batch-OMP (Rubinstein, Zibulevsky and Elad, 2008): orthogonal matching
/// pursuit from the Gram matrix G = DDᵀ and the correlations c = Dx alone,
/// both computed once for the whole batch. Each step picks the atom most
/// correlated with the residual (α = c − G_I·γ, the residual never formed),
/// grows the Cholesky factor of G_II by one row, and refits γ with two
/// triangular solves.
enum BatchOMP {
    struct Result {
        var codes: SparseCodes
        /// Each sample's squared residual at the end.
        var squaredResiduals: [Double]
    }

    /// A diagonal below this share of its atom's norm means the atom is (almost)
    /// a combination of those already chosen.
    static let dependence: Float = 1e-5

    static func encode(_ p: CodingProblem, sparsity: Int, relativeError: Double?,
                       shouldStop: () -> Bool = { false }) -> Result? {
        let atoms = p.atoms, samples = p.samples
        let steps = max(0, min(sparsity, atoms))
        var codes = [Float](repeating: 0, count: samples * atoms)
        var finalResiduals = [Double](repeating: 0, count: samples)
        let chunkCount = (samples + SparseCoding.chunk - 1) / SparseCoding.chunk
        var stepSums = [Double](repeating: 0, count: chunkCount * (steps + 1))
        var dependent = [Int](repeating: 0, count: chunkCount)
        let finished = codes.withUnsafeMutableBufferPointer { out in
            finalResiduals.withUnsafeMutableBufferPointer { residuals in
                stepSums.withUnsafeMutableBufferPointer { sums in
                    dependent.withUnsafeMutableBufferPointer { stops in
                        p.gram.withUnsafeBufferPointer { g in
                            p.correlations.withUnsafeBufferPointer { c in
                                p.forEachChunk(shouldStop: shouldStop) { range in
                                    var work = Workspace(atoms: atoms, steps: steps)
                                    let chunk = range.lowerBound / SparseCoding.chunk
                                    for i in range {
                                        let target = relativeError.map { $0 * $0 * p.squaredNorms[i] }
                                        let r = work.code(c.baseAddress! + i * atoms, norm: p.squaredNorms[i], gram: g.baseAddress!,
                                                          atoms: atoms, steps: steps, target: target,
                                                          sums: sums.baseAddress! + chunk * (steps + 1),
                                                          into: out.baseAddress! + i * atoms)
                                        residuals[i] = r.residual
                                        if r.dependent { stops[chunk] += 1 }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard finished else { return nil }
        var result = SparseCodes(values: codes, samples: samples, atoms: atoms)
        result.residualByStep = (0...steps).map { s in (0..<chunkCount).reduce(0.0) { $0 + stepSums[$1 * (steps + 1) + s] } }
        result.dependentStops = dependent.reduce(0, +)
        return Result(codes: result, squaredResiduals: finalResiduals)
    }

    /// One thread's buffers, reused from sample to sample.
    struct Workspace {
        var factor: [Float]      // steps × steps, lower triangular, row-major
        var alpha: [Float]       // c − G_I·γ: each atom's correlation with the residual
        var chosen: [Bool]
        var support: [Int]
        var gamma: [Float]

        init(atoms: Int, steps: Int) {
            factor = [Float](repeating: 0, count: max(1, steps * steps))
            alpha = [Float](repeating: 0, count: atoms)
            chosen = [Bool](repeating: false, count: atoms)
            support = []
            support.reserveCapacity(steps)
            gamma = [Float](repeating: 0, count: max(1, steps))
        }

        /// Codes one signal into `out` (zeros on entry); adds its squared
        /// residual after each step to `sums`.
        mutating func code(_ c: UnsafePointer<Float>, norm: Double, gram g: UnsafePointer<Float>, atoms: Int, steps: Int,
                           target: Double?, sums: UnsafeMutablePointer<Double>,
                           into out: UnsafeMutablePointer<Float>) -> (residual: Double, dependent: Bool) {
            var residual = norm
            sums[0] += norm
            var dependent = false
            support.removeAll(keepingCapacity: true)
            alpha.withUnsafeMutableBufferPointer { a in a.baseAddress!.update(from: c, count: atoms) }
            let lda = Int32(max(1, steps))
            while support.count < steps, target.map({ residual > $0 }) ?? true {
                let n = support.count
                // The atom most correlated with the residual.
                var best = -1
                var bestValue: Float = 0
                for k in 0..<atoms where !chosen[k] && abs(alpha[k]) > bestValue {
                    best = k
                    bestValue = abs(alpha[k])
                }
                // Nothing left worth an atom: the best would explain under 1e-10 of the energy.
                guard best >= 0, bestValue.isFinite, Double(bestValue) * Double(bestValue) > 1e-10 * norm else { break }
                // Grow the factor: L·w = G_I,k, then the new diagonal.
                let gkk = g[best * atoms + best]
                var diagonal = gkk
                factor.withUnsafeMutableBufferPointer { l in
                    let row = l.baseAddress! + n * steps
                    for j in 0..<n { row[j] = g[best * atoms + support[j]] }
                    if n > 0 {
                        cblas_strsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n), l.baseAddress!, lda, row, 1)
                        diagonal -= cblas_sdot(Int32(n), row, 1, row, 1)
                    }
                    row[n] = diagonal > 0 ? diagonal.squareRoot() : 0
                }
                guard diagonal > BatchOMP.dependence * gkk else {
                    dependent = true
                    break
                }
                support.append(best)
                chosen[best] = true
                // γ = G_II⁻¹·c_I by two triangular solves.
                let size = n + 1
                factor.withUnsafeBufferPointer { l in
                    gamma.withUnsafeMutableBufferPointer { x in
                        for j in 0..<size { x[j] = c[support[j]] }
                        cblas_strsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, Int32(size), l.baseAddress!, lda, x.baseAddress!, 1)
                        cblas_strsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, Int32(size), l.baseAddress!, lda, x.baseAddress!, 1)
                    }
                }
                // α = c − G_I·γ; the residual ‖x‖² − γᵀc_I (it is orthogonal to the chosen atoms).
                var explained = 0.0
                alpha.withUnsafeMutableBufferPointer { a in
                    a.baseAddress!.update(from: c, count: atoms)
                    for j in 0..<size {
                        cblas_saxpy(Int32(atoms), -gamma[j], g + support[j] * atoms, 1, a.baseAddress!, 1)
                        explained += Double(gamma[j]) * Double(c[support[j]])
                    }
                }
                residual = max(0, norm - explained)
                sums[size] += residual
            }
            // A sample that stopped early keeps its residual for the later steps.
            if support.count < steps { for s in (support.count + 1)...steps { sums[s] += residual } }
            for (j, k) in support.enumerated() {
                out[k] = gamma[j]
                chosen[k] = false
            }
            return (residual, dependent)
        }
    }
}
