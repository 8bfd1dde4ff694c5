/// The sparsity pattern of a matrix: a dot for every nonzero (braille, 2×4
/// cells a character), with the count of nonzeros. UnicodePlots' `spy`.
public struct SpyPlot: Plot {
    public var matrix: Matrix
    public var title: String?
    public var maxRows: Int

    public init(_ matrix: Matrix, title: String? = nil, maxRows: Int = 30) {
        self.matrix = matrix
        self.title = title
        self.maxRows = maxRows
    }

    var nonzeros: Int { matrix.values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    var summary: String {
        let total = matrix.rows * matrix.columns
        let share = total > 0 ? NumberFormat.percent(Double(nonzeros) / Double(total)) : "—"
        return "\(matrix.rows)×\(matrix.columns), nz = \(NumberFormat.grouped(nonzeros)) (\(share))"
    }

    public func text(width: Int) -> String {
        guard !matrix.isEmpty else { return TextFigure.empty(title: title, "(empty matrix)") }
        let factor = max(Scale.factor(matrix.columns, toFit: max(2, (width - 2) * 2)),
                         Scale.factor(matrix.rows, toFit: maxRows * 4))
        let occupied = matrix.occupancy(by: factor)
        var canvas = BrailleCanvas(columns: (occupied.columns + 1) / 2, rows: (occupied.rows + 3) / 4)
        for r in 0..<occupied.rows {
            for c in 0..<occupied.columns where occupied[r, c] != 0 { canvas.set(c, r) }
        }
        return TextFigure(title: title, drawing: canvas.lines(), frameWidth: canvas.columns,
                          notes: [summary + (factor > 1 ? ", each dot covers \(factor)×\(factor) cells" : "")]).text
    }

    public func svg() -> String {
        guard !matrix.isEmpty else { return SVG.message("(empty matrix)") }
        let factor = max(Scale.factor(matrix.columns, toFit: 200), Scale.factor(matrix.rows, toFit: 200))
        let occupied = matrix.occupancy(by: factor)
        return SVG.cellGrid(rows: occupied.rows, columns: occupied.columns, cellRange: 1...8, title: title, framed: true,
                            caption: summary) { r, c in occupied[r, c] != 0 ? "#1f77b4" : nil }
    }
}
