#if canImport(Glibc)
import Glibc
#endif

/// The activation functions of Loom's layers.
public enum ActivationFunction: String, Sendable, CaseIterable {
    case relu, tanh, sigmoid, softmax, linear
}

/// An activation applied element-wise (softmax: across the last axis, so a
/// sequence's every step gets its own distribution). Kept as
/// a layer of its own so forward and backward stay side by side; a model
/// shows it as part of the layer it follows.
public final class Activation: Layer {
    public let name: String
    public let kind: String
    public let function: ActivationFunction
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    private var output = Tensor(zeros: [0])

    public init(name: String, function: ActivationFunction, shape: [Int]) {
        self.name = name
        self.kind = function.rawValue
        self.function = function
        self.inputShape = shape
    }

    public func replica(on _: [Parameter]) -> Layer { Activation(name: name, function: function, shape: inputShape) }

    /// Element-wise work, not multiply-adds.
    public var multiplyAdds: Int { 0 }
    /// Its output (kept for backward), the gradient it receives and the one it passes back.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if function == .linear { return x }
        let y = Tensor(shape: x.shape) { v in
            x.storage.withUnsafeBufferPointer { xs in
                let from = xs.baseAddress!, to = v.baseAddress!
                switch function {
                case .linear: break
                case .relu:
                    Parallel.chunks(v.count, minimumChunk: 65536) { r in
                        Vector.relu(from + r.lowerBound, into: to + r.lowerBound, count: r.count)
                    }
                case .tanh: for i in 0..<v.count { to[i] = tanhf(from[i]) }
                case .sigmoid: for i in 0..<v.count { to[i] = 1 / (1 + expf(-from[i])) }
                case .softmax:
                    to.initialize(from: from, count: v.count)
                    Activation.softmaxRows(v, width: x.shape.last ?? 1)
                }
            }
        }
        if training { output = y }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if function == .linear { return dy }
        let width = dy.shape.last ?? 1  // softmax runs over the last axis
        return Tensor(shape: dy.shape) { dx in
            dy.storage.withUnsafeBufferPointer { gs in
                output.storage.withUnsafeBufferPointer { ys in
                    let g = gs.baseAddress!, y = ys.baseAddress!, d = dx.baseAddress!
                    switch function {
                    case .linear: break
                    case .relu:
                        Parallel.chunks(dx.count, minimumChunk: 65536) { r in
                            let at = r.lowerBound
                            Vector.reluGradient(g + at, output: y + at, into: d + at, count: r.count)
                        }
                    case .tanh: for i in 0..<dx.count { d[i] = g[i] * (1 - y[i] * y[i]) }
                    case .sigmoid: for i in 0..<dx.count { d[i] = g[i] * y[i] * (1 - y[i]) }
                    case .softmax:
                        // dz_i = y_i (dy_i − Σ_j y_j dy_j), per sample.
                        for r in 0..<(dx.count / max(1, width)) {
                            let base = r * width
                            var dot: Float = 0
                            for j in 0..<width { dot += y[base + j] * g[base + j] }
                            for j in 0..<width { d[base + j] = y[base + j] * (g[base + j] - dot) }
                        }
                    }
                }
            }
        }
    }

    /// Softmax of each row, shifted by the row's maximum so exp cannot overflow.
    static func softmaxRows(_ v: UnsafeMutableBufferPointer<Float>, width: Int) {
        guard width > 0 else { return }
        for r in 0..<(v.count / width) {
            let base = r * width
            var top = -Float.infinity
            for j in 0..<width { top = max(top, v[base + j]) }
            var sum: Float = 0
            for j in 0..<width {
                let e = expf(v[base + j] - top)
                v[base + j] = e
                sum += e
            }
            for j in 0..<width { v[base + j] /= sum }
        }
    }
}
