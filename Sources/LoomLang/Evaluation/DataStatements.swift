import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// The object of type `T` that `expr` names; a type error naming what
    /// it is when it is something else.
    func object<T: SessionObject>(_ expr: Expr, _ type: T.Type) throws(LoomError) -> T {
        guard let parts = expr.name else { throw LoomError(.type, "expected the name of a \(T.noun)", at: expr.range) }
        let name = parts.joined(separator: ".")
        guard let item = session[name] else { throw unknownName(name, at: expr.range) }
        guard case .object(let object) = item, let typed = object as? T else {
            throw LoomError(.type, "`\(name)` is a \(item.kindNoun), not a \(T.noun)", at: expr.range)
        }
        return typed
    }

    /// The data set `expr` names: a data set, or codes as one (`SessionCodes.data`).
    func dataset(_ expr: Expr) throws(LoomError) -> Dataset {
        if let codes = codesNamed(expr) { return codes.data }
        return try object(expr, SessionDataset.self).data
    }

    /// The codes `expr` names, or nil when it names something else.
    func codesNamed(_ expr: Expr) -> SessionCodes? {
        guard let parts = expr.name, case .object(let object)? = session[parts.joined(separator: ".")] else { return nil }
        return object as? SessionCodes
    }

    /// `data NAME = glyphs [n N] [size S] [noise X]`
    func makeGlyphs(_ a: Request<Images>) throws(LoomError) {
        try define(a, try makeImages(n: a.n, size: a.size, noise: a.noise, noun: "images", at: a.range) { n, size, noise, random, stop in
            Glyphs.make(count: n, size: size, noise: noise, random: &random, shouldStop: stop)
        })
    }

    /// `n` synthetic square images of `size` and `noise`, checked against
    /// memory first; interruptible (`make` returns nil when it stopped).
    func makeImages(n: Int, size: Int, noise: Double, noun: String, at range: SourceRange,
                    _ make: (Int, Int, Float, inout RandomGenerator, () -> Bool) -> Dataset?) throws(LoomError) -> Dataset {
        try checkMemory(bytes: MemoryAccount.product(n, size, size, 4), what: "\(n) \(noun) of \(size)x\(size)", at: range)
        guard let data = make(n, size, Float(noise), &session.random, Evaluator.interrupted) else {
            throw LoomError(.interrupted, "interrupted by the user before the \(noun) were made", at: range)
        }
        return data
    }

    /// `data NAME = sines [n N] [steps T] [classes K] [noise X] [target classes|next]`
    func makeSines(_ a: Request<SequenceData>) throws(LoomError) {
        let n = a.n, steps = a.steps
        let classes = a.classes
        let noise = a.noise
        try checkMemory(bytes: MemoryAccount.product(n, steps + 1, 4), what: "\(n) sequences of \(steps) steps", at: a.range)
        guard let data = Sequences.sines(count: n, steps: steps, classes: classes, noise: Float(noise),
                                         target: a.target, random: &session.random,
                                         shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "interrupted by the user before the sequences were made", at: a.range)
        }
        try define(a, data)
    }

    /// `data NAME = adding [n N] [steps T]`
    func makeAdding(_ a: Request<SequenceData>) throws(LoomError) {
        let n = a.n, steps = a.steps
        try checkMemory(bytes: MemoryAccount.product(n, 2 * steps + 1, 4), what: "\(n) sequences of \(steps) steps", at: a.range)
        guard let data = Sequences.adding(count: n, steps: steps, random: &session.random,
                                          shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "interrupted by the user before the sequences were made", at: a.range)
        }
        try define(a, data)
    }

    /// Binds the data set a `data NAME = …` statement made, and shows it.
    func define<S>(_ a: Request<S>, _ data: Dataset) throws(LoomError) {
        let name = a.defined
        session.define(name, .object(SessionDataset(data)))
        show(datasetSummary(name, data))
    }

    /// `split NAME [train F]`: NAME.train and NAME.test; codes split into
    /// codes (each part's codes, signals and labels), as their data would.
    func split(_ a: Request<SplitRequest>) throws(LoomError) {
        let base = a.data.text
        let data = try dataset(a.data.expr)
        let (train, test) = data.splitIndices(train: a.train, random: &session.random)
        guard let codes = codesNamed(a.data.expr) else {
            defineParts(base, train: data.subset(train), test: data.subset(test), title: "split \(base)", drawing: false)
            return
        }
        let parts = [(base + ".train", train), (base + ".test", test)].map { name, indices in
            (name, codes.subset(indices, dataName: "\(codes.dataName) (\(name))"))
        }
        for (name, part) in parts { session.define(name, .object(part)) }
        show(partsTable(parts.map { ($0.0, $0.1.data) }, title: "split \(base)"))
    }

    /// Binds `base.train` and `base.test`, shows their sizes per class and,
    /// when `drawing` (a loaded data set, not a split), the first training samples.
    func defineParts(_ base: String, train: Dataset, test: Dataset, title: String, drawing: Bool = true) {
        session.define(base + ".train", .object(SessionDataset(train)))
        session.define(base + ".test", .object(SessionDataset(test)))
        show(partsTable([(base + ".train", train), (base + ".test", test)], title: title))
        if drawing, let picture = firstSamples(of: train, title: "the first of \(base).train") { show(picture) }
    }

    /// Each part's name, samples and samples per class.
    func partsTable(_ parts: [(name: String, data: Dataset)], title: String) -> MimeBundle {
        var table = Table(title: title, columns: [.init("part"), .init("samples", .right), .init("per class")])
        for (name, data) in parts {
            table.append([name, NumberFormat.grouped(data.count), data.classCounts.map(String.init).joined(separator: " ")])
        }
        return table.bundle(width: session.width)
    }

    /// `data NAME = npz PATH [samples KEY] [labels KEY] [targets KEY]`: one
    /// data set, or NAME.train and NAME.test from Keras's four arrays.
    func loadArchive(_ a: Request<ArchiveData>) throws(LoomError) {
        let (bytes, path) = try fileBytes(a, \.path)
        let plan = try loading(a) { () throws(DataError) in
            try NPZLoader.plan(bytes, samples: a.samples, labels: a.labels, targets: a.targets, source: path)
        }
        try checkMemory(bytes: plan.bytesNeeded, what: path, at: a.range)
        let budget = memoryBudget
        switch try loading(a, { () throws(DataError) in try plan.load(atMost: budget) }) {
        case .one(let data): try define(a, data)
        case .split(let train, let test): defineParts(a.defined, train: train, test: test, title: "\(a.defined) from \(path)")
        }
    }

    /// What an engine loader returns; its error as the user reads it.
    func loading<S, T>(_ a: Request<S>, _ load: () throws(DataError) -> T) throws(LoomError) -> T {
        do { return try load() } catch {
            if error.isInterrupted {
                throw LoomError(.interrupted, "interrupted by the user while loading the data; nothing was defined", at: a.range)
            }
            throw LoomError(.value, error.message, at: a.range)
        }
    }

    func datasetSummary(_ name: String, _ d: Dataset) -> MimeBundle {
        let names = d.classNames.map { " (" + $0.prefix(10).joined(separator: ", ") + ($0.count > 10 ? ", …" : "") + ")" } ?? ""
        let text = "\(name): \(NumberFormat.grouped(d.count)) samples of \(Shape.text(d.sampleShape)), \(d.targets.phrase)\(names)"
        return firstSamples(of: d, title: text) ?? MimeBundle(text: text)
    }

    /// A data set's first ten samples drawn with their labels; nil when its
    /// samples are not grey images.
    func firstSamples(of d: Dataset, title: String) -> MimeBundle? {
        let first = Array(0..<min(10, d.count))
        let labels = d.labels.isEmpty ? [] : first.map { d.classNames == nil ? "label \(d.labels[$0])" : d.className(d.labels[$0]) }
        return images(of: d, samples: first, labels: labels, title: title).map(plot)
    }

    func fileBytes<S>(_ a: Request<S>, _ file: KeyPath<S, String>) throws(LoomError) -> (bytes: [UInt8], path: String) {
        try fileBytes(a[dynamicMember: file], at: a.range(of: file))
    }

    func fileBytes(_ path: String, at range: SourceRange) throws(LoomError) -> (bytes: [UInt8], path: String) {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, atMost: memoryBudget, shouldStop: Evaluator.interrupted) } catch {
            if error.isInterrupted {
                throw LoomError(.interrupted, "interrupted by the user while reading \(path); nothing was defined", at: range)
            }
            throw LoomError(.io, "cannot read \(error.description)", at: range)
        }
        do {
            return (try Gzip.decompressIfNeeded(bytes, atMost: memoryBudget, source: path, shouldStop: Evaluator.interrupted), path)
        } catch {
            if error.isInterrupted {
                throw LoomError(.interrupted, "interrupted by the user while reading \(path); nothing was defined", at: range)
            }
            throw LoomError(.value, error.message, at: range)
        }
    }

    /// `data NAME = csv PATH [label …] [shape DIMS] [scale X]`, `idx`, `npy`.
    func loadData(_ a: Request<FileData>) throws(LoomError) {
        let data: Dataset
        do {
            switch a.signature.subword {
            case "csv":
                let (bytes, path) = try fileBytes(a, \.path)
                try checkMemory(bytes: bytes.count * 2, what: path, at: a.range)
                data = try CSVLoader.load(bytes: bytes, label: a.label,
                                          shape: a.shape, scale: Float(a.scale), source: path,
                                          shouldStop: Evaluator.interrupted)
            case "idx":
                let (images, imagesPath) = try fileBytes(a, \.path)
                let (labels, labelsPath) = try fileBytes(a.labels ?? "", at: a.range(of: \.labels))
                try checkMemory(bytes: images.count * 4, what: imagesPath, at: a.range)
                data = try IDXLoader.load(images: images, labels: labels, imagesSource: imagesPath, labelsSource: labelsPath)
            default:
                let (samples, samplesPath) = try fileBytes(a, \.path)
                if a.labels != nil && a.targets != nil {
                    throw LoomError(.value, "give `labels` (classes) or `targets` (values), not both", at: a.range(of: \.targets))
                }
                let labels = try a.labels.map { path throws(LoomError) in try fileBytes(path, at: a.range(of: \.labels)) }
                let targets = try a.targets.map { path throws(LoomError) in try fileBytes(path, at: a.range(of: \.targets)) }
                try checkMemory(bytes: samples.count * 2 + (targets?.bytes.count ?? 0), what: samplesPath, at: a.range)
                data = try NPYLoader.load(samples: samples, labels: labels?.bytes, targets: targets?.bytes,
                                          samplesSource: samplesPath, labelsSource: labels?.path ?? targets?.path ?? "")
            }
        } catch let error as DataError {
            if error.isInterrupted {
                throw LoomError(.interrupted, "interrupted by the user while loading the data; nothing was defined", at: a.range)
            }
            throw LoomError(.value, error.message, at: a.range)
        } catch let error as LoomError {
            throw error
        } catch {
            throw LoomError(.value, "\(error)", at: a.range)
        }
        try define(a, data)
    }
}
