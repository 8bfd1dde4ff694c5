#if canImport(Glibc)
import Glibc
#endif
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The update rules, with Keras's default hyper-parameters.
public enum OptimizerKind: String, Sendable, CaseIterable {
    case adam, sgd, momentum, rmsprop
    /// Adam with decoupled weight decay (Loshchilov and Hutter; Keras's AdamW).
    case adamw

    /// Keras 3's `AdamW(weight_decay=0.004)`; PyTorch's default is 0.01.
    public static let defaultWeightDecay: Float = 0.004

    /// Keras's default learning rate for each.
    public var defaultLearningRate: Float {
        switch self {
        case .sgd, .momentum: return 0.01
        case .adam, .adamw, .rmsprop: return 0.001
        }
    }
}

/// Updates parameters from their gradients, keeping per-parameter state
/// (velocities, moments) across steps.
public final class Optimizer {
    public let kind: OptimizerKind
    public let learningRate: Float
    /// AdamW's decoupled decay: each step, before Adam's, a kernel's weights
    /// lose lr·wd of themselves (Keras's order); biases and scales do not.
    /// 0 for the other rules.
    public let weightDecay: Float
    /// What a schedule multiplies the learning rate by this epoch (1 without one).
    public var rateScale: Float = 1
    public let momentum: Float = 0.9
    public let beta1: Float = 0.9
    public let beta2: Float = 0.999
    public let rho: Float = 0.9
    public let epsilon: Float = 1e-7
    public private(set) var steps = 0
    /// Per-parameter moments, updated in place (a class, so no copy per step):
    /// one per weight, or with `pattern` one per weight of the pattern.
    final class Moments {
        var first: [Float]
        var second: [Float]
        var pattern: SparsePattern?
        init(count: Int) {
            first = [Float](repeating: 0, count: count)
            second = [Float](repeating: 0, count: count)
        }
    }
    private var moments: [ObjectIdentifier: Moments] = [:]

    public init(_ kind: OptimizerKind, learningRate: Float? = nil, weightDecay: Float? = nil) {
        self.kind = kind
        self.learningRate = learningRate ?? kind.defaultLearningRate
        self.weightDecay = kind == .adamw ? weightDecay ?? OptimizerKind.defaultWeightDecay : 0
    }

    /// Whether this step decays `p` (AdamW, on what `l2` would decay).
    func decays(_ p: Parameter) -> Bool { weightDecay > 0 && p.isDecayable }

