/// Where a `kh × kw` window lands on an NHWC image at each output position,
/// and the patches (im2col) it gathers: what conv2d and its unshared twin
/// local2d share. A patch holds the taps in (row, column, channel) order,
/// `kh·kw·C` floats; patches run sample by sample, positions row-major.
struct PatchGrid {
    let height: Int
    let width: Int
    let channels: Int
    let kernel: Window
    let stride: Int
    let padTop: Int
    let padLeft: Int
    let outputHeight: Int
    let outputWidth: Int

    /// The grid of a `kernel` window moved by `stride` over `input`
    /// (`[height, width, channels]`); throws, naming `layer`, when it does not fit.
    init(layer: String, input: [Int], kernel: Window, stride: Int, padding: Conv2D.Padding) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("\(layer) needs an input of height×width×channels, not \(Shape.text(input))") }
        guard kernel.height > 0, kernel.width > 0, stride > 0 else { throw ShapeError("\(layer) needs a positive kernel and stride") }
        (height, width, channels) = (input[0], input[1], input[2])
        self.kernel = kernel
        self.stride = stride
        switch padding {
        case .valid:
            guard height >= kernel.height, width >= kernel.width else {
                throw ShapeError("a \(kernel.height)x\(kernel.width) kernel does not fit a \(height)x\(width) input")
            }
            (outputHeight, outputWidth) = ((height - kernel.height) / stride + 1, (width - kernel.width) / stride + 1)
            (padTop, padLeft) = (0, 0)
        case .same:
            // As Keras: out = ⌈in / stride⌉, padding split with the extra at the end.
            (outputHeight, outputWidth) = ((height + stride - 1) / stride, (width + stride - 1) / stride)
            let padH = max((outputHeight - 1) * stride + kernel.height - height, 0)
            let padW = max((outputWidth - 1) * stride + kernel.width - width, 0)
            (padTop, padLeft) = (padH / 2, padW / 2)
        }
    }

    var positions: Int { outputHeight * outputWidth }
    var patchSize: Int { kernel.height * kernel.width * channels }

    /// Walks every (sample, output position, kernel row) that lands inside the
    /// input, as runs: in NHWC a kernel row's taps that fall inside the image
    /// are one contiguous run of `count` floats. `body(patch index, input
    /// index, count)`.
    @inline(__always)
    func forEachRun(samples: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let (h, w, c) = (height, width, channels)
        let (ho, wo) = (outputHeight, outputWidth)
        let (kh, kw, patch) = (kernel.height, kernel.width, patchSize)
        // Offsets stay far below Int.max (the shapes were checked when the
        // layer was built), so the arithmetic here wraps instead of trapping.
        for s in samples {
            for oy in 0..<ho {
                let rowStart = (s &* ho &+ oy) &* wo
                for ky in 0..<kh {
                    let iy = oy &* stride &+ ky &- padTop
                    if iy < 0 || iy >= h { continue }
                    let inputRow = (s &* h &+ iy) &* w
                    var x0 = -padLeft, patchAt = rowStart &* patch &+ ky &* kw &* c
                    for _ in 0..<wo {
                        let first = max(0, -x0), last = min(kw, w &- x0)  // taps [first, last) are inside
                        if first < last {
                            body(patchAt &+ first &* c, (inputRow &+ x0 &+ first) &* c, (last &- first) &* c)
                        }
                        x0 = x0 &+ stride
                        patchAt = patchAt &+ patch
                    }
                }
            }
        }
    }

    /// Copies every tap inside the image into `cols` (`[n·positions, patchSize]`);
    /// taps outside a `same` image are left as they are (zero).
    func im2col(_ x: UnsafeBufferPointer<Float>, _ cols: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = x.baseAddress!, dst = cols.baseAddress!
        Parallel.chunks(n) { samples in
            forEachRun(samples: samples) { p, i, count in Vector.copy(src + i, into: dst + p, count: count) }
        }
    }

    /// Adds each patch's gradient back onto the input positions it came from.
    func col2im(_ cols: UnsafeBufferPointer<Float>, _ dx: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = cols.baseAddress!, dst = dx.baseAddress!
        // Each sample's patches land only in that sample's input: chunks by sample never collide.
        Parallel.chunks(n) { samples in
            forEachRun(samples: samples) { p, i, count in Vector.add(src + p, into: dst + i, count: count) }
        }
    }
}
