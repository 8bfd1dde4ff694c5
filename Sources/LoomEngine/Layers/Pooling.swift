#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// `maxpool SIZE [stride S]` and `avgpool SIZE [stride S]`.
public struct PoolingSpec: LayerSpec, Equatable {
    public var mode: Pooling2D.Mode
    public var size: Window
    /// The step between windows; nil for the window's height (Keras's default).
    public var stride: Int?

    public init(mode: Pooling2D.Mode, size: Window, stride: Int?) {
        self.mode = mode
        self.size = size
        self.stride = stride
    }

    public var blockPrefix: String { "pool" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        [try Pooling2D(name: name, mode: mode, input: input, size: size, stride: stride)]
    }
}

extension LayerSpec where Self == PoolingSpec {
    public static func maxpool(size: (Int, Int), stride: Int?) -> PoolingSpec {
        PoolingSpec(mode: .max, size: Window(size.0, size.1), stride: stride)
    }
    public static func avgpool(size: (Int, Int), stride: Int?) -> PoolingSpec {
        PoolingSpec(mode: .average, size: Window(size.0, size.1), stride: stride)
    }
}

/// Max or average pooling over `[batch, height, width, channels]`, windows of
/// size×size moved by `stride`, without padding (Keras's default `valid`).
public final class Pooling2D: Layer {
    public enum Mode: String, Sendable { case max, average }

    public let name: String
    public let kind: String
    public let mode: Mode
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let size: Window
    public let stride: Int
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    /// For max pooling, where each output of the last training batch came
    /// from: the input's offset within its sample, per output value.
    private var winners: [Int32] = []

    public init(name: String, mode: Mode, input: [Int], size: Window, stride: Int?) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("pooling needs an input of height×width×channels, not \(Shape.text(input))") }
        let stride = stride ?? size.height
        guard size.height > 0, size.width > 0, stride > 0 else { throw ShapeError("pooling needs a positive size and stride") }
        guard let values = Shape.count(input), values < Int(Int32.max) else { throw ShapeError("pooling's input is too large") }
        guard input[0] >= size.height, input[1] >= size.width else {
            throw ShapeError("a \(size.height)x\(size.width) window does not fit a \(input[0])x\(input[1]) input")
        }
        self.name = name
        self.kind = mode == .max ? "maxpool" : "avgpool"
        self.mode = mode
        inputShape = input
        self.size = size
        self.stride = stride
        outputShape = [(input[0] - size.height) / stride + 1, (input[1] - size.width) / stride + 1, input[2]]
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

    public func replica(on _: [Parameter]) -> Layer { Pooling2D(replicating: self) }

    public var multiplyAdds: Int { outputSize * size.area }
    /// Its output, the gradient passed back (the input's size) and, for max
    /// pooling, the winners it keeps (one per output).
    public var trainingFloatsPerSample: Int { outputSize * 2 + inputShape.reduce(1, *) }
    public var unsharedParameters: Int { 0 }

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
