import LoomCore
import LoomEngine
import LoomRender

/// A sparse coder `compare` measures, with what it codes by.
enum SparseCoder {
    /// A dictionary and the coder it codes with, as a line writes it (`omp sparsity 5`).
    case dictionary(SessionDictionary, SparseEncoder, coder: String)
    /// An autoencoder whose block `codeBlock` gives the codes.
    case autoencoder(ModelState, codeBlock: Int)
    /// A model ending in a LISTA layer: its outputs are codes over the layer's dictionary.
    case lista(ModelState, Lista)

    /// How it codes, for the table: `omp sparsity 5`, `autoencoder: code`, `lista 3 steps`.
    var describe: String {
        switch self {
        case .dictionary(_, _, let coder): return coder
        case .autoencoder(let state, let k): return "autoencoder: \(state.model.blocks[k].name)"
        case .lista(_, let lista): return "lista \(lista.steps) step" + (lista.steps == 1 ? "" : "s")
        }
    }
}

/// `compare` of sparse coders on the same data: each coder's relative error,
/// mean nonzeros, dead atoms and coding time (measured by `CoderMeasurement`).
extension Evaluator {
    /// Whether `compare`'s list names sparse coders rather than models to
    /// compare as models: a dictionary, a model ending in `lista`, or a
    /// layer (`ae.code`) among them.
    func namesCoders(_ names: [Name]) -> Bool {
        names.contains { name in
            switch session[name.text] {
            case .object(let object)?:
                if object is SessionDictionary { return true }
                if let state = object as? ModelState { return endsInLista(state.model) }
                return false
            case .value?: return false
            case nil:
                guard name.parts.count >= 2, case .object(let owner)? = session[name.parts.dropLast().joined(separator: ".")] else {
                    return false
                }
                return owner is ModelState
            }
        }
    }

    func endsInLista(_ model: Sequential) -> Bool { model.blocks.last?.main is Lista }

    /// `compare C1 C2 … on DATA [coder options]`: the coders side by side on
    /// DATA, a row each, and their relative errors as bars.
    func compareCoders(_ a: Request<CompareRequest>) throws(LoomError) -> SessionResult {
        for option: PartialKeyPath<CompareRequest> in [\.noise, \.target] where a.given(option) {
            throw LoomError(.value, "`\(a.optionName(of: option))` goes with models compared as models; sparse coders are "
                            + "measured on the data as it is", at: a.range(of: option))
        }
        let data = try dataset(a.on.expr)
        guard data.count > 0 else { throw LoomError(.value, "`\(a.on.text)` holds no samples to code", at: a.on.range) }
        var coders: [(name: Name, coder: SparseCoder)] = []
        for name in a.models { coders.append((name, try sparseCoder(name, a, on: data))) }
        if let stated = givenCoderOption(a, \.coder),
           !coders.contains(where: { if case .dictionary = $0.coder { return true } else { return false } }) {
            throw LoomError(.value, "`\(a.optionName(of: stated))` says how dictionaries code, and no dictionary is compared",
                            at: a.range(of: stated))
        }
        useThreads(session.threads)
        var rows: [[String]] = [], figures: [(String, Value?)] = [], bars: [(label: String, value: Double)] = []
        for (name, coder) in coders {
            guard let m = try measure(coder, name: name, on: data) else {
                throw LoomError(.interrupted, "the comparison stopped by the user while coding with `\(name.text)`", at: a.range)
            }
            rows.append([name.text, coder.describe, NumberFormat.fixed(m.relativeError, decimals: 4),
                         NumberFormat.fixed(m.meanNonzeros, decimals: 2),
                         "\(NumberFormat.grouped(m.deadAtoms)) of \(NumberFormat.grouped(m.atoms))",
                         timePerSample(m.secondsPerSample)])
            let key = name.parts.joined(separator: "_")
            figures += [("\(key)_error", .number(m.relativeError)), ("\(key)_nonzeros", .number(m.meanNonzeros)),
                        ("\(key)_dead", .number(Double(m.deadAtoms))), ("\(key)_seconds", .number(m.secondsPerSample))]
            bars.append(("\(name.text) (\(NumberFormat.fixed(m.meanNonzeros, decimals: 1)) nonzeros)", m.relativeError))
        }
        var table = Table(title: "\(coders.count) sparse coders on \(a.on.text)",
                          columns: [.init("coder"), .init("codes by"), .init("rel. error", .right), .init("nonzeros", .right),
                                    .init("dead", .right), .init("time", .right)],
                          note: "rel. error: ‖X − X̂‖ ÷ ‖X‖ over all samples, X̂ rebuilt from the codes (through the "
                            + "dictionary, or by the autoencoder's decoder; centred signals for a dictionary learned with "
                            + "`center`); nonzeros: nonzero code values a sample, on average; dead: atoms or code units "
                            + "zero for every sample (used by no code); time: coding time a sample, rebuilding not counted.")
        for row in rows { table.append(row) }
        let chart = plot(BarChart(bars, title: "relative error by coder (mean nonzeros)") { NumberFormat.short($0, significant: 4) })
        return result("comparison of sparse coders on \(a.on.text)", figures, showing: [table.bundle(width: session.width), chart])
    }

