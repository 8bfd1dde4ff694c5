/// One or more series against their index (loss and accuracy curves), with
/// axes, the y range, and a legend. One series is drawn in braille dots;
/// several get a marker each (• × + o …) so they stay apart without colour.
public struct LinePlot: Plot {
    public var series: [(name: String, values: [Double])]
    public var title: String?
    public var xLabel: String
    public var height: Int
    /// What the first and last points stand for, when not 1 and their count
    /// (a sweep's first and last value); points stay evenly spaced.
    public var xEnds: (first: String, last: String)?
    /// Where each point stands along x, when not evenly spaced: the axis
    /// runs from the first value to the last, either way (nonzero
    /// parameters fall from round to round); one per point.
    public var xValues: [Double]?

    public init(_ series: [(name: String, values: [Double])], title: String? = nil, xLabel: String = "step", height: Int = 12,
                xEnds: (first: String, last: String)? = nil, xValues: [Double]? = nil) {
        self.series = series
        self.title = title
        self.xLabel = xLabel
        self.height = max(3, height)
        self.xEnds = xEnds
        self.xValues = xValues
    }

    /// Point `i`'s place along the x axis, from 0 to 1.
    func position(_ i: Int, of length: Int) -> Double {
        if let xs = xValues, i < xs.count, let a = xs.first, let b = xs.last, a != b, xs.allSatisfy(\.isFinite) {
            return min(1, max(0, (xs[i] - a) / (b - a)))
        }
        return length > 1 ? Double(i) / Double(length - 1) : 0
    }

    static let markers: [Character] = ["•", "×", "+", "o", "◆", "#"]

    var range: (min: Double, max: Double)? { Scale.range(series.flatMap(\.values)) }
    /// The longest series' count: computed once per drawing (it walks every series).
    var length: Int { series.map(\.values.count).max() ?? 0 }

    /// The dot of value `v` at index `i` of `length` on a canvas of `width` × `height` dots.
    func dot(_ i: Int, of length: Int, _ v: Double, width: Int, height: Int, top hi: Double, span: Double) -> (Int, Int) {
        let x = Int((position(i, of: length) * Double(width - 1)).rounded())
        return (x, Int(((hi - v) / span * Double(height - 1)).rounded()))
    }

    /// One series as braille dots joined by lines; several as one marker per
    /// series, a character each.
    func drawing(columns: Int, low lo: Double, high hi: Double) -> [String] {
        let span = hi > lo ? hi - lo : 1, length = self.length
        if series.count == 1 {
            var canvas = BrailleCanvas(columns: columns, rows: height)
            var previous: (Int, Int)?
            for (i, v) in series[0].values.enumerated() {
                guard v.isFinite else { previous = nil; continue }
                let p = dot(i, of: length, v, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                if let previous { canvas.line(from: previous, to: p) } else { canvas.set(p.0, p.1) }
                previous = p
            }
            return canvas.lines()
        }
        var canvas = GlyphCanvas(columns: columns, rows: height)
        for (k, s) in series.enumerated() {
            for (i, v) in s.values.enumerated() where v.isFinite {
                let p = dot(i, of: length, v, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                canvas.set(p.0, p.1, glyph: LinePlot.markers[k % LinePlot.markers.count])
            }
        }
        return canvas.lines()
    }

    public func text(width: Int) -> String {
        guard let (lo, hi) = range, length > 0 else { return TextFigure.empty(title: title, "(no finite values)") }
        let top = Scale.label(hi), bottom = Scale.label(lo)
        let axisWidth = max(TextWidth.of(top), TextWidth.of(bottom))
        let plotWidth = max(8, width - axisWidth - 2)
        let grid = drawing(columns: plotWidth, low: lo, high: hi)
        var out: [String] = []
        for (r, row) in grid.enumerated() {
            let label = r == 0 ? top : (r == grid.count - 1 ? bottom : "")
            out.append(TextWidth.pad(label, to: axisWidth, right: true) + " ┤" + row.trimmingTrailingSpaces())
        }
        out.append(String(repeating: " ", count: axisWidth) + " └" + String(repeating: "─", count: plotWidth))
        let xs = xEnds?.first ?? "1", xe = xEnds?.last ?? String(length)
        let inner = max(0, plotWidth - xs.count - xe.count)
        let label = TextWidth.truncate(xLabel, to: max(0, inner - 2))
        let leftPad = max(0, (inner - label.count) / 2)
        out.append(String(repeating: " ", count: axisWidth + 2) + xs + String(repeating: " ", count: leftPad) + label
                   + String(repeating: " ", count: max(0, inner - leftPad - label.count)) + xe)
        let legend = series.enumerated().map { k, s in
            series.count == 1 ? s.name : "\(LinePlot.markers[k % LinePlot.markers.count]) \(s.name)"
        }.joined(separator: "   ")
        return TextFigure(title: title, drawing: out, notes: [String(repeating: " ", count: axisWidth + 2) + legend]).text
    }

    public func svg() -> String {
        let w = 480.0, h = 220.0, left = 56.0, right = 12.0, top = title == nil ? 12.0 : 28.0, bottom = 44.0
        var svg = SVG(width: w, height: h)
        if let title { svg.text(left, 16, title) }
        guard let (lo, hi) = range, length > 0 else { return svg.with { $0.text(left, top + 20, "(no finite values)") } }
        let span = hi > lo ? hi - lo : 1, length = self.length
        let plotW = w - left - right, plotH = h - top - bottom
        svg.line(left, top, left, top + plotH)
        svg.line(left, top + plotH, left + plotW, top + plotH)
        svg.text(left - 4, top + 8, Scale.label(hi), anchor: "end", size: 10)
        svg.text(left - 4, top + plotH, Scale.label(lo), anchor: "end", size: 10)
        svg.text(left, top + plotH + 14, xEnds?.first ?? "1", size: 10)
        svg.text(left + plotW, top + plotH + 14, xEnds?.last ?? String(length), anchor: "end", size: 10)
        svg.text(left + plotW / 2, top + plotH + 14, xLabel, anchor: "middle", size: 10)
        for (k, s) in series.enumerated() {
            let colour = SVG.palette[k % SVG.palette.count]
            let points = s.values.enumerated().compactMap { i, v -> (Double, Double)? in
                guard v.isFinite else { return nil }
                let x = position(i, of: length) * plotW
                return (left + x, top + (hi - v) / span * plotH)
            }
            svg.polyline(points, stroke: colour)
            svg.rect(left + Double(k) * 110, h - 16, 10, 10, fill: colour)
            svg.text(left + Double(k) * 110 + 14, h - 7, s.name, size: 10)
        }
        return svg.render()
    }
}
