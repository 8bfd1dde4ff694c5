#if canImport(Glibc)
import Glibc
#endif

/// Losses over a batch, with their gradient, against class labels or
/// real-valued targets.
public enum Loss: String, Sendable, CaseIterable {
    /// Categorical cross-entropy: −mean Σ t log p, with t one-hot for class
    /// labels (so −mean log p[label]) or a distribution per row for
    /// real-valued targets; probabilities clipped to [1e-7, 1 − 1e-7] as Keras does.
    case crossentropy
    /// Mean squared error against real-valued targets, or one-hot class labels.
    case mse
    /// Binary cross-entropy, Keras's `binary_crossentropy`: the mean over
    /// every value of −[t log p + (1 − t) log(1 − p)], for outputs and
    /// targets in [0, 1] (a reconstructed image; one-hot for class labels);
    /// probabilities clipped to [1e-7, 1 − 1e-7] as Keras does.
    case bce
    /// The lasso objective ½‖x − zD‖² + α‖z‖₁ of a LISTA model's codes z
    /// (`LassoObjective`: the atoms and α its layer was declared with),
    /// averaged over the samples; the targets are the signals x.
    case lasso

    /// The loss of `output` (`[batch, …]`, compared row by row over its last
    /// dimension for classes) against `targets`, and its gradient with
    /// respect to `output` (left empty when `withGradient` is false: the
    /// fused softmax path has its own). The loss is the mean over these
    /// rows; the gradient is that of the mean over `batch` rows (default:
    /// these), for a shard of a batch. Unlabelled targets give no loss.
    /// `lasso` needs the model's `objective`: without one its loss is not a
    /// number, which stops a fit as any diverging loss does.
    public func evaluate(_ output: Tensor, targets: BatchTargets, withGradient: Bool = true,
                         batch: Int? = nil, objective: LassoObjective? = nil) -> (loss: Double, gradient: Tensor) {
        if case .none = targets { return (0, Tensor(zeros: withGradient ? output.shape : [0])) }
        let (total, gradient) = summed(output, targets: targets, withGradient: withGradient, batch: batch,
                                       objective: objective, onto: 0)
        return (mean(ofSum: total, samples: output.batch, values: output.sampleSize), gradient)
    }

    /// Adds the loss of `output` against `targets`, summed and not yet
    /// divided, onto `total`, row after row: a data set's loss taken a batch
    /// at a time adds the same terms in the same order as one pass, so
    /// `mean(ofSum:…)` of the whole gives the same bits.
    public func addSum(of output: Tensor, targets: BatchTargets, objective: LassoObjective? = nil, to total: inout Double) {
        total = summed(output, targets: targets, withGradient: false, batch: nil, objective: objective, onto: total).total
    }

    /// The mean a summed loss stands for: over rows for cross-entropy and
    /// the lasso objective, over every value for mse and bce.
    public func mean(ofSum total: Double, samples n: Int, values k: Int) -> Double {
        self == .crossentropy || self == .lasso ? total / Double(n) : total / Double(n * k)
    }

    /// `total` plus the loss of each row in order, and the gradient as `evaluate` says.
    private func summed(_ output: Tensor, targets: BatchTargets, withGradient: Bool, batch: Int?,
                        objective: LassoObjective?, onto start: Double) -> (total: Double, gradient: Tensor) {
        let n = output.batch, k = output.sampleSize, over = Float(batch ?? n)
        var gradient = Tensor(zeros: withGradient ? output.shape : [0])
        var total = start
        switch (self, targets) {
        case (_, .none):
            return (total, gradient)
        case (.lasso, .values(let signals)):
            guard let objective else { return (.nan, gradient) }
            return objective.summed(codes: output, signals: signals, withGradient: withGradient, batch: batch, onto: total)
        case (.lasso, .classes):
            return (.nan, gradient)
        case (.crossentropy, .classes(let labels)):
            for r in 0..<n {
                let p = min(max(output[r * k + labels[r]], 1e-7), 1 - 1e-7)
                total -= Double(logf(p))
                if withGradient { gradient[r * k + labels[r]] = -1 / (p * over) }
            }
            return (total, gradient)
        case (.crossentropy, .values(let t)):
            for i in 0..<output.count where t[i] != 0 {
                let p = min(max(output[i], 1e-7), 1 - 1e-7)
                total -= Double(t[i] * logf(p))
                if withGradient { gradient[i] = -t[i] / (p * over) }
            }
            return (total, gradient)
        case (.mse, _):
            for r in 0..<n {
                for j in 0..<k {
                    let d = output[r * k + j] - Loss.target(targets, row: r, column: j, width: k)
                    total += Double(d * d)
                    if withGradient { gradient[r * k + j] = 2 * d / (over * Float(k)) }
                }
            }
            return (total, gradient)
        case (.bce, _):
            // d/dp of −[t log p + (1 − t) log(1 − p)] is (p − t) / (p (1 − p)).
            for r in 0..<n {
                for j in 0..<k {
                    let t = Loss.target(targets, row: r, column: j, width: k)
                    let p = min(max(output[r * k + j], 1e-7), 1 - 1e-7)
                    total -= Double(t * logf(p) + (1 - t) * logf(1 - p))
                    if withGradient { gradient[r * k + j] = (p - t) / (p * (1 - p) * over * Float(k)) }
                }
            }
            return (total, gradient)
        }
    }

