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
        out += framed((0..<shown.rows).map { r in String((0..<shown.columns).map { shading.character(shown[r, $0]) }) },
                      width: shown.columns)
        var note = "\(matrix.rows)×\(matrix.columns)"
        if factor > 1 { note += ", each character averages \(factor)×\(factor) cells" }
        out.append(note)
        out.append(shading.legend)
        return out.joined(separator: "\n")
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
