/// A trend in one line of eighth-height blocks (▁▂▃▄▅▆▇█): a loss curve in a
/// table cell.
public struct Sparkline: Plot {
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values }

    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// At most `width` characters; longer series are averaged down.
    public func text(width: Int) -> String {
        guard let (lo, hi) = Scale.range(values) else { return values.isEmpty ? "" : String(repeating: "?", count: min(width, values.count)) }
        let shown = Matrix(rows: 1, columns: values.count, values: values).downsampled(by: Scale.factor(values.count, toFit: max(1, width))).values
        return String(shown.map { v -> Character in
            guard v.isFinite else { return v.isNaN ? "?" : (v > 0 ? "▲" : "▼") }
            let t = hi > lo ? (v - lo) / (hi - lo) : 0.5
            return Sparkline.blocks[min(7, Int(t * 7.999))]
        })
    }

    public func svg() -> String {
        let w = 100.0, h = 20.0
        var svg = SVG(width: w, height: h)
        if let (lo, hi) = Scale.range(values), values.count > 1 {
            let points = values.enumerated().compactMap { i, v -> (Double, Double)? in
                guard v.isFinite else { return nil }
                let y = hi > lo ? (v - lo) / (hi - lo) : 0.5
                return (Double(i) / Double(values.count - 1) * (w - 2) + 1, h - 1 - y * (h - 2))
            }
            svg.polyline(points, stroke: SVG.palette[0])
        }
        return svg.render()
    }
}
