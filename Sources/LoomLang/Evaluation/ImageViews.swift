import LoomCore
import LoomEngine
import LoomRender

/// Weights and activations drawn as the images they stand for: a first
/// dense layer's units as pictures of the input they weigh, a convolution's
/// outputs as one feature map per channel.
extension Evaluator {
    /// The most units or channels one grid draws.
    static let imagesShown = 64

    /// A dense layer that reads the model's image input straight through
    /// (nothing but `flatten` or `reshape` before it): each unit's input
    /// weights as an image of the input's height × width (the mean over
    /// channels for colour input); nil for any other layer.
    func unitImages(_ state: ModelState, _ block: Block) -> ImageGrid? {
        let model = state.model, shape = model.inputShape
        guard block.main.kind == "dense", block.borrowing == nil, shape.count == 3,
              let index = model.blocks.firstIndex(where: { $0.name == block.name }),
              model.blocks.prefix(index).allSatisfy(\.onlyReshapes),
              let kernel = block.main.parameters.first, kernel.value.shape.count == 2 else { return nil }
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        let (inputs, units) = (kernel.value.shape[0], kernel.value.shape[1])
        guard inputs == height * width * channels, units > 0 else { return nil }
        let shown = min(units, Evaluator.imagesShown)
        let values = kernel.value.storage
        let images = (0..<shown).map { unit in
            Matrix(rows: height, columns: width, values: (0..<(height * width)).map { pixel in
                var sum = 0.0
                for c in 0..<channels { sum += Double(values[(pixel * channels + c) * units + unit]) }
                return sum / Double(channels)
            })
        }
        let mean = channels > 1 ? ", each the mean over \(channels) channels" : ""
        let some = shown < units ? "the first \(shown) of \(units) units" : "\(units) units"
        return ImageGrid(images, labels: (1...shown).map { "u\($0)" },
                         title: "\(block.name): \(some)' input weights as \(height)x\(width) images\(mean)", maxSide: 14)
    }

    /// A convolution's outputs for one sample: a feature map per channel;
    /// nil unless the block's output is an image (height × width × channels).
    func featureMaps(_ block: Block, _ output: Tensor) -> ImageGrid? {
        let shape = block.main.outputShape
        guard ["conv2d", "depthwise", "separable"].contains(block.main.kind), shape.count == 3, output.batch > 0 else { return nil }
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        guard height * width * channels == output.sampleSize else { return nil }
        let shown = min(channels, Evaluator.imagesShown)
        let sample = output.storage.prefix(output.sampleSize)
        let maps = (0..<shown).map { c in
            Matrix(rows: height, columns: width, values: (0..<(height * width)).map { Double(sample[$0 * channels + c]) })
        }
        let some = shown < channels ? "the first \(shown) of \(channels) channels" : "\(channels) channels"
        return ImageGrid(maps, labels: (1...shown).map { "c\($0)" },
                         title: "\(block.name) on the first sample: feature maps of \(height)x\(width), \(some)", maxSide: 14)
    }
}
