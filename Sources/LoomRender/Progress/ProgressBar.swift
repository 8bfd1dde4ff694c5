/// The state of a long loop (training batches) as one line: a bar, counts,
/// rate, elapsed and remaining time, and a few metrics.
public struct ProgressBar: Sendable, Equatable {
    public var label: String
    public var total: Int
    public var completed: Int = 0
    /// Seconds since the loop started.
    public var elapsed: Double = 0
    public var metrics: [(name: String, value: String)] = []
    public var unit: String

    public init(label: String, total: Int, unit: String = "it") {
        self.label = label
        self.total = max(0, total)
        self.unit = unit
    }

    public static func == (a: ProgressBar, b: ProgressBar) -> Bool {
        a.label == b.label && a.total == b.total && a.completed == b.completed && a.elapsed == b.elapsed
            && a.metrics.map(\.name) == b.metrics.map(\.name) && a.metrics.map(\.value) == b.metrics.map(\.value)
    }

    var fraction: Double { total > 0 ? min(1, Double(completed) / Double(total)) : 0 }

    var rate: Double? { elapsed > 0 && completed > 0 ? Double(completed) / elapsed : nil }

    var remaining: Double? {
        guard let rate, total > completed else { return total > 0 && completed >= total ? 0 : nil }
        return Double(total - completed) / rate
    }

    /// `03:25`, or `1:02:03` past an hour.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(two(s / 60)):\(two(s % 60))"
    }

    /// The line, fitted to `width` columns (the bar takes what is left).
    public func text(width: Int = 80) -> String {
        let counts = "\(NumberFormat.grouped(completed))/\(NumberFormat.grouped(total))"
        var tail = [counts]
        // The rate gets a fixed width, so the line's length (and where a narrow
        // page cuts it) does not depend on the machine's speed.
        if let rate { tail.append(TextWidth.pad(NumberFormat.short(rate, significant: 3), to: 5, right: true) + " \(unit)/s") }
        tail.append(ProgressBar.clock(elapsed) + (remaining.map { " < " + ProgressBar.clock($0) } ?? ""))
        tail += metrics.map { "\($0.name) \($0.value)" }
        let tailText = tail.joined(separator: " · ")
        let barWidth = max(10, min(30, width - TextWidth.of(label) - TextWidth.of(tailText) - 4))
        let filled = BarChart.bar(fraction, width: barWidth)
        let bar = TextWidth.pad(filled, to: barWidth).map { $0 == " " ? "·" : $0 }
        return TextWidth.truncate("\(label) \(String(bar)) \(tailText)", to: width)
    }

    /// HTML for notebooks: a real progress element and the same figures.
    public func html() -> String {
        let text = HTML.escape(text(width: 200))
        return "<div class=\"loom-progress\"><progress value=\"\(completed)\" max=\"\(max(1, total))\" "
            + "style=\"width:240px;vertical-align:middle\"></progress> <code>\(text)</code></div>"
    }
}
