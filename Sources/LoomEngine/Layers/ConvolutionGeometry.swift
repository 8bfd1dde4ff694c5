/// Where a 2-D window lands on an image: the output's size and the padding
/// before the first row and column, for `conv2d`, `depthwise` and `separable`.
struct ConvolutionGeometry: Equatable {
    let outputHeight: Int
    let outputWidth: Int
    let padTop: Int
    let padLeft: Int

    init(input h: Int, _ w: Int, kernel: Window, stride: Int, padding: Conv2D.Padding) throws(ShapeError) {
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
}