    /// The coder `name` holds, checked against the data: a dictionary (by
    /// the coder the line states, else the one it was learned with), an
    /// autoencoder or a layer of one, or a model ending in `lista`.
    func sparseCoder(_ name: Name, _ a: Request<CompareRequest>, on data: Dataset) throws(LoomError) -> SparseCoder {
        let text = name.text
        guard let item = session[text] else {
            guard name.parts.count >= 2, case .object(let owner)? = session[name.parts.dropLast().joined(separator: ".")],
                  owner is ModelState else { throw unknownName(text, at: name.range) }
            let (state, block) = try layer(name.expr)
            guard let index = state.model.blocks.firstIndex(where: { $0.name == block.name }),
                  index < state.model.blocks.count - 1 else {
                throw LoomError(.value, "`\(text)` is the output layer of `\(state.model.name)`: name a hidden layer, whose "
                                + "outputs are the codes", at: name.range)
            }
            return try autoencoder(state, codeBlock: index, name: text, on: data, at: name.range)
        }
        guard case .object(let object) = item else {
            throw LoomError(.type, "`\(text)` is a \(item.kindNoun), not a sparse coder (a dictionary, an autoencoder or a "
                            + "model ending in `lista`)", at: name.range)
        }
        if let dictionary = object as? SessionDictionary {
            _ = try signals(data, for: dictionary, name: text, at: name.range)
            if givenCoderOption(a, \.coder) != nil {
                let (encoder, coder) = try sparseEncoder(a, \.coder, atoms: dictionary.dictionary.count)
                return .dictionary(dictionary, encoder, coder: coder)
            }
            guard let learned = dictionary.learnedCoder else {
                throw LoomError(.value, "`\(text)` was not learned here (\(dictionary.origin)), so it has no coder of its own: "
                                + "state one, as `compare … on \(a.on.text) omp sparsity 5`", at: name.range)
            }
            return .dictionary(dictionary, learned.encoder, coder: learned.text)
        }
        guard let state = object as? ModelState else {
            throw LoomError(.type, "`\(text)` is a \(object.kindNoun), not a sparse coder (a dictionary, an autoencoder or a "
                            + "model ending in `lista`)", at: name.range)
        }
        let model = state.model
        if endsInLista(model) {
            let (lista, _) = try listaLayer(state, name: text, at: name.range)
            try check(inputs: data, fit: model, at: name.range)
            guard data.inputs.sampleSize == lista.dictionary.length else {
                throw LoomError(.value, "`\(text)`'s codes rebuild signals of \(lista.dictionary.length) values through its "
                                + "dictionary, but the data's samples have \(data.inputs.sampleSize)", at: name.range)
            }
            _ = try codingBatch(model, samples: data.count, keptValues: lista.dictionary.count, at: name.range)
            return .lista(state, lista)
        }
        guard state.reconstructionLoss != nil || model.outputShape.reduce(1, *) == model.inputShape.reduce(1, *) else {
            throw LoomError(.value, "`\(text)` is a classifier, not a sparse coder: `compare` takes models, or sparse coders "
                            + "(dictionaries, autoencoders, models ending in `lista`), not both", at: name.range)
        }
        guard let index = model.narrowestHiddenBlock else {
            throw LoomError(.value, "`\(text)` has no hidden layer to code with: an autoencoder needs one between its input "
                            + "and its output", at: name.range)
        }
        return try autoencoder(state, codeBlock: index, name: text, on: data, at: name.range)
    }

