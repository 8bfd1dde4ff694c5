import LoomRender

/// Points of a results table against a numeric column, summarised where
/// runs repeat: per series and per x, the mean, the lowest and the highest
/// y, for `show table` to draw to scale and tabulate.
struct RunSummary {
    /// One x of a series: the value that writes it, and the y of each run there.
    struct Point {
        let x: Double
        let written: Value
        var ys: [Double]
        var mean: Double { ys.reduce(0, +) / Double(ys.count) }
    }

    /// Per series, its x values ascending, each once.
    let series: [(label: String, points: [Point])]
    /// Whether the y values are percentages (shares).
    let yPercent: Bool

    /// Groups the rows' points by x within each series, in one pass over them.
    init(_ groups: [(label: String, points: [(x: Value, y: Double)])], yPercent: Bool) {
        series = groups.map { g in
            var points: [Point] = []
            var index: [Double: Int] = [:]
            for p in g.points {
                guard let x = p.x.numeric else { continue }
                if let i = index[x] { points[i].ys.append(p.y) } else {
                    index[x] = points.count
                    points.append(Point(x: x, written: p.x, ys: [p.y]))
                }
            }
            return (g.label, points.sorted { $0.x < $1.x })
        }
        self.yPercent = yPercent
    }

    /// Whether some series has more than one run at some x.
    var repeated: Bool { series.contains { $0.points.contains { $0.ys.count > 1 } } }

    /// The means against x drawn to scale, each series' lowest to highest
    /// around them where runs repeat.
    func plot(title: String, xLabel: String, yFormat: @escaping @Sendable (Double) -> String) -> LinePlot {
        let all = series.flatMap(\.points)
        let first = all.min { $0.x < $1.x }, last = all.max { $0.x < $1.x }
        let ends = first.flatMap { f in last.map { (SessionTable.text(f.written), SessionTable.text($0.written)) } }
        let spreads = repeated ? series.map { $0.points.map { (low: $0.ys.min()!, high: $0.ys.max()!) } } : []
        return LinePlot(series.map { (name: $0.label, values: $0.points.map(\.mean)) },
                        title: title + (repeated ? " (to scale; the mean of repeated runs, lowest to highest around it)" : " (to scale)"),
                        xLabel: xLabel, height: 10, xEnds: ends, seriesX: series.map { $0.points.map(\.x) },
                        spreads: spreads, yFormat: yFormat)
    }

    /// A row per series and x: how many runs, their mean, lowest and highest.
    func table(x: String, y: String, by: String?) -> Table {
        func wrap(_ v: Double) -> Value { yPercent ? .percent(v) : .number(v) }
        let rows = series.flatMap { s in s.points.map { (label: s.label, point: $0) } }
        // The mean, lowest and highest written by one rule, as one column would be.
        let ys = SessionTable.texts(rows.map { wrap($0.point.mean) } + rows.map { wrap($0.point.ys.min()!) }
                                    + rows.map { wrap($0.point.ys.max()!) })
        let n = rows.count
        let columns = [SessionTable.texts(rows.map { $0.point.written }),
                       SessionTable.texts(rows.map { Value.number(Double($0.point.ys.count)) }),
                       Array(ys[0..<n]), Array(ys[n..<(2 * n)]), Array(ys[(2 * n)...])]
        var table = Table(title: "\(y) by \(x): the mean of the runs at each \(x)",
                          columns: (by.map { [Table.Column($0)] } ?? []) + [.init(x, .right), .init("runs", .right),
                          .init("mean " + y, .right), .init("lowest", .right), .init("highest", .right)])
        for (r, row) in rows.enumerated() { table.append((by == nil ? [] : [row.label]) + columns.map { $0[r] }) }
        return table
    }
}
