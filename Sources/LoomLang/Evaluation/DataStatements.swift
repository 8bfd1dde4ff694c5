import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// The session item `expr` names, as what `extract` takes from it;
    /// `kind` says what was wanted when it is something else.
    func item<T>(_ expr: Expr, _ kind: String, _ extract: (SessionItem) -> T?) throws(LoomError) -> T {
        let name = expr.name!.joined(separator: ".")
        guard let item = session[name] else { throw unknownName(name, at: expr.range) }
        guard let value = extract(item) else {
            throw LoomError(.type, "`\(name)` is a \(item.kindNoun), not \(kind)", at: expr.range)
        }
        return value
    }

    func dataset(_ expr: Expr) throws(LoomError) -> Dataset {
        try item(expr, "a data set") { if case .dataset(let d) = $0 { return d }; return nil }
    }

    /// `data NAME = glyphs [n N] [size S] [noise X]`
    func makeGlyphs(_ c: Command) throws(LoomError) {
        let n = try integer(c, "n", default: 1000, in: 1...1_000_000)
        let size = try integer(c, "size", default: 28, in: 8...256)
        let noise = c.argument("noise") == nil ? 0.1 : try number(c, "noise")
        guard (0...1).contains(noise) else { throw LoomError(.value, "noise must be between 0 and 1", at: c.argument("noise")?.range) }
        try checkMemory(bytes: n * size * size * 4, what: "\(n) images of \(size)x\(size)", at: c.range)
        let data = Glyphs.make(count: n, size: size, noise: Float(noise), random: &session.random)
        define(c, .dataset(data))
        output.display(datasetSummary(name(c), data), displayID: nil, update: false)
    }

    /// `split NAME [train F]`: NAME.train and NAME.test.
    func split(_ c: Command) throws(LoomError) {
        let expr = c.argument("data")!
        let data = try dataset(expr)
        let fraction = c.argument("train") == nil ? 0.8 : try number(c, "train")
        guard fraction > 0, fraction < 1 else {
            throw LoomError(.value, "train must be a fraction between 0 and 1 (or a percentage), not \(fraction)",
                            at: c.argument("train")?.range)
        }
        let (train, test) = data.split(train: fraction, random: &session.random)
        let base = expr.name!.joined(separator: ".")
        session.define(base + ".train", .dataset(train))
        session.define(base + ".test", .dataset(test))
        var table = Table(title: "split \(base)", columns: [.init("part"), .init("samples", .right), .init("per class")])
        table.append(["\(base).train", NumberFormat.grouped(train.count), train.classCounts.map(String.init).joined(separator: " ")])
        table.append(["\(base).test", NumberFormat.grouped(test.count), test.classCounts.map(String.init).joined(separator: " ")])
        output.display(table.bundle(width: session.width), displayID: nil, update: false)
    }

    func datasetSummary(_ name: String, _ d: Dataset) -> MimeBundle {
        let images = Array(0..<min(10, d.count)).compactMap { i -> Matrix? in
            let shape = d.sampleShape
            guard shape.count == 3, shape[2] == 1 else { return nil }
            let size = shape[0] * shape[1]
            return Matrix(rows: shape[0], columns: shape[1],
                          values: d.inputs.storage[(i * size)..<((i + 1) * size)].map(Double.init))
        }
        let text = "\(name): \(NumberFormat.grouped(d.count)) samples of \(Shape.text(d.sampleShape)), \(d.classes) classes"
        guard !images.isEmpty else { return MimeBundle(text: text) }
        let grid = ImageGrid(images, labels: (0..<images.count).map { "label \(d.labels[$0])" }, title: text, maxSide: 14)
        return grid.bundle(svg: session.plotStyle == .svg, width: session.width)
    }

    func name(_ c: Command) -> String { c.argument("name")!.name!.joined(separator: ".") }

    func define(_ c: Command, _ item: SessionItem) { session.define(name(c), item) }

    /// Refuses, before allocating, what would not fit in memory.
    func checkMemory(bytes: Int, what: String, at range: SourceRange) throws(LoomError) {
        let limit = session.memoryLimit
        guard bytes <= limit else {
            throw LoomError(.value, "\(what) would need \(NumberFormat.grouped(bytes / 1_048_576)) MiB, more than the "
                            + "\(NumberFormat.grouped(limit / 1_048_576)) MiB Loom allows (`set memory` raises it)", at: range)
        }
    }
}

extension Evaluator {
    func string(_ c: Command, _ name: String) throws(LoomError) -> String {
        let expr = c.argument(name)!
        guard case .string(let s) = try evaluate(expr) else {
            throw LoomError(.type, "\(name) must be a string, like \"data/x.csv\"", at: expr.range)
        }
        return s
    }

    func fileBytes(_ c: Command, _ name: String) throws(LoomError) -> (bytes: [UInt8], path: String) {
        let path = try string(c, name)
        do { return (try Files.read(path), path) } catch {
            throw LoomError(.io, "cannot read \(error.description)", at: c.argument(name)?.range)
        }
    }

    /// `data NAME = csv PATH [label …] [shape DIMS] [scale X]`, `idx`, `npy`.
    func loadData(_ c: Command) throws(LoomError) {
        let data: Dataset
        do {
            switch c.signature.subword {
            case "csv":
                let (bytes, path) = try fileBytes(c, "path")
                try checkMemory(bytes: bytes.count * 2, what: path, at: c.range)
                let label = CSVLoader.LabelColumn(rawValue: c.argument("label")?.name?.first ?? "last") ?? .last
                let shape = c.argument("shape") == nil ? nil : try shapeValue(c, "shape")
                let scale = c.argument("scale") == nil ? 1 : try number(c, "scale")
                data = try CSVLoader.load(bytes: bytes, label: label, shape: shape, scale: Float(scale), source: path)
            case "idx":
                let (images, imagesPath) = try fileBytes(c, "images")
                let (labels, labelsPath) = try fileBytes(c, "labels")
                try checkMemory(bytes: images.count * 4, what: imagesPath, at: c.range)
                data = try IDXLoader.load(images: images, labels: labels, imagesSource: imagesPath, labelsSource: labelsPath)
            default:
                let (samples, samplesPath) = try fileBytes(c, "path")
                let labels = c.argument("labels") == nil ? nil : try fileBytes(c, "labels")
                try checkMemory(bytes: samples.count * 2, what: samplesPath, at: c.range)
                data = try NPYLoader.load(samples: samples, labels: labels?.bytes, samplesSource: samplesPath,
                                          labelsSource: labels?.path ?? "")
            }
        } catch let error as DataError {
            throw LoomError(.value, error.message, at: c.range)
        } catch let error as LoomError {
            throw error
        } catch {
            throw LoomError(.value, "\(error)", at: c.range)
        }
        define(c, .dataset(data))
        show(datasetSummary(name(c), data))
    }
}
