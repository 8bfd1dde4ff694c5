/// The loops of a depthwise convolution over NHWC images: each of D
/// channels convolved with its own `kh × kw` filter, weights `[kh, kw, D]`.
/// No im2col and no `sgemm` (a product per channel would be a kh·kw-term
/// dot product): a direct loop, eight channels at a time (`Vector.Lanes`),
/// each output vector accumulated over the taps in a register.
///
/// A channel multiplier M (Keras's `depth_multiplier`) is D = C·M channels
/// on the input with each channel repeated M times (`expand`), whose
/// gradient sums back over the copies (`reduce`): the kernel `[kh, kw, C,
/// M]` is the same memory as `[kh, kw, C·M]`.
struct DepthwiseKernel {
    let height: Int
    let width: Int
    /// D = C·M: the channels the loops run over, in and out.
    let channels: Int
    /// M: the filters per input channel.
    let multiplier: Int
    let kernel: Window
    let stride: Int
    let geometry: ConvolutionGeometry

    typealias Lanes = Vector.Lanes

    /// `layer` names the family in errors.
    init(input: [Int], kernel: Window, multiplier: Int, stride: Int, padding: Conv2D.Padding, layer: String) throws(ShapeError) {
        try ConvolutionGeometry.check(input, layer: layer, kernel: kernel, stride: stride)
        guard multiplier > 0 else { throw ShapeError("\(layer) needs a positive multiplier") }
        guard let channels = Shape.count([input[2], multiplier]), Shape.count(input + [multiplier]) != nil else {
            throw ShapeError("the layer is too large to build")
        }
        (height, width, self.channels, self.multiplier) = (input[0], input[1], channels, multiplier)
        self.kernel = kernel
        self.stride = stride
        geometry = try ConvolutionGeometry(input: height, width, kernel: kernel, stride: stride, padding: padding)
    }

