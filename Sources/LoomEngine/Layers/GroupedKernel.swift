/// The loops of a grouped convolution whose groups are small (few filters
/// each), over NHWC images: kernel `[kh, kw, C/G, F]`, group g's filters
/// g·F/G… seeing its channels g·C/G…. No im2col and no `sgemm`: with eight
/// or sixteen filters a group, `sgemm`'s packing and the per-tap copies of
/// im2col cost more than the products. Eight filters at a time
/// (`Vector.Lanes`), each input value broadcast, summed in a register.
struct GroupedKernel {
    let geometry: ConvolutionGeometry
    let channels: Int
    let filters: Int
    let groups: Int

    typealias Lanes = Vector.Lanes

    /// Whether the direct loops beat per-group products: groups of fewer
    /// than 32 filters (a narrower product than `sgemm` packs well).
    static func pays(groups: Int, filters: Int) -> Bool { groups > 1 && filters / groups < 32 }

    var kernel: Window { geometry.kernel }
    var groupChannels: Int { channels / groups }
    var groupFilters: Int { filters / groups }
    var inputSize: Int { geometry.inputHeight * geometry.inputWidth * channels }
    var outputSize: Int { geometry.positions * filters }

    /// The forward pass of a batch on the engine's threads, by samples.
    func forward(_ x: Tensor, weight: Parameter, bias: Parameter, into out: UnsafeMutablePointer<Float>) {
        x.storage.withUnsafeBufferPointer { x in
            weight.value.storage.withUnsafeBufferPointer { w in
                bias.value.storage.withUnsafeBufferPointer { b in
                    Parallel.chunks(x.count / inputSize) {
                        forward(x.baseAddress!, weight: w.baseAddress!, bias: b.baseAddress!, into: out, samples: $0)
                    }
                }
            }
        }
    }

