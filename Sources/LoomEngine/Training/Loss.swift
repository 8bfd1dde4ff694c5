#if canImport(Glibc)
import Glibc
#endif

/// Losses over a batch, with their gradient.
public enum Loss: String, Sendable, CaseIterable {
    /// Categorical cross-entropy on class labels: −mean log p[label], with
    /// probabilities clipped to [1e-7, 1 − 1e-7] as Keras does.
    case crossentropy
    /// Mean squared error against one-hot labels (or targets).
    case mse

    /// The loss of `output` (probabilities, `[batch, classes]`) against
    /// integer `labels`, and its gradient with respect to `output` (left
    /// empty when `withGradient` is false: the fused softmax path has its own).
    /// The loss is the mean over these rows; the gradient is that of the
    /// mean over `batch` rows (default: these), for a shard of a batch.
    public func evaluate(_ output: Tensor, labels: [Int], withGradient: Bool = true,
                         batch: Int? = nil) -> (loss: Double, gradient: Tensor) {
        let n = output.batch, k = output.sampleSize, over = Float(batch ?? n)
        var gradient = Tensor(zeros: withGradient ? output.shape : [0])
        var total = 0.0
        switch self {
        case .crossentropy:
            for r in 0..<n {
                let p = min(max(output[r * k + labels[r]], 1e-7), 1 - 1e-7)
                total -= Double(logf(p))
                if withGradient { gradient[r * k + labels[r]] = -1 / (p * over) }
            }
            return (total / Double(n), gradient)
        case .mse:
            for r in 0..<n {
                for j in 0..<k {
                    let d = output[r * k + j] - (j == labels[r] ? 1 : 0)
                    total += Double(d * d)
                    if withGradient { gradient[r * k + j] = 2 * d / (over * Float(k)) }
                }
            }
            return (total / Double(n * k), gradient)
        }
    }

    /// Softmax followed by cross-entropy, differentiated in one step: the
    /// gradient with respect to the logits is (p − onehot) / batch, which is
    /// exact and stable where the two separate steps are not.
    /// `batch` as in `evaluate`.
    public static func softmaxCrossEntropyGradient(probabilities p: Tensor, labels: [Int], batch: Int? = nil) -> Tensor {
        let n = p.batch, k = p.sampleSize
        var g = p
        for r in 0..<n {
            g[r * k + labels[r]] -= 1
        }
        let scale = 1 / Float(batch ?? n)
        for i in 0..<g.count { g[i] *= scale }
        return g
    }
}
