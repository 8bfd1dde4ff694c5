import LoomEngine
import LoomRender

/// Every statement of the language, each form bound to its handler. Adding
/// a form here makes the parser, completion, inspection, `help`, the
/// reference and the evaluator know it.
public enum Statements {
    static let bindings: [StatementBinding] = session + data + models + reports + sparse

    public static let all: [Signature] = bindings.map(\.signature)

    /// The handler of each built form, by title (`show filters`).
    static let handlers: [String: StatementBinding.Handler] = {
        var table: [String: StatementBinding.Handler] = [:]
        for binding in bindings { if let run = binding.handler { table[binding.signature.title] = run } }
        return table
    }()

    /// The forms whose result `NAME = …` keeps, by title.
    static let resultHandlers: [String: StatementBinding.ResultHandler] = {
        var table: [String: StatementBinding.ResultHandler] = [:]
        for binding in bindings { if case .result(let run) = binding.kind { table[binding.signature.title] = run } }
        return table
    }()

    static let session: [StatementBinding] = [
        .bind(Signature("print", .session, [Parameter("values", .expressions, positional: true, "the values to write")],
                  summary: "Writes values to standard output.", example: "print \"epochs:\" epochs")) { e, a throws(LoomError) in try e.write(.stdout, a) },
        .bind(Signature("warn", .session, [Parameter("values", .expressions, positional: true, "the values to write")],
                  summary: "Writes values to standard error.", example: "warn \"low accuracy\"")) { e, a throws(LoomError) in try e.write(.stderr, a) },
        .bind(Signature("seed", .session, [Parameter("n", .integer, required: true, positional: true, in: -9_000_000_000_000_000...9_000_000_000_000_000, "the seed")],
                  summary: "Seeds every random choice that follows, so a notebook gives the same numbers each run.",
                  example: "seed 7")) { e, a throws(LoomError) in try e.seed(a) },
        .bind(Signature("help", .session, [Parameter("topic", .word, positional: true, placeholder: "WORD",
                                               "a statement, layer or option")],
                  summary: "Lists the statements, or explains one.", example: "help train")) { e, a throws(LoomError) in try e.help(a) },
        .bind(Signature("list", .session, summary: "Lists the names this session has defined, with the memory each holds and the total.", example: "list")) { e, _ in e.show(e.listing()) },
        .bind(Signature("delete", .session, [Parameter("name", .reference(.anyName), required: true, positional: true, "the name to forget")],
                  summary: "Forgets a name.", example: "delete epochs")) { e, a throws(LoomError) in try e.delete(a) },
        .bind(Signature("reset", .session, summary: "Forgets every name and setting.", example: "reset")) { e, _ in e.session.reset() },
        .bind(Signature("set", "plots", .session,
                  [Parameter("style", .choice(of: PlotStyle.self), required: true, positional: true,
                             "`auto` adds vector figures in notebooks, text alone in a terminal; `text` draws text plots only; `svg` always adds vector figures")],
                  summary: "Chooses how plots are drawn.", example: "set plots text")) { e, a throws(LoomError) in try e.setPlots(a) },
        .bind(Signature("set", "progress", .session,
                  [Parameter("style", .choice(of: ProgressDisplay.Mode.self), required: true, positional: true,
                             "`display` updates a line in place; `stream` writes a line per epoch to stderr (for "
                             + "terminals such as `jupyter console`, which ignore display updates); `off` shows none")],
                  summary: "Chooses how training and learning show their progress.", example: "set progress stream")) { e, a throws(LoomError) in
            e.session.progress = try a.choice("style", ProgressDisplay.Mode.self)
        },
        .bind(Signature("set", "width", .session,
                  [Parameter("columns", .integer, required: true, positional: true, in: 20...1000, "columns of text output")],
                  summary: "Sets the width of text output (default 80).", example: "set width 100")) { e, a throws(LoomError) in try e.setWidth(a) },
        .bind(Signature("set", "threads", .session,
                  [Parameter("n", .integer, required: true, positional: true, in: 1...256, "threads for BLAS and the engine")],
                  summary: "Sets how many threads training uses (default: the machine's cores). Results do not depend on it.",
                  example: "set threads 1")) { e, a throws(LoomError) in try e.setThreads(a) },
        .bind(Signature("set", "memory", .session,
                  [Parameter("mib", .integer, required: true, positional: true, in: 16...1_048_576, placeholder: "MIB",
                             "mebibytes the session's names may hold in all")],
                  summary: "Sets the memory limit for everything the session holds and allocates: data sets, models with their optimizer state, training and inference batches, dictionaries and their Gram matrix, codes, values, results tables (default: half the machine's memory).",
                  example: "set memory 4096")) { e, a throws(LoomError) in try e.setMemory(a) },
        .bind(Signature("sleep", .session, [Parameter("seconds", .number, required: true, positional: true, in: Bounds(lower: 0, upper: 86_400), "how long")],
                  summary: "Waits, and can be interrupted.", example: "sleep 0.5")) { e, a throws(LoomError) in try e.sleep(a) },
        .block(Blocks.loop),
        .bind(Signature("record", .session, [
            Parameter("table", .word, required: true, positional: true, placeholder: "NAME", "the results table (made on first use)"),
            Parameter("values", .columns, required: true, positional: true, "the row: a value per column"),
        ], summary: "Appends a row to a results table, for sweeps: `show table` draws it, `save` writes it as CSV.",
        example: "record runs k=10% acc=0.93")) { e, a throws(LoomError) in try e.record(a) },
        .block(Blocks.quiet),
        .block(Blocks.time),
        .bind(Signature("exit", .session, summary: "Asks the front end to close: `jupyter console` quits (notebooks ignore it, as with IPython).",
                  example: "exit")) { e, _ in e.output.askExit() },
        .bind(Signature("quit", .session, summary: "The same as `exit`.", example: "quit")) { e, _ in e.output.askExit() },
        .bind(Signature("clear", .session, summary: "Clears the cell's output so far.", example: "clear")) { e, _ in e.output.clearOutput(wait: false) },
    ]

