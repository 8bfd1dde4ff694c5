#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

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
    /// For max pooling, where each output of the last training batch came
    /// from: the input's offset within its sample, per output value.
    private var winners: [Int32] = []

    public init(name: String, mode: Mode, input: [Int], size: (Int, Int), stride: Int?) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("pooling needs an input of height×width×channels, not \(Shape.text(input))") }
        let stride = stride ?? size.0
        guard size.0 > 0, size.1 > 0, stride > 0 else { throw ShapeError("pooling needs a positive size and stride") }
        guard let values = Shape.count(input), values < Int(Int32.max) else { throw ShapeError("pooling's input is too large") }
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

    private init(replicating other: Pooling2D) {
        name = other.name
        kind = other.kind
        mode = other.mode
        inputShape = other.inputShape
        outputShape = other.outputShape
        size = other.size
        stride = other.stride
    }

    public func replica() -> Layer { Pooling2D(replicating: self) }

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
        let n = x.batch
        if mode == .average { return averageForward(x) }
        let outSize = outputShape.reduce(1, *)
        var won = Scratch.take(&winners, count: n * outSize, reuse: training)
        let y = Tensor(shape: [n] + outputShape) { out in
            x.storage.withUnsafeBufferPointer { src in
                won.withUnsafeMutableBufferPointer { w in maxForward(src.baseAddress!, out.baseAddress!, w.baseAddress!, batch: n) }
            }
        }
        if training { winners = won }
        return y
    }

    /// Each output channel takes the first tap holding the window's largest
    /// value (a strict scan), and remembers where it was: channel groups
    /// outside, the window's taps inside.
    func maxForward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                    _ winners: UnsafeMutablePointer<Int32>, batch n: Int) {
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        let (ho, wo) = (outputShape[0], outputShape[1])
        // Input offsets of the window's taps from its corner.
        let taps = (0..<size.height).flatMap { ky in (0..<size.width).map { kx in (ky * w + kx) * c } }
        Parallel.chunks(n) { samples in
            taps.withUnsafeBufferPointer { taps in
                for s in samples {
                    let sampleInput = input + s * h * w * c
                    for oy in 0..<ho {
                        for ox in 0..<wo {
                            let o = ((s * ho + oy) * wo + ox) * c
                            let corner = (oy * stride * w + ox * stride) * c
                            Pooling2D.maxWindow(sampleInput, corner: corner, taps: taps, channels: c,
                                                into: output + o, winners: winners + o)
                        }
                    }
                }
            }
        }
    }

    /// The maximum over `taps` (offsets from `corner`) of each of `c`
    /// channels, and the offset it came from.
    @inline(__always)
    static func maxWindow(_ x: UnsafePointer<Float>, corner: Int, taps: UnsafeBufferPointer<Int>, channels c: Int,
                          into out: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Int32>) {
        var ch = 0
        #if arch(x86_64)
        // Four channels at a time with SSE compares and masks (Swift's SIMD
        // types lower to slow lane-by-lane code for this).
        let lanes = _mm_set_epi32(3, 2, 1, 0)
        while ch + 4 <= c {
            var at = corner + taps[0] + ch
            var best = _mm_loadu_ps(x + at)
            var won = _mm_add_epi32(_mm_set1_epi32(Int32(truncatingIfNeeded: at)), lanes)
            for t in 1..<taps.count {
                at = corner + taps[t] + ch
                let value = _mm_loadu_ps(x + at)
                let better = _mm_cmpgt_ps(value, best)
                best = _mm_or_ps(_mm_and_ps(better, value), _mm_andnot_ps(better, best))
                let here = _mm_add_epi32(_mm_set1_epi32(Int32(truncatingIfNeeded: at)), lanes)
                let mask = _mm_castps_si128(better)
                won = _mm_or_si128(_mm_and_si128(mask, here), _mm_andnot_si128(mask, won))
            }
            _mm_storeu_ps(out + ch, best)
            _mm_storeu_si128(UnsafeMutableRawPointer(winners + ch).assumingMemoryBound(to: __m128i.self), won)
            ch += 4
        }
        #endif
        while ch < c {
            var at = corner + taps[0] + ch
            var best = x[at], won = at
            for t in 1..<taps.count {
                at = corner + taps[t] + ch
                if x[at] > best { best = x[at]; won = at }
            }
            out[ch] = best
            winners[ch] = Int32(truncatingIfNeeded: won)
            ch += 1
        }
    }

    func averageForward(_ x: Tensor) -> Tensor {
        let n = x.batch, c = inputShape[2]
        var y = Tensor(zeros: [n] + outputShape)
        let scale = 1 / Float(size.height * size.width)
        x.storage.withUnsafeBufferPointer { src in
            y.storage.withUnsafeMutableBufferPointer { out in
                let input = src.baseAddress!, output = out.baseAddress!
                Parallel.chunks(n) { samples in
                    forEachTap(samples: samples) { o, i in
                        let from = input + i, to = output + o
                        for ch in 0..<c { to[ch] += from[ch] * scale }
                    }
                }
            }
        }
        return y
    }

    /// Max pooling sends each output's gradient to the input that won its
    /// window (summed where overlapping windows share a winner); average
    /// pooling spreads it evenly over the window.
    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.batch, c = inputShape[2]
        let inSize = inputShape.reduce(1, *), outSize = outputShape.reduce(1, *)
        var dx = Tensor(zeros: [n] + inputShape)
        let scale = 1 / Float(size.height * size.width)
        dy.storage.withUnsafeBufferPointer { g in
            dx.storage.withUnsafeMutableBufferPointer { d in
                let grad = g.baseAddress!, into = d.baseAddress!
                if mode == .average {
                    Parallel.chunks(n) { samples in
                        forEachTap(samples: samples) { o, i in
                            for ch in 0..<c { into[i + ch] += grad[o + ch] * scale }
                        }
                    }
                    return
                }
                winners.withUnsafeBufferPointer { w in
                    let won = w.baseAddress!
                    Parallel.chunks(n) { samples in
                        for s in samples {
                            let sampleInput = into + s * inSize, first = s * outSize
                            for j in first..<(first + outSize) { sampleInput[Int(won[j])] += grad[j] }
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

    public func replica() -> Layer { Flatten(name: name, input: inputShape) }

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

    private init(replicating other: Dropout) {
        name = other.name
        rate = other.rate
        inputShape = other.inputShape
        random = RandomGenerator(seed: other.random.next())
    }

    /// Draws its own masks, from a generator seeded by this layer's.
    public func replica() -> Layer { Dropout(replicating: self) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training, rate > 0 else { return x }
        let keep = 1 - rate
        mask = (0..<x.count).map { _ in random.nextUnitFloat() < keep ? 1 / keep : 0 }
        return masked(x)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard rate > 0 else { return dy }
        return masked(dy)
    }

    /// `t` times the last mask, element by element.
    private func masked(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape) { out in
            t.storage.withUnsafeBufferPointer { v in
                mask.withUnsafeBufferPointer { m in for i in 0..<out.count { out[i] = v[i] * m[i] } }
            }
        }
    }
}
