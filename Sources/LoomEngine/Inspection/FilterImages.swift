/// A 2-D convolution's filters as small images, for `show filters`: each
/// filter's `height × width` weights, averaged over its input channels when
/// there are several (one image per filter, on one scale).
public struct FilterImages: Sendable, Equatable {
    public let height: Int
    public let width: Int
    /// The input channels each image is the mean of (1: the filter itself).
    public let channels: Int
    /// One image per filter, `height × width` row-major.
    public let images: [[Double]]
    /// Where these filters apply, for a layer with filters of its own at
    /// every position (`at position (1, 1) of 24x24`); nil for a convolution.
    public let position: String?

    /// The filters of a kernel `[height, width, channels, filters]` (Keras's
    /// layout): image f at (y, x) is the mean over c of kernel[y, x, c, f].
    public init(kernel: Tensor, position: String? = nil) {
        precondition(kernel.rank == 4, "FilterImages: a kernel of height×width×channels×filters, not \(Shape.text(kernel.shape))")
        let (kh, kw, channels, filters) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
        height = kh
        width = kw
        self.channels = channels
        self.position = position
        images = (0..<filters).map { f in
            (0..<(kh * kw)).map { p in
                var sum = 0.0
                for c in 0..<channels { sum += Double(kernel[(p * channels + c) * filters + f]) }
                return sum / Double(channels)
            }
        }
    }
}
