import LoomCore
import LoomEngine
import LoomRender

/// LISTA in the language: a `lista` line finds its dictionary in the
/// session, `train L on DATA target C` fits a model to codes, and `codes C =
/// encode DATA with L` keeps a LISTA model's outputs as codes.
extension Evaluator {
    /// A `lista` line's spec with the atoms of the dictionary its `from`
    /// names, or the `given` atoms (a saved or copied model's own); any
    /// other spec as it is.
    func withDictionary(_ spec: any LayerSpec, given: SparseDictionary? = nil, at range: SourceRange) throws(LoomError) -> any LayerSpec {
        guard var lista = spec as? ListaSpec else { return spec }
        if let given {
            lista.dictionary = given
            return lista
        }
        let name = Expr(kind: .name(lista.from.split(separator: ".").map(String.init)), range: range)
        let dictionary = try sparseDictionary(name)
        if dictionary.centered {
            throw LoomError(.value, "`\(lista.from)` takes each sample's mean off before coding (learned with `center`), but "
                            + "lista codes its inputs as they come: learn the dictionary without `center`", at: range)
        }
        lista.dictionary = dictionary.dictionary
        return lista
    }

    /// The LISTA layer a model ends with, whose outputs are codes; an error
    /// saying so for any other model.
    func listaLayer(_ state: ModelState, name: String, at range: SourceRange) throws(LoomError) -> (Lista, ListaSpec) {
        guard let block = state.model.blocks.last, block.layers.count == 1, let lista = block.main as? Lista,
              let spec = block.spec as? ListaSpec else {
            throw LoomError(.value, "`\(name)` does not end with a `lista` layer, so its outputs are not codes: encode with "
                            + "a dictionary, or a model ending in `lista T from D`", at: range)
        }
        return (lista, spec)
    }

    /// `train L on DATA loss lasso`: L ends in a `lista` layer, whose atoms
    /// and α set the objective, and the samples are the targets, so no
    /// `target` goes with it.
    func checkLassoTraining(_ a: Request<TrainRequest>, _ model: Sequential) throws(LoomError) {
        if let target = a.target {
            throw LoomError(.value, "`loss lasso` scores the codes against the samples they code: leave out `target \(target.text)`",
                            at: a.range(of: \.target))
        }
        guard model.layers.last is Lista else {
            throw LoomError(.value, "`loss lasso` is the lasso objective of codes over the atoms a `lista` layer started from, "
                            + "and `\(model.name)` does not end with a `lista` layer", at: a.range(of: \.loss))
        }
        if let first = model.valueChangingLayers.first, model.lassoObjective == nil {
            throw LoomError(.value, "`loss lasso` scores the codes against the model's inputs, so only `flatten` or `reshape` "
                            + "may come before the `lista` layer, and `\(model.name)` has `\(first.name)`", at: a.range(of: \.loss))
        }
    }

    /// `codes C = encode DATA with L`: the codes of a model ending in a
    /// LISTA layer, their error measured through the dictionary it started from.
    func encode(_ a: Request<EncodeRequest>, through state: ModelState) throws(LoomError) {
        let modelName = a.with.text
        let options: [PartialKeyPath<EncodeRequest>] = [\.patches, \.size, \.stride, \.pool, \.grid]
        if let given = givenCoderOption(a, \.coder) ?? options.first(where: { a.given($0) }) {
            throw LoomError(.value, "`\(modelName)` codes by its own steps: `\(a.optionName(of: given))` goes with a dictionary",
                            at: a.range(of: given))
        }
        let (lista, spec) = try listaLayer(state, name: modelName, at: a.range(of: \.with))
        let data = try dataset(a.data.expr)
        try check(inputs: data, fit: state.model, at: a.data.range)
        // The codes are kept whole: the batches run beside them.
        let batch = try inferenceBatch(state.model, samples: data.count, keeping: 4 * lista.dictionary.count, keepsEveryOutput: true,
                                       at: a.range)
        useThreads(session.threads)
        let started = Monotonic.now
        guard let output = state.model.predict(data.inputs, batchSize: batch, shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "coding stopped by the user; nothing was defined", at: a.range)
        }
        let seconds = Monotonic.now - started
        let dictionary = startingDictionary(of: lista, sampleShape: state.model.inputShape, from: spec.from)
        let codes = SparseCodes(values: output.storage, samples: data.count, atoms: lista.dictionary.count)
        let signals = data.inputs.reshaped([data.count, data.inputs.sampleSize])
        let object = SessionCodes(codes, dictionary: dictionary, dictionaryName: spec.from, dataName: a.data.text,
                                  signals: signals, coder: "lista \(lista.steps) steps (\(modelName))", seconds: seconds, of: data)
        dictionary.usage = codes.usage
        session.define(a.defined, .object(object))
        show(MimeBundle(text: "\(a.defined): \(object.describe), in \(duration(seconds))"))
    }

    /// The session's dictionary the layer started from while the name still
    /// holds those atoms; else those atoms under a dictionary of their own.
    func startingDictionary(of lista: Lista, sampleShape: [Int], from name: String) -> SessionDictionary {
        if case .object(let object)? = session[name], let d = object as? SessionDictionary, d.dictionary == lista.dictionary {
            return d
        }
        return SessionDictionary(lista.dictionary, sampleShape: sampleShape, centered: false,
                                 origin: "the atoms `\(name)` held when the lista layer was built")
    }

    /// `train M on DATA target C`: DATA's samples with C's codes as their
    /// targets, checked to be as many, in the same order.
    func codesAsTargets(_ data: Dataset, _ codes: SessionCodes, names: (data: String, codes: String),
                        at range: SourceRange) throws(LoomError) -> Dataset {
        guard codes.codes.samples == data.count else {
            throw LoomError(.value, "`\(names.codes)` holds \(NumberFormat.grouped(codes.codes.samples)) codes but `\(names.data)` "
                            + "has \(NumberFormat.grouped(data.count)) samples: give the codes of these samples", at: range)
        }
        return Dataset(inputs: data.inputs, targets: .values(Tensor(shape: [codes.codes.samples, codes.codes.atoms],
                                                                    storage: codes.codes.values)))
    }
}
