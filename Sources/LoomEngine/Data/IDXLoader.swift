/// MNIST's IDX format: a magic number (two zero bytes, a type byte, the
/// number of dimensions), big-endian 32-bit dimensions, then the data.
/// Unsigned-byte images are scaled to [0, 1].
public enum IDXLoader {
    public static func array(_ bytes: [UInt8], source: String) throws(DataError) -> (shape: [Int], values: [Float]) {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError("\(source) is not an IDX file (its magic number does not start with two zero bytes)")
        }
        let (size, read): (Int, (Int) -> Float)
        func be(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 << 8 | UInt64(bytes[at + $1]) } }
        switch bytes[2] {
        case 0x08: (size, read) = (1, { Float(bytes[$0]) })
        case 0x09: (size, read) = (1, { Float(Int8(bitPattern: bytes[$0])) })
        case 0x0B: (size, read) = (2, { Float(Int16(bitPattern: UInt16(be($0, 2)))) })
        case 0x0C: (size, read) = (4, { Float(Int32(bitPattern: UInt32(be($0, 4)))) })
        case 0x0D: (size, read) = (4, { Float(bitPattern: UInt32(be($0, 4))) })
        case 0x0E: (size, read) = (8, { Float(Double(bitPattern: be($0, 8))) })
        default: throw DataError("\(source): unknown IDX data type 0x\(String(bytes[2], radix: 16))")
        }
        let rank = Int(bytes[3])
        guard rank > 0, bytes.count >= 4 + 4 * rank else { throw DataError("\(source): the IDX header is cut short") }
        let shape = (0..<rank).map { Int(be(4 + 4 * $0, 4)) }
        let start = 4 + 4 * rank
        guard let count = Shape.count(shape), let dataBytes = Shape.count([count, size]), bytes.count - start == dataBytes else {
            throw DataError("\(source): the header promises \(Shape.text(shape)) values of \(size) byte(s), "
                            + "but the file holds \(bytes.count - start) bytes of data")
        }
        if bytes[2] == 0x08 { return (shape, scaledBytes(bytes, from: start, count: count)) }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = read(start + i * size) }
        return (shape, values)
    }

    /// Unsigned bytes (MNIST's pixels) as `Float(b) / 255`, through a table
    /// of the 256 quotients: the same values as dividing each, in one pass
    /// over memory that is not zeroed first (a full MNIST is 47 million),
    /// on huge pages and the engine's threads.
    static func scaledBytes(_ bytes: [UInt8], from start: Int, count: Int) -> [Float] {
        let table = (0..<256).map { Float($0) / 255 }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            Machine.preferHugePages(UnsafeMutableRawBufferPointer(out))
            bytes.withUnsafeBufferPointer { input in
                table.withUnsafeBufferPointer { quotient in
                    // Split across the engine's threads: first touches of fresh pages dominate.
                    Parallel.chunks(count, minimumChunk: 1 << 22) { range in
                        for i in range { out[i] = quotient[Int(input[start + i])] }
                    }
                }
            }
            initialized = count
        }
    }

    /// Images (N×H×W, or N×H×W×C) and labels (N) files as a data set.
    public static func load(images: [UInt8], labels: [UInt8], imagesSource: String, labelsSource: String) throws(DataError) -> Dataset {
        let (shape, values) = try array(images, source: imagesSource)
        let (labelShape, labelValues) = try array(labels, source: labelsSource)
        guard shape.count == 3 || shape.count == 4 else {
            throw DataError("\(imagesSource): images need 3 or 4 dimensions, not \(Shape.text(shape))")
        }
        guard labelShape.count == 1, labelShape[0] == shape[0] else {
            throw DataError("\(labelsSource): \(Shape.text(labelShape)) labels for \(shape[0]) images")
        }
        // Unsigned-byte labels were scaled with the images' rule; undo it.
        let scale: Float = labels[2] == 0x08 ? 255 : 1
        let ints = try ClassLabels.read(labelValues.map { ($0 * scale).rounded() }, source: labelsSource)
        let sample = shape.count == 3 ? [shape[1], shape[2], 1] : Array(shape.dropFirst())
        return Dataset(inputs: Tensor(shape: [shape[0]] + sample, storage: values), labels: ints)
    }
}
