/// The loops of a depthwise convolution over NHWC images: each of D
/// channels convolved with its own `kh × kw` filter, weights `[kh, kw, D]`.
/// No im2col and no `sgemm` (a product per channel would be a kh·kw-term
/// dot product): direct loops, eight channels at a time (`Vector.Lanes`),
/// each output vector summed over the taps in a register, and each tap's
/// weight gradient summed over the positions in one.
///
/// A channel multiplier M (Keras's `depth_multiplier`) is D = C·M channels
/// on the input with each channel repeated M times (`expand`), whose
/// gradient sums back over the copies (`reduce`): the kernel `[kh, kw, C,
/// M]` is the same memory as `[kh, kw, C·M]`.
struct DepthwiseKernel {
    let geometry: ConvolutionGeometry
    /// D = C·M: the channels the loops run over, in and out.
    let channels: Int
    /// M: the filters per input channel.
    let multiplier: Int

    typealias Lanes = Vector.Lanes

    /// `layer` names the family in errors.
    init(input: [Int], kernel: Window, multiplier: Int, stride: Int, padding: Conv2D.Padding, layer: String) throws(ShapeError) {
        try ConvolutionGeometry.check(input, layer: layer, kernel: kernel, stride: stride)
        guard multiplier > 0 else { throw ShapeError("\(layer) needs a positive multiplier") }
        guard let channels = Shape.count([input[2], multiplier]), Shape.count(input + [multiplier]) != nil else {
            throw ShapeError("the layer is too large to build")
        }
        (self.channels, self.multiplier) = (channels, multiplier)
        geometry = try ConvolutionGeometry(input: input[0], input[1], kernel: kernel, stride: stride, padding: padding)
    }

    var kernel: Window { geometry.kernel }
    var outputShape: [Int] { [geometry.outputHeight, geometry.outputWidth, channels] }
    var positions: Int { geometry.positions }
    var inputSize: Int { geometry.inputHeight * geometry.inputWidth * channels }
    var outputSize: Int { positions * channels }
    /// Multiply-adds per sample.
    var multiplyAdds: Int { positions * kernel.area * channels }
    /// The (expanded) input kept for backward and its gradient, and the output, its gradient and the activation's.
    var trainingFloatsPerSample: Int { inputSize * 2 + outputSize * 3 }
    /// Its filters, one image per output channel, for `show filters`.
    func filterImages(_ weight: Parameter) -> FilterImages {
        FilterImages(kernel: weight.value.reshaped([kernel.height, kernel.width, 1, channels]))
    }

    /// What the loops convolve: `x` itself, or with each channel repeated M times.
    func convolved(_ x: Tensor) -> [Float] {
        guard multiplier > 1 else { return x.storage }
        return [Float](unsafeUninitializedCapacity: x.count * multiplier) { out, initialized in
            x.storage.withUnsafeBufferPointer {
                for i in 0..<x.count { (out.baseAddress! + i &* multiplier).initialize(repeating: $0[i], count: multiplier) }
            }
            initialized = x.count * multiplier
        }
    }

