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
        guard !matrix.isEmpty else { return TextFigure.empty(title: title, "(empty matrix)") }
        let factor = max(Scale.factor(matrix.columns, toFit: max(1, width - 2)), Scale.factor(matrix.rows, toFit: maxRows))
        let shown = matrix.downsampled(by: factor)
        let shading = ValueShading(values: matrix.values)
        var canvas = GlyphCanvas(columns: shown.columns, rows: shown.rows)
        for r in 0..<shown.rows { for c in 0..<shown.columns { canvas.set(c, r, glyph: shading.character(shown[r, c])) } }
        var note = "\(matrix.rows)×\(matrix.columns)"
        if factor > 1 { note += ", each character averages \(factor)×\(factor) cells" }
        return TextFigure(title: title, drawing: canvas.lines(), frameWidth: canvas.columns, notes: [note, shading.legend]).text
    }

    public func svg() -> String {
        guard !matrix.isEmpty else { return SVG.message("(empty matrix)") }
        let factor = max(Scale.factor(matrix.columns, toFit: 128), Scale.factor(matrix.rows, toFit: 128))
        let shown = matrix.downsampled(by: factor)
        let shading = ValueShading(values: matrix.values)
        let caption = shading.signed ? "blue \(Scale.label(-shading.magnitude)) … red \(Scale.label(shading.magnitude))"
            : "black \(Scale.label(shading.low)) … white \(Scale.label(shading.high))"
        return SVG.cellGrid(rows: shown.rows, columns: shown.columns, cellRange: 2...16, title: title, framed: false,
                            caption: caption) { r, c in shading.colour(shown[r, c]) }
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
