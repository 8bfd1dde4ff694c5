/// Square patches cut from photographs as scikit-learn's
/// `extract_patches_2d` cuts them: every position, rows then columns (here
/// at a stride, 1 being scikit-learn's), each patch `size`×`size`×channels.
/// Several pictures are one run of positions, the first picture's first.
public enum PhotoPatches {
    /// How many patches a `width`×`height` picture gives; 0 when it is smaller than a patch.
    public static func count(width: Int, height: Int, size: Int, stride: Int) -> Int {
        guard width >= size, height >= size else { return 0 }
        return ((height - size) / stride + 1) * ((width - size) / stride + 1)
    }

    /// `n` distinct positions of `total`, drawn uniformly in the order drawn
    /// (a Fisher–Yates shuffle stopped after `n` swaps, its swaps kept in a
    /// table: memory in proportion to `n`, not to `total`).
    public static func choose(_ n: Int, of total: Int, random: inout RandomGenerator) -> [Int] {
        precondition(n >= 0 && n <= total, "PhotoPatches.choose: \(n) of \(total)")
        var moved: [Int: Int] = [:]
        var picks: [Int] = []
        picks.reserveCapacity(n)
        for k in 0..<n {
            let j = k + Int.random(in: 0..<(total - k), using: &random)
            picks.append(moved[j] ?? j)
            moved[j] = moved[k] ?? k
        }
        return picks
    }

    /// The patches at `positions` (indices into the run of every picture's
    /// positions; all of them, in order, when nil), as `[n, size, size, channels]`.
    /// The pictures must share their channels and be at least `size` on each side.
    public static func extract(from pictures: [Picture], size: Int, stride: Int, positions: [Int]? = nil) -> Tensor {
        let channels = pictures.first?.channels ?? 1
        precondition(pictures.allSatisfy { $0.channels == channels && $0.width >= size && $0.height >= size },
                     "PhotoPatches.extract: pictures of other channels, or smaller than a patch")
        let counts = pictures.map { count(width: $0.width, height: $0.height, size: size, stride: stride) }
        let total = counts.reduce(0, +)
        let n = positions?.count ?? total
        let patchValues = size * size * channels
        var starts: [Int] = [0]
        for c in counts { starts.append(starts.last! + c) }
        return Tensor(shape: [n, size, size, channels], writingEvery: { out in
            if let positions {
                for (slot, position) in positions.enumerated() {
                    // The picture holding `position`: the last whose run starts at or before it.
                    var lo = 0, hi = pictures.count - 1
                    while lo < hi {
                        let mid = (lo + hi + 1) / 2
                        if starts[mid] <= position { lo = mid } else { hi = mid - 1 }
                    }
                    pictures[lo].pixels.withUnsafeBufferPointer { pixels in
                        copyPatch(pixels.baseAddress!, of: pictures[lo], index: position - starts[lo], size: size, stride: stride,
                                  into: out.baseAddress! + slot * patchValues)
                    }
                }
            } else {
                var slot = 0
                for (picture, count) in zip(pictures, counts) {
                    picture.pixels.withUnsafeBufferPointer { pixels in
                        for index in 0..<count {
                            copyPatch(pixels.baseAddress!, of: picture, index: index, size: size, stride: stride,
                                      into: out.baseAddress! + (slot + index) * patchValues)
                        }
                    }
                    slot += count
                }
            }
        })
    }

    /// Copies patch `index` of one picture (row-major over its positions), row by row.
    @inline(__always)
    static func copyPatch(_ pixels: UnsafePointer<Float>, of picture: Picture, index: Int, size: Int, stride: Int,
                          into out: UnsafeMutablePointer<Float>) {
        let across = (picture.width - size) / stride + 1
        let top = (index / across) * stride, left = (index % across) * stride
        let rowValues = size * picture.channels, pictureRow = picture.width * picture.channels
        var from = pixels + (top * picture.width + left) * picture.channels
        var to = out
        for _ in 0..<size {
            for i in 0..<rowValues { to[i] = from[i] }
            from += pictureRow
            to += rowValues
        }
    }

    /// Takes each patch's own mean (over its pixels and channels) off it.
    public static func centre(_ patches: inout Tensor) {
        let width = patches.sampleSize, count = patches.batch
        guard width > 0 else { return }
        patches.storage.withUnsafeMutableBufferPointer { values in
            for p in 0..<count {
                let row = values.baseAddress! + p * width
                var sum: Double = 0
                for i in 0..<width { sum += Double(row[i]) }
                let mean = Float(sum / Double(width))
                for i in 0..<width { row[i] -= mean }
            }
        }
    }
}