    /// The gradient of `x` from that of what the loops convolved: each run of M values summed.
    func inputGradient(_ gradient: [Float], shape: [Int]) -> Tensor {
        guard multiplier > 1 else { return Tensor(shape: shape, storage: gradient) }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count {
                var sum: Float = 0
                for j in 0..<multiplier { sum += gradient[i &* multiplier &+ j] }
                out[i] = sum
            }
        }
    }

    /// The forward pass of a batch on the engine's threads, by samples.
    func forward(_ input: [Float], weight: Parameter, bias: Parameter?, batch n: Int, into out: UnsafeMutablePointer<Float>) {
        input.withUnsafeBufferPointer { x in
            weight.value.storage.withUnsafeBufferPointer { w in
                func run(_ b: UnsafePointer<Float>?) {
                    Parallel.chunks(n) { forward(x.baseAddress!, weight: w.baseAddress!, bias: b, into: out, samples: $0) }
                }
                if let bias { bias.value.storage.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
            }
        }
    }

    /// Adds the weight's gradient, and returns the input's (of what was
    /// convolved) when `wantsInput`. Samples in order on one thread, so the
    /// sums do not depend on threads.
    func backward(_ dy: UnsafePointer<Float>, input: [Float], weight: Parameter, batch n: Int, wantsInput: Bool) -> [Float]? {
        input.withUnsafeBufferPointer { x in
            weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
                for s in 0..<n { addWeightGradient(dy + s &* outputSize, x.baseAddress! + s &* inputSize, into: dw.baseAddress!) }
            }
        }
        guard wantsInput else { return nil }
        var dx = [Float](repeating: 0, count: input.count)
        weight.value.storage.withUnsafeBufferPointer { w in
            dx.withUnsafeMutableBufferPointer { d in
                for s in 0..<n { addInputGradient(dy + s &* outputSize, w.baseAddress!, into: d.baseAddress! + s &* inputSize) }
            }
        }
        return dx
    }

    /// out = bias + Σ taps x·w for `samples` (out written in full).
    func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 into out: UnsafeMutablePointer<Float>, samples: Range<Int>) {
        let (d, kw, width) = (channels, kernel.width, geometry.inputWidth)
        for s in samples {
            let image = x + s &* inputSize
            var y = out + s &* outputSize
            for oy in 0..<geometry.outputHeight {
                let rows = geometry.rowTaps(oy)
                for ox in 0..<geometry.outputWidth {
                    let columns = geometry.columnTaps(ox)
                    /// The taps' sum for channels c…, whole vectors loading without the short vector's lane-by-lane path.
                    @inline(__always)
                    func sum(_ c: Int, _ load: (UnsafePointer<Float>) -> Lanes) -> Lanes {
                        var sum = bias.map { load($0 + c) } ?? Lanes()
                        for ky in rows.first..<rows.last {
                            let inputOffset: Int = ((rows.origin &+ ky) &* width &+ columns.origin) &* d &+ c
                            let weightOffset: Int = ky &* kw &* d &+ c
                            let (inputRow, weightRow) = (image + inputOffset, weight + weightOffset)
                            for kx in columns.first..<columns.last { sum += load(inputRow + kx &* d) * load(weightRow + kx &* d) }
                        }
                        return sum
                    }
                    var c = 0
                    while c &+ 8 <= d {
                        Vector.store(sum(c) { Vector.load($0) }, y + c)
                        c &+= 8
                    }
                    if c < d {
                        let lanes = d &- c
                        Vector.store(sum(c) { Vector.load($0, lanes: lanes) }, y + c, lanes: lanes)
                    }
                    y += d
                }
            }
        }
    }

    /// dW[tap] += Σ over the positions where the tap lands of dy·x, for one
    /// sample: tap by tap, eight channels summed in a register over the positions.
    private func addWeightGradient(_ g: UnsafePointer<Float>, _ image: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let (d, wo, stride) = (channels, geometry.outputWidth, geometry.stride)
        for ky in 0..<kernel.height {
            let rows = geometry.rowsReached(byTap: ky)
            for kx in 0..<kernel.width {
                let columns = geometry.columnsReached(byTap: kx)
                if rows.isEmpty || columns.isEmpty { continue }
                let tap = dw + (ky &* kernel.width &+ kx) &* d
                var c = 0
                while c < d {
                    let lanes = min(8, d &- c)
                    var sum = Vector.load(tap + c, lanes: lanes)
                    for oy in rows {
                        let iy: Int = oy &* stride &+ ky &- geometry.padTop
                        let ix: Int = columns.lowerBound &* stride &+ kx &- geometry.padLeft
                        let gradientAt: Int = (oy &* wo &+ columns.lowerBound) &* d &+ c
                        let inputAt: Int = (iy &* geometry.inputWidth &+ ix) &* d &+ c
                        var (gradient, input) = (g + gradientAt, image + inputAt)
                        for _ in columns {
                            sum += Vector.load(gradient, lanes: lanes) * Vector.load(input, lanes: lanes)
                            gradient += d
                            input += stride &* d
                        }
                    }
                    Vector.store(sum, tap + c, lanes: lanes)
                    c &+= 8
                }
            }
        }
    }

    /// dx += dy·w at each tap, for one sample.
    private func addInputGradient(_ g: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let (d, kw) = (channels, kernel.width)
        var g = g
        for oy in 0..<geometry.outputHeight {
            let rows = geometry.rowTaps(oy)
            for ox in 0..<geometry.outputWidth {
                let columns = geometry.columnTaps(ox)
                var c = 0
                while c < d {
                    let lanes = min(8, d &- c)
                    let gradient = Vector.load(g + c, lanes: lanes)
                    for ky in rows.first..<rows.last {
                        let offset: Int = ((rows.origin &+ ky) &* geometry.inputWidth &+ columns.origin) &* d &+ c
                        let (to, tap) = (dx + offset, weight + (ky &* kw &* d &+ c))
                        for kx in columns.first..<columns.last {
                            let at = kx &* d
                            Vector.store(Vector.load(to + at, lanes: lanes) + gradient * Vector.load(tap + at, lanes: lanes), to + at,
                                         lanes: lanes)
                        }
                    }
                    c &+= 8
                }
                g += d
            }
        }
    }
}
