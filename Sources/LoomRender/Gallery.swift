/// One example of every table and plot, from fixed data: the golden tests
/// compare them with stored files, and docs/rendering.md shows them.
public enum Gallery {
    public struct Example: Sendable {
        public let name: String
        public let caption: String
        public let text: String
        public let svg: String?
    }

    /// Deterministic values in [-1, 1] (a sine lattice, no random state).
    static func wave(_ r: Int, _ c: Int, _ k: Double) -> Double {
        let x = Double(r) * 0.37 + Double(c) * 0.61 + k
        return ((x * 1.7).truncatingRemainder(dividingBy: 2) - 1) * ((Double((r * 7 + c * 3) % 5) + 1) / 5)
    }

    static func matrix(_ rows: Int, _ columns: Int, k: Double = 0) -> Matrix {
        Matrix(rows: rows, columns: columns, values: (0..<rows * columns).map { wave($0 / columns, $0 % columns, k) })
    }

    /// A 7×7 "digit" stroke, for image grids.
    static func glyph(_ n: Int) -> Matrix {
        Matrix(rows: 7, columns: 7, values: (0..<49).map { i in
            let r = i / 7, c = i % 7
            switch n % 3 {
            case 0: return (r == 1 || r == 5 || c == 1 || c == 5) && r > 0 && r < 6 && c > 0 && c < 6 ? 1 : 0
            case 1: return c == 3 && r > 0 && r < 6 ? 1 : (r == 5 && c > 1 && c < 5 ? 0.5 : 0)
            default: return r == c || r + c == 6 ? 0.8 : 0.1
            }
        })
    }

    /// The gallery drawn `width` columns wide.
    public static func examples(width: Int = 72) -> [Example] {
        var out: [Example] = []
        func add(_ name: String, _ caption: String, _ plot: Plot) {
            out.append(Example(name: name, caption: caption, text: plot.text(width: width), svg: plot.svg()))
        }
        let table = Table(title: "Parameters per layer", columns: [.init("layer"), .init("output"), .init("parameters", .right),
                                                                   .init("loss", .left)],
                          rows: [["conv1", "26x26x32", NumberFormat.grouped(320), Sparkline([2.3, 1.2, 0.8, 0.5, 0.41, 0.4]).text(width: 6)],
                                 ["dense1", "128", NumberFormat.grouped(204_928), BarChart.bar(0.63, width: 6)]],
                          footer: ["total", "", NumberFormat.grouped(205_248), ""])
        out.append(Example(name: "table", caption: "A table with a footer, a sparkline and a bar in cells",
                           text: table.text(width: width), svg: nil))
        let models = ["dense", "pruned", "retrained", "clustered", "tuned", "hashed"]
        let wide = Table(title: "6 models on digits.test", columns: [.init("")] + models.map { .init($0, .right) },
                         rows: [["stored bytes"] + ["1,067,304", "103,364", "103,364", "32,178", "32,178", "75,336"],
                                ["accuracy"] + ["93.90%", "54.80%", "94.10%", "94.10%", "93.40%", "92.70%"],
                                ["infer/sample"] + ["0.0032 ms", "0.0041 ms", "0.0041 ms", "0.0040 ms", "0.0040 ms", "0.0107 ms"]])
        out.append(Example(name: "table-wide", caption: "A table too wide for the page, in blocks of columns",
                           text: wide.text(width: width), svg: nil))
        add("heatmap", "Heatmap of signed weights (diverging scale)", Heatmap(matrix(8, 24), title: "dense1 weights"))
        add("heatmap-large", "A 200×300 matrix averaged down to fit", Heatmap(matrix(200, 300, k: 0.3), maxRows: 12))
        add("heatmap-unsigned", "Heatmap of non-negative activations", Heatmap(Matrix(rows: 4, columns: 16, values: (0..<64).map { Double($0 % 16) / 15 })))
        add("image-grid", "Filters on one shared scale", ImageGrid((0..<6).map(glyph), labels: (1...6).map { "f\($0)" }, title: "conv1 filters"))
        add("spy", "Sparsity pattern", SpyPlot(Matrix(rows: 24, columns: 60, values: (0..<1440).map { i in (i * 7919) % 13 < 2 ? 1 : 0 }), title: "codes"))
        add("histogram", "Histogram of weights", Histogram((0..<500).map { wave($0, $0 / 7, 0.1) }, bins: 8, title: "conv2 weights"))
        add("line", "A loss curve", LinePlot([(name: "loss", values: [2.3, 1.5, 1.1, 0.8, 0.62, 0.5, 0.44, 0.4, 0.37, 0.35])], title: "training", xLabel: "epoch", height: 8))
        add("lines", "Two series, told apart by markers", LinePlot([(name: "train", values: [0.5, 0.7, 0.8, 0.86, 0.9, 0.92]), (name: "validation", values: [0.48, 0.66, 0.74, 0.79, 0.8, 0.8])], xLabel: "epoch", height: 8))
        add("bars", "Per-layer sparsity", BarChart([(label: "dense1", value: 0.8), (label: "threshold1", value: 0.55), (label: "kwta1", value: 0.9)], title: "activation sparsity", format: { NumberFormat.percent($0) }))
        add("sparkline", "Sparkline", Sparkline([3, 4, 2, 6, 8, 7, 9, 5, 4, 6, 8, 9]))
        var bar = ProgressBar(label: "epoch 3/10", total: 75, unit: "batch")
        bar.completed = 30
        bar.elapsed = 4.2
        bar.metrics = [(name: "loss", value: "0.4123"), (name: "acc", value: "88.1%")]
        out.append(Example(name: "progress", caption: "Progress line (updated in place)", text: bar.text(width: width), svg: nil))
        return out
    }

