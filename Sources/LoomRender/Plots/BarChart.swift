/// Labelled horizontal bars: per-layer sparsity, class counts, histogram bins.
public struct BarChart: Plot {
    public var items: [(label: String, value: Double)]
    public var title: String?
    /// How a value is written beside its bar.
    public var format: @Sendable (Double) -> String

    public init(_ items: [(label: String, value: Double)], title: String? = nil,
                format: @escaping @Sendable (Double) -> String = { NumberFormat.short($0, significant: 4) }) {
        self.items = items
        self.title = title
        self.format = format
    }

    /// Eighth blocks, for bars with sub-character length.
    static let eighths: [Character] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"].map { $0.first ?? " " }

    /// A bar of `fraction` (0…1) of `width` characters, in eighths; also used
    /// inside table cells.
    public static func bar(_ fraction: Double, width: Int) -> String {
        guard fraction.isFinite, fraction > 0, width > 0 else { return "" }
        let eighthsTotal = Int((min(1, fraction) * Double(width * 8)).rounded())
        var s = String(repeating: "█", count: eighthsTotal / 8)
        if eighthsTotal % 8 > 0 { s.append(eighths[eighthsTotal % 8]) }
        return s
    }

    var largest: Double {
        items.map { $0.value.isFinite ? abs($0.value) : 0 }.max() ?? 0
    }

    public func text(width: Int) -> String {
        guard !items.isEmpty else { return TextFigure.empty(title: title, "(no values)") }
        var out: [String] = []
        let values = items.map { format($0.value) }
        let valueWidth = values.map { TextWidth.of($0) }.max()!
        // Labels whole while the bars keep 20 columns (24 of label at the least); cut only past that.
        let labelWidth = min(max(24, width - valueWidth - 5 - 20), items.map { TextWidth.of($0.label) }.max()!)
        let barWidth = max(4, width - labelWidth - valueWidth - 5)
        let largest = self.largest
        for (i, item) in items.enumerated() {
            let fraction = largest > 0 && item.value.isFinite ? abs(item.value) / largest : 0
            let bar = BarChart.bar(fraction, width: barWidth)
            let sign = item.value < 0 ? "-" : ""
            out.append(TextWidth.pad(TextWidth.truncate(item.label, to: labelWidth), to: labelWidth) + " ┤"
                       + TextWidth.pad(sign + bar, to: barWidth) + " " + values[i])
        }
        return TextFigure(title: title, drawing: out.map { $0.trimmingTrailingSpaces() }).text
    }

    public func svg() -> String {
        // Room for the longest label, never less than 150.
        let labelWidth = max(150, (items.map { SVG.textWidth($0.label, size: 10) }.max() ?? 0) + 12).rounded(.up)
        let rowHeight = 16.0, barSpace = 300.0
        let top = SVG.top(title: title)
        var svg = SVG(width: labelWidth + barSpace + 80, height: top + Double(max(1, items.count)) * rowHeight + 8, title: title)
        let largest = self.largest
        for (i, item) in items.enumerated() {
            let y = top + Double(i) * rowHeight
            svg.text(labelWidth - 6, y + 11, item.label, anchor: "end", size: 10)
            let fraction = largest > 0 && item.value.isFinite ? abs(item.value) / largest : 0
            svg.rect(labelWidth, y + 2, fraction * barSpace, rowHeight - 4, fill: item.value < 0 ? SVG.palette[1] : SVG.palette[0])
            svg.text(labelWidth + fraction * barSpace + 4, y + 11, format(item.value), size: 10)
        }
        return svg.render()
    }
}
