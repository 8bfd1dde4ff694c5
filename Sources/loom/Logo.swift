import LoomRender

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
        var raster = Raster(width: size, height: size)
        let band = max(2, size / 8)
        for y in 0..<size {
            for x in 0..<size {
                let (r, g, b) = colour(x / band, y / band)
                raster.set(x, y, r, g, b)
            }
        }
        return raster.png()
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
}
