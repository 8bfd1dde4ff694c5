/// One or more series against their index (loss and accuracy curves), with
/// axes, the y range, and a legend. One series is drawn in braille dots;
/// several get a marker each (• × + o …) so they stay apart without colour,
/// and `*` where two series meet on one character.
public struct LinePlot: Plot {
    public var series: [(name: String, values: [Double])]
    /// Each series' spread around its values (the lowest and highest of
    /// repeated runs), point by point; drawn as a band in SVG and as bars
    /// in text. Empty, or one array per series (empty for none).
    public var spreads: [[(low: Double, high: Double)]] = []
    /// How a value is written on the y axis: `Scale.label`, or a percentage
    /// (`LinePlot.percent`) where the numbers are shares.
    public var yFormat: @Sendable (Double) -> String = Scale.label
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
    /// Each series' own x values, one per point, when the series stand at
    /// different places: all drawn to scale on one axis from the smallest
    /// to the largest. Overrides `xValues`.
    public var seriesX: [[Double]]?

    public init(_ series: [(name: String, values: [Double])], title: String? = nil, xLabel: String = "step", height: Int = 12,
                xEnds: (first: String, last: String)? = nil, xValues: [Double]? = nil, seriesX: [[Double]]? = nil,
                spreads: [[(low: Double, high: Double)]] = [], yFormat: @escaping @Sendable (Double) -> String = Scale.label) {
        self.series = series
        self.spreads = spreads
        self.yFormat = yFormat
        self.title = title
        self.xLabel = xLabel
        self.height = max(3, height)
        self.xEnds = xEnds
        self.xValues = xValues
        self.seriesX = seriesX
    }

    /// Where points stand along x, worked out once per drawing.
    struct Placement {
        let length: Int
        /// `xValues` when usable: the axis runs from the first to the last.
        let shared: [Double]?
        /// `seriesX`: the axis runs from the smallest to the largest.
        let perSeries: [[Double]]?
        let low: Double, span: Double

        /// Point `i` of series `k`'s place along the x axis, from 0 to 1.
        func position(_ k: Int, _ i: Int) -> Double {
            if let per = perSeries {
                guard k < per.count, i < per[k].count else { return 0 }
                return span != 0 ? min(1, max(0, (per[k][i] - low) / span)) : 0
            }
            if let xs = shared, i < xs.count { return min(1, max(0, (xs[i] - low) / span)) }
            return length > 1 ? Double(i) / Double(length - 1) : 0
        }
    }

    var placement: Placement {
        let length = self.length
        if let per = seriesX, let (lo, hi) = Scale.range(per.flatMap { $0 }) {
            return Placement(length: length, shared: nil, perSeries: per, low: lo, span: hi - lo)
        }
        if let xs = xValues, let a = xs.first, let b = xs.last, a != b, xs.allSatisfy(\.isFinite) {
            return Placement(length: length, shared: xs, perSeries: nil, low: a, span: b - a)
        }
        return Placement(length: length, shared: nil, perSeries: nil, low: 0, span: 1)
    }

    static let markers: [Character] = ["•", "×", "+", "o", "◆", "#"]
    /// Where markers of two series fall on one character.
    static let overlap: Character = "*"

    /// Shares as percentages on the axis: 0.973 → `97.3%`.
    public static let percent: @Sendable (Double) -> String = { NumberFormat.short($0 * 100, significant: 3) + "%" }

    /// Series `k`'s spread, when it has one for every point.
    func spread(_ k: Int) -> [(low: Double, high: Double)]? {
        k < spreads.count && spreads[k].count == series[k].values.count && !spreads[k].isEmpty ? spreads[k] : nil
    }

    var range: (min: Double, max: Double)? {
        Scale.range(series.flatMap(\.values) + spreads.flatMap { $0.flatMap { [$0.low, $0.high] } })
    }
    /// The longest series' count: computed once per drawing (it walks every series).
    var length: Int { series.map(\.values.count).max() ?? 0 }

    /// The dot of value `v` at point `i` of series `k` on a canvas of `width` × `height` dots.
    func dot(_ k: Int, _ i: Int, _ place: Placement, _ v: Double, width: Int, height: Int, top hi: Double, span: Double) -> (Int, Int) {
        let x = Int((place.position(k, i) * Double(width - 1)).rounded())
        return (x, Int(((hi - v) / span * Double(height - 1)).rounded()))
    }

