import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `M.LAYER` → the model and the block.
    func layer(_ expr: Expr) throws(LoomError) -> (ModelState, Block) {
        guard let parts = expr.name else { throw LoomError(.syntax, "name a layer as MODEL.LAYER, like cnn.conv1", at: expr.range) }
        guard parts.count >= 2 else {
            throw LoomError(.syntax, "name a layer as MODEL.LAYER, like cnn.conv1", at: expr.range)
        }
        let modelName = parts.dropLast().joined(separator: ".")
        let state = try modelState(Expr(kind: .name(Array(parts.dropLast())), range: expr.range))
        guard let block = state.model.block(named: parts.last!) else {
            throw LoomError(.name, "`\(modelName)` has no layer `\(parts.last!)`", at: expr.range,
                            suggestion: closest(to: parts.last!, in: state.model.blocks.map(\.name)))
        }
        return (state, block)
    }

    func weights(_ expr: Expr) throws(LoomError) -> (Block, LoomEngine.Parameter) {
        let (_, block) = try layer(expr)
        guard let kernel = block.main.parameters.first else {
            throw LoomError(.value, "`\(block.name)` (\(block.main.kind)) has no weights", at: expr.range)
        }
        return (block, kernel)
    }

    func plot(_ p: Plot) -> MimeBundle { p.bundle(svg: session.plotStyle == .svg, width: session.width) }

    /// `show weights M.LAYER`: the kernel as a heatmap (conv kernels as
    /// rows of kh·kw·C, one column per filter).
    func showWeights(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        let columns = kernel.value.shape.last!
        let rows = kernel.value.count / columns
        return plot(Heatmap(Matrix(rows: rows, columns: columns, values: kernel.value.storage.map(Double.init)),
                            title: "\(block.name) weights, \(Shape.text(kernel.value.shape))"))
    }

    /// `show filters M.LAYER`: each filter of a convolution as a small image,
    /// on one shared scale (averaged over input channels when there are several).
    func showFilters(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        guard let conv = block.main as? Conv2D else {
            throw LoomError(.value, "`\(block.name)` is a \(block.main.kind) layer; filters belong to conv2d layers",
                            at: a.range(of: "layer"))
        }
        let (kh, kw) = (conv.kernel.height, conv.kernel.width)
        let channels = conv.inputShape[2], filters = conv.outputShape[2]
        let images = (0..<filters).map { f in
            Matrix(rows: kh, columns: kw, values: (0..<(kh * kw)).map { p in
                var sum = 0.0
                for ch in 0..<channels { sum += Double(kernel.value[(p * channels + ch) * filters + f]) }
                return sum / Double(channels)
            })
        }
        let note = channels > 1 ? ", each the mean over \(channels) input channels" : ""
        return plot(ImageGrid(images, labels: (1...filters).map { "f\($0)" },
                              title: "\(block.name): \(filters) filters of \(kh)x\(kw)\(note)"))
    }

    /// `show histogram M.LAYER`
    func showHistogram(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        return plot(Histogram(kernel.value.storage.map(Double.init), bins: 12, title: "\(block.name) weights"))
    }

    /// `show sparsity M [on DATA]`: per layer, the share of zero weights, the
    /// share of zero activations on DATA, and the weights that remain.
    func showSparsity(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let model = try a.model("model").model
        var activationZeros: [String: Double] = [:]
        if let expr = a.command.argument("on") {
            let data = try dataset(expr)
            try check(data, fits: model, at: expr.range)
            let sample = data.inputs.gathering(samples: Array(0..<min(data.count, 512)))
            var x = sample
            for block in model.blocks {
                for layer in block.layers { x = layer.forward(x, training: false) }
                activationZeros[block.name] = Double(x.storage.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }) / Double(max(1, x.count))
            }
        }
        var columns: [Table.Column] = [.init("layer"), .init("weights", .right), .init("zero weights", .right),
                                       .init("effective", .right)]
        if !activationZeros.isEmpty { columns += [.init("zero activations", .right), .init("")] }
        var table = Table(title: "sparsity of \(model.name)", columns: columns)
        var total = 0, zeros = 0
        for block in model.blocks {
            let count = block.parameters.reduce(0) { $0 + $1.value.count }
            let z = block.parameters.reduce(0) { $0 + $1.zeroCount }
            total += count
            zeros += z
            var row = [block.name, NumberFormat.grouped(count), count > 0 ? NumberFormat.percent(Double(z) / Double(count)) : "",
                       NumberFormat.grouped(count - z)]
            if let a = activationZeros[block.name] { row += [NumberFormat.percent(a), BarChart.bar(a, width: 10)] }
            table.append(row)
        }
        var footer = ["total", NumberFormat.grouped(total), total > 0 ? NumberFormat.percent(Double(zeros) / Double(total)) : "",
                      NumberFormat.grouped(total - zeros)]
        if !activationZeros.isEmpty { footer += ["", ""] }
        table.footer = footer
        return table.bundle(width: session.width)
    }
}
