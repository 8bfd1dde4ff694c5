import LoomCore

/// NumPy's .npy format: the magic `\x93NUMPY`, a version, a header dict
/// (`descr`, `fortran_order`, `shape`), then the data in C order.
/// Little-endian floats and integers of any width are read.
public enum NPYLoader {
    public static func array(_ bytes: [UInt8], source: String) throws(DataError) -> (shape: [Int], values: [Float]) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw DataError("\(source) is not a .npy file") }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard major >= 1, major <= 3, bytes.count >= 8 + lengthBytes else { throw DataError("\(source): unknown .npy version \(major)") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes + headerLength
        guard start <= bytes.count else { throw DataError("\(source): the .npy header is cut short") }
        let header = String(decoding: bytes[(8 + lengthBytes)..<start], as: UTF8.self)
        guard let descr = field("descr", in: header).map({ $0.trimmingCharacters("'\" ") }) else {
            throw DataError("\(source): the header has no 'descr'")
        }
        if field("fortran_order", in: header)?.trimmingCharacters(" ") == "True" {
            throw DataError("\(source) is in Fortran order; save it with numpy.ascontiguousarray first")
        }
        guard let shapeText = field("shape", in: header) else { throw DataError("\(source): the header has no 'shape'") }
        var shape: [Int] = []
        for dim in shapeText.split(whereSeparator: { "(), ".contains($0) }) {
            guard let d = Int(dim), d >= 0 else {
                throw DataError("\(source): the shape \(shapeText) must hold whole numbers from 0, not `\(dim)`")
            }
            shape.append(d)
        }
        guard descr.first == "<" || descr.first == "|", descr.count >= 3, let size = Int(descr.dropFirst(2)) else {
            throw DataError("\(source): dtype \(descr) is not supported (little-endian floats and integers are)")
        }
        let kind = descr[descr.index(after: descr.startIndex)]
        func le(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        let read: (Int) -> Float
        switch (kind, size) {
        case ("f", 4): read = { Float(bitPattern: UInt32(le($0, 4))) }
        case ("f", 8): read = { Float(Double(bitPattern: le($0, 8))) }
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8):
            read = { at in Float(Int64(bitPattern: le(at, size) << UInt64(64 - 8 * size)) >> Int64(64 - 8 * size)) }
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8), ("b", 1): read = { Float(le($0, size)) }
        default: throw DataError("\(source): dtype \(descr) is not supported (little-endian floats and integers are)")
        }
        guard let count = Shape.count(shape), let dataBytes = Shape.count([count, size]), bytes.count - start == dataBytes else {
            throw DataError("\(source): the header promises \(Shape.text(shape)) values of \(size) bytes, "
                            + "but the file holds \(bytes.count - start) bytes of data")
        }
        return (shape, (0..<(bytes.count - start) / size).map { read(start + $0 * size) })
    }

    /// Whether an .npy file holds unsigned bytes (`|u1`), as images are kept.
    static func holdsBytes(_ bytes: [UInt8]) -> Bool {
        let header = String(decoding: bytes.prefix(256), as: UTF8.self)
        return field("descr", in: header).map { $0.trimmingCharacters("'\" ") } == "|u1"
    }

    /// The text of `key`'s value in a Python dict literal.
    static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") else { return nil }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return String(rest)
    }

    /// Samples (N×…) as a data set, with class labels (N) or real-valued
    /// targets (N×…) when given, unlabelled otherwise.
    public static func load(samples: [UInt8], labels: [UInt8]?, targets: [UInt8]? = nil, samplesSource: String,
                            labelsSource: String) throws(DataError) -> Dataset {
        let (shape, values) = try array(samples, source: samplesSource)
        guard shape.count >= 1, shape[0] > 0 else { throw DataError("\(samplesSource) holds no samples") }
        let sample = shape.count == 1 ? [1] : Array(shape.dropFirst())
        guard sample.allSatisfy({ $0 > 0 }) else {
            throw DataError("\(samplesSource) holds \(shape[0]) samples of \(Shape.text(sample)): no values in each")
        }
        let inputs = Tensor(shape: [shape[0]] + sample, storage: values)
        if let labels {
            let (labelShape, labelValues) = try array(labels, source: labelsSource)
            guard labelShape == [shape[0]] else {
                throw DataError("\(labelsSource): \(Shape.text(labelShape)) labels for \(shape[0]) samples")
            }
            return Dataset(inputs: inputs, labels: try ClassLabels.read(labelValues, source: labelsSource))
        }
        if let targets {
            let (targetShape, targetValues) = try array(targets, source: labelsSource)
            guard targetShape.first == shape[0] else {
                throw DataError("\(labelsSource): targets of \(Shape.text(targetShape)) for \(shape[0]) samples")
            }
            guard targetValues.allSatisfy(\.isFinite) else { throw DataError("\(labelsSource): a target is not a finite number") }
            let one = targetShape.count == 1 ? [1] : Array(targetShape.dropFirst())
            guard one.allSatisfy({ $0 > 0 }) else {
                throw DataError("\(labelsSource): targets of \(Shape.text(one)) hold no values")
            }
            return Dataset(inputs: inputs, targets: .values(Tensor(shape: [shape[0]] + one, storage: targetValues)))
        }
        return Dataset(inputs: inputs, targets: .none)
    }
}

extension String {
    func trimmingCharacters(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