    /// An autoencoder coding by block `index`, checked to rebuild the data's samples.
    func autoencoder(_ state: ModelState, codeBlock index: Int, name: String, on data: Dataset,
                     at range: SourceRange) throws(LoomError) -> SparseCoder {
        let model = state.model
        try check(inputs: data, fit: model, at: range)
        guard model.outputShape.reduce(1, *) == data.inputs.sampleSize else {
            throw LoomError(.value, "`\(model.name)` gives \(Shape.text(model.outputShape)) outputs, not reconstructions of the "
                            + "data's \(Shape.text(data.sampleShape)) samples, so `\(name)` is not an autoencoder's code layer",
                            at: range)
        }
        _ = try codingBatch(model, samples: data.count, keptValues: autoencoderKept(model, codeBlock: index), at: range)
        return .autoencoder(state, codeBlock: index)
    }

    /// The coder's figures on `data`; nil when the user stopped it.
    func measure(_ coder: SparseCoder, name: Name, on data: Dataset) throws(LoomError) -> CoderMeasures? {
        switch coder {
        case .dictionary(let dictionary, let encoder, _):
            let x = try signals(data, for: dictionary, name: name.text, at: name.range)
            try checkMemory(bytes: SparseCoding.encodingBytes(samples: x.batch, over: dictionary.dictionary, encoder),
                            what: "\(NumberFormat.grouped(x.batch)) codes over \(NumberFormat.grouped(dictionary.dictionary.count)) "
                                + "atoms with their Gram matrix", at: name.range)
            return CoderMeasurement.dictionary(x, dictionary.dictionary, encoder, shouldStop: Evaluator.interrupted)
        case .autoencoder(let state, let index):
            let batch = try codingBatch(state.model, samples: data.count, keptValues: autoencoderKept(state.model, codeBlock: index),
                                        at: name.range)
            return CoderMeasurement.autoencoder(state.model, codeBlock: index, data.inputs, batchSize: batch,
                                                shouldStop: Evaluator.interrupted)
        case .lista(let state, let lista):
            let batch = try codingBatch(state.model, samples: data.count, keptValues: lista.dictionary.count, at: name.range)
            return CoderMeasurement.codingModel(state.model, data.inputs, over: lista.dictionary, batchSize: batch,
                                                shouldStop: Evaluator.interrupted)
        }
    }

    /// The inference batch of a model measured as a coder, which keeps
    /// `keptValues` floats of every sample (its codes, and what it rebuilds).
    func codingBatch(_ model: Sequential, samples: Int, keptValues: Int, at range: SourceRange) throws(LoomError) -> Int {
        try inferenceBatch(model, samples: samples, keeping: 4 * keptValues, keepsEveryOutput: true, at: range)
    }

    /// An autoencoder keeps a sample's code and its reconstruction.
    func autoencoderKept(_ model: Sequential, codeBlock: Int) -> Int {
        model.blocks[codeBlock].outputShape.reduce(1, *) + model.outputShape.reduce(1, *)
    }
}
