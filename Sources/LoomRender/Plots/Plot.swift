import LoomCore

/// A plot that draws itself as text (for terminals and `text/plain`) and as
/// SVG (for notebooks). Both are deterministic: the same values give the
/// same bytes.
public protocol Plot {
    /// Text no wider than `width` columns.
    func text(width: Int) -> String
    func svg() -> String
}

extension Plot {
    /// The plot as a display: text always; with `svg`, the vector figure too.
    public func bundle(svg withSVG: Bool, width: Int) -> MimeBundle {
        var representations = [(mime: "text/plain", content: text(width: width))]
        if withSVG { representations.append((mime: "image/svg+xml", content: svg())) }
        return MimeBundle(representations)
    }
}

/// A minimal SVG writer: numbers with at most two decimals, attributes in a
/// fixed order, so the output is byte-stable. The canvas grows to hold every
/// text it writes, so no title, label or legend is cut at its edge.
struct SVG {
    let width: Double
    let height: Double
    private(set) var body: [String] = []
    private var hasImages = false
    /// How far the texts reach beyond the origin, in each direction.
    private var textLeft = Double.infinity, textRight = -Double.infinity, textBottom = -Double.infinity

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Where a figure's drawing starts below its title (or the top margin).
    static func top(title: String?) -> Double { title == nil ? 4 : 20 }

    /// A figure with `title` (if any) on its first line.
    init(width: Double, height: Double, title: String?) {
        self.init(width: width, height: height)
        if let title { text(4, 14, title) }
    }

