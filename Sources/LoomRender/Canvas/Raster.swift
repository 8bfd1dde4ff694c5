/// A picture of RGBA pixels, written as a PNG. SVG figures carry their cells
/// this way (image grids, heatmaps, spy plots: one pixel per cell, scaled up
/// without smoothing), since a `<rect>` per cell runs to hundreds of
/// kilobytes; the kernel's logo is one too.
public struct Raster: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Row-major RGBA bytes, transparent until set.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "Raster: \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 4)
    }

    public mutating func set(_ x: Int, _ y: Int, _ red: UInt8, _ green: UInt8, _ blue: UInt8, alpha: UInt8 = 0xFF) {
        let i = (y * width + x) * 4
        pixels[i] = red
        pixels[i + 1] = green
        pixels[i + 2] = blue
        pixels[i + 3] = alpha
    }

    /// Sets a pixel to an SVG colour written `#rrggbb`.
    mutating func set(_ x: Int, _ y: Int, colour: String) {
        let digits = Array(colour.utf8.dropFirst()).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: preconditionFailure("Raster: colour \(colour)")
            }
        }
        precondition(digits.count == 6, "Raster: colour \(colour)")
        set(x, y, digits[0] << 4 | digits[1], digits[2] << 4 | digits[3], digits[4] << 4 | digits[5])
    }

    /// The picture as a PNG file (8-bit RGBA, no interlace).
    public func png() -> [UInt8] {
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity(height * (width * 4 + 1))
        for y in 0..<height {
            scanlines.append(0)  // filter: none
            scanlines += pixels[(y * width * 4)..<((y + 1) * width * 4)]
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += PNG.chunk("IHDR", PNG.be32(UInt32(width)) + PNG.be32(UInt32(height)) + [8, 6, 0, 0, 0])
        png += PNG.chunk("IDAT", Deflate.zlib(scanlines))
        png += PNG.chunk("IEND", [])
        return png
    }

    /// The PNG as a `data:` URI, for an SVG `<image>` or an HTML `<img>`.
    public var dataURI: String { "data:image/png;base64," + Base64.encode(png()) }
}

enum PNG {
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}

public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int((v >> 12) & 63)])
            out.append(n > 1 ? alphabet[Int((v >> 6) & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