    /// Edge cases the golden tests also hold: nothing, one value, zeros,
    /// NaN and infinities, only negatives, very wide and very tall.
    public static let edgeCases: [Example] = {
        var out: [Example] = []
        func add(_ name: String, _ plot: Plot) {
            out.append(Example(name: name, caption: name, text: plot.text(width: 40), svg: plot.svg()))
        }
        let special = Matrix([[1, .nan, -2], [.infinity, 0, -.infinity]])
        let negative = Matrix([[-1, -2, -3], [-4, -5, -6]])
        add("heatmap-empty", Heatmap(Matrix(rows: 0, columns: 0, values: [])))
        add("heatmap-single", Heatmap(Matrix([[0.5]])))
        add("heatmap-zeros", Heatmap(Matrix(rows: 2, columns: 5, values: Array(repeating: 0, count: 10))))
        add("heatmap-special", Heatmap(special))
        add("heatmap-negative", Heatmap(negative))
        add("heatmap-wide", Heatmap(matrix(3, 500)))
        add("heatmap-tall", Heatmap(matrix(500, 3), maxRows: 10))
        add("grid-empty", ImageGrid([]))
        add("grid-special", ImageGrid([special, negative]))
        add("spy-empty", SpyPlot(Matrix(rows: 0, columns: 0, values: [])))
        add("spy-zeros", SpyPlot(Matrix(rows: 4, columns: 4, values: Array(repeating: 0, count: 16))))
        add("spy-wide", SpyPlot(Matrix(rows: 2, columns: 1000, values: (0..<2000).map { Double($0 % 3) })))
        add("histogram-empty", Histogram([]))
        add("histogram-single", Histogram([3]))
        add("histogram-special", Histogram([1, 2, .nan, .infinity, 2, 3]))
        add("line-empty", LinePlot([]))
        add("line-single", LinePlot([(name: "x", values: [1])]))
        add("line-special", LinePlot([(name: "x", values: [1, .nan, 3, .infinity, 2])]))
        add("bars-empty", BarChart([]))
        add("bars-negative", BarChart([(label: "a", value: -1), (label: "b", value: -3)]))
        add("sparkline-special", Sparkline([1, .nan, 3, -.infinity]))
        add("sparkline-long", Sparkline((0..<1000).map { Double($0 % 50) }))
        return out
    }()
}

extension Gallery {
    /// docs/rendering.md: every example's text, and its SVG from `svgFolder`.
    public static func markdown(svgFolder: String) -> String {
        var out = ["# Rendering", "",
                   "Every report Loom gives is a table or a plot from `LoomRender`. Each draws itself as text",
                   "(terminals, `text/plain`) and as a deterministic SVG figure (`image/svg+xml`): in notebooks",
                   "by default (`set plots auto`), in a terminal too after `set plots svg`. The same values give",
                   "byte-identical output, so executed notebooks can be compared. Grids of cells (image grids,",
                   "heatmaps, spy plots) carry their cells as a PNG of one pixel per cell, drawn without smoothing",
                   "(`image-rendering: pixelated`), so a 128×128 heatmap is a few kilobytes, not a `<rect>` per cell.",
                   "Text follows `set width N` (80 columns by default) and uses no colour, so it reads the same",
                   "in a terminal, a log file and a notebook. A table wider than that cuts no cell: prose wraps,",
                   "long headers go over two lines, other text wraps at its spaces, and columns that still do not",
                   "fit go on in blocks below, each repeating the first column (as pandas prints a wide frame); a",
                   "single column wider than the page is drawn whole. Shades (` ░▒▓█`) are five equal steps of the",
                   "values' range, as the SVG's colour scale runs. `help plots` shows these examples in a session.",
                   "",
                   "Generated by `make docs` from `Sources/LoomRender/Gallery.swift`; a test keeps it current.", ""]
        for example in examples() {
            out.append("## \(example.caption)")
            out.append("")
            out.append("```")
            out.append(example.text)
            out.append("```")
            out.append("")
            if example.svg != nil {
                out.append("![\(example.caption)](\(svgFolder)/\(example.name).svg)")
                out.append("")
            }
        }
        return out.joined(separator: "\n")
    }
}