    var outputShape: [Int] { [geometry.outputHeight, geometry.outputWidth, channels] }
    var positions: Int { geometry.outputHeight * geometry.outputWidth }
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
            x.storage.withUnsafeBufferPointer { Self.expand($0.baseAddress!, into: out.baseAddress!, count: x.count, multiplier: multiplier) }
            initialized = x.count * multiplier
        }
    }

    /// The gradient of `x` from that of what the loops convolved.
    func inputGradient(_ gradient: [Float], shape: [Int]) -> Tensor {
        guard multiplier > 1 else { return Tensor(shape: shape, storage: gradient) }
        return Tensor(shape: shape) { out in
            gradient.withUnsafeBufferPointer { Self.reduce($0.baseAddress!, into: out.baseAddress!, count: out.count, multiplier: multiplier) }
        }
    }

    /// The forward pass of a batch on the engine's threads, by samples.
    func forward(_ input: [Float], weight: Parameter, bias: Parameter?, batch n: Int,
                 into out: UnsafeMutablePointer<Float>) {
        input.withUnsafeBufferPointer { x in
            weight.value.storage.withUnsafeBufferPointer { w in
                func run(_ b: UnsafePointer<Float>?) {
                    Parallel.chunks(n) { forward(x.baseAddress!, weight: w.baseAddress!, bias: b, into: out, samples: $0) }
                }
                if let bias { bias.value.storage.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
            }
        }
    }

    /// Adds the weight's and bias's gradients, and returns the input's
    /// gradient (of what was convolved) when `wantsInput`.
    func backward(_ dy: UnsafePointer<Float>, input: [Float], weight: Parameter, bias: Parameter?, batch n: Int,
                  wantsInput: Bool) -> [Float]? {
        var dx: [Float]? = wantsInput ? [Float](repeating: 0, count: input.count) : nil
        input.withUnsafeBufferPointer { x in
            weight.value.storage.withUnsafeBufferPointer { w in
                weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
                    func run(_ db: UnsafeMutablePointer<Float>?) {
                        if dx == nil {
                            return backward(dy, input: x.baseAddress!, weight: w.baseAddress!, batch: n, weightGradient: dw.baseAddress!,
                                            biasGradient: db, inputGradient: nil)
                        }
                        dx!.withUnsafeMutableBufferPointer {
                            backward(dy, input: x.baseAddress!, weight: w.baseAddress!, batch: n, weightGradient: dw.baseAddress!,
                                     biasGradient: db, inputGradient: $0.baseAddress!)
                        }
                    }
                    if let bias { bias.gradient.storage.withUnsafeMutableBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                }
            }
        }
        return dx
    }

    var outputSize: Int { geometry.outputHeight * geometry.outputWidth * channels }
    var inputSize: Int { height * width * channels }

    /// The taps of the kernel that land inside the image for output row or
    /// column `o`: `[first, last)`, and the input row or column of tap 0.
    @inline(__always)
    private func taps(_ o: Int, pad: Int, size: Int, extent: Int) -> (first: Int, last: Int, origin: Int) {
        let origin = o &* stride &- pad
        return (max(0, -origin), min(extent, size &- origin), origin)
    }

    /// out = bias + Σ taps x·w for `samples` (out written in full).
    func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 into out: UnsafeMutablePointer<Float>, samples: Range<Int>) {
        let (d, kw) = (channels, kernel.width)
        for s in samples {
            let image = x + s &* inputSize
            var y = out + s &* outputSize
            for oy in 0..<geometry.outputHeight {
                let rows = taps(oy, pad: geometry.padTop, size: height, extent: kernel.height)
                for ox in 0..<geometry.outputWidth {
                    let columns = taps(ox, pad: geometry.padLeft, size: width, extent: kw)
                    var c = 0
                    while c < d {
                        let lanes = min(8, d &- c)
                        var sum = bias.map { Vector.load($0 + c, lanes: lanes) } ?? Lanes()
                        for ky in rows.first..<rows.last {
                            let inputOffset: Int = ((rows.origin &+ ky) &* width &+ columns.origin) &* d &+ c
                            let weightOffset: Int = ky &* kw &* d &+ c
                            let (inputRow, weightRow) = (image + inputOffset, weight + weightOffset)
                            for kx in columns.first..<columns.last {
                                sum += Vector.load(inputRow + kx &* d, lanes: lanes) * Vector.load(weightRow + kx &* d, lanes: lanes)
                            }
                        }
                        Vector.store(sum, y + c, lanes: lanes)
                        c &+= 8
                    }
                    y += d
                }
            }
        }
    }

    /// Adds every sample's gradients: dW += Σ dy·x over positions, dB += Σ dy,
    /// and, when `dx` is given (zeroed by the caller), dx += dy·w at each tap.
    /// Samples in order, one thread: the sums do not depend on threads.
    func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, batch: Int,
                  weightGradient dw: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>?,
                  inputGradient dx: UnsafeMutablePointer<Float>?) {
        let (d, kw) = (channels, kernel.width)
        for s in 0..<batch {
            let image = x + s &* inputSize
            let imageGradient = dx.map { $0 + s &* inputSize }
            var g = dy + s &* outputSize
            for oy in 0..<geometry.outputHeight {
                let rows = taps(oy, pad: geometry.padTop, size: height, extent: kernel.height)
                for ox in 0..<geometry.outputWidth {
                    let columns = taps(ox, pad: geometry.padLeft, size: width, extent: kw)
                    var c = 0
                    while c < d {
                        let lanes = min(8, d &- c)
                        let gradient = Vector.load(g + c, lanes: lanes)
                        if let db { Vector.store(Vector.load(db + c, lanes: lanes) + gradient, db + c, lanes: lanes) }
                        for ky in rows.first..<rows.last {
                            let offset = ((rows.origin &+ ky) &* width &+ columns.origin) &* d &+ c
                            let (inputRow, tap) = (image + offset, ky &* kw &* d &+ c)
                            for kx in columns.first..<columns.last {
                                let at = tap &+ kx &* d
                                let product = gradient * Vector.load(inputRow + kx &* d, lanes: lanes)
                                Vector.store(Vector.load(dw + at, lanes: lanes) + product, dw + at, lanes: lanes)
                                if let imageGradient {
                                    let to = imageGradient + (offset &+ kx &* d)
                                    let back = gradient * Vector.load(weight + at, lanes: lanes)
                                    Vector.store(Vector.load(to, lanes: lanes) + back, to, lanes: lanes)
                                }
                            }
                        }
                        c &+= 8
                    }
                    g += d
                }
            }
        }
    }

    /// `values` (`count` groups of C) with each value repeated M times: the
    /// input a channel multiplier M convolves.
    static func expand(_ values: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, multiplier m: Int) {
        for i in 0..<count { (out + i &* m).update(repeating: values[i], count: m) }
    }

    /// The sums of each run of M values: `expand`'s gradient.
    static func reduce(_ values: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, multiplier m: Int) {
        for i in 0..<count {
            var sum: Float = 0
            for j in 0..<m { sum += values[i &* m &+ j] }
            out[i] = sum
        }
    }
}