    /// One series as braille dots joined by lines; several as one marker per
    /// series, a character each.
    func drawing(columns: Int, low lo: Double, high hi: Double) -> [String] {
        let span = hi > lo ? hi - lo : 1, place = placement
        if series.count == 1 {
            var canvas = BrailleCanvas(columns: columns, rows: height)
            for (i, s) in (spread(0) ?? []).enumerated() where s.low.isFinite && s.high.isFinite {
                let a = dot(0, i, place, s.low, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                let b = dot(0, i, place, s.high, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                canvas.line(from: a, to: b)
            }
            var previous: (Int, Int)?
            for (i, v) in series[0].values.enumerated() {
                guard v.isFinite else { previous = nil; continue }
                let p = dot(0, i, place, v, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                if let previous { canvas.line(from: previous, to: p) } else { canvas.set(p.0, p.1) }
                previous = p
            }
            return canvas.lines()
        }
        var canvas = GlyphCanvas(columns: columns, rows: height)
        for k in series.indices {
            for (i, s) in (spread(k) ?? []).enumerated() where s.low.isFinite && s.high.isFinite {
                let a = dot(k, i, place, s.low, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                let b = dot(k, i, place, s.high, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                for y in min(a.1, b.1)...max(a.1, b.1) where canvas.glyph(at: a.0, y) == " " { canvas.set(a.0, y, glyph: "│") }
            }
        }
        for (k, s) in series.enumerated() {
            let marker = LinePlot.markers[k % LinePlot.markers.count]
            for (i, v) in s.values.enumerated() where v.isFinite {
                let p = dot(k, i, place, v, width: canvas.dotWidth, height: canvas.dotHeight, top: hi, span: span)
                let there = canvas.glyph(at: p.0, p.1)
                let mine = there == " " || there == "│" || there == marker
                canvas.set(p.0, p.1, glyph: mine ? marker : LinePlot.overlap)
            }
        }
        return canvas.lines()
    }

    public func text(width: Int) -> String {
        guard let (lo, hi) = range, length > 0 else { return TextFigure.empty(title: title, "(no finite values)") }
        let top = yFormat(hi), bottom = yFormat(lo)
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
        var legend = series.enumerated().map { k, s in
            series.count == 1 ? s.name : "\(LinePlot.markers[k % LinePlot.markers.count]) \(s.name)"
        }.joined(separator: "   ")
        if grid.contains(where: { $0.contains(LinePlot.overlap) }) { legend += "   \(LinePlot.overlap) several at once" }
        if series.indices.contains(where: { spread($0) != nil }) { legend += "   │ lowest to highest" }
        return TextFigure(title: title, drawing: out, notes: [String(repeating: " ", count: axisWidth + 2) + legend]).text
    }

    public func svg() -> String {
        let w = 480.0, h = 220.0, left = 56.0, right = 12.0, top = title == nil ? 12.0 : 28.0, bottom = 44.0
        var svg = SVG(width: w, height: h)
        if let title { svg.text(left, 16, title) }
        guard let (lo, hi) = range, length > 0 else { return svg.with { $0.text(left, top + 20, "(no finite values)") } }
        let span = hi > lo ? hi - lo : 1, length = self.length, place = placement
        let plotW = w - left - right, plotH = h - top - bottom
        svg.line(left, top, left, top + plotH)
        svg.line(left, top + plotH, left + plotW, top + plotH)
        svg.text(left - 4, top + 8, yFormat(hi), anchor: "end", size: 10)
        svg.text(left - 4, top + plotH, yFormat(lo), anchor: "end", size: 10)
        svg.text(left, top + plotH + 14, xEnds?.first ?? "1", size: 10)
        svg.text(left + plotW, top + plotH + 14, xEnds?.last ?? String(length), anchor: "end", size: 10)
        svg.text(left + plotW / 2, top + plotH + 14, xLabel, anchor: "middle", size: 10)
        func point(_ k: Int, _ i: Int, _ v: Double) -> (Double, Double) { (left + place.position(k, i) * plotW, top + (hi - v) / span * plotH) }
        var legendX = left
        for (k, s) in series.enumerated() {
            let colour = SVG.palette[k % SVG.palette.count]
            if let spread = spread(k) {
                let kept = spread.enumerated().filter { $0.element.low.isFinite && $0.element.high.isFinite }
                svg.polygon(kept.map { point(k, $0.offset, $0.element.high) } + kept.reversed().map { point(k, $0.offset, $0.element.low) },
                            fill: colour)
            }
            let points = s.values.enumerated().compactMap { i, v -> (Double, Double)? in v.isFinite ? point(k, i, v) : nil }
            svg.polyline(points, stroke: colour)
            svg.rect(legendX, h - 16, 10, 10, fill: colour)
            svg.text(legendX + 14, h - 7, s.name, size: 10)
            // Legend entries side by side, each as wide as its name needs.
            legendX += max(110, 14 + SVG.textWidth(s.name, size: 10) + 16)
        }
        return svg.render()
    }
}
