#if canImport(Glibc)
import Glibc
#endif

/// The update rules, with Keras's default hyper-parameters.
public enum OptimizerKind: String, Sendable, CaseIterable {
    case sgd, momentum, adam, rmsprop

    /// Keras's default learning rate for each.
    public var defaultLearningRate: Float {
        switch self {
        case .sgd, .momentum: return 0.01
        case .adam, .rmsprop: return 0.001
        }
    }
}

/// Updates parameters from their gradients, keeping per-parameter state
/// (velocities, moments) across steps.
public final class Optimizer {
    public let kind: OptimizerKind
    public let learningRate: Float
    public let momentum: Float = 0.9
    public let beta1: Float = 0.9
    public let beta2: Float = 0.999
    public let rho: Float = 0.9
    public let epsilon: Float = 1e-7
    public private(set) var steps = 0
    /// Per-parameter moments, updated in place (a class, so no copy per step).
    final class Moments {
        var first: [Float]
        var second: [Float]
        init(count: Int) {
            first = [Float](repeating: 0, count: count)
            second = [Float](repeating: 0, count: count)
        }
    }
    private var moments: [ObjectIdentifier: Moments] = [:]

    public init(_ kind: OptimizerKind, learningRate: Float? = nil) {
        self.kind = kind
        self.learningRate = learningRate ?? kind.defaultLearningRate
    }

    /// One step over `parameters`; masked weights stay zero.
    public func step(_ parameters: [Parameter]) {
        steps += 1
        let t = Float(steps)
        for p in parameters {
            let n = p.value.count
            let state = moments[ObjectIdentifier(p)] ?? Moments(count: n)
            moments[ObjectIdentifier(p)] = state
            p.value.storage.withUnsafeMutableBufferPointer { w in
                p.gradient.storage.withUnsafeBufferPointer { g in
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            switch kind {
                            case .sgd:
                                for i in 0..<n { w[i] -= learningRate * g[i] }
                            case .momentum:
                                // Keras SGD(momentum): v = μv − lr·g; w += v.
                                for i in 0..<n { m[i] = momentum * m[i] - learningRate * g[i]; w[i] += m[i] }
                            case .adam:
                                let alpha = learningRate * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t))
                                for i in 0..<n {
                                    m[i] += (g[i] - m[i]) * (1 - beta1)
                                    v[i] += (g[i] * g[i] - v[i]) * (1 - beta2)
                                    w[i] -= alpha * m[i] / (v[i].squareRoot() + epsilon)
                                }
                            case .rmsprop:
                                // Keras 3: v = ρv + (1 − ρ)g²; w −= lr·g / √(v + ε).
                                for i in 0..<n {
                                    v[i] = rho * v[i] + (1 - rho) * g[i] * g[i]
                                    w[i] -= learningRate * g[i] / (v[i] + epsilon).squareRoot()
                                }
                            }
                        }
                    }
                }
            }
            p.applyMask()
        }
    }

}
