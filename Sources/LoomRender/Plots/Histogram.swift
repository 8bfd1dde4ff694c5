/// The distribution of values in equal-width bins, drawn as a bar chart;
/// NaN and infinite values are counted and named, never binned.
public struct Histogram: Plot {
    public var values: [Double]
    public var bins: Int
    public var title: String?

    public init(_ values: [Double], bins: Int = 10, title: String? = nil) {
        self.values = values
        self.bins = max(1, bins)
        self.title = title
    }

    /// Bin edges and counts of the finite values.
    public var counts: (edges: [Double], counts: [Int]) {
        guard let (lo, hi) = Scale.range(values) else { return ([], []) }
        let n = lo == hi ? 1 : bins
        let step = lo == hi ? 1 : (hi - lo) / Double(n)
        var counts = [Int](repeating: 0, count: n)
        for v in values where v.isFinite {
            counts[min(n - 1, Int((v - lo) / step))] += 1
        }
        return ((0...n).map { lo + Double($0) * step }, counts)
    }

    var chart: BarChart {
        let (edges, counts) = self.counts
        let items = counts.indices.map { i in
            (label: "[\(Scale.label(edges[i])), \(Scale.label(edges[i + 1]))\(i == counts.count - 1 ? "]" : ")")",
             value: Double(counts[i]))
        }
        return BarChart(items, title: title) { NumberFormat.grouped(Int($0)) }
    }

    var note: String? {
        let nan = values.filter(\.isNaN).count
        let inf = values.filter(\.isInfinite).count
        guard nan + inf > 0 else { return nil }
        return "not binned: \(nan) NaN, \(inf) infinite"
    }

    public func text(width: Int) -> String {
        guard !counts.counts.isEmpty else {
            return TextFigure.empty(title: title, "(no finite values)", notes: note.map { [$0] } ?? [])
        }
        return chart.text(width: width) + (note.map { "\n" + $0 } ?? "")
    }

    public func svg() -> String {
        guard !counts.counts.isEmpty else { return SVG.message("(no finite values)") }
        return chart.svg()
    }
}
