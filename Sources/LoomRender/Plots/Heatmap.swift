/// A matrix as a grid of shades: weights, activations. Signed values use a
/// diverging scale around zero; a large matrix is averaged down to fit, and
/// the factor is said.
public struct Heatmap: Plot {
    public var matrix: Matrix
    public var title: String?
    /// The most rows of text it may take.
    public var maxRows: Int

    public init(_ matrix: Matrix, title: String? = nil, maxRows: Int = 40) {
        self.matrix = matrix
        self.title = title
        self.maxRows = maxRows
    }

    public func text(width: Int) -> String {
        var out: [String] = title.map { [$0] } ?? []
        guard !matrix.isEmpty else { return (out + ["(empty matrix)"]).joined(separator: "\n") }
        let factor = max(Scale.factor(matrix.columns, toFit: max(1, width - 2)), Scale.factor(matrix.rows, toFit: maxRows))
        let shown = matrix.downsampled(by: factor)
        let shading = ValueShading(values: matrix.values)
        out.append("┌" + String(repeating: "─", count: shown.columns) + "┐")
        for r in 0..<shown.rows {
            out.append("│" + String((0..<shown.columns).map { shading.character(shown[r, $0]) }) + "│")
        }
        out.append("└" + String(repeating: "─", count: shown.columns) + "┘")
        var note = "\(matrix.rows)×\(matrix.columns)"
        if factor > 1 { note += ", each character averages \(factor)×\(factor) cells" }
        out.append(note)
        out.append(shading.legend)
        return out.joined(separator: "\n")
    }

    public func svg() -> String {
        guard !matrix.isEmpty else { return SVG(width: 120, height: 20).with { $0.text(4, 14, "(empty matrix)") } }
        let factor = max(Scale.factor(matrix.columns, toFit: 128), Scale.factor(matrix.rows, toFit: 128))
        let shown = matrix.downsampled(by: factor)
        let cell = max(2.0, min(16.0, 320.0 / Double(max(shown.rows, shown.columns))))
        let top = title == nil ? 4.0 : 20.0
        var svg = SVG(width: Double(shown.columns) * cell + 8, height: Double(shown.rows) * cell + top + 22)
        if let title { svg.text(4, 14, title) }
        let shading = ValueShading(values: matrix.values)
        for r in 0..<shown.rows {
            for c in 0..<shown.columns {
                svg.rect(4 + Double(c) * cell, top + Double(r) * cell, cell, cell, fill: shading.colour(shown[r, c]))
            }
        }
        svg.text(4, top + Double(shown.rows) * cell + 15, shading.signed
                 ? "blue \(Scale.label(-shading.magnitude)) … red \(Scale.label(shading.magnitude))"
                 : "black \(Scale.label(shading.low)) … white \(Scale.label(shading.high))", size: 10)
        return svg.render()
    }
}

extension SVG {
    /// Draws with `body` and renders.
    func with(_ body: (inout SVG) -> Void) -> String {
        var copy = self
        body(&copy)
        return copy.render()
    }
}