    static let data: [StatementBinding] = [
        .bind(Signature("data", "csv", binds: true, .data, [
            Parameter("path", .string, required: true, positional: true, "the CSV file, one sample a row"),
            Parameter("label", .choice(of: CSVLoader.LabelColumn.self), default: "last", "which column holds the label"),
            Parameter("shape", .shape, "the shape of one sample, e.g. 28x28x1"),
            Parameter("scale", .number, default: "1", "a factor every value is multiplied by"),
        ], summary: "Loads samples from a CSV file.", example: "data d = csv \"digits.csv\" label first scale 0.0039")) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "idx", binds: true, .data, [
            Parameter("images", .string, required: true, positional: true, "the IDX images file"),
            Parameter("labels", .string, required: true, "the IDX labels file"),
        ], summary: "Loads MNIST-format IDX files.", example: "data m = idx \"train-images\" labels \"train-labels\"")) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "npy", binds: true, .data, [
            Parameter("path", .string, required: true, positional: true, "the .npy array of samples"),
            Parameter("labels", .string, "a .npy array of class labels, one per sample"),
            Parameter("targets", .string, "a .npy array of real-valued targets, one row per sample (regression)"),
        ], summary: "Loads NumPy arrays: samples, with class labels, real-valued targets or neither.", example: "data x = npy \"x.npy\" labels \"y.npy\"")) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "glyphs", binds: true, .data, [
            Parameter("n", .integer, default: "1000", in: 1...1_000_000, "how many images"),
            Parameter("size", .integer, default: "28", in: 8...256, "the side of each square image"),
            Parameter("noise", .number, default: "0.1", in: Bounds(lower: 0, upper: 1), "the amount of pixel noise"),
        ], summary: "Makes synthetic 10-class digit-like images.", example: "data digits = glyphs n 3000 size 28")) { e, a throws(LoomError) in try e.makeGlyphs(a) },
        .bind(Signature("data", "sines", binds: true, .data, [
            Parameter("n", .integer, default: "1000", in: 1...1_000_000, "how many sequences"),
            Parameter("steps", .integer, default: "10", in: 1...10_000, "time steps per sequence"),
            Parameter("classes", .integer, default: "10", in: 1...1000, "frequency bands, one class each"),
            Parameter("noise", .number, default: "0.05", in: Bounds(lower: 0, upper: 10), "the standard deviation of the noise added to each value"),
            Parameter("target", .choice(of: Sequences.SineTarget.self), default: "classes",
                      "`classes`: the frequency band; `next`: the value one step after the end (regression)"),
        ], summary: "Makes synthetic waves of random amplitude and phase, one class per frequency band.",
        example: "data waves = sines n 2000 steps 10 classes 10")) { e, a throws(LoomError) in try e.makeSines(a) },
        .bind(Signature("data", "adding", binds: true, .data, [
            Parameter("n", .integer, default: "1000", in: 1...1_000_000, "how many sequences"),
            Parameter("steps", .integer, default: "50", in: 2...10_000, "time steps per sequence"),
        ], summary: "The adding problem: two marked values in a long sequence; the target is their sum.",
        example: "data add = adding n 2000 steps 50")) { e, a throws(LoomError) in try e.makeAdding(a) },
        .bind(Signature("data", "patches", binds: true, .data, [
            Parameter("n", .integer, default: "1000", in: 1...1_000_000, "how many patches"),
            Parameter("size", .integer, default: "8", in: 2...64, "the side of each square patch"),
            Parameter("noise", .number, default: "0.02", in: Bounds(lower: 0, upper: 1), "the standard deviation of the pixel noise"),
        ], summary: "Makes synthetic grey-level image patches (edges, lines, corners, ramps, gratings), for dictionary learning.",
        example: "data pix = patches n 2000 size 8")) { e, a throws(LoomError) in try e.makePatches(a) },
        .bind(Signature("split", .data, [
            Parameter("data", .reference(.object(SessionDataset.self)), required: true, positional: true, "the data set to split"),
            Parameter("train", .fraction, default: "0.8", in: .withinOne, "the share that goes to NAME.train"),
        ], summary: "Splits a data set into NAME.train and NAME.test (stratified, seeded).",
        example: "split digits train 0.8")) { e, a throws(LoomError) in try e.split(a) },
    ]

    static let models: [StatementBinding] = [
        .block(Blocks.model),
        .bind(Signature("model", "copy", binds: true, .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model to copy"),
            Parameter("fresh", .flag, "new initial weights from the seed instead of the model's (its masks are kept)"),
        ], summary: "A deep copy of a model: its weights, masks, epochs, history and pruning rounds (the optimizer starts afresh).",
        example: "model wide2 = copy wide")) { e, a throws(LoomError) in try e.copyModel(a) },
        .bind(Signature("summary", .models, [Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model")],
                  summary: "Layers, output shapes, parameters, and what each layer would cost without sharing.",
                  example: "summary cnn")) { e, a throws(LoomError) in try e.summary(a) },
        .result(Signature("train", .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model to train"),
            Parameter("on", .reference(.object(SessionDataset.self)), required: true, placeholder: "DATA", "the training data"),
            Parameter("epochs", .integer, default: "1", in: 1...100_000, "passes over the data"),
            Parameter("batch", .integer, default: "32", in: 1...1_000_000, "samples per step"),
            Parameter("optimizer", .choice(of: OptimizerKind.self), default: "adam", "the update rule"),
            Parameter("lr", .number, in: Bounds(lower: 0, upper: 3.4e38, excludesLower: true), placeholder: "X", "the learning rate (default: the optimizer's, as in Keras)"),
            Parameter("loss", .choice(of: Loss.self), default: "crossentropy",
                      "the loss (with `target inputs`: mse unless given; bce needs a sigmoid output and values in [0, 1])"),
            Parameter("target", .choice(["inputs"]),
                      "`inputs`: learn to reconstruct the inputs (an autoencoder), so data without labels can be trained on"),
            Parameter("validate", .reference(.object(SessionDataset.self)), placeholder: "DATA", "data to validate on after each epoch"),
            Parameter("patience", .integer, in: 1...100_000, placeholder: "N", "stop after N epochs without a better monitored figure (early stopping)"),
            Parameter("monitor", .choice(of: Monitor.self), default: "loss",
                      "the figure that decides the best epoch: the validation data's, else the training data's"),
            Parameter("restore", .flag, "end with the best epoch's weights"),
            Parameter("checkpoint", .string, "a .safetensors file that holds the best model so far, rewritten atomically"),
            Parameter("schedule", .schedule, "the learning rate by epoch: " + Schedules.choices),
        ], summary: "Trains a model, with live progress; returns the per-epoch table and loss curve.",
        example: "train cnn on digits.train epochs 10 batch 32 optimizer adam lr 0.001")) { e, a throws(LoomError) in try e.train(a) },
        .result(Signature("evaluate", .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model"),
            Parameter("on", .reference(.object(SessionDataset.self)), required: true, placeholder: "DATA", "the data"),
            Parameter("target", .choice(["inputs"]),
                      "`inputs`: measure reconstructions (the default for a model trained with `target inputs`)"),
        ], summary: "Loss, accuracy and a confusion matrix; for values and reconstructions, mean squared and absolute errors.",
        example: "evaluate cnn on digits.test")) { e, a throws(LoomError) in try e.evaluate(a) },
        .result(Signature("compare", .models, [
            Parameter("models", .references(.object(ModelState.self)), required: true, positional: true, placeholder: "M1 M2 …", "the models"),
            Parameter("on", .reference(.object(SessionDataset.self)), required: true, placeholder: "DATA", "the data to measure them on"),
            Parameter("target", .choice(["inputs"]),
                      "`inputs`: measure reconstructions (the default when a model was trained with `target inputs`)"),
        ], summary: "Models side by side: stored and nonzero parameters, sharing, cost, accuracy, sparsity and time.",
        example: "compare cnn wide on digits.test")) { e, a throws(LoomError) in try e.compare(a) },
        .bind(Signature("predict", .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model"),
            Parameter("on", .reference(.object(SessionDataset.self)), required: true, placeholder: "DATA", "the data"),
            Parameter("first", .integer, default: "10", in: 1...10_000, "how many samples to show"),
            Parameter("mistakes", .flag, "show only misclassified samples, with their images"),
            Parameter("target", .choice(["inputs"]),
                      "`inputs`: reconstructions beside their inputs (the default for a model trained with `target inputs`)"),
        ], summary: "Predictions beside labels; for values, beside the true values; for an autoencoder, its reconstructions.",
        example: "predict cnn on digits.test first 5")) { e, a throws(LoomError) in e.show(try e.predict(a)) },
        .bind(Signature("prune", .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model"),
            Parameter("amount", .fraction, required: true, positional: true, placeholder: "P%",
                      "the share of each layer's weights that will be zero"),
            Parameter("layer", .word, placeholder: "LAYER", "only this layer"),
            Parameter("global", .flag, "one magnitude cut across all layers, so layers end with different shares"),
        ], summary: "Magnitude pruning: the smallest weights become zeros that hold through later training.",
        example: "prune wide 80%")) { e, a throws(LoomError) in try e.prune(a) },
        .bind(Signature("rewind", .models, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model"),
        ], summary: "Resets the weights that survived pruning to their initial values (the lottery-ticket procedure).",
        example: "rewind wide")) { e, a throws(LoomError) in try e.rewind(a) },
        .bind(Signature("save", .models, [
            Parameter("name", .reference(.anyObject), required: true, positional: true, "a model or dictionary"),
            Parameter("path", .string, required: true, positional: true, "the .safetensors file"),
        ], summary: "Saves a model or dictionary as safetensors.", example: "save cnn \"cnn.safetensors\"")) { e, a throws(LoomError) in try e.save(a) },
        .bind(Signature("load", .models, [
            Parameter("name", .newName, required: true, positional: true, "the name to load into"),
            Parameter("path", .string, required: true, positional: true, "the .safetensors file"),
        ], summary: "Loads a model or dictionary saved with `save`.", example: "load cnn \"cnn.safetensors\"")) { e, a throws(LoomError) in try e.load(a) },
    ]

    static let reports: [StatementBinding] = [
        .bind(Signature("show", .reports, [Parameter("name", .reference(.anyName), required: true, positional: true,
                                                  "the name; `show name NAME` when it is also a form's word (`show name filters`)")],
                  summary: "Shows what a name holds, as a line holding only the name does: a data set, a model, a dictionary, codes, a results table, a kept result, a value.",
                  example: "show runs")) { e, a throws(LoomError) in try e.showName(a) },
        .bind(Signature("show", "weights", .reports, [Parameter("layer", .reference(.part(of: ModelState.self)), required: true, positional: true,
                                                           placeholder: "M.LAYER", "the layer")],
                  summary: "A layer's weights as a heatmap (a recurrent layer's: one per gate, input and recurrent kernels).",
                  example: "show weights cnn.dense1")) { e, a throws(LoomError) in e.show(try e.showWeights(a)) },
        .bind(Signature("show", "filters", .reports, [Parameter("layer", .reference(.part(of: ModelState.self)), required: true, positional: true,
                                                           placeholder: "M.LAYER", "a conv2d layer")],
                  summary: "A convolution layer's filters as an image grid.", example: "show filters cnn.conv1")) { e, a throws(LoomError) in e.show(try e.showFilters(a)) },
        .bind(Signature("show", "histogram", .reports, [Parameter("layer", .reference(.part(of: ModelState.self)), required: true, positional: true,
                                                             placeholder: "M.LAYER", "the layer")],
                  summary: "A histogram of a layer's weights.", example: "show histogram cnn.conv2")) { e, a throws(LoomError) in e.show(try e.showHistogram(a)) },
        .result(Signature("show", "sparsity", .reports, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "the model"),
            Parameter("on", .reference(.object(SessionDataset.self)), placeholder: "DATA", "data to measure activation sparsity on"),
        ], summary: "Per layer: weight sparsity, activation sparsity, effective parameters.",
        example: "show sparsity cnn on digits.test")) { e, a throws(LoomError) in try e.showSparsity(a) },
        .bind(Signature("show", "table", .reports, [
            Parameter("table", .reference(.object(SessionTable.self)), required: true, positional: true, "a results table (`record`)"),
            Parameter("x", .word, placeholder: "COL", "the column along the x axis"),
            Parameter("y", .word, placeholder: "COL", "the column to plot against it"),
            Parameter("by", .word, placeholder: "COL", "a line per value of this column"),
        ], summary: "A results table, and a line plot of one column against another.",
        example: "show table runs x k y acc")) { e, a throws(LoomError) in e.show(try e.showTable(a)) },
        .bind(Signature("show", "pruning", .reports, [
            Parameter("model", .reference(.object(ModelState.self)), required: true, positional: true, "a pruned model"),
        ], summary: "A pruning schedule: each round's sparsity and evaluation, and accuracy by round.",
        example: "show pruning wide")) { e, a throws(LoomError) in e.show(try e.showPruning(a)) },
        .bind(Signature("show", "activations", .reports, [
            Parameter("layer", .reference(.part(of: ModelState.self)), required: true, positional: true, placeholder: "M.LAYER", "the layer"),
            Parameter("on", .reference(.object(SessionDataset.self)), required: true, placeholder: "DATA", "the input data"),
            Parameter("first", .integer, default: "3", in: 1...100, "how many samples to draw"),
        ], summary: "A layer's activations: units over samples with their sparsity; for a recurrent layer, "
            + "its state over the steps and its gates' mean activity.",
        example: "show activations wide.dense1 on digits.test")) { e, a throws(LoomError) in e.show(try e.showActivations(a)) },
    ]

    static let sparse: [StatementBinding] = [
        .bind(Signature("dictionary", "learn", binds: true, .sparse, [
            Parameter("data", .reference(.object(SessionDataset.self)), required: true, positional: true, placeholder: "DATA", "the training signals"),
            Parameter("atoms", .integer, required: true, in: 1...100_000, placeholder: "K", "how many atoms"),
            Parameter("sparsity", .integer, in: 1...100_000, placeholder: "T", "nonzeros per code (‖α‖₀ ≤ T), coded by OMP"),
            Parameter("alpha", .number, in: .positive, placeholder: "A", "a lasso penalty instead of a sparsity (method online)"),
            Parameter("method", .choice(of: DictionaryLearning.Method.self), default: "ksvd",
                      "`ksvd` refits atom by atom, `mod` all atoms by least squares, `online` learns from mini-batches"),
            Parameter("iterations", .integer, default: "10", in: 1...100_000, placeholder: "N", "learning iterations (for online: passes over the data)"),
            Parameter("batch", .integer, default: "256", in: 1...1_000_000, placeholder: "B", "samples per mini-batch, for online"),
            Parameter("tolerance", .number, default: "0", in: .belowOne, "stop once an iteration improves the cost by less than this share"),
            Parameter("center", .flag, "take each sample's mean off first (and when coding with it)"),
        ], summary: "Learns a dictionary whose atoms code the data sparsely, with live progress and the cost after each iteration.",
        example: "dictionary D = learn pix atoms 100 sparsity 5 method ksvd iterations 10")) { e, a throws(LoomError) in try e.learnDictionary(a) },
        .bind(Signature("dictionary", "csv", binds: true, .sparse, [
            Parameter("path", .string, required: true, positional: true, "the CSV file, one atom a row (a header line is skipped)"),
            Parameter("shape", .shape, "the shape of one sample, e.g. 8x8"),
            Parameter("center", .flag, "the atoms code samples with their mean taken off"),
        ], summary: "Reads a dictionary learned elsewhere (scikit-learn's components_), one atom a row.",
        example: "dictionary D = csv \"atoms.csv\" shape 8x8")) { e, a throws(LoomError) in try e.readDictionary(a) },
        .bind(Signature("dictionary", "npy", binds: true, .sparse, [
            Parameter("path", .string, required: true, positional: true, "the .npy array, atoms × values"),
            Parameter("shape", .shape, "the shape of one sample, e.g. 8x8"),
            Parameter("center", .flag, "the atoms code samples with their mean taken off"),
        ], summary: "Reads a dictionary from a NumPy array, one atom a row (np.save(path, model.components_)).",
        example: "dictionary D = npy \"atoms.npy\" shape 8x8")) { e, a throws(LoomError) in try e.readDictionary(a) },
        .bind(Signature("codes", "encode", binds: true, .sparse, [
            Parameter("data", .reference(.object(SessionDataset.self)), required: true, positional: true, placeholder: "DATA", "the signals"),
            Parameter("with", .reference(.object(SessionDictionary.self)), required: true, placeholder: "DICT", "the dictionary"),
            Parameter("method", .choice(of: SparseMethod.self), positional: true,
                      "the coder (default: threshold when `threshold X` is given, lasso with `alpha`, else omp)"),
            Parameter("sparsity", .integer, in: 1...100_000, placeholder: "T", "omp: nonzeros per code"),
            Parameter("error", .number, placeholder: "E", "omp: stop a code once its relative error ‖x − αD‖/‖x‖ is this small"),
            Parameter("alpha", .number, in: .nonNegative, placeholder: "A", "lasso: the L1 penalty in ½‖x − αD‖² + alpha‖α‖₁"),
            Parameter("threshold", .number, in: .nonNegative, "threshold: the cut-off for soft thresholding of Dx"),
            Parameter("positive", .flag, "lasso and threshold: only nonnegative coefficients"),
        ], summary: "Codes signals sparsely over a dictionary: OMP, the lasso or soft thresholding.",
        example: "codes C = encode pix with D omp sparsity 5")) { e, a throws(LoomError) in try e.encode(a) },
        .bind(Signature("show", "atoms", .sparse, [
            Parameter("dictionary", .reference(.object(SessionDictionary.self)), required: true, positional: true, "a dictionary"),
            Parameter("first", .integer, default: "49", in: 1...100_000, "how many atoms to draw"),
        ], summary: "A dictionary's atoms as an image grid, the most used first once codes have been made with it.",
        example: "show atoms D")) { e, a throws(LoomError) in e.show(try e.showAtoms(a)) },
        .bind(Signature("show", "codes", .sparse, [
            Parameter("codes", .reference(.object(SessionCodes.self)), required: true, positional: true, "sparse codes"),
            Parameter("sample", .integer, in: 1...1_000_000_000, placeholder: "I", "one sample (from 1): original, rebuilt, and its atoms with their weights"),
        ], summary: "Relative error, nonzeros, atom usage, a spy plot and the learning curve of sparse codes.",
        example: "show codes C")) { e, a throws(LoomError) in e.show(try e.showCodes(a)) },
    ]

    /// The forms that start with `keyword`.
    public static func forms(of keyword: String) -> [Signature] {
        formsByKeyword[keyword] ?? []
    }

    public static let keywords: [String] = {
        var seen = Set<String>()
        return all.map(\.keyword).filter { seen.insert($0).inserted }
    }()

    /// The keywords as a set, for the parser's look-ups on every line.
    static let keywordSet = Set(keywords)

    /// The forms of each keyword, computed once.
    static let formsByKeyword: [String: [Signature]] = Dictionary(grouping: all, by: \.keyword)
}