    /// Adds the weight's gradient, and returns the input's when
    /// `wantsInput`. Samples in order on one thread, so the sums do not
    /// depend on threads.
    func backward(_ dy: UnsafePointer<Float>, input: Tensor, weight: Parameter, wantsInput: Bool) -> Tensor? {
        let n = input.batch
        input.storage.withUnsafeBufferPointer { x in
            weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
                for s in 0..<n { addWeightGradient(dy + s &* outputSize, x.baseAddress! + s &* inputSize, into: dw.baseAddress!) }
            }
        }
        guard wantsInput else { return nil }
        var dx = Tensor(zeros: input.shape)
        let swapped = weight.value.storage.withUnsafeBufferPointer { transposed($0.baseAddress!) }
        swapped.withUnsafeBufferPointer { w in
            dx.storage.withUnsafeMutableBufferPointer { d in
                for s in 0..<n { addInputGradient(dy + s &* outputSize, w.baseAddress!, into: d.baseAddress! + s &* inputSize) }
            }
        }
        return dx
    }

    /// out = bias + Σ taps Σ group channels x·W, for `samples` (out written in full).
    private func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 into out: UnsafeMutablePointer<Float>, samples: Range<Int>) {
        let (cg, fg, f, kw, width) = (groupChannels, groupFilters, filters, kernel.width, geometry.inputWidth)
        for s in samples {
            let image = x + s &* inputSize
            var y = out + s &* outputSize
            for oy in 0..<geometry.outputHeight {
                let rows = geometry.rowTaps(oy)
                for ox in 0..<geometry.outputWidth {
                    let columns = geometry.columnTaps(ox)
                    for g in 0..<groups {
                        var f0 = 0
                        while f0 < fg {
                            let lanes = min(8, fg &- f0), first: Int = g &* fg &+ f0
                            var sums: Sums = (Vector.load(bias + first, lanes: lanes), Lanes(), Lanes(), Lanes())
                            for ky in rows.first..<rows.last {
                                for kx in columns.first..<columns.last {
                                    let inputAt: Int = ((rows.origin &+ ky) &* width &+ columns.origin &+ kx) &* channels &+ g &* cg
                                    let weightAt: Int = (ky &* kw &+ kx) &* cg &* f &+ first
                                    Self.accumulate(&sums, image + inputAt, weight + weightAt, step: f, count: cg, lanes: lanes)
                                }
                            }
                            Vector.store((sums.0 + sums.1) + (sums.2 + sums.3), y + first, lanes: lanes)
                            f0 &+= 8
                        }
                    }
                    y += f
                }
            }
        }
    }

    /// dW[tap, c, filter] += Σ over the positions where the tap lands of
    /// x·dy, for one sample: eight filters summed in a register over the positions.
    private func addWeightGradient(_ g: UnsafePointer<Float>, _ image: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let (cg, fg, f, wo, stride) = (groupChannels, groupFilters, filters, geometry.outputWidth, geometry.stride)
        for ky in 0..<kernel.height {
            let rows = geometry.rowsReached(byTap: ky)
            for kx in 0..<kernel.width {
                let columns = geometry.columnsReached(byTap: kx)
                if rows.isEmpty || columns.isEmpty { continue }
                for group in 0..<groups {
                    var c = 0
                    while c < cg {
                        let block = cg &- c >= 4 ? 4 : 1
                        var f0 = 0
                        while f0 < fg {
                            let lanes = min(8, fg &- f0), first: Int = group &* fg &+ f0
                            let offset: Int = ((ky &* kernel.width &+ kx) &* cg &+ c) &* f &+ first
                            let at = dw + offset
                            // Four channels' sums side by side: four chains of additions, one load of dy.
                            var sums = (Vector.load(at, lanes: lanes), Lanes(), Lanes(), Lanes())
                            if block == 4 {
                                (sums.1, sums.2, sums.3) = (Vector.load(at + f, lanes: lanes), Vector.load(at + 2 &* f, lanes: lanes),
                                                            Vector.load(at + 3 &* f, lanes: lanes))
                            }
                            for oy in rows {
                                let iy: Int = oy &* stride &+ ky &- geometry.padTop
                                let ix: Int = columns.lowerBound &* stride &+ kx &- geometry.padLeft
                                let gradientAt: Int = (oy &* wo &+ columns.lowerBound) &* f &+ first
                                let inputAt: Int = (iy &* geometry.inputWidth &+ ix) &* channels &+ group &* cg &+ c
                                var (gradient, input) = (g + gradientAt, image + inputAt)
                                if block == 4 {
                                    for _ in columns {
                                        let dy = Vector.load(gradient, lanes: lanes)
                                        sums.0 += Lanes(repeating: input[0]) * dy
                                        sums.1 += Lanes(repeating: input[1]) * dy
                                        sums.2 += Lanes(repeating: input[2]) * dy
                                        sums.3 += Lanes(repeating: input[3]) * dy
                                        gradient += f
                                        input += stride &* channels
                                    }
                                } else {
                                    for _ in columns {
                                        sums.0 += Lanes(repeating: input.pointee) * Vector.load(gradient, lanes: lanes)
                                        gradient += f
                                        input += stride &* channels
                                    }
                                }
                            }
                            Vector.store(sums.0, at, lanes: lanes)
                            if block == 4 {
                                Vector.store(sums.1, at + f, lanes: lanes)
                                Vector.store(sums.2, at + 2 &* f, lanes: lanes)
                                Vector.store(sums.3, at + 3 &* f, lanes: lanes)
                            }
                            f0 &+= 8
                        }
                        c &+= block
                    }
                }
            }
        }
    }

    /// The kernel with each group's filters and channels swapped,
    /// `[kh, kw, G, F/G, C/G]`: what the input's gradient runs along.
    private func transposed(_ weight: UnsafePointer<Float>) -> [Float] {
        let (cg, fg, f) = (groupChannels, groupFilters, filters)
        return [Float](unsafeUninitializedCapacity: kernel.area * cg * f) { out, count in
            for tap in 0..<kernel.area {
                for g in 0..<groups {
                    for j in 0..<fg {
                        for c in 0..<cg { out[((tap * groups + g) * fg + j) * cg + c] = weight[(tap * cg + c) * f + g * fg + j] }
                    }
                }
            }
            count = kernel.area * cg * f
        }
    }

    /// dx += Σ filters dy·W at each tap, for one sample, from the kernel
    /// `transposed`: eight channels at a time, each gradient value broadcast.
    private func addInputGradient(_ g: UnsafePointer<Float>, _ transposed: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let (cg, fg, f, kw, width) = (groupChannels, groupFilters, filters, kernel.width, geometry.inputWidth)
        var g = g
        for oy in 0..<geometry.outputHeight {
            let rows = geometry.rowTaps(oy)
            for ox in 0..<geometry.outputWidth {
                let columns = geometry.columnTaps(ox)
                for group in 0..<groups {
                    var c0 = 0
                    while c0 < cg {
                        let lanes = min(8, cg &- c0)
                        for ky in rows.first..<rows.last {
                            for kx in columns.first..<columns.last {
                                let inputAt: Int = ((rows.origin &+ ky) &* width &+ columns.origin &+ kx) &* channels &+ group &* cg &+ c0
                                let weightAt: Int = (((ky &* kw &+ kx) &* groups &+ group) &* fg) &* cg &+ c0
                                var sums: Sums = (Lanes(), Lanes(), Lanes(), Lanes())
                                Self.accumulate(&sums, g + group &* fg, transposed + weightAt, step: cg, count: fg, lanes: lanes)
                                let sum = (sums.0 + sums.1) + (sums.2 + sums.3)
                                let to = dx + inputAt
                                Vector.store(Vector.load(to, lanes: lanes) + sum, to, lanes: lanes)
                            }
                        }
                        c0 &+= 8
                    }
                }
                g += f
            }
        }
    }

    /// Four sums side by side: four chains of additions, not one.
    typealias Sums = (Lanes, Lanes, Lanes, Lanes)

    /// sums.k += scalars[i] · vectors[i·step] (`lanes` of each) for the i < count
    /// with i mod 4 = k (the last few into sums.0). Whole vectors have a
    /// loop of their own, without the short vector's lane-by-lane path.
    @inline(__always)
    private static func accumulate(_ sums: inout Sums, _ scalars: UnsafePointer<Float>, _ vectors: UnsafePointer<Float>, step: Int,
                                   count: Int, lanes: Int) {
        var (i, v) = (0, vectors)
        if lanes == 8 {
            while i &+ 4 <= count {
                sums.0 += Lanes(repeating: scalars[i]) * Vector.load(v)
                sums.1 += Lanes(repeating: scalars[i &+ 1]) * Vector.load(v + step)
                sums.2 += Lanes(repeating: scalars[i &+ 2]) * Vector.load(v + 2 &* step)
                sums.3 += Lanes(repeating: scalars[i &+ 3]) * Vector.load(v + 3 &* step)
                i &+= 4
                v += 4 &* step
            }
        }
        while i < count {
            sums.0 += Lanes(repeating: scalars[i]) * Vector.load(v, lanes: lanes)
            i &+= 1
            v += step
        }
    }
}
