/// Where a 2-D window lands on an image: the output's size, the padding
/// before the first row and column, and which taps of the kernel fall
/// inside the image, for `conv2d`, `depthwise` and `separable`.
struct ConvolutionGeometry: Equatable {
    let inputHeight: Int
    let inputWidth: Int
    let kernel: Window
    let stride: Int
    let outputHeight: Int
    let outputWidth: Int
    let padTop: Int
    let padLeft: Int

    init(input h: Int, _ w: Int, kernel: Window, stride: Int, padding: Conv2D.Padding) throws(ShapeError) {
        (inputHeight, inputWidth, self.kernel, self.stride) = (h, w, kernel, stride)
        switch padding {
        case .valid:
            guard h >= kernel.height, w >= kernel.width else {
                throw ShapeError("a \(kernel.height)x\(kernel.width) kernel does not fit a \(h)x\(w) input")
            }
            (outputHeight, outputWidth, padTop, padLeft) = ((h - kernel.height) / stride + 1, (w - kernel.width) / stride + 1, 0, 0)
        case .same:
            // As Keras: out = ⌈in / stride⌉, padding split with the extra at the end.
            let oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride
            let padH = max((oh - 1) * stride + kernel.height - h, 0), padW = max((ow - 1) * stride + kernel.width - w, 0)
            (outputHeight, outputWidth, padTop, padLeft) = (oh, ow, padH / 2, padW / 2)
        }
    }

    /// Checks what every 2-D convolution needs of its input and sizes.
    static func check(_ input: [Int], layer: String, kernel: Window, stride: Int) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("\(layer) needs an input of height×width×channels, not \(Shape.text(input))") }
        guard kernel.height > 0, kernel.width > 0, stride > 0 else {
            throw ShapeError("\(layer) needs a positive kernel and stride")
        }
    }

    var positions: Int { outputHeight * outputWidth }

    /// The kernel rows `[first, last)` inside the image at output row `oy`,
    /// and the input row of kernel row 0.
    @inline(__always)
    func rowTaps(_ oy: Int) -> (first: Int, last: Int, origin: Int) {
        Self.taps(oy &* stride &- padTop, size: inputHeight, extent: kernel.height)
    }

    /// The kernel columns inside the image at output column `ox`, and the input column of kernel column 0.
    @inline(__always)
    func columnTaps(_ ox: Int) -> (first: Int, last: Int, origin: Int) {
        Self.taps(ox &* stride &- padLeft, size: inputWidth, extent: kernel.width)
    }

    @inline(__always)
    private static func taps(_ origin: Int, size: Int, extent: Int) -> (first: Int, last: Int, origin: Int) {
        (max(0, -origin), min(extent, size &- origin), origin)
    }

    /// The output rows where kernel row `ky` lands inside the image.
    @inline(__always)
    func rowsReached(byTap ky: Int) -> Range<Int> { reached(ky, pad: padTop, size: inputHeight, outputs: outputHeight) }

    /// The output columns where kernel column `kx` lands inside the image.
    @inline(__always)
    func columnsReached(byTap kx: Int) -> Range<Int> { reached(kx, pad: padLeft, size: inputWidth, outputs: outputWidth) }

    @inline(__always)
    private func reached(_ k: Int, pad: Int, size: Int, outputs: Int) -> Range<Int> {
        // o·stride + k − pad in [0, size): o from ⌈(pad − k) / stride⌉ below ⌈(size + pad − k) / stride⌉.
        func ceilDiv(_ a: Int, _ b: Int) -> Int { a <= 0 ? -((-a) / b) : (a + b - 1) / b }
        let first = max(0, ceilDiv(pad &- k, stride)), last = min(outputs, ceilDiv(size &+ pad &- k, stride))
        return first..<max(first, last)
    }
}
