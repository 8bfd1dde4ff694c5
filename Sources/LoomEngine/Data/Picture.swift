import LoomCore

/// A decoded photograph: `height` rows of `width` pixels, each `channels`
/// values (1 grey, 3 red-green-blue) in [0, 1], row-major and interleaved
/// as NumPy holds an image of shape (height, width, channels).
public struct Picture: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * channels, "Picture: \(pixels.count) values for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The picture resized to `width`×`height` bilinearly, sampling at pixel
    /// centres as `tf.image.resize` does (what Keras's
    /// `image_dataset_from_directory` resizes with), without antialiasing.
    public func resized(width newWidth: Int, height newHeight: Int) -> Picture {
        if newWidth == width && newHeight == height { return self }
        let xs = Picture.samples(newWidth, from: width), ys = Picture.samples(newHeight, from: height)
        var out = [Float](repeating: 0, count: newWidth * newHeight * channels)
        for (y, row) in ys.enumerated() {
            for (x, column) in xs.enumerated() {
                for c in 0..<channels {
                    func at(_ r: Int, _ q: Int) -> Float { pixels[(r * width + q) * channels + c] }
                    let top = at(row.low, column.low) + (at(row.low, column.high) - at(row.low, column.low)) * column.weight
                    let bottom = at(row.high, column.low) + (at(row.high, column.high) - at(row.high, column.low)) * column.weight
                    out[(y * newWidth + x) * channels + c] = top + (bottom - top) * row.weight
                }
            }
        }
        return Picture(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// For each of `count` output positions along an axis of `size` pixels:
    /// the two input pixels around its centre and the weight of the second.
    static func samples(_ count: Int, from size: Int) -> [(low: Int, high: Int, weight: Float)] {
        let scale = Double(size) / Double(count)
        return (0..<count).map { i in
            let centre = max(0, (Double(i) + 0.5) * scale - 0.5)
            let low = min(Int(centre), size - 1)
            return (low, min(low + 1, size - 1), Float(centre - Double(low)))
        }
    }
}

/// The image formats Loom reads, told apart by their first bytes.
public enum PictureFormat: String, Sendable {
    case png = "PNG", pgm = "PGM"

    /// PNG's eight-byte signature, or PGM's `P2`/`P5`; nil for anything else.
    public init?(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "2") || bytes[1] == UInt8(ascii: "5") {
            self = .pgm
        } else {
            return nil
        }
    }

    /// Whether a file name ends as an image Loom reads (`.png`, `.pgm`, any case).
    public static func isImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".png") || lower.hasSuffix(".pgm")
    }
}

/// What a file's header says, read before any pixel is decoded so its size
/// can be checked against memory first.
public struct PictureHeader: Sendable, Equatable {
    public let format: PictureFormat
    public let width: Int
    public let height: Int
    /// 1 for a grey file, 3 for a colour one (alpha is not kept).
    public let storedChannels: Int

    public var pixelCount: Int { width * height }
}

/// Reading PNG and PGM files into `Picture`s: the header first, then the pixels.
public enum PictureFile {
    /// The header of a PNG or PGM file; an error naming `source` when it is neither, or damaged.
    public static func header(_ bytes: [UInt8], source: String) throws(DataError) -> PictureHeader {
        switch PictureFormat(sniffing: bytes) {
        case .png?: return try PNGReader.header(bytes, source: source)
        case .pgm?: return try PGMReader.header(bytes, source: source)
        case nil: throw DataError("\(source): not a PNG or PGM file (its first bytes are neither signature)")
        }
    }

    /// The file's pixels, grey (`channels` 1; colour converted as libpng's
    /// grey conversion does) or red-green-blue (3; a grey file repeated), in
    /// [0, 1]. Refused before decoding when the pixels would take more than
    /// `limit` bytes.
    public static func decode(_ bytes: [UInt8], channels: Int, atMost limit: Int = .max,
                              source: String) throws(DataError) -> Picture {
        precondition(channels == 1 || channels == 3, "PictureFile.decode: 1 or 3 channels")
        let header = try header(bytes, source: source)
        let needed = decodingBytes(header, channels: channels)
        guard needed <= limit else {
            throw DataError("\(source): \(header.width)x\(header.height) pixels would need \(needed) bytes to decode, "
                            + "more than the \(limit) available")
        }
        switch header.format {
        case .png: return try PNGReader.decode(bytes, header: header, channels: channels, source: source)
        case .pgm: return try PGMReader.decode(bytes, channels: channels, source: source)
        }
    }

    /// What decoding a file takes at most: its bytes as decoded (up to two
    /// a value) and as floats.
    public static func decodingBytes(_ header: PictureHeader, channels: Int) -> Int {
        MemoryAccount.product(header.width, header.height, channels, 6)
    }
}
