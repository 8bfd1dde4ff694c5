/// The patches (im2col) a `kh × kw` window gathers from an NHWC image at
/// each output position: what conv2d and its unshared twin local2d share.
/// A patch holds each group's taps side by side, in (row, column, channel)
/// order (one group: `kh·kw·C` floats); patches run sample by sample,
/// positions row-major.
struct PatchGrid {
    let geometry: ConvolutionGeometry
    let channels: Int
    /// Channel groups, each with its own part of the patch (conv2d's `groups`).
    let groups: Int

    /// The grid of a `kernel` window moved by `stride` over `input`
    /// (`[height, width, channels]`); throws, naming `layer`, when it does not fit.
    init(layer: String, input: [Int], kernel: Window, stride: Int, padding: Conv2D.Padding, groups: Int = 1) throws(ShapeError) {
        try ConvolutionGeometry.check(input, layer: layer, kernel: kernel, stride: stride)
        geometry = try ConvolutionGeometry(input: input[0], input[1], kernel: kernel, stride: stride, padding: padding)
        (channels, self.groups) = (input[2], groups)
    }

    var kernel: Window { geometry.kernel }
    var outputHeight: Int { geometry.outputHeight }
    var outputWidth: Int { geometry.outputWidth }
    var positions: Int { geometry.positions }
    /// One row of the patch matrix: every group's patch.
    var patchSize: Int { kernel.height * kernel.width * channels }
    /// The inputs each filter sees: its group's patch.
    var groupPatchSize: Int { patchSize / groups }

    /// Copies every tap inside the image into `cols` (`[n·positions, patchSize]`);
    /// taps outside a `same` image are left as they are (zero).
    func im2col(_ x: UnsafeBufferPointer<Float>, _ cols: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = x.baseAddress!, dst = cols.baseAddress!
        Parallel.chunks(n) { samples in
            forEachGroupRun(samples: samples) { p, i, count in Vector.copy(src + i, into: dst + p, count: count) }
        }
    }

    /// One sample's im2col as indices: for every position and patch value,
    /// the input index it copies, or -1 where the tap is outside the image.
    func sources() -> [Int] {
        var indices = [Int](repeating: -1, count: positions * patchSize)
        forEachGroupRun(samples: 0..<1) { p, i, count in
            for k in 0..<count { indices[p + k] = i + k }
        }
        return indices
    }

    /// Adds each patch's gradient back onto the input positions it came from.
    func col2im(_ cols: UnsafeBufferPointer<Float>, _ dx: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = cols.baseAddress!, dst = dx.baseAddress!
        // Each sample's patches land only in that sample's input: chunks by sample never collide.
        Parallel.chunks(n) { samples in
            forEachGroupRun(samples: samples) { p, i, count in Vector.add(src + p, into: dst + i, count: count) }
        }
    }

    /// Walks every (sample, output position, kernel row) that lands inside the
    /// input, as runs: in NHWC a kernel row's taps that fall inside the image
    /// are one contiguous run of `taps · C` floats. `body(patch row start,
    /// first tap (ky·kw + kx), input index, taps)`.
    @inline(__always)
    private func forEachRun(samples: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
        let (h, w, c) = (geometry.inputHeight, geometry.inputWidth, channels)
        let (ho, wo, stride) = (outputHeight, outputWidth, geometry.stride)
        let (kh, kw, patch) = (kernel.height, kernel.width, patchSize)
        // Offsets stay far below Int.max (the shapes were checked when the
        // layer was built), so the arithmetic here wraps instead of trapping.
        for s in samples {
            for oy in 0..<ho {
                let rowStart = (s &* ho &+ oy) &* wo
                for ky in 0..<kh {
                    let iy = oy &* stride &+ ky &- geometry.padTop
                    if iy < 0 || iy >= h { continue }
                    let inputRow = (s &* h &+ iy) &* w
                    var x0 = -geometry.padLeft, patchAt = rowStart &* patch
                    for _ in 0..<wo {
                        let first = max(0, -x0), last = min(kw, w &- x0)  // taps [first, last) are inside
                        if first < last {
                            body(patchAt, ky &* kw &+ first, (inputRow &+ x0 &+ first) &* c, last &- first)
                        }
                        x0 = x0 &+ stride
                        patchAt = patchAt &+ patch
                    }
                }
            }
        }
    }

    /// `forEachRun` as (patch index, input index, count) runs of the patch
    /// layout: whole runs of taps for one group; for G groups, each tap's
    /// C/G channels of each group, to that group's part of the patch row.
    @inline(__always)
    private func forEachGroupRun(samples: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let c = channels
        guard groups > 1 else {
            return forEachRun(samples: samples) { row, tap, i, taps in body(row &+ tap &* c, i, taps &* c) }
        }
        let (perGroup, part) = (c / groups, groupPatchSize)
        forEachRun(samples: samples) { row, tap, i, taps in
            for t in 0..<taps {
                for g in 0..<groups {
                    body(row &+ g &* part &+ (tap &+ t) &* perGroup, i &+ t &* c &+ g &* perGroup, perGroup)
                }
            }
        }
    }
}
