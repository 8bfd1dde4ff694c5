import CPNG

/// PNG files decoded by libpng's simplified API, which handles every kind
/// (grey or colour, 1 to 16 bits, palette, transparency, interlacing) and
/// reports errors in `png_image.message` without unwinding through Swift.
/// Pixels come out as 8-bit sRGB values: a 16-bit file is reduced, colour
/// becomes grey by libpng's conversion (ITU-R BT.709 weights on linear
/// values), and transparent pixels are composited on black.
enum PNGReader {
    static func header(_ bytes: [UInt8], source: String) throws(DataError) -> PictureHeader {
        try reading(bytes, source: source) { image throws(DataError) in
            PictureHeader(format: .png, width: Int(image.width), height: Int(image.height),
                          storedChannels: image.format & PNG_FORMAT_FLAG_COLOR != 0 ? 3 : 1)
        }
    }

    static func decode(_ bytes: [UInt8], header: PictureHeader, channels: Int, source: String) throws(DataError) -> Picture {
        let raw = try reading(bytes, source: source) { image throws(DataError) in
            image.format = channels == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
            // 16-bit values are stored as encoded, like 8-bit ones (libpng would otherwise take them as linear).
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            var raw = [UInt8](repeating: 0, count: header.pixelCount * channels)
            let finished = raw.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard finished != 0, image.warning_or_error & 0x03 <= 1 else {
                throw DataError("\(source): damaged PNG file (\(message(image)))")
            }
            return raw
        }
        return Picture(width: header.width, height: header.height, channels: channels, pixels: raw.map { Float($0) / 255 })
    }

    /// `body` on a `png_image` whose header is read, while libpng may still
    /// read the pixels from `bytes`; the image is freed after.
    private static func reading<T>(_ bytes: [UInt8], source: String,
                                   _ body: (inout png_image) throws(DataError) -> T) throws(DataError) -> T {
        let result = bytes.withUnsafeBytes { memory -> Result<T, DataError> in
            var image = png_image()
            image.version = loom_png_image_version()
            defer { png_image_free(&image) }
            guard png_image_begin_read_from_memory(&image, memory.baseAddress, memory.count) != 0 else {
                return .failure(DataError("\(source): damaged PNG file (\(message(image)))"))
            }
            guard image.width > 0, image.height > 0 else {
                return .failure(DataError("\(source): the PNG file has no pixels (\(image.width)x\(image.height))"))
            }
            do throws(DataError) { return .success(try body(&image)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// libpng's message, a C string in a fixed array.
    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "libpng gave no reason" : text
        }
    }
}
