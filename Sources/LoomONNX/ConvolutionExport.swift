import LoomEngine

/// Image layers. Loom's images are NHWC and ONNX's Conv and pooling NCHW,
/// so each runs between two Transposes (onnxruntime folds the pairs that
/// meet between consecutive layers).
extension LayerExporter {
    /// `[N, H, W, C]` → `[N, C, H, W]`.
    private mutating func channelsFirst(_ x: String, in scope: String) -> String { graph.transpose(x, [0, 3, 1, 2], in: scope) }
    /// `[N, C, H, W]` → `[N, H, W, C]`.
    private mutating func channelsLast(_ x: String, in scope: String) -> String { graph.transpose(x, [0, 2, 3, 1], in: scope) }

    /// Conv's `pads` (top, left, bottom, right) for a window moved by
    /// `stride` over `input` into `output` with `before` zeros first.
    private static func pads(input: [Int], output: [Int], kernel: (Int, Int), stride: Int,
                             before: (rows: Int, columns: Int)) -> [Int] {
        let bottom = max((output[0] - 1) * stride + kernel.0 - input[0] - before.rows, 0)
        let right = max((output[1] - 1) * stride + kernel.1 - input[1] - before.columns, 0)
        return [before.rows, before.columns, bottom, right]
    }

    /// A `[kh, kw, I, O]` kernel (conv1d's `[K, I, O]`, `K × 1`) as ONNX's `[O, I, kh, kw]`.
    static func filtersFirst(_ p: Parameter) -> (values: [Float], shape: [Int]) {
        let s = p.value.shape, w = p.value.storage
        let (kh, kw, i, o) = s.count == 3 ? (s[0], 1, s[1], s[2]) : (s[0], s[1], s[2], s[3])
        var out = [Float](repeating: 0, count: w.count)
        for y in 0..<kh { for x in 0..<kw { for c in 0..<i { for f in 0..<o {
            out[((f * i + c) * kh + y) * kw + x] = w[((y * kw + x) * i + c) * o + f]
        } } } }
        return (out, [o, i, kh, kw])
    }

    /// `[kh, kw, C, M]` (the same memory as `[kh, kw, C·M]`) as a grouped
    /// Conv's `[C·M, 1, kh, kw]`: output channel c·M + m filters input c.
    static func depthwiseFilters(_ p: Parameter) -> (values: [Float], shape: [Int]) {
        let s = p.value.shape, (kh, kw, d) = (s[0], s[1], s[2] * s[3]), w = p.value.storage
        var out = [Float](repeating: 0, count: w.count)
        for y in 0..<kh { for x in 0..<kw { for c in 0..<d { out[(c * kh + y) * kw + x] = w[(y * kw + x) * d + c] } } }
        return (out, [d, 1, kh, kw])
    }

    private mutating func convolution(_ x: String, weight: String, bias: String?, in scope: String,
                                      kernel: (Int, Int), stride: Int, pads: [Int], groups: Int) -> String {
        graph.node("Conv", [x, weight] + (bias.map { [$0] } ?? []), in: scope, [
            .ints("kernel_shape", [kernel.0, kernel.1]), .ints("strides", [stride, stride]),
            .ints("pads", pads), .int("group", groups),
        ])
    }

    /// One Conv of `layer` on an NHWC value: to channels first, the convolution (`pads` from the layer's shapes), back.
    private mutating func convolved(_ x: String, by layer: Layer, weight: String, bias: String, kernel: (Int, Int), stride: Int,
                                    before: (rows: Int, columns: Int), groups: Int) -> String {
        let pads = Self.pads(input: layer.inputShape, output: layer.outputShape, kernel: kernel, stride: stride, before: before)
        let nchw = channelsFirst(x, in: layer.name)
        let y = convolution(nchw, weight: weight, bias: bias, in: layer.name, kernel: kernel, stride: stride, pads: pads, groups: groups)
        return channelsLast(y, in: layer.name)
    }

    mutating func conv(_ layer: Conv2D, _ x: String) -> String {
        let weight = graph.weight(layer.weight, scope: layer.name, tag: "oihw", layout: Self.filtersFirst)
        return convolved(x, by: layer, weight: weight, bias: graph.weight(layer.bias, scope: layer.name),
                         kernel: (layer.kernel.height, layer.kernel.width), stride: layer.stride, before: layer.paddingBefore,
                         groups: layer.groups)
    }

