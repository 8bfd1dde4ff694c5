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
    /// For a loop inside a longer run (an epoch's batches in a training run):
    /// the run's units done and in all. The rate is then the run's (units
    /// over elapsed time, which is the truth at a steady speed), and the
    /// run's remaining time shows beside the loop's.
    public var run: (completed: Int, total: Int)?

    public init(label: String, total: Int, unit: String = "it") {
        self.label = label
        self.total = max(0, total)
        self.unit = unit
    }

    public static func == (a: ProgressBar, b: ProgressBar) -> Bool {
        a.label == b.label && a.total == b.total && a.completed == b.completed && a.elapsed == b.elapsed
            && a.metrics.map(\.name) == b.metrics.map(\.name) && a.metrics.map(\.value) == b.metrics.map(\.value)
            && a.run?.completed == b.run?.completed && a.run?.total == b.run?.total
    }

    var fraction: Double { total > 0 ? min(1, Double(completed) / Double(total)) : 0 }

    /// Units per second: the run's done over the time it took.
    public var rate: Double? {
        let done = run?.completed ?? completed
        return elapsed > 0 && done > 0 ? Double(done) / elapsed : nil
    }

    var remaining: Double? {
        guard let rate, total > completed else { return total > 0 && completed >= total ? 0 : nil }
        return Double(total - completed) / rate
    }

    /// The whole run's remaining time, when this loop is part of one.
    public var runRemaining: Double? {
        guard let run, run.total > total, let rate else { return nil }
        return Double(max(0, run.total - run.completed)) / rate
    }

    /// `03:25`, or `1:02:03` past an hour.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(two(s / 60)):\(two(s % 60))"
    }

    /// The figures after the bar: counts, rate, times, the run's remaining
    /// time, then the metrics.
    func figures(runTime: Bool = true, metrics shown: Int? = nil) -> [String] {
        let counts = "\(NumberFormat.grouped(completed))/\(NumberFormat.grouped(total))"
        var tail = [counts]
        // The rate gets a fixed width, so the line's length (and where a narrow
        // page cuts it) does not depend on the machine's speed.
        if let rate { tail.append(TextWidth.pad(NumberFormat.short(rate, significant: 3), to: 5, right: true) + " \(unit)/s") }
        tail.append(ProgressBar.clock(elapsed) + (remaining.map { " < " + ProgressBar.clock($0) } ?? ""))
        if runTime, let all = runRemaining { tail.append("all < " + ProgressBar.clock(all)) }
        return tail + metrics.prefix(shown ?? metrics.count).map { "\($0.name) \($0.value)" }
    }

    /// The line, fitted to `width` columns: the bar takes what is left; what
    /// does not fit is left out whole — the run's remaining time first, then
    /// the last metrics, then the rate and times — never cut mid-word.
    public func text(width: Int = 80) -> String {
        func line(_ tail: [String]) -> String {
            let barWidth = max(10, min(30, width - TextWidth.of(label) - TextWidth.of(tail.joined(separator: " · ")) - 4))
            let filled = BarChart.bar(fraction, width: barWidth)
            let bar = TextWidth.pad(filled, to: barWidth).map { $0 == " " ? "·" : $0 }
            return "\(label) \(String(bar)) \(tail.joined(separator: " · "))"
        }
        let least = figures(runTime: false, metrics: 0)
        let choices = [figures()] + (0...metrics.count).reversed().map { figures(runTime: false, metrics: $0) }
            + [least.filter { !$0.hasSuffix("/s") }, [least[0]]]
        let fitting = choices.first { TextWidth.of(line($0)) <= width } ?? choices.last!
        return TextWidth.truncate(line(fitting), to: width)
    }

    /// HTML for notebooks: one bar (a progress element) and the figures on
    /// one line beside it.
    public func html() -> String {
        let text = HTML.escape("\(label) " + figures().joined(separator: " · "))
        return "<div class=\"loom-progress\" style=\"white-space:nowrap\"><progress value=\"\(completed)\" "
            + "max=\"\(max(1, total))\" style=\"width:200px;vertical-align:middle\"></progress> <code>\(text)</code></div>"
    }
}