    /// Class labels, as `evaluate(_:targets:…)` with `.classes`.
    public func evaluate(_ output: Tensor, labels: [Int], withGradient: Bool = true,
                         batch: Int? = nil) -> (loss: Double, gradient: Tensor) {
        evaluate(output, targets: .classes(labels), withGradient: withGradient, batch: batch)
    }

    /// The target value at (row, column): one-hot for class labels.
    @inline(__always)
    static func target(_ targets: BatchTargets, row r: Int, column j: Int, width k: Int) -> Float {
        switch targets {
        case .classes(let labels): return j == labels[r] ? 1 : 0
        case .values(let t): return t[r * k + j]
        case .none: return 0
        }
    }

    /// Softmax followed by cross-entropy, differentiated in one step: the
    /// gradient with respect to the logits is (p − t) / batch, which is exact
    /// and stable where the two separate steps are not (t one-hot for class
    /// labels; for real-valued targets each row must sum to 1). `batch` as in
    /// `evaluate`.
    public static func softmaxCrossEntropyGradient(probabilities p: Tensor, targets: BatchTargets, batch: Int? = nil) -> Tensor {
        let n = p.batch, k = p.sampleSize
        var g = p
        switch targets {
        case .classes(let labels): for r in 0..<n { g[r * k + labels[r]] -= 1 }
        case .values(let t): for i in 0..<g.count { g[i] -= t[i] }
        case .none: return Tensor(zeros: p.shape)
        }
        let scale = 1 / Float(batch ?? n)
        for i in 0..<g.count { g[i] *= scale }
        return g
    }

    public static func softmaxCrossEntropyGradient(probabilities p: Tensor, labels: [Int], batch: Int? = nil) -> Tensor {
        softmaxCrossEntropyGradient(probabilities: p, targets: .classes(labels), batch: batch)
    }

    /// Sigmoid followed by binary cross-entropy, differentiated in one step:
    /// the gradient with respect to the sigmoid's input is (p − t) / (batch ×
    /// values per sample), exact where the separate steps lose it (a
    /// saturated p makes p (1 − p) round to 0, or the clip stops the
    /// gradient). Keras fuses the two the same way (`from_logits`). `batch`
    /// as in `evaluate`.
    public static func sigmoidBinaryCrossEntropyGradient(probabilities p: Tensor, targets: BatchTargets,
                                                         batch: Int? = nil) -> Tensor {
        if case .none = targets { return Tensor(zeros: p.shape) }
        let n = p.batch, k = p.sampleSize
        let scale = 1 / (Float(batch ?? n) * Float(k))
        var g = p
        for r in 0..<n {
            for j in 0..<k { g[r * k + j] = (p[r * k + j] - Loss.target(targets, row: r, column: j, width: k)) * scale }
        }
        return g
    }

    /// Whether training differentiates this loss together with the model's
    /// last activation: cross-entropy with a final softmax, binary
    /// cross-entropy with a final sigmoid (reshapes after it allowed).
    public func fuses(with model: Sequential) -> Bool {
        switch self {
        case .crossentropy: return model.endsInSoftmax
        case .bce: return model.endsInSigmoid
        case .mse, .lasso: return false
        }
    }

    /// The gradient with respect to the input of the activation this loss
    /// is fused with (see `fuses(with:)`); mse and lasso, fused with
    /// nothing, are never asked.
    public func fusedGradient(probabilities p: Tensor, targets: BatchTargets, batch: Int? = nil) -> Tensor {
        switch self {
        case .crossentropy: return Loss.softmaxCrossEntropyGradient(probabilities: p, targets: targets, batch: batch)
        case .bce: return Loss.sigmoidBinaryCrossEntropyGradient(probabilities: p, targets: targets, batch: batch)
        case .mse, .lasso: return evaluate(p, targets: targets, batch: batch).gradient
        }
    }
}
