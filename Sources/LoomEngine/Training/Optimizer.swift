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
                            update(w.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, count: n, step: t)
                        }
                    }
                }
            }
            p.applyMask()
        }
    }

    /// The update rule on raw arrays, eight weights at a time.
    private func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                        _ v: UnsafeMutablePointer<Float>, count n: Int, step t: Float) {
        typealias Lanes = Vector.Lanes
        let lr = Lanes(repeating: learningRate)
        switch kind {
        case .sgd:
            Vector.update(w, g, m, v, count: n) { w, g, _, _ in w -= lr * g }
        case .momentum:
            // Keras SGD(momentum): v = μv − lr·g; w += v.
            let mu = Lanes(repeating: momentum)
            Vector.update(w, g, m, v, count: n) { w, g, m, _ in
                m = mu * m - lr * g
                w += m
            }
        case .adam:
            let alpha = Lanes(repeating: learningRate * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t)))
            let (keep1, keep2, eps) = (Lanes(repeating: 1 - beta1), Lanes(repeating: 1 - beta2), Lanes(repeating: epsilon))
            Vector.update(w, g, m, v, count: n) { w, g, m, v in
                m += (g - m) * keep1
                v += (g * g - v) * keep2
                w -= alpha * m / (v.squareRoot() + eps)
            }
        case .rmsprop:
            // Keras 3: v = ρv + (1 − ρ)g²; w −= lr·g / √(v + ε).
            let (r, keep, eps) = (Lanes(repeating: rho), Lanes(repeating: 1 - rho), Lanes(repeating: epsilon))
            Vector.update(w, g, m, v, count: n) { w, g, _, v in
                v = r * v + keep * g * g
                w -= lr * g / (v + eps).squareRoot()
            }
        }
    }

}