    mutating func depthwise(_ layer: DepthwiseConv2D, _ x: String) -> String {
        let shape = layer.weight.value.shape
        let weight = graph.weight(layer.weight, scope: layer.name, tag: "oihw", layout: Self.depthwiseFilters)
        return convolved(x, by: layer, weight: weight, bias: graph.weight(layer.bias, scope: layer.name), kernel: (shape[0], shape[1]),
                         stride: layer.stride, before: layer.paddingBefore, groups: layer.inputShape[2])
    }

    /// Depthwise without a bias, then a 1×1 Conv with the layer's one bias.
    mutating func separable(_ layer: SeparableConv2D, _ x: String) -> String {
        let scope = layer.name, shape = layer.depthwise.value.shape, kernel = (shape[0], shape[1])
        let depthwise = graph.weight(layer.depthwise, scope: scope, tag: "oihw", layout: Self.depthwiseFilters)
        let pointwise = graph.weight(layer.pointwise, scope: scope, tag: "oihw", layout: Self.filtersFirst)
        let bias = graph.weight(layer.bias, scope: scope)
        let pads = Self.pads(input: layer.inputShape, output: layer.outputShape, kernel: kernel, stride: layer.stride,
                             before: layer.paddingBefore)
        let nchw = channelsFirst(x, in: scope)
        let spread = convolution(nchw, weight: depthwise, bias: nil, in: scope, kernel: kernel,
                                 stride: layer.stride, pads: pads, groups: layer.inputShape[2])
        let y = convolution(spread, weight: pointwise, bias: bias, in: scope, kernel: (1, 1), stride: 1, pads: [0, 0, 0, 0], groups: 1)
        return channelsLast(y, in: scope)
    }

    mutating func pool(_ layer: Pooling2D, _ x: String) -> String {
        let scope = layer.name, op = layer.mode == .max ? "MaxPool" : "AveragePool"
        let nchw = channelsFirst(x, in: scope)
        let y = graph.node(op, [nchw], in: scope, [.ints("kernel_shape", [layer.size.height, layer.size.width]),
                                                                          .ints("strides", [layer.stride, layer.stride])])
        return channelsLast(y, in: scope)
    }

    /// The mean or maximum over every axis but the batch and the last.
    mutating func globalPool(_ layer: GlobalPooling, _ x: String) -> String {
        let axes = Array(1..<layer.inputShape.count)
        return graph.node(layer.mode == .avg ? "ReduceMean" : "ReduceMax", [x], in: layer.name,
                          [.ints("axes", axes), .int("keepdims", 0)])
    }

    /// `local2d`, `local1d`: each position's patch gathered from the flat
    /// input (a zero appended for taps outside a `same` image), then one
    /// Einsum with the per-position kernels `[P, K, F]`. Gather and Einsum
    /// keep the file the size of the layer's own weights; its dense
    /// equivalent would be an inputs × outputs matrix, mostly zeros.
    mutating func local(_ layer: LocallyConnected2D, _ x: String) -> String {
        let scope = layer.name, inputs = layer.inputShape.reduce(1, *)
        let wshape = layer.weight.value.shape, (positions, patch) = (wshape[0], wshape[1])
        let flat = graph.reshape(x, to: [inputs], in: scope)
        let padded = graph.node("Pad", [flat, graph.integers([0, 0, 0, 1], named: "\(scope)/pads")], in: scope)
        let sources = layer.patchSources.map { $0 < 0 ? inputs : $0 }
        let patches = graph.node("Gather", [padded, graph.integers(sources, shape: [positions, patch], named: "\(scope)/patches")],
                                 in: scope, [.int("axis", 1)])
        let kernel = graph.weight(layer.weight, scope: scope)
        let product = graph.node("Einsum", [patches, kernel], in: scope, [.string("equation", "npk,pkf->npf")])
        let shaped = graph.reshape(product, to: layer.outputShape, in: scope)
        return graph.node("Add", [shaped, graph.weight(layer.bias, scope: scope, tag: "shaped") { b in
            (b.value.storage, layer.outputShape)
        }], in: scope)
    }

    /// `conv1d`, `maxpool1d`, `local1d`: the image layer on `[N, T, 1, F]`.
    mutating func onSequence(_ layer: OnSequence, _ x: String) throws(ONNXExportError) -> String {
        let image = graph.reshape(x, to: layer.inner.inputShape, in: layer.name)
        let out = try export(layer.inner, image)
        return graph.reshape(out, to: layer.outputShape, in: layer.name)
    }
}
