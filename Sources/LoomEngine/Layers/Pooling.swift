/// Max or average pooling over `[batch, height, width, channels]`, windows of
/// size×size moved by `stride`, without padding (Keras's default `valid`).
public final class Pooling2D: Layer {
    public enum Mode: String, Sendable { case max, average }

    public let name: String
    public let kind: String
    public let mode: Mode
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let size: (height: Int, width: Int)
    public let stride: Int
    public var parameters: [Parameter] { [] }
    /// What the last training forward saw and gave, for backward.
    private var input = Tensor(zeros: [0])
    private var output = Tensor(zeros: [0])

    public init(name: String, mode: Mode, input: [Int], size: (Int, Int), stride: Int?) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("pooling needs an input of height×width×channels, not \(Shape.text(input))") }
        let stride = stride ?? size.0
        guard size.0 > 0, size.1 > 0, stride > 0 else { throw ShapeError("pooling needs a positive size and stride") }
        guard input[0] >= size.0, input[1] >= size.1 else {
            throw ShapeError("a \(size.0)x\(size.1) window does not fit a \(input[0])x\(input[1]) input")
        }
        self.name = name
        self.kind = mode == .max ? "maxpool" : "avgpool"
        self.mode = mode
        inputShape = input
        self.size = size
        self.stride = stride
        outputShape = [(input[0] - size.0) / stride + 1, (input[1] - size.1) / stride + 1, input[2]]
    }

    public var multiplyAdds: Int { outputShape.reduce(1, *) * size.height * size.width }

    /// Calls `body(output offset, input offset)` for every (sample, output
    /// position, window tap); offsets are of the first channel, and the c
    /// channels that follow are contiguous in NHWC.
    @inline(__always)
    func forEachTap(samples: Range<Int>, _ body: (Int, Int) -> Void) {
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        let (ho, wo) = (outputShape[0], outputShape[1])
        for s in samples {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    let o = ((s * ho + oy) * wo + ox) * c
                    for ky in 0..<size.height {
                        for kx in 0..<size.width {
                            body(o, ((s * h + oy * stride + ky) * w + ox * stride + kx) * c)
                        }
                    }
                }
            }
        }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch, c = inputShape[2]
        var y = Tensor(shape: [n] + outputShape, repeating: mode == .max ? -.infinity : 0)
        let scale = 1 / Float(size.height * size.width)
        let average = mode == .average
        x.storage.withUnsafeBufferPointer { src in
            y.storage.withUnsafeMutableBufferPointer { out in
                let input = src.baseAddress!, output = out.baseAddress!
                Parallel.chunks(n) { samples in
                    forEachTap(samples: samples) { o, i in
                        let from = input + i, to = output + o
                        if average {
                            for ch in 0..<c { to[ch] += from[ch] * scale }
                        } else {
                            for ch in 0..<c { to[ch] = max(to[ch], from[ch]) }
                        }
                    }
                }
            }
        }
        if training { self.input = x; self.output = y }
        return y
    }

    /// Max pooling sends each output's gradient to the first input in its
    /// window that equals the maximum (the one a strict scan picks), found
    /// again from the kept input and output rather than stored indices.
    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.batch, c = inputShape[2]
        var dx = Tensor(zeros: [n] + inputShape)
        let scale = 1 / Float(size.height * size.width)
        let average = mode == .average
        var claimed = average ? [] : [UInt8](repeating: 0, count: dy.count)
        dy.storage.withUnsafeBufferPointer { g in
            dx.storage.withUnsafeMutableBufferPointer { d in
                input.storage.withUnsafeBufferPointer { xs in
                    output.storage.withUnsafeBufferPointer { ys in
                        claimed.withUnsafeMutableBufferPointer { taken in
                            let grad = g.baseAddress!, into = d.baseAddress!, x = xs.baseAddress!, y = ys.baseAddress!
                            Parallel.chunks(n) { samples in
                                forEachTap(samples: samples) { o, i in
                                    if average {
                                        for ch in 0..<c { into[i + ch] += grad[o + ch] * scale }
                                        return
                                    }
                                    // Branch-free, so the loop vectorises: the first tap equal
                                    // to the maximum claims the gradient.
                                    let xi = x + i, yo = y + o, go = grad + o, di = into + i, t = taken.baseAddress! + o
                                    for ch in 0..<c {
                                        let hit: UInt8 = (1 &- t[ch]) & (xi[ch] == yo[ch] ? 1 : 0)
                                        di[ch] += hit != 0 ? go[ch] : 0
                                        t[ch] |= hit
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Flattens each sample to a vector.
public final class Flatten: Layer {
    public let name: String
    public let kind = "flatten"
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape.reduce(1, *)] }
    public var parameters: [Parameter] { [] }

    public init(name: String, input: [Int]) {
        self.name = name
        inputShape = input
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x.reshaped([x.batch] + outputShape) }
    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped([dy.batch] + inputShape) }
}

/// Inverted dropout, as Keras: in training each unit is zeroed with
/// probability `rate` and the rest scaled by 1/(1 − rate); at inference the
/// layer passes its input through.
public final class Dropout: Layer {
    public let name: String
    public let kind = "dropout"
    public let rate: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    private var mask: [Float] = []
    /// Draws come from the model's generator, so runs repeat.
    var random: RandomGenerator

    public init(name: String, rate: Float, input: [Int], random: inout RandomGenerator) throws(ShapeError) {
        guard rate >= 0, rate < 1 else { throw ShapeError("dropout rate must be in [0, 1), not \(rate)") }
        self.name = name
        self.rate = rate
        inputShape = input
        self.random = RandomGenerator(seed: random.next())
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training, rate > 0 else { return x }
        let keep = 1 - rate
        mask = (0..<x.count).map { _ in random.nextUnitFloat() < keep ? 1 / keep : 0 }
        var y = x
        for i in 0..<y.count { y[i] *= mask[i] }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard rate > 0 else { return dy }
        var dx = dy
        for i in 0..<dx.count { dx[i] *= mask[i] }
        return dx
    }
}