    static func n(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        return NumberFormat.trimZeros(NumberFormat.fixed(x, decimals: 2))
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil) {
        body.append("<rect x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" width=\"\(SVG.n(w))\" height=\"\(SVG.n(h))\" fill=\"\(fill)\""
                    + (stroke.map { " stroke=\"\($0)\"" } ?? "") + "/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#444") {
        body.append("<line x1=\"\(SVG.n(x1))\" y1=\"\(SVG.n(y1))\" x2=\"\(SVG.n(x2))\" y2=\"\(SVG.n(y2))\" stroke=\"\(stroke)\"/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String) {
        let p = points.map { "\(SVG.n($0.0)),\(SVG.n($0.1))" }.joined(separator: " ")
        body.append("<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"1.5\"/>")
    }

    /// A filled shape, faint: the band of a series' spread.
    mutating func polygon(_ points: [(Double, Double)], fill: String) {
        guard points.count > 2 else { return }
        let p = points.map { "\(SVG.n($0.0)),\(SVG.n($0.1))" }.joined(separator: " ")
        body.append("<polygon points=\"\(p)\" fill=\"\(fill)\" fill-opacity=\"0.2\" stroke=\"none\"/>")
    }

    /// `raster` stretched over the box, each pixel a sharp-edged cell.
    mutating func image(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ raster: Raster) {
        body.append("<image x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" width=\"\(SVG.n(w))\" height=\"\(SVG.n(h))\" "
                    + "preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" "
                    + "xlink:href=\"\(raster.dataURI)\"/>")
        hasImages = true
    }

    /// How wide `s` is drawn at `size` in the monospace font (0.6 em a character).
    static func textWidth(_ s: String, size: Int) -> Double { Double(TextWidth.of(s)) * Double(size) * 0.6 }

    mutating func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 11) {
        let w = SVG.textWidth(s, size: size)
        let start = anchor == "end" ? x - w : anchor == "middle" ? x - w / 2 : x
        textLeft = min(textLeft, start)
        textRight = max(textRight, start + w)
        textBottom = max(textBottom, y + Double(size) * 0.25)
        body.append("<text x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\">"
                    + HTML.escape(s) + "</text>")
    }

    /// The drawing's box: the size asked for, grown (leftwards through the
    /// view box's origin) to hold every text, with a margin of 2 at the sides
    /// and the letters' descent below.
    var bounds: (x: Double, width: Double, height: Double) {
        let left = min(0, (textLeft - 2).rounded(.down)), right = max(width, (textRight + 2).rounded(.up))
        return (left, right - left, max(height, textBottom.rounded(.up)))
    }

    func render() -> String {
        let (x, w, h) = bounds
        return "<svg xmlns=\"http://www.w3.org/2000/svg\"" + (hasImages ? " xmlns:xlink=\"http://www.w3.org/1999/xlink\"" : "")
            + " width=\"\(SVG.n(w))\" height=\"\(SVG.n(h))\" "
            + "viewBox=\"\(SVG.n(x)) 0 \(SVG.n(w)) \(SVG.n(h))\" font-family=\"monospace\">\n"
            + body.joined(separator: "\n") + "\n</svg>"
    }

    /// Series colours, in order.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    /// Blue (negative) through white to red (positive); `t` in [-1, 1].
    static func diverging(_ t: Double) -> String {
        guard t.isFinite else { return "#888888" }
        let c = min(1, abs(t))
        let fade = Int((1 - c) * 255)
        return t < 0 ? hex(fade, fade, 255) : hex(255, fade, fade)
    }

    /// Black (0) to white (1).
    static func gray(_ t: Double) -> String {
        guard t.isFinite else { return "#ff00ff" }
        let v = Int(min(1, max(0, t)) * 255)
        return hex(v, v, v)
    }

    /// A figure that only says `text` (an empty plot).
    static func message(_ text: String) -> String {
        SVG(width: Double(20 + 7 * text.count), height: 20).with { $0.text(4, 14, text) }
    }

    /// A grid of coloured cells under an optional title, with a caption below:
    /// heatmaps and spy plots. `fill` gives a cell's colour, nil for none.
    static func cellGrid(rows: Int, columns: Int, cellRange: ClosedRange<Double>, title: String?, framed: Bool,
                         caption: String, fill: (Int, Int) -> String?) -> String {
        let cell = max(cellRange.lowerBound, min(cellRange.upperBound, 320.0 / Double(max(rows, columns))))
        let top = SVG.top(title: title)
        var svg = SVG(width: Double(columns) * cell + 8, height: Double(rows) * cell + top + 22, title: title)
        if framed { svg.rect(4, top, Double(columns) * cell, Double(rows) * cell, fill: "#ffffff", stroke: "#444") }
        var raster = Raster(width: columns, height: rows)
        for r in 0..<rows {
            for c in 0..<columns {
                if let colour = fill(r, c) { raster.set(c, r, colour: colour) }
            }
        }
        svg.image(4, top, Double(columns) * cell, Double(rows) * cell, raster)
        svg.text(4, top + Double(rows) * cell + 15, caption, size: 10)
        return svg.render()
    }

    static func hex(_ r: Int, _ g: Int, _ b: Int) -> String {
        let digits = Array("0123456789abcdef")
        return "#" + [r, g, b].map { String([digits[$0 / 16], digits[$0 % 16]]) }.joined()
    }
}

/// The parts of a text plot, put together in one way for every plot: the
/// title line, the drawing (in a box-drawing frame, for the grids), then the
/// notes and legend lines below it.
struct TextFigure {
    var title: String?
    var drawing: [String]
    /// The frame's inner width, for a framed drawing.
    var frameWidth: Int?
    var notes: [String] = []

    init(title: String?, drawing: [String], frameWidth: Int? = nil, notes: [String] = []) {
        self.title = title
        self.drawing = drawing
        self.frameWidth = frameWidth
        self.notes = notes
    }

    /// A figure with nothing to draw: the title and why.
    static func empty(title: String?, _ message: String, notes: [String] = []) -> String {
        TextFigure(title: title, drawing: [message], notes: notes).text
    }

    var text: String {
        var out: [String] = title.map { [$0] } ?? []
        if let width = frameWidth {
            out.append("┌" + String(repeating: "─", count: width) + "┐")
            out += drawing.map { "│" + $0 + "│" }
            out.append("└" + String(repeating: "─", count: width) + "┘")
        } else {
            out += drawing
        }
        return (out + notes).joined(separator: "\n")
    }
}
