/// Many small images side by side on one shared scale: convolution filters,
/// dictionary atoms, input samples. Rows wrap to the page width.
public struct ImageGrid: Plot {
    public var images: [Matrix]
    public var labels: [String]
    public var title: String?
    /// The largest side an image may have in characters before it is averaged down.
    public var maxSide: Int

    public init(_ images: [Matrix], labels: [String] = [], title: String? = nil, maxSide: Int = 28) {
        self.images = images
        self.labels = labels
        self.title = title
        self.maxSide = maxSide
    }

    /// Each row of `matrix` as an image of `shape` (rows × columns): samples,
    /// a dictionary's atoms, a layer's activation maps.
    public init(rowsOf matrix: Matrix, shape: (rows: Int, columns: Int), labels: [String] = [], title: String? = nil,
                maxSide: Int = 28) {
        precondition(shape.rows > 0 && shape.columns > 0 && shape.rows * shape.columns == matrix.columns,
                     "ImageGrid: rows of \(matrix.columns) are not \(shape)")
        let size = matrix.columns
        self.init((0..<matrix.rows).map { r in
            Matrix(rows: shape.rows, columns: shape.columns, values: Array(matrix.values[(r * size)..<((r + 1) * size)]))
        }, labels: labels, title: title, maxSide: maxSide)
    }

    var shading: ValueShading { ValueShading(values: images.flatMap(\.values)) }

    func label(_ i: Int) -> String { i < labels.count ? labels[i] : String(i + 1) }

    public func text(width: Int) -> String {
        guard !images.isEmpty else { return TextFigure.empty(title: title, "(no images)") }
        var out: [String] = []
        let shading = self.shading
        let factor = images.map { max(Scale.factor($0.columns, toFit: maxSide), Scale.factor($0.rows, toFit: maxSide)) }.max()!
        let shown = images.map { $0.downsampled(by: factor) }
        let cellWidth = max(shown.map(\.columns).max()!, 1)
        let perRow = max(1, (width + 1) / (cellWidth + 3))
        for start in stride(from: 0, to: shown.count, by: perRow) {
            let group = Array(shown[start..<min(start + perRow, shown.count)])
            let height = group.map(\.rows).max()!
            for r in 0..<height {
                out.append(group.map { image -> String in
                    let row = r < image.rows ? String((0..<image.columns).map { shading.character(image[r, $0]) }) : ""
                    return "│" + TextWidth.pad(row, to: cellWidth) + "│"
                }.joined(separator: " ").trimmingTrailingSpaces())
            }
            out.append((0..<group.count).map { i in
                " " + TextWidth.pad(TextWidth.truncate(label(start + i), to: cellWidth), to: cellWidth) + " "
            }.joined(separator: " ").trimmingTrailingSpaces())
        }
        var note = "\(images.count) image(s) of \(images[0].rows)×\(images[0].columns), one shared scale"
        if factor > 1 { note += ", each character averages \(factor)×\(factor) pixels" }
        return TextFigure(title: title, drawing: out, notes: [note, shading.legend]).text
    }

    public func svg() -> String {
        guard !images.isEmpty else { return SVG.message("(no images)") }
        let shading = self.shading
        let side = images.map { max($0.rows, $0.columns) }.max()!
        // Big enough to see a 3×3 filter's weights (72 px), an 8×8 atom (96 px).
        let cell = max(2.0, min(24.0, 96.0 / Double(side)))
        let box = Double(side) * cell
        let perRow = max(1, min(images.count, Int(720 / (box + 8))))
        let rowCount = (images.count + perRow - 1) / perRow
        let top = SVG.top(title: title)
        let gridHeight = top + Double(rowCount) * (box + 18)
        let width = max(Double(perRow) * (box + 8) + 4, 240)
        var svg = SVG(width: width, height: gridHeight + 34, title: title)
        for (i, image) in images.enumerated() {
            let x0 = 4 + Double(i % perRow) * (box + 8), y0 = top + Double(i / perRow) * (box + 18)
            if !image.isEmpty {
                var raster = Raster(width: image.columns, height: image.rows)
                for r in 0..<image.rows {
                    for c in 0..<image.columns { raster.set(c, r, colour: shading.colour(image[r, c])) }
                }
                svg.image(x0, y0, Double(image.columns) * cell, Double(image.rows) * cell, raster)
            }
            svg.text(x0 + box / 2, y0 + box + 12, label(i), anchor: "middle", size: 9)
        }
        // The colour scale, shared by every image: from the lowest value to the highest
        // (signed data: from −m to m, zero in the middle).
        let (lo, hi) = shading.signed ? (-shading.magnitude, shading.magnitude) : (shading.low, shading.high)
        let swatches = 11, swatch = 16.0, y = gridHeight + 4
        for k in 0..<swatches {
            let v = lo + (hi - lo) * Double(k) / Double(swatches - 1)
            svg.rect(4 + 40 + Double(k) * swatch, y, swatch, 10, fill: shading.colour(v))
        }
        svg.text(4 + 36, y + 9, Scale.label(lo), anchor: "end", size: 9)
        svg.text(4 + 44 + Double(swatches) * swatch, y + 9, Scale.label(hi), size: 9)
        if shading.signed { svg.text(4 + 40 + Double(swatches) * swatch / 2, y + 22, "0", anchor: "middle", size: 9) }
        return svg.render()
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
