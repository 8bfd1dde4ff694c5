/// A grid of characters that plots draw dots on. Each kind of canvas packs a
/// different number of dots into a character: braille 2×4, half blocks 1×2,
/// shades 1×1 with five intensities.
public protocol Canvas {
    /// Characters across and down.
    var columns: Int { get }
    var rows: Int { get }
    /// Dots across and down.
    var dotWidth: Int { get }
    var dotHeight: Int { get }
    /// Sets the dot at (x, y), from the top left; `intensity` in [0, 1] is
    /// used by canvases that can show it.
    mutating func set(_ x: Int, _ y: Int, intensity: Double)
    /// The drawing, one string per row.
    func lines() -> [String]
}

extension Canvas {
    public mutating func set(_ x: Int, _ y: Int) { set(x, y, intensity: 1) }

    /// A line between two dots (Bresenham).
    public mutating func line(from a: (Int, Int), to b: (Int, Int)) {
        var (x0, y0) = a
        let (x1, y1) = b
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            set(x0, y0)
            if x0 == x1 && y0 == y1 { return }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x0 += sx }
            if e2 <= dx { error += dx; y0 += sy }
        }
    }
}

/// Braille characters: 2×4 dots a character, the finest resolution text has.
public struct BrailleCanvas: Canvas {
    public let columns: Int
    public let rows: Int
    private var bits: [UInt8]

    public init(columns: Int, rows: Int) {
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        bits = [UInt8](repeating: 0, count: self.columns * self.rows)
    }

    public var dotWidth: Int { columns * 2 }
    public var dotHeight: Int { rows * 4 }

    /// Dot numbering of the Unicode braille block, by (x, y) within a cell.
    static let dotBits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

    public mutating func set(_ x: Int, _ y: Int, intensity: Double) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight, intensity > 0 else { return }
        bits[(y / 4) * columns + x / 2] |= BrailleCanvas.dotBits[y % 4][x % 2]
    }

    public func lines() -> [String] {
        (0..<rows).map { r in
            String(String.UnicodeScalarView((0..<columns).map { c -> Unicode.Scalar in
                let b = bits[r * columns + c]
                return b == 0 ? " " : Unicode.Scalar(0x2800 + UInt32(b))!
            }))
        }
    }
}

/// One dot a character, each any glyph: a series' marker on a line plot, a
/// value's shade on a heatmap. `set(_:_:intensity:)` shades on five steps
/// ( ░▒▓█); `set(_:_:glyph:)` writes the glyph itself.
public struct GlyphCanvas: Canvas {
    public let columns: Int
    public let rows: Int
    private var glyphs: [Character]
    public static let ramp: [Character] = [" ", "░", "▒", "▓", "█"]

    public init(columns: Int, rows: Int) {
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        glyphs = [Character](repeating: " ", count: self.columns * self.rows)
    }

    public var dotWidth: Int { columns }
    public var dotHeight: Int { rows }

    public mutating func set(_ x: Int, _ y: Int, intensity: Double) {
        set(x, y, glyph: GlyphCanvas.shade(min(1, intensity.isFinite ? intensity : 1)))
    }

    public mutating func set(_ x: Int, _ y: Int, glyph: Character) {
        guard x >= 0, y >= 0, x < columns, y < rows else { return }
        glyphs[y * columns + x] = glyph
    }

    /// The glyph at a dot (a space outside the canvas).
    public func glyph(at x: Int, _ y: Int) -> Character {
        x >= 0 && y >= 0 && x < columns && y < rows ? glyphs[y * columns + x] : " "
    }

    public func lines() -> [String] {
        (0..<rows).map { r in String(glyphs[(r * columns)..<((r + 1) * columns)]) }
    }

    /// The shade of `level` in [0, 1]: five equal steps, so a level near
    /// 0 (a reconstruction's faint background) stays blank as 0 does.
    public static func shade(_ level: Double) -> Character {
        ramp[step(level)]
    }

    /// Which of five equal steps of [0, 1] `level` falls in (0 below 0.2, 4 from 0.8).
    static func step(_ level: Double) -> Int {
        guard level > 0 else { return 0 }
        return min(4, Int(level * 5))
    }
}
