/// The kernel's logo: a woven grid of warp (blue) and weft (orange)
/// threads, eight bands a side, as a PNG of any size or as an SVG.
enum Logo {
    static let warp: (UInt8, UInt8, UInt8) = (0x2B, 0x59, 0xC3)
    static let weft: (UInt8, UInt8, UInt8) = (0xE0, 0x7A, 0x1F)
    static let background: (UInt8, UInt8, UInt8) = (0xFF, 0xFF, 0xFF)

    /// The colour of band (column, row) of the 8×8 weave.
    static func colour(_ column: Int, _ row: Int) -> (UInt8, UInt8, UInt8) {
        switch (column % 2 == 0, row % 2 == 0) {
        case (true, true): return (column + row) % 2 == 0 ? warp : weft
        case (true, false): return warp
        case (false, true): return weft
        case (false, false): return background
        }
    }

    static func png(size: Int) -> [UInt8] {
        var rows: [UInt8] = []
        let band = max(2, size / 8)
        for y in 0..<size {
            rows.append(0)  // filter: none
            for x in 0..<size {
                let (r, g, b) = colour(x / band, y / band)
                rows += [r, g, b, 0xFF]
            }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(size)) + be32(UInt32(size)) + [8, 6, 0, 0, 0])
        png += chunk("IDAT", zlibStored(rows))
        png += chunk("IEND", [])
        return png
    }

    /// The same weave as a 64×64 SVG (Jupyter shows `logo-svg.svg` where it can scale).
    static func svg() -> String {
        func hex(_ c: (UInt8, UInt8, UInt8)) -> String {
            "#" + [c.0, c.1, c.2].map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        }
        var rects: [String] = []
        for row in 0..<8 {
            for column in 0..<8 {
                let c = colour(column, row)
                guard c != background else { continue }
                rects.append("  <rect x=\"\(column * 8)\" y=\"\(row * 8)\" width=\"8\" height=\"8\" fill=\"\(hex(c))\"/>")
            }
        }
        return (["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" viewBox=\"0 0 64 64\">",
                 "  <rect width=\"64\" height=\"64\" fill=\"#FFFFFF\"/>"] + rects + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// zlib data in uncompressed (stored) blocks: valid for every PNG reader.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let last: UInt8 = offset + n == data.count ? 1 : 0
            out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32((b << 16) | a)
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }
}
