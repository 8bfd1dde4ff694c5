import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `codes NAME = encode IMAGES with DICT … patches size S [stride T] [pool max|sum] [grid G]`:
    /// every image cut into patches, each patch coded over the dictionary,
    /// the codes pooled over a grid of regions (Coates and Ng 2011). The
    /// result is a data set of `G·G·atoms` features an image, with the
    /// images' labels, for `train M on NAME`.
    func encodePooled(_ a: Request<EncodeRequest>) throws(LoomError) {
        let dictionaryName = a.with.text, dataName = a.data.text
        let dictionary = try sparseDictionary(a.with.expr)
        let data = try dataset(a.data.expr)
        guard let size = a.size else {
            throw LoomError(.syntax, "`patches` needs the patches' side: `patches size S`", at: a.range(of: \.patches))
        }
        let layout = try patchLayout(of: data, size: size, stride: a.stride ?? 1, name: dataName, at: a.range(of: \.size))
        let atomLength = dictionary.dictionary.length
        guard atomLength == layout.patchValues else {
            throw LoomError(.value, "the atoms of `\(dictionaryName)` have \(atomLength) values but a \(size)x\(size) patch of "
                            + "\(layout.channels) channel(s) has \(layout.patchValues)", at: a.range(of: \.size))
        }
        let grid = a.grid ?? 2, pool = a.pool ?? .max
        guard grid <= min(layout.rows, layout.columns) else {
            throw LoomError(.value, "grid \(grid) is larger than the \(layout.rows)x\(layout.columns) patches an image gives: "
                            + "at most grid \(min(layout.rows, layout.columns))", at: a.range(of: \.grid))
        }
        let (encoder, coder) = try sparseEncoder(a, \.coder, atoms: dictionary.dictionary.count)
        let patchCount = data.count * layout.patchesPerImage
        try checkMemory(bytes: MemoryAccount.product(patchCount, layout.patchValues, 4)
                            + SparseCoding.encodingBytes(samples: patchCount, over: dictionary.dictionary, encoder),
                        what: "\(NumberFormat.grouped(patchCount)) patch codes over \(NumberFormat.grouped(dictionary.dictionary.count)) atoms",
                        at: a.range)
        // A patch's norm is at most its image's: checking the images checks the patches.
        _ = try finite(data.inputs.reshaped([data.count, data.inputs.sampleSize]), at: a.data.range)
        let cut = PatchPooling.patches(of: data.inputs, layout)
        let patches = dictionary.centered ? SessionDictionary.centering(cut) : cut
        useThreads(session.threads)
        let started = Monotonic.now
        guard let codes = SparseCoding.encode(patches, with: dictionary.dictionary, encoder, shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "coding stopped by the user; nothing was defined", at: a.range)
        }
        let features = PatchPooling.pool(codes, images: data.count, layout, grid: grid, pool)
        let seconds = Monotonic.now - started
        var pooled = Dataset(inputs: Tensor(shape: [data.count, grid * grid * dictionary.dictionary.count], storage: features),
                             targets: { if case .inputs = data.targets { return .none } else { return data.targets } }())
        pooled.classNames = data.classNames
        let name = a.defined
        let object = SessionDataset(pooled)
        session.define(name, .object(object))
        show(MimeBundle(text: "\(name): \(NumberFormat.grouped(data.count)) image(s) of \(dataName), each cut into "
                        + "\(layout.rows)x\(layout.columns) patches of \(size)x\(size) coded over \(dictionaryName) (\(coder)), "
                        + "\(pool.rawValue)-pooled over a \(grid)x\(grid) grid in \(duration(seconds)): \(object.describe)"))
    }

    /// The patch layout of `data`'s images (height × width × channels, or height × width), checked.
    func patchLayout(of data: Dataset, size: Int, stride: Int, name: String, at range: SourceRange) throws(LoomError) -> PatchPooling.Layout {
        let shape = data.sampleShape
        guard shape.count == 2 || shape.count == 3 else {
            throw LoomError(.value, "`patches` cuts images, but the samples of `\(name)` are \(Shape.text(shape)), "
                            + "not height × width (× channels)", at: range)
        }
        let layout = PatchPooling.Layout(height: shape[0], width: shape[1], channels: shape.count == 3 ? shape[2] : 1,
                                         size: size, stride: stride)
        guard layout.patchesPerImage > 0 else {
            throw LoomError(.value, "a \(size)x\(size) patch does not fit in the \(shape[0])x\(shape[1]) images of `\(name)`", at: range)
        }
        return layout
    }

    /// `size`, `stride`, `pool` and `grid` go with `patches` alone.
    func refusePoolingOptions(_ a: Request<EncodeRequest>) throws(LoomError) {
        let options: [PartialKeyPath<EncodeRequest>] = [\.size, \.stride, \.pool, \.grid]
        if let given = options.first(where: { a.given($0) }) {
            throw LoomError(.value, "`\(a.optionName(of: given))` goes with `patches`: `encode … patches size S`", at: a.range(of: given))
        }
    }
}
