/// PGM files (Netpbm's grey maps): `P5` binary, one or two bytes a value
/// (big-endian when the largest value is above 255), and `P2` plain text;
/// the largest value may be up to 65535, and values are divided by it.
/// Comments (`#` to the end of the line) may come anywhere in the header.
enum PGMReader {
    /// The header's fields and where the pixel data starts.
    struct Layout {
        let binary: Bool
        let width: Int
        let height: Int
        let maxval: Int
        let dataStart: Int
    }

    static func header(_ bytes: [UInt8], source: String) throws(DataError) -> PictureHeader {
        let layout = try read(bytes, source: source)
        return PictureHeader(format: .pgm, width: layout.width, height: layout.height, storedChannels: 1)
    }

    static func decode(_ bytes: [UInt8], channels: Int, source: String) throws(DataError) -> Picture {
        let layout = try read(bytes, source: source)
        let count = layout.width * layout.height
        var grey = [Float](repeating: 0, count: count)
        let maxval = Float(layout.maxval)
        if layout.binary {
            let wide = layout.maxval > 255
            for i in 0..<count {
                let value = wide ? Int(bytes[layout.dataStart + 2 * i]) << 8 | Int(bytes[layout.dataStart + 2 * i + 1])
                    : Int(bytes[layout.dataStart + i])
                guard value <= layout.maxval else { throw tooLarge(value, at: i, layout, source) }
                grey[i] = Float(value) / maxval
            }
        } else {
            var scanner = Scanner(bytes: bytes, position: layout.dataStart)
            for i in 0..<count {
                guard let value = try scanner.number(source: source, what: "pixel \(i + 1)", limit: 65535) else {
                    throw DataError("\(source): the PGM file ends after \(i) of its \(count) values (truncated file?)")
                }
                guard value <= layout.maxval else { throw tooLarge(value, at: i, layout, source) }
                grey[i] = Float(value) / maxval
            }
        }
        let pixels = channels == 1 ? grey : grey.flatMap { [$0, $0, $0] }
        return Picture(width: layout.width, height: layout.height, channels: channels, pixels: pixels)
    }

    static func tooLarge(_ value: Int, at i: Int, _ layout: Layout, _ source: String) -> DataError {
        DataError("\(source): pixel \(i + 1) (row \(i / layout.width + 1)) is \(value), above the file's largest value \(layout.maxval)")
    }

    /// The header, checked: positive sizes, a largest value from 1 to 65535,
    /// and enough bytes after it for every pixel (before anything is allocated).
    static func read(_ bytes: [UInt8], source: String) throws(DataError) -> Layout {
        let binary = bytes.count >= 2 && bytes[1] == UInt8(ascii: "5")
        var scanner = Scanner(bytes: bytes, position: 2)
        guard let width = try scanner.number(source: source, what: "the width", limit: 1 << 24),
              let height = try scanner.number(source: source, what: "the height", limit: 1 << 24),
              let maxval = try scanner.number(source: source, what: "the largest value", limit: 65535) else {
            throw DataError("\(source): the PGM header is cut short (it needs a width, a height and a largest value)")
        }
        guard width > 0, height > 0 else { throw DataError("\(source): the PGM file has no pixels (\(width)x\(height))") }
        guard maxval > 0 else { throw DataError("\(source): the PGM file's largest value is 0; it must be 1 to 65535") }
        // One whitespace byte ends the header; the data follows.
        guard scanner.position < bytes.count, Scanner.isSpace(bytes[scanner.position]) else {
            throw DataError("\(source): the PGM header ends without the whitespace before the pixels (truncated file?)")
        }
        let dataStart = scanner.position + 1
        let count = width * height
        let needed = binary ? count * (maxval > 255 ? 2 : 1) : 2 * count - 1
        guard bytes.count - dataStart >= needed else {
            throw DataError("\(source): the PGM file says \(width)x\(height) pixels, which need \(needed) bytes, "
                            + "but \(bytes.count - dataStart) follow the header (truncated file?)")
        }
        return Layout(binary: binary, width: width, height: height, maxval: maxval, dataStart: dataStart)
    }

    /// Whitespace-separated decimal numbers, skipping comments.
    struct Scanner {
        let bytes: [UInt8]
        var position: Int

        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

        /// The next number, nil at the end of the bytes; an error for anything
        /// but digits, or a number above `limit`.
        mutating func number(source: String, what: String, limit: Int) throws(DataError) -> Int? {
            while position < bytes.count {
                if Scanner.isSpace(bytes[position]) {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
                } else {
                    break
                }
            }
            guard position < bytes.count else { return nil }
            var value = 0, digits = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                guard value <= limit else { throw DataError("\(source): \(what) in the PGM file is above \(limit)") }
                position += 1
                digits += 1
            }
            guard digits > 0, position == bytes.count || Scanner.isSpace(bytes[position]) || bytes[position] == UInt8(ascii: "#") else {
                throw DataError("\(source): \(what) in the PGM file is not a whole number (byte \(position))")
            }
            return value
        }
    }
}
