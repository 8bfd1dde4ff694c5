/// Image features from patch codes, as Coates and Ng (2011) make them: cut
/// each image into patches, code every patch, pool the codes over a grid of
/// image regions. One feature vector of `grid·grid·atoms` values an image.
public enum PatchPooling {
    /// How the codes of a region's patches become one value an atom.
    public enum Pool: String, CaseIterable, Sendable {
        /// The largest magnitude |code| of the atom in the region.
        case max
        /// The sum of the atom's codes in the region (signs kept).
        case sum
    }

    /// Where the patches of one `height`×`width` image start: `rows`×`columns`
    /// positions at `stride`, rows then columns (0 each when the image is
    /// smaller than a patch).
    public struct Layout: Sendable, Equatable {
        public let height: Int, width: Int, channels: Int, size: Int, stride: Int
        public var rows: Int { height >= size ? (height - size) / stride + 1 : 0 }
        public var columns: Int { width >= size ? (width - size) / stride + 1 : 0 }
        public var patchesPerImage: Int { rows * columns }
        public var patchValues: Int { size * size * channels }

        public init(height: Int, width: Int, channels: Int, size: Int, stride: Int) {
            self.height = height; self.width = width; self.channels = channels; self.size = size; self.stride = stride
        }
    }

    /// Every patch of every image of `images` (`[n, height, width, channels]`
    /// values, image after image), as `[n·patchesPerImage, patchValues]`:
    /// each patch flattened row by row, height × width × channels, as
    /// `data … = patches from …` flattens the patches a dictionary learns on.
    public static func patches(of images: Tensor, _ layout: Layout) -> Tensor {
        let n = images.batch, perImage = layout.patchesPerImage, patchValues = layout.patchValues
        let imageValues = layout.height * layout.width * layout.channels
        let rowValues = layout.size * layout.channels, imageRow = layout.width * layout.channels
        return Tensor(shape: [n * perImage, patchValues], writingEvery: { out in
            images.storage.withUnsafeBufferPointer { pixels in
                var to = out.baseAddress!
                for image in 0..<n {
                    for row in 0..<layout.rows {
                        for column in 0..<layout.columns {
                            var from = pixels.baseAddress! + image * imageValues
                                + (row * layout.stride * layout.width + column * layout.stride) * layout.channels
                            for _ in 0..<layout.size {
                                for i in 0..<rowValues { to[i] = from[i] }
                                to += rowValues
                                from += imageRow
                            }
                        }
                    }
                }
            }
        })
    }

    /// The region (0..<grid) a patch at `position` of `count` positions falls
    /// in: the positions split into `grid` runs as even as can be, earlier
    /// runs the shorter.
    @inline(__always)
    static func region(_ position: Int, of count: Int, grid: Int) -> Int { position * grid / count }

    /// The codes of `images` images' patches (`codes.samples` =
    /// images·patchesPerImage, in the order `patches` cuts them) pooled over a
    /// `grid`×`grid` grid of regions: `images` rows of `grid·grid·atoms`
    /// values, region by region (rows of regions, then columns), atom by atom
    /// within a region. The grid must be no larger than the patch grid.
    public static func pool(_ codes: SparseCodes, images: Int, _ layout: Layout, grid: Int, _ pool: Pool) -> [Float] {
        let atoms = codes.atoms, perImage = layout.patchesPerImage
        precondition(codes.samples == images * perImage && grid >= 1 && grid <= min(layout.rows, layout.columns),
                     "PatchPooling.pool: codes of another layout, or a grid larger than the patch grid")
        let featureCount = grid * grid * atoms
        var features = [Float](repeating: 0, count: images * featureCount)
        codes.values.withUnsafeBufferPointer { values in
            features.withUnsafeMutableBufferPointer { out in
                for image in 0..<images {
                    for row in 0..<layout.rows {
                        let regionRow = region(row, of: layout.rows, grid: grid)
                        for column in 0..<layout.columns {
                            let cell = regionRow * grid + region(column, of: layout.columns, grid: grid)
                            let code = values.baseAddress! + (image * perImage + row * layout.columns + column) * atoms
                            let target = out.baseAddress! + image * featureCount + cell * atoms
                            switch pool {
                            case .max: for k in 0..<atoms { target[k] = Swift.max(target[k], abs(code[k])) }
                            case .sum: for k in 0..<atoms { target[k] += code[k] }
                            }
                        }
                    }
                }
            }
        }
        return features
    }
}
