import CBLAS

extension DictionaryLearning.State {
    /// One K-SVD iteration: OMP codes, then each atom in turn with its
    /// coefficients fitted to the residual E the other atoms leave on the
    /// samples that use it — d = E·g/‖E·g‖, then g = Eᵀd, one power
    /// iteration of the rank-one fit (approximate K-SVD). E is never formed:
    /// E·g = Xᵀg − Dᵀ(Γg) and Eᵀd = X·d − Γ(Dd) over the sparse codes.
    mutating func ksvd(sparsity: Int, shouldStop: () -> Bool) -> Bool {
        guard codeNeverWorse(sparsity: sparsity, shouldStop: shouldStop) else { return false }
        let k = dictionary.count, n = dictionary.length
        // Each sample's atoms and each atom's samples; updates keep these supports.
        var supports = [[Int]](repeating: [], count: codes.samples)
        var users = [[Int]](repeating: [], count: k)
        for i in 0..<codes.samples {
            for j in 0..<k where codes.values[i * k + j] != 0 {
                supports[i].append(j)
                users[j].append(i)
            }
        }
        var combination = [Float](repeating: 0, count: k), fit = [Float](repeating: 0, count: n)
        var explained = [Float](repeating: 0, count: n), overlaps = [Float](repeating: 0, count: k)
        for j in 0..<k where !users[j].isEmpty {
            if j % 16 == 0, shouldStop() { return false }
            signals.storage.withUnsafeBufferPointer { x in
                codes.values.withUnsafeMutableBufferPointer { c in
                    dictionary.atoms.withUnsafeMutableBufferPointer { d in
                        // fit = Xᵀg, combination = Γg without atom j.
                        for t in 0..<n { fit[t] = 0 }
                        for t in 0..<k { combination[t] = 0 }
                        for i in users[j] {
                            let g = c[i * k + j]
                            cblas_saxpy(Int32(n), g, x.baseAddress! + i * n, 1, &fit, 1)
                            for a in supports[i] where a != j { combination[a] += g * c[i * k + a] }
                        }
                        // d = fit − Dᵀ·combination, normalised.
                        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, d.baseAddress!, Int32(n),
                                    combination, 1, 0, &explained, 1)
                        for t in 0..<n { fit[t] -= explained[t] }
                        let norm = cblas_snrm2(Int32(n), fit, 1)
                        guard norm > 0, norm.isFinite else { return }
                        for t in 0..<n { fit[t] /= norm }
                        (d.baseAddress! + j * n).update(from: fit, count: n)
                        // g = X·d − Γ(Dd) over atom j's samples.
                        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(k), Int32(n), 1, d.baseAddress!, Int32(n),
                                    fit, 1, 0, &overlaps, 1)
                        for i in users[j] {
                            var g = cblas_sdot(Int32(n), x.baseAddress! + i * n, 1, fit, 1)
                            for a in supports[i] where a != j { g -= c[i * k + a] * overlaps[a] }
                            c[i * k + j] = g
                        }
                    }
                }
            }
        }
        finishIteration()
        return true
    }
}