    /// One step over the trainable `parameters`; masked weights stay zero.
    /// Each parameter comes once (as in a model's table,
    /// `Sequential.parameters`), its gradient the sum of all its uses;
    /// moments are kept by identity.
    public func step(_ parameters: [Parameter]) {
        steps += 1
        let t = Float(steps)
        for p in parameters where p.trainable {
            if let clusters = p.clusters {
                stepCentroids(clusters, of: p, step: t)
                continue
            }
            let n = p.value.count
            let state = moments[ObjectIdentifier(p)] ?? Moments(count: n)
            moments[ObjectIdentifier(p)] = state
            state.conform(to: p.sparsePattern, weights: n)
            if let pattern = p.sparsePattern {
                stepSparsely(p, pattern, state, step: t)
                continue
            }
            if p.mask != nil { p.gradient.storage.withUnsafeMutableBufferPointer { p.applyMask(to: $0) } }
            // Read before the weights are borrowed for writing: it reads their shape.
            let decayed = decays(p)
            p.value.storage.withUnsafeMutableBufferPointer { w in
                p.gradient.storage.withUnsafeBufferPointer { g in
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            update(w, g, m, v, step: t, decays: decayed)
                            // A masked weight keeps no moments, so lifting its mask starts it afresh.
                            p.applyMask(to: m)
                            p.applyMask(to: v)
                        }
                    }
                }
            }
            p.applyMask()
        }
    }

    /// A clustered weight's step: each centroid moves by the sum of its
    /// members' gradients (with moments of its own), and the weights take
    /// their centroids' new values, so they stay that many shared values.
    private func stepCentroids(_ clusters: WeightClusters, of p: Parameter, step t: Float) {
        var gradient = clusters.centroidGradient(of: p)
        let decayed = decays(p)
        let known = moments[ObjectIdentifier(clusters)]
        let state = known?.first.count == clusters.centroids.count ? known! : Moments(count: clusters.centroids.count)
        moments[ObjectIdentifier(clusters)] = state
        clusters.centroids.withUnsafeMutableBufferPointer { c in
            gradient.withUnsafeMutableBufferPointer { g in
                state.first.withUnsafeMutableBufferPointer { m in
                    state.second.withUnsafeMutableBufferPointer { v in
                        update(c.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, count: c.count, step: t,
                               decays: decayed)
                    }
                }
            }
        }
        p.applyMask()
    }

    /// The update rule over whole arrays, split across threads: every
    /// weight on its own, so the same numbers for any thread count.
    /// `decays`: AdamW's decoupled decay applies to these weights.
    func update(_ w: UnsafeMutableBufferPointer<Float>, _ g: UnsafeBufferPointer<Float>, _ m: UnsafeMutableBufferPointer<Float>,
                _ v: UnsafeMutableBufferPointer<Float>, step t: Float, decays: Bool) {
        let (wp, gp, mp, vp) = (w.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
        Parallel.chunks(w.count, minimumChunk: 16384) { r in
            let at = r.lowerBound
            update(wp + at, gp + at, mp + at, vp + at, count: r.count, step: t, decays: decays)
        }
    }

    /// The update rule on raw arrays.
    private func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                        _ v: UnsafeMutablePointer<Float>, count n: Int, step t: Float, decays: Bool) {
        let lr = learningRate * rateScale
        if decays {
            // Keras's AdamW: w − w·wd·lr, before the Adam step, from the weights alone.
            let wd = weightDecay
            for i in 0..<n { w[i] -= w[i] * wd * lr }
        }
        switch kind {
        case .sgd:
            for i in 0..<n { w[i] -= lr * g[i] }
        case .momentum:
            // Keras SGD(momentum): v = μv − lr·g; w += v.
            let mu = momentum
            for i in 0..<n {
                let velocity = mu * m[i] - lr * g[i]
                m[i] = velocity
                w[i] += velocity
            }
        case .adam, .adamw:
            let alpha = lr * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t))
            let (keep1, keep2, eps) = (1 - beta1, 1 - beta2, epsilon)
            var i = 0
            #if arch(x86_64)
            // Four lanes with SSE's square root: Swift's own (scalar and SIMD)
            // goes through sqrtf here and does not vectorise. Same operations
            // in the same order as the scalar loop below.
            let (a, k1, k2, e) = (_mm_set1_ps(alpha), _mm_set1_ps(keep1), _mm_set1_ps(keep2), _mm_set1_ps(eps))
            while i + 4 <= n {
                let gi = _mm_loadu_ps(g + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i)
                let first = _mm_add_ps(mi, _mm_mul_ps(_mm_sub_ps(gi, mi), k1))
                let second = _mm_add_ps(vi, _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(gi, gi), vi), k2))
                _mm_storeu_ps(m + i, first)
                _mm_storeu_ps(v + i, second)
                let step = _mm_div_ps(_mm_mul_ps(a, first), _mm_add_ps(_mm_sqrt_ps(second), e))
                _mm_storeu_ps(w + i, _mm_sub_ps(_mm_loadu_ps(w + i), step))
                i += 4
            }
            #endif
            while i < n {
                let gi = g[i]
                let first = m[i] + (gi - m[i]) * keep1
                let second = v[i] + (gi * gi - v[i]) * keep2
                m[i] = first
                v[i] = second
                w[i] -= alpha * first / (second.squareRoot() + eps)
                i += 1
            }
        case .rmsprop:
            // Keras 3: v = ρv + (1 − ρ)g²; w −= lr·g / √(v + ε).
            let (r, keep, eps) = (rho, 1 - rho, epsilon)
            for i in 0..<n {
                let gi = g[i]
                let second = r * v[i] + keep * gi * gi
                v[i] = second
                w[i] -= lr * gi / (second + eps).squareRoot()
            }
        }
    }
}
