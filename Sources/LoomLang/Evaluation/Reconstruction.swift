import LoomCore
import LoomEngine
import LoomRender

/// Learning without labels: `train M on D target inputs` fits M to
/// reconstruct its inputs (Keras's `fit(x, x)`), and `evaluate`, `compare`
/// and `predict` then measure reconstructions.
extension Evaluator {
    /// `data` with the targets a statement measures against: its own, or
    /// with `target inputs` its inputs (labels or values set aside).
    func targets(_ data: Dataset, _ reconstructs: Bool) -> Dataset {
        reconstructs ? data.reconstructing : data
    }

    /// Whether `evaluate`, `compare` or `predict` measure `state`'s
    /// reconstructions: when asked with `target inputs`, or when the model
    /// was last trained that way (as a Keras model keeps its compiled loss).
    func reconstructs(_ target: TargetChoice?, _ state: ModelState) -> Bool {
        target != nil || state.reconstructionLoss != nil
    }

    /// The loss `evaluate` and `compare` report for a reconstruction: the
    /// one the model was trained with, else mse.
    func reconstructionLoss(_ state: ModelState) -> Loss { state.reconstructionLoss ?? .mse }

    /// A reconstruction needs an output of the input's shape; the error
    /// names both and says which layer ends the model.
    func checkReconstructs(_ model: Sequential, at range: SourceRange) throws(LoomError) {
        let input = model.inputShape, output = model.outputShape
        guard output != input else { return }
        let values = Shape.count(input) ?? 0
        let advice = Shape.count(output) == values ? "end it with `reshape \(Shape.text(input))`"
            : "end it with `dense \(values) sigmoid` (or `linear`)" + (input.count > 1 ? " and `reshape \(Shape.text(input))`" : "")
        throw LoomError(.value, "`\(model.name)` gives \(Shape.text(output)) outputs but its inputs are \(Shape.text(input)); "
                        + "to reconstruct them \(advice)", at: range)
    }

    /// Binary cross-entropy compares values in [0, 1]: the model must end in
    /// a sigmoid (whose gradient is then fused with the loss, as Keras does),
    /// and every target must be in [0, 1]. Keras accepts other outputs and
    /// clips them silently, which stops their gradient; here it is an error
    /// that says what to change.
    func checkBinaryCrossEntropy(_ model: Sequential, on data: [Dataset], at range: SourceRange) throws(LoomError) {
        guard model.endsInSigmoid else {
            throw LoomError(.value, "bce compares values in [0, 1]: end `\(model.name)` with a sigmoid layer "
                            + "(`dense N sigmoid`, then `reshape` for images), or use `loss mse`", at: range)
        }
        for d in data {
            let values: Tensor
            switch d.targets {
            case .values(let t): values = t
            case .inputs: values = d.inputs
            case .classes, .none: continue
            }
            guard let low = values.storage.min(), let high = values.storage.max(), low < 0 || high > 1 else { continue }
            throw LoomError(.value, "bce needs targets between 0 and 1, but these range from "
                            + NumberFormat.short(Double(low), significant: 4) + " to " + NumberFormat.short(Double(high), significant: 4)
                            + ": scale them into [0, 1] or use `loss mse`", at: range)
        }
    }

    /// `predict M on DATA` for an autoencoder: each sample's first values
    /// beside their reconstruction with its mean absolute error, then for
    /// single-channel images the inputs and reconstructions in pairs.
    func predictReconstructions(_ model: Sequential, _ data: Dataset, first n: Int, batchSize: Int) -> MimeBundle {
        let table = predictValues(model, data.inputs, data.inputs, first: n, batchSize: batchSize)
        let samples = Array(0..<min(n, data.count))
        let shape = data.sampleShape
        guard shape.count == 3, shape[2] == 1, !samples.isEmpty else { return table }
        show(table)
        return plot(reconstructionGrid(model, data, samples: samples, batchSize: batchSize,
                                       title: "inputs (in) beside their reconstructions (out)"))
    }

    /// `show reconstructions M on DATA [first N]`: the first N inputs beside
    /// what `M` makes of them, as images (a flat sample of a square length
    /// as a square, a colour image as the mean of its channels).
    func showReconstructions(_ a: Request<ReconstructionsRequest>) throws(LoomError) -> MimeBundle {
        let model = try modelState(a.model.expr).model
        let data = try dataset(a.on.expr).reconstructing
        try check(data, fits: model, at: a.range)
        let samples = Array(0..<min(a.first, data.count))
        let batch = try inferenceBatch(model, samples: samples.count, keeping: 16 * data.inputs.sampleSize, keepsEveryOutput: true,
                                       at: a.range)
        guard !samples.isEmpty else { return MimeBundle(text: "`\(a.on.text)` has no samples to reconstruct") }
        return plot(reconstructionGrid(model, data, samples: samples, batchSize: batch,
                                       title: "\(a.model.text) on \(a.on.text): inputs (in) beside their reconstructions (out)"))
    }

    /// `samples` of `data` and `model`'s outputs for them in pairs, each as
    /// an image (see `pictureShape`; channels averaged).
    func reconstructionGrid(_ model: Sequential, _ data: Dataset, samples: [Int], batchSize: Int, title: String) -> ImageGrid {
        let inputs = data.inputs.gathering(samples: samples)
        let output = model.predict(inputs, batchSize: batchSize), size = inputs.sampleSize
        let shape = data.sampleShape
        let channels = shape.count == 3 ? shape[2] : 1
        let picture = pictureShape(channels > 1 ? Array(shape.prefix(2)) : shape)
        /// A sample's values as one picture: each pixel its channels' mean.
        func pixels(_ values: ArraySlice<Float>) -> [Double] {
            guard channels > 1 else { return values.map(Double.init) }
            return stride(from: values.startIndex, to: values.endIndex, by: channels).map { start in
                Double(values[start..<(start + channels)].reduce(0, +)) / Double(channels)
            }
        }
        var values: [Double] = []
        values.reserveCapacity(2 * samples.count * size / channels)
        for row in samples.indices {
            values += pixels(inputs.storage[(row * size)..<((row + 1) * size)])
            values += pixels(output.storage[(row * size)..<((row + 1) * size)])
        }
        return ImageGrid(rowsOf: Matrix(rows: 2 * samples.count, columns: size / channels, values: values), shape: picture,
                         labels: samples.flatMap { ["\($0) in", "\($0) out"] },
                         title: title + (channels > 1 ? " (the mean of \(channels) channels)" : ""), maxSide: 14)
    }
}
