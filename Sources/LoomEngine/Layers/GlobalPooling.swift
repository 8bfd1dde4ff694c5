/// `globalpool avg|max`: each feature's mean or maximum over every position
/// (the steps of a sequence, the pixels of an image): `[…, features]` →
/// `[features]`. What closes a convolutional sequence model before `dense`.
public struct GlobalPoolingSpec: LayerSpec, Equatable {
    public enum Mode: String, Sendable, CaseIterable { case avg, max }
    public var mode: Mode

    public init(mode: Mode) { self.mode = mode }

    public var blockPrefix: String { "pool" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count >= 2 else { throw ShapeError("globalpool needs positions and features, not \(Shape.text(input))") }
        return [GlobalPooling(name: name, mode: mode, input: input)]
    }
}

public final class GlobalPooling: Layer {
    public let name: String
    public let mode: GlobalPoolingSpec.Mode
    public let inputShape: [Int]
    public var kind: String { "globalpool" }
    public var outputShape: [Int] { [features] }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    var features: Int { inputShape.last! }
    var positions: Int { inputShape.dropLast().reduce(1, *) }
    /// For max: where each (sample, feature)'s maximum came from, as a position.
    private var winners: [Int32] = []

    init(name: String, mode: GlobalPoolingSpec.Mode, input: [Int]) {
        self.name = name
        self.mode = mode
        inputShape = input
    }

    public func replica(on _: [Parameter]) -> Layer { GlobalPooling(name: name, mode: mode, input: inputShape) }
    public var multiplyAdds: Int { positions * features }
    /// Its output, the gradient passed back (the input's size) and the winners.
    public var trainingFloatsPerSample: Int { 2 * features + positions * features }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch, (p, f) = (positions, features)
        if mode == .avg { return average(x) }
        var y = Tensor(zeros: [n, f])
        winners = [Int32](repeating: 0, count: n * f)
        for s in 0..<n {
            for c in 0..<f {
                var best = x[s * p * f + c], at = 0
                for q in 0..<p {
                    let v = x[(s * p + q) * f + c]
                    if v > best { best = v; at = q }
                }
                y[s * f + c] = best
                winners[s * f + c] = Int32(at)
            }
        }
        return y
    }

    /// Each feature's mean: a sample's rows added in order eight features
    /// at a time (the same sums as one feature at a time), then divided.
    private func average(_ x: Tensor) -> Tensor {
        let (p, f) = (positions, features)
        var y = Tensor(zeros: [x.batch, f])
        x.storage.withUnsafeBufferPointer { from in
            y.storage.withUnsafeMutableBufferPointer { to in
                for s in 0..<x.batch {
                    for q in 0..<p { Vector.add(from.baseAddress! + (s * p + q) * f, into: to.baseAddress! + s * f, count: f) }
                }
                for i in 0..<to.count { to[i] /= Float(p) }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.batch, (p, f) = (positions, features)
        if mode == .avg {
            // Each feature's gradient ÷ positions, at every position.
            let share = dy.storage.map { $0 / Float(p) }
            return Tensor(shape: [n] + inputShape) { dx in
                share.withUnsafeBufferPointer { g in
                    for s in 0..<n {
                        for q in 0..<p { Vector.copy(g.baseAddress! + s * f, into: dx.baseAddress! + (s * p + q) * f, count: f) }
                    }
                }
            }
        }
        var dx = Tensor(zeros: [n] + inputShape)
        for s in 0..<n {
            for c in 0..<f {
                dx[(s * p + Int(winners[s * f + c])) * f + c] = dy[s * f + c]
            }
        }
        return dx
    }
}
