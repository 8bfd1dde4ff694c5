import LoomCore
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
        .bind(Signature("print", .session, summary: "Writes values to standard output.", example: "print \"epochs:\" epochs"), Values(), [
            .expressions("values", \.values, .expressions, "the values to write"),
        ]) { e, a throws(LoomError) in try e.write(.stdout, a) },
        .bind(Signature("warn", .session, summary: "Writes values to standard error.", example: "warn \"low accuracy\""), Values(), [
            .expressions("values", \.values, .expressions, "the values to write"),
        ]) { e, a throws(LoomError) in try e.write(.stderr, a) },
        .bind(Signature("seed", .session, summary: "Seeds every random choice that follows, so a notebook gives the same numbers each run.",
                        example: "seed 7"), Setting(value: 0), [
            .integer("n", \.value, in: -9_000_000_000_000_000...9_000_000_000_000_000, positional: true, as: "the seed", "the seed"),
        ]) { e, a throws(LoomError) in try e.seed(a) },
        .bind(Signature("help", .session, summary: "Lists the statements, or explains one.", example: "help train"), Topic(), [
            .optionalName("topic", \.topic, .word, positional: true, placeholder: "WORD", "a statement, layer or option"),
        ]) { e, a throws(LoomError) in try e.help(a) },
        .bind(Signature("list", .session, summary: "Lists the names this session has defined, with the memory each holds and the total.",
                        example: "list")) { e in e.show(e.listing()) },
        .bind(Signature("delete", .session, summary: "Forgets a name.", example: "delete epochs"), NameRequest(), [
            .name("name", \.name, .reference(.anyName), "the name to forget"),
        ]) { e, a throws(LoomError) in try e.delete(a) },
        .bind(Signature("reset", .session, summary: "Forgets every name and setting.", example: "reset")) { e in e.session.reset() },
        .bind(Signature("set", "plots", .session, summary: "Chooses how plots are drawn.", example: "set plots text"),
              Setting(value: PlotStyle.auto), [
            .choice("style", \.value, positional: true,
                    "`auto` adds vector figures in notebooks, text alone in a terminal; `text` draws text plots only; `svg` always adds vector figures"),
        ]) { e, a throws(LoomError) in try e.setPlots(a) },
        .bind(Signature("set", "progress", .session, summary: "Chooses how training and learning show their progress.",
                        example: "set progress stream"), Setting(value: ProgressDisplay.Mode.auto), [
            .choice("style", \.value, positional: true,
                    "`auto` (the default) updates a line in place in notebooks and writes lines in `jupyter console`, "
                    + "which shows no display updates; `display` updates a line in place; `stream` writes a line to "
                    + "stderr at an epoch's end, at most one every 2 seconds; `off` shows none"),
        ]) { e, a throws(LoomError) in e.session.progress = a.value },
        .bind(Signature("set", "width", .session, summary: "Sets the width of text output (default 80).", example: "set width 100"),
              Setting(value: 0), [
            .integer("columns", \.value, in: 20...1000, positional: true, as: "width", "columns of text output"),
        ]) { e, a throws(LoomError) in try e.setWidth(a) },
        .bind(Signature("set", "threads", .session,
                        summary: "Sets how many threads training uses (default: the machine's cores; under mpirun, each rank's share of them). "
                        + "Results do not depend on it.",
                        example: "set threads 1"), Setting(value: 0), [
            .integer("n", \.value, in: 1...256, positional: true, as: "threads", "threads for BLAS and the engine"),
        ]) { e, a throws(LoomError) in try e.setThreads(a) },
        .bind(Signature("set", "memory", .session,
                        summary: "Sets the memory limit for everything the session holds and allocates: data sets, models with their optimizer state, training and inference batches, dictionaries and their Gram matrix, codes, values, results tables (default: half the machine's memory).",
                        example: "set memory 4096"), Setting(value: 0), [
            .integer("mib", \.value, in: 16...1_048_576, positional: true, placeholder: "MIB", "mebibytes the session's names may hold in all"),
        ]) { e, a throws(LoomError) in try e.setMemory(a) },
        .bind(Signature("sleep", .session, summary: "Waits, and can be interrupted.", example: "sleep 0.5"), Setting(value: 0.0), [
            .number("seconds", \.value, in: Bounds(lower: 0, upper: 86_400), positional: true, "how long"),
        ]) { e, a throws(LoomError) in try e.sleep(a) },
        .block(Blocks.loop),
        .bind(Signature("record", .session, summary: "Appends a row to a results table, for sweeps: `show table` draws it, `save` writes it as CSV.",
                        example: "record runs k=10% acc=0.93"), RecordRequest(), [
            .name("table", \.table, .word, placeholder: "NAME", "the results table (made on first use)"),
            .expressions("values", \.values, .columns, required: true, "the row: a value per column"),
        ]) { e, a throws(LoomError) in try e.record(a) },
        .block(Blocks.quiet),
        .block(Blocks.time),
        .bind(Signature("exit", .session, summary: "Asks the front end to close: `jupyter console` quits (notebooks ignore it, as with IPython).",
                        example: "exit")) { e in e.output.askExit() },
        .bind(Signature("quit", .session, summary: "The same as `exit`.", example: "quit")) { e in e.output.askExit() },
        .bind(Signature("clear", .session, summary: "Clears the cell's output so far.", example: "clear")) { e in e.output.clearOutput(wait: false) },
    ]

    static let data: [StatementBinding] = [
        .bind(Signature("data", "csv", binds: true, .data, summary: "Loads samples from a CSV file.",
                        example: "data d = csv \"digits.csv\" label first scale 0.0039"), FileData(), [
            .string("path", \.path, "the CSV file, one sample a row"),
            .choice("label", \.label, default: .last, "which column holds the label"),
            .shape("shape", \.shape, "the shape of one sample, e.g. 28x28x1"),
            .number("scale", \.scale, default: 1, "a factor every value is multiplied by"),
        ]) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "idx", binds: true, .data, summary: "Loads MNIST-format IDX files.",
                        example: "data m = idx \"train-images\" labels \"train-labels\""), FileData(), [
            .string("images", \.path, "the IDX images file"),
            .optionalString("labels", \.labels, required: true, "the IDX labels file"),
        ]) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "npy", binds: true, .data, summary: "Loads NumPy arrays: samples, with class labels, real-valued targets or neither.",
                        example: "data x = npy \"x.npy\" labels \"y.npy\""), FileData(), [
            .string("path", \.path, "the .npy array of samples"),
            .optionalString("labels", \.labels, "a .npy array of class labels, one per sample"),
            .optionalString("targets", \.targets, "a .npy array of real-valued targets, one row per sample (regression)"),
        ]) { e, a throws(LoomError) in try e.loadData(a) },
        .bind(Signature("data", "npz", binds: true, .data,
                        summary: "Loads a NumPy .npz archive: Keras's `x_train y_train x_test y_test` as NAME.train and NAME.test (byte images scaled to [0, 1] as `idx` reads them), its only array as samples, or the arrays named (their keys as strings).",
                        example: "data m = npz \"mnist.npz\""), ArchiveData(), [
            .string("path", \.path, "the .npz archive"),
            .optionalString("samples", \.samples, placeholder: "KEY", "the samples array's name in the archive (a string)"),
            .optionalString("labels", \.labels, placeholder: "KEY", "the class labels' array, one per sample"),
            .optionalString("targets", \.targets, placeholder: "KEY", "the real-valued targets' array, one row per sample (regression)"),
        ]) { e, a throws(LoomError) in try e.loadArchive(a) },
        .bind(Signature("data", "glyphs", binds: true, .data, summary: "Makes synthetic 10-class digit-like images.",
                        example: "data digits = glyphs n 3000 size 28"), Images(), [
            .integer("n", \.n, in: 1...1_000_000, default: 1000, "how many images"),
            .integer("size", \.size, in: 8...256, default: 28, "the side of each square image"),
            .number("noise", \.noise, in: Bounds(lower: 0, upper: 1), default: 0.1, "the amount of pixel noise"),
        ]) { e, a throws(LoomError) in try e.makeGlyphs(a) },
        .bind(Signature("data", "sines", binds: true, .data, summary: "Makes synthetic waves of random amplitude and phase, one class per frequency band.",
                        example: "data waves = sines n 2000 steps 10 classes 10"), SequenceData(), [
            .integer("n", \.n, in: 1...1_000_000, default: 1000, "how many sequences"),
            .integer("steps", \.steps, in: 1...10_000, default: 10, "time steps per sequence"),
            .integer("classes", \.classes, in: 1...1000, default: 10, "frequency bands, one class each"),
            .number("noise", \.noise, in: Bounds(lower: 0, upper: 10), default: 0.05, "the standard deviation of the noise added to each value"),
            .choice("target", \.target, default: .classes,
                    "`classes`: the frequency band; `next`: the value one step after the end (regression)"),
        ]) { e, a throws(LoomError) in try e.makeSines(a) },
        .bind(Signature("data", "adding", binds: true, .data, summary: "The adding problem: two marked values in a long sequence; the target is their sum.",
                        example: "data add = adding n 2000 steps 50"), SequenceData(), [
            .integer("n", \.n, in: 1...1_000_000, default: 1000, "how many sequences"),
            .integer("steps", \.steps, in: 2...10_000, default: 50, "time steps per sequence"),
        ]) { e, a throws(LoomError) in try e.makeAdding(a) },
        .bind(Signature("data", "patches", binds: true, .data,
                        summary: "Image patches for dictionary learning: synthetic ones (edges, lines, corners, ramps, gratings), "
                            + "or cut from photographs (PNG, PGM) at every position, as scikit-learn's extract_patches_2d cuts them.",
                        example: "data pix = patches n 2000 size 8"), PatchData(), [
            .optionalPaths("from", \.from, "photographs to cut the patches from: a PNG or PGM file, a list of them, "
                           + "or a folder (its PNG and PGM files, sorted by name)"),
            .integer("n", \.n, in: 1...1_000_000, default: 1000,
                     "how many patches; from photographs, N picked at random (every patch when left out)"),
            .integer("size", \.size, in: 2...64, default: 8, "the side of each square patch"),
            .optionalInteger("stride", \.stride, in: 1...64, placeholder: "N",
                             "from photographs: the step between patches, across and down (default 1: every position)"),
            .number("noise", \.noise, in: Bounds(lower: 0, upper: 1), default: 0.02, "synthetic patches: the standard deviation of the pixel noise"),
            .flag("center", \.center, "take each patch's own mean off it"),
            .flag("whiten", \.whiten, "ZCA-whiten the patches, as Coates and Ng do: covariance near the identity, edges sharpened"),
            .flag("colour", \.colour, "from photographs: keep red, green and blue (3 channels) instead of converting to grey"),
        ]) { e, a throws(LoomError) in try e.makePatches(a) },
        .bind(Signature("data", "images", binds: true, .data,
                        summary: "Loads labelled photographs (PNG, PGM) from a folder with one subfolder per class, "
                            + "as Keras's image_dataset_from_directory: the sorted subfolder names are the class names.",
                        example: "data pets = images \"photos/\" size 64x64"), ImageFolderData(), [
            .string("path", \.path, "the folder: one subfolder per class, named as the class"),
            .shape("size", \.size, "WxH: every image resized to this width and height, bilinearly "
                   + "(without it, every image must have the first one's size)"),
            .flag("colour", \.colour, "keep red, green and blue (3 channels) instead of converting to grey"),
        ]) { e, a throws(LoomError) in try e.loadImageFolder(a) },
        .bind(Signature("data", "mnist", binds: true, .data,
                        summary: "Loads MNIST (or Fashion-MNIST) as NAME.train and NAME.test, 60,000 and 10,000 images as Keras "
                        + "splits them, from a folder or the cache (`$LOOM_DATA`, else ~/.cache/loom/datasets; downloaded when missing).",
                        example: "data m = mnist n 1000 path \"data/mnist\""), PublishedData(), [
            .flag("fashion", \.fashion, "Zalando's Fashion-MNIST (ten kinds of clothing, named) instead of the digits"),
            .optionalInteger("n", \.n, in: 1...1_000_000, placeholder: "N",
                             "take the first N of each part, stratified (each class as even a share as the part allows, in file order)"),
            .optionalString("path", \.path, "a folder holding the four IDX files (`.gz` or not), read as they are"),
        ]) { e, a throws(LoomError) in try e.loadMNIST(a) },
        .bind(Signature("data", "cifar10", binds: true, .data,
                        summary: "Loads CIFAR-10 (binary version) as NAME.train and NAME.test, 50,000 and 10,000 colour images "
                        + "of 32x32 in ten named classes, from a folder or the cache (downloaded when missing).",
                        example: "data c = cifar10 n 1000 path \"data/cifar\""), PublishedData(), [
            .optionalInteger("n", \.n, in: 1...1_000_000, placeholder: "N",
                             "take the first N of each part, stratified (each class as even a share as the part allows, in file order)"),
            .optionalString("path", \.path,
                            "a folder holding cifar-10-binary.tar.gz (or .tar), or the batch files it extracts to, read as they are"),
        ]) { e, a throws(LoomError) in try e.loadCIFAR10(a) },
        .bind(Signature("split", .data, summary: "Splits a data set into NAME.train and NAME.test (stratified, seeded).",
                        example: "split digits train 0.8"), SplitRequest(), [
            .name("data", \.data, dataArgument, "the data set to split (codes split into codes)"),
            .number("train", \.train, .fraction, in: .withinOne, default: 0.8, "the share that goes to NAME.train"),
        ]) { e, a throws(LoomError) in try e.split(a) },
    ]

    /// A data set, or codes as one (their data's labels beside them).
    static let dataArgument = ParameterKind.reference(.objects(SessionDataset.self, SessionCodes.self))
    static let modelArgument = ParameterKind.reference(.object(ModelState.self))
    static let layerArgument = ParameterKind.reference(.part(of: ModelState.self))

    /// `evaluate`'s and `compare`'s `noise P%`: the noise test (`InputNoise`).
    static func noiseField<S>(_ path: WritableKeyPath<S, Double> & Sendable) -> Field<S> {
        .number("noise", path, .fraction, in: Bounds(lower: 0, upper: 1), default: 0, placeholder: "P%",
                "measure on a copy with P% of each sample's values (rounded) replaced by random ones, the noise test of "
                + "Ahmad and Scheinkman (2019): positions chosen without replacement, values uniform between the data's "
                + "least and greatest value, drawn from the random state `seed` fixes")
    }

    static let models: [StatementBinding] = [
        .block(Blocks.model),
        .bind(Signature("model", "copy", binds: true, .models,
                        summary: "A deep copy of a model: its weights, masks, epochs, history and pruning rounds (the optimizer starts afresh).",
                        example: "model wide2 = copy wide"), CopyRequest(), [
            .name("model", \.model, modelArgument, "the model to copy"),
            .flag("fresh", \.fresh, "new initial weights from the seed instead of the model's (its masks are kept)"),
        ]) { e, a throws(LoomError) in try e.copyModel(a) },
        .bind(Signature("summary", .models, summary: "Layers, output shapes, parameters, and what each layer would cost without sharing.",
                        example: "summary cnn"), ModelRequest(), [
            .name("model", \.model, modelArgument, "the model"),
        ]) { e, a throws(LoomError) in try e.summary(a) },
        .result(Signature("train", .models, summary: "Trains a model, with live progress; returns the per-epoch table and loss curve.",
                          example: "train cnn on digits.train epochs 10 batch 32 optimizer adam lr 0.001"), TrainRequest(), [
            .name("model", \.model, modelArgument, "the model to train"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the training data"),
            .integer("epochs", \.epochs, in: 1...100_000, default: 1, "passes over the data"),
            .integer("batch", \.batch, in: 1...1_000_000, default: 32, "samples per step"),
            .choice("optimizer", \.optimizer, default: .adam, "the update rule"),
            .optionalNumber("lr", \.lr, in: Bounds(lower: 0, upper: 3.4e38, excludesLower: true), placeholder: "X", "the learning rate (default: the optimizer's, as in Keras)"),
            .optionalNumber("decay", \.decay, in: .nonNegative, placeholder: "WD",
                            "adamw's decoupled weight decay: each step a kernel's weights w lose lr·WD·w before Adam's step, "
                            + "biases not (default 0.004, Keras's AdamW; PyTorch's is 0.01)"),
            .choice("loss", \.loss, default: .crossentropy,
                    "the loss (with `target inputs`: mse unless given; bce needs a sigmoid output and values in [0, 1]; "
                    + "lasso: ½‖x − zD‖² + α‖z‖₁ of a `lista` model's codes z of the samples x, over the atoms D and at "
                    + "the alpha its layer started from, with no target codes)"),
            .optionalName("target", \.target, .reference(.object(SessionCodes.self)), placeholder: "inputs|C",
                          "`inputs`: learn to reconstruct the inputs (an autoencoder), so data without labels can be trained on; "
                          + "codes C of DATA: learn to output them (a `lista` layer: `train L on DATA target C`)"),
            .optionalName("validate", \.validate, dataArgument, placeholder: "DATA", "data to validate on after each epoch"),
            .optionalInteger("patience", \.patience, in: 1...100_000, placeholder: "N",
                             "stop after N epochs without a better monitored figure (early stopping)"),
            .choice("monitor", \.monitor, default: .loss, "the figure that decides the best epoch: the validation data's, else the training data's"),
            .flag("restore", \.restore, "end with the best epoch's weights"),
            .optionalString("checkpoint", \.checkpoint, "a .safetensors file that holds the best model so far, rewritten atomically"),
            .schedule("schedule", \.schedule, "the learning rate by epoch: " + Schedules.choices),
            .pruneSchedule("prune", \.prune,
                           "gradual magnitude pruning (Zhu and Gupta's cubic schedule): the kernels reach P% zeros at the end of "
                           + "epoch E2 (default: the last), starting in epoch E1 (default 1); masks are set at each epoch's end, "
                           + "or every N steps; per layer, or with `global` one cut over all"),
            .epochs("keep", \.keep, "keep the weights after this epoch (or these epochs) of the model, for `rewind M to epoch E`; "
                    + "they replace those an earlier `train` kept"),
            .rewiring("rewire", \.rewire, Rewirings.doc),
            .optionalString("log", \.log, "a folder for TensorBoard event files: per epoch the history table's figures, the "
                            + "learning rate and, for a model with masks, each layer's and the total weight sparsity"),
            .every("histograms", \.histograms, "the weights' histograms in the `log` every N epochs (always after the last)"),
        ]) { e, a throws(LoomError) in try e.train(a) },
        .result(Signature("evaluate", .models, summary: "Loss, accuracy and a confusion matrix; for values and reconstructions, mean squared and absolute errors; for a `lista` model trained with `loss lasso`, the lasso objective of its codes.",
                          example: "evaluate cnn on digits.test"), MeasureRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the data"),
            .optionalChoice("target", \.target, "`inputs`: measure reconstructions (the default for a model trained with `target inputs`)"),
            noiseField(\.noise),
        ]) { e, a throws(LoomError) in try e.evaluate(a) },
        .result(Signature("compare", .models, summary: "Models side by side: stored and nonzero parameters, sharing, cost, accuracy, sparsity and time; "
                            + "or sparse coders (dictionaries, autoencoders, LISTA models): relative error, nonzeros, dead atoms and coding time.",
                          example: "compare cnn wide on digits.test"), CompareRequest(), [
            .names("models", \.models, .references(.objects(ModelState.self, SessionDictionary.self)), placeholder: "M1 M2 …",
                   "the models; or sparse coders: dictionaries, autoencoders (a model trained with `target inputs`, coding by "
                   + "its narrowest hidden layer, or by the layer named as M.LAYER) and models ending in `lista`"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the data to measure them on"),
        ] + coderFields(\.coder, "coders: how the dictionaries code (default: each as `learn` coded with it; the options as `encode` "
                        + "takes them)") + [
            .optionalChoice("target", \.target, "`inputs`: measure reconstructions (the default when a model was trained with `target inputs`)"),
            noiseField(\.noise),
        ]) { e, a throws(LoomError) in try e.compare(a) },
        .bind(Signature("predict", .models, summary: "Predictions beside labels; for values, beside the true values; for an autoencoder, its reconstructions.",
                        example: "predict cnn on digits.test first 5"), MeasureRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the data"),
            .integer("first", \.first, in: 1...10_000, default: 10, "how many samples to show"),
            .flag("mistakes", \.mistakes, "show only misclassified samples, with their images"),
            .optionalChoice("target", \.target,
                            "`inputs`: reconstructions beside their inputs (the default for a model trained with `target inputs`)"),
        ]) { e, a throws(LoomError) in e.show(try e.predict(a)) },
        .bind(Signature("prune", .models, summary: "Magnitude pruning: the smallest weights (or all but the N largest of every M, `2:4`) become zeros that hold through later training.",
                        example: "prune wide 80%"), PruneRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .pruneAmount("amount", \.amount, placeholder: "P%|N:M",
                         "the share of each layer's weights that will be zero; or `N:M`: each unit keeps the N largest of every M "
                         + "consecutive inputs (a conv2d's inputs run kernel row, column, channel, the channels fastest; a short "
                         + "last block keeps at most N)"),
            .optionalChoice("structure", \.structure, positional: true,
                            "`units`: whole dense units by the L2 norm of their incoming weights; `filters`: whole conv2d "
                            + "filters (every layer but the output layer, unless `layer` names one)"),
            .optionalName("layer", \.layer, .word, placeholder: "LAYER", "only this layer"),
            .flag("global", \.global, "one magnitude cut across all layers, so layers end with different shares"),
        ]) { e, a throws(LoomError) in try e.prune(a) },
        .bind(Signature("cluster", .models, summary: "Weight clustering: each layer's weights become N shared values (k-means from linear initialisation, as Deep Compression), which later training fine-tunes.",
                        example: "cluster wide 32"), ClusterRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .integer("values", \.count, in: 1...65536, positional: true, placeholder: "N",
                     "shared values per layer; pruned weights stay zero, outside them"),
            .optionalName("layer", \.layer, .word, placeholder: "LAYER", "only this layer"),
        ]) { e, a throws(LoomError) in try e.cluster(a) },
        .bind(Signature("compact", .models, summary: "Removes the units and filters pruned whole (`prune M 50% units`), and the next layer's inputs from them: a smaller, faster model with the same outputs.",
                        example: "compact wide"), ModelRequest(), [
            .name("model", \.model, modelArgument, "the model"),
        ]) { e, a throws(LoomError) in try e.compact(a) },
        .bind(Signature("rewind", .models, summary: "Resets the weights that survived pruning to their initial values (the lottery-ticket procedure), or to those after an epoch `train … keep epoch E` kept (late rewinding); a loaded model has none to return to.",
                        example: "rewind wide"), RewindRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .epoch("to", \.to, "the epoch whose weights `train … keep epoch E` kept (default: the initial weights)"),
        ]) { e, a throws(LoomError) in try e.rewind(a) },
        .bind(Signature("save", .models, summary: "Saves a model, data set or dictionary as safetensors (codes as the data set of their values), or a results table as CSV.",
                        example: "save cnn \"cnn.safetensors\""), FileRequest(), [
            .name("name", \.name, .reference(.anyObject), "a model, data set, dictionary or results table"),
            .string("path", \.path, "the file: safetensors, or CSV for a results table"),
        ]) { e, a throws(LoomError) in try e.save(a) },
        .bind(Signature("load", .models, summary: "Loads a model, data set or dictionary saved with `save`.",
                        example: "load cnn \"cnn.safetensors\""), FileRequest(), [
            .name("name", \.name, .newName, "the name to load into"),
            .string("path", \.path, "the .safetensors file"),
        ]) { e, a throws(LoomError) in try e.load(a) },
        .bind(Signature("export", .models, summary: "Writes a model as a standard ONNX file (opset 17) that onnxruntime and other ONNX tools run with the same predictions.",
                        example: "export cnn \"cnn.onnx\""), ExportRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .string("path", \.path, "the .onnx file"),
        ]) { e, a throws(LoomError) in try e.export(a) },
    ]

    static let reports: [StatementBinding] = [
        .bind(Signature("show", .reports,
                        summary: "Shows what a name holds, as a line holding only the name does: a data set, a model, a dictionary, codes, a results table, a kept result, a value.",
                        example: "show runs"), NameRequest(), [
            .name("name", \.name, .reference(.anyName), "the name; `show name NAME` when it is also a form's word (`show name filters`)"),
        ]) { e, a throws(LoomError) in try e.showName(a) },
        .bind(Signature("show", "weights", .reports, summary: "A layer's weights as a heatmap (a recurrent layer's: one per gate, input and recurrent kernels); "
                            + "a dense layer on the image input: each unit's input weights as an image.",
                        example: "show weights cnn.dense1"), LayerRequest(), [
            .name("layer", \.layer, layerArgument, placeholder: "M.LAYER", "the layer"),
        ]) { e, a throws(LoomError) in e.show(try e.showWeights(a)) },
        .bind(Signature("show", "filters", .reports, summary: "A convolution layer's filters as an image grid (a local2d layer's at three of its positions).",
                        example: "show filters cnn.conv1"), LayerRequest(), [
            .name("layer", \.layer, layerArgument, placeholder: "M.LAYER", "a conv2d, depthwise, separable or local2d layer"),
        ]) { e, a throws(LoomError) in e.show(try e.showFilters(a)) },
        .bind(Signature("show", "histogram", .reports, summary: "A histogram of a layer's weights.", example: "show histogram cnn.conv2"), LayerRequest(), [
            .name("layer", \.layer, layerArgument, placeholder: "M.LAYER", "the layer"),
        ]) { e, a throws(LoomError) in e.show(try e.showHistogram(a)) },
        .result(Signature("show", "sparsity", .reports, summary: "Per layer: weight sparsity, activation sparsity, effective parameters.",
                          example: "show sparsity cnn on digits.test"), SparsityRequest(), [
            .name("model", \.model, modelArgument, "the model"),
            .optionalName("on", \.on, dataArgument, placeholder: "DATA", "data to measure activation sparsity on"),
        ]) { e, a throws(LoomError) in try e.showSparsity(a) },
        .bind(Signature("show", "table", .reports, summary: "A results table, and a line plot of one column against another: a numeric x to scale, "
                            + "repeated runs as their mean, lowest and highest.",
                        example: "show table runs x k y acc"), TableRequest(), [
            .name("table", \.table, .reference(.object(SessionTable.self)), "a results table (`record`)"),
            .optionalName("x", \.x, .word, placeholder: "COL", "the column along the x axis"),
            .optionalName("y", \.y, .word, placeholder: "COL", "the column to plot against it"),
            .optionalName("by", \.by, .word, placeholder: "COL", "a line per value of this column"),
        ]) { e, a throws(LoomError) in e.show(try e.showTable(a)) },
        .bind(Signature("show", "pruning", .reports, summary: "A pruning schedule: each round's sparsity and evaluation, and accuracy against nonzero parameters.",
                        example: "show pruning wide"), ModelRequest(), [
            .name("model", \.model, modelArgument, "a pruned model"),
        ]) { e, a throws(LoomError) in e.show(try e.showPruning(a)) },
        .bind(Signature("show", "history", .reports, summary: "Every epoch a model trained in this session, in one table (the table `train` shows keeps a long run's first, best and last epochs).",
                        example: "show history cnn"), ModelRequest(), [
            .name("model", \.model, modelArgument, "a trained model"),
        ]) { e, a throws(LoomError) in e.show(try e.showHistory(a)) },
        .bind(Signature("show", "mask", .reports, summary: "A layer's pruning mask drawn as kept and pruned weights, with its sparsity.",
                        example: "show mask wide.dense1"), LayerRequest(), [
            .name("layer", \.layer, layerArgument, placeholder: "M.LAYER", "the layer"),
        ]) { e, a throws(LoomError) in e.show(try e.showMask(a)) },
        .bind(Signature("show", "activations", .reports,
                        summary: "A layer's activations: units over samples (a convolution's: feature maps of the first "
                            + "sample) with their sparsity; for a recurrent layer, its state over the steps and its gates' mean activity.",
                        example: "show activations wide.dense1 on digits.test"), ActivationsRequest(), [
            .name("layer", \.layer, layerArgument, placeholder: "M.LAYER", "the layer"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the input data"),
            .integer("first", \.first, in: 1...100, default: 3, "how many samples to draw"),
        ]) { e, a throws(LoomError) in e.show(try e.showActivations(a)) },
        .bind(Signature("show", "reconstructions", .reports, summary: "An autoencoder's inputs beside its reconstructions, as images.",
                        example: "show reconstructions ae on digits.test first 8"), ReconstructionsRequest(), [
            .name("model", \.model, modelArgument, "a model whose outputs have the input's shape"),
            .name("on", \.on, dataArgument, positional: false, placeholder: "DATA", "the inputs"),
            .integer("first", \.first, in: 1...100, default: 8, "how many samples to draw"),
        ]) { e, a throws(LoomError) in e.show(try e.showReconstructions(a)) },
    ]

    static let sparse: [StatementBinding] = [
        .bind(Signature("dictionary", "learn", binds: true, .sparse,
                        summary: "Learns a dictionary whose atoms code the data sparsely, with live progress and the cost after each iteration.",
                        example: "dictionary D = learn pix atoms 100 sparsity 5 method ksvd iterations 10"), LearnRequest(), [
            .name("data", \.data, dataArgument, placeholder: "DATA", "the training signals"),
            .integer("atoms", \.atoms, in: 1...100_000, placeholder: "K", "how many atoms"),
            .optionalInteger("sparsity", \.sparsity, in: 1...100_000, placeholder: "T", "nonzeros per code (‖α‖₀ ≤ T), coded by OMP"),
            .optionalNumber("alpha", \.alpha, in: .positive, placeholder: "A", "a lasso penalty instead of a sparsity (method online)"),
            .choice("method", \.method, default: .ksvd,
                    "`ksvd` refits atom by atom, `mod` all atoms by least squares, `online` learns from mini-batches"),
            .integer("iterations", \.iterations, in: 1...100_000, default: 10, placeholder: "N", "learning iterations (for online: passes over the data)"),
            .integer("batch", \.batch, in: 1...1_000_000, default: 256, placeholder: "B", "samples per mini-batch, for online"),
            .number("tolerance", \.tolerance, in: .belowOne, default: 0, "stop once an iteration improves the cost by less than this share"),
            .flag("center", \.center, "take each sample's mean off first (and when coding with it)"),
        ]) { e, a throws(LoomError) in try e.learnDictionary(a) },
        dictionaryFile("csv", "the CSV file, one atom a row (a header line is skipped)",
                       summary: "Reads a dictionary learned elsewhere (scikit-learn's components_), one atom a row."),
        dictionaryFile("npy", "the .npy array, atoms × values",
                       summary: "Reads a dictionary from a NumPy array, one atom a row (np.save(path, model.components_))."),
        .bind(Signature("codes", "encode", binds: true, .sparse, summary: "Codes signals sparsely over a dictionary: OMP, the lasso (coordinate descent, ISTA or FISTA) or soft thresholding; or by a LISTA model; or whole images by their patches' codes, pooled over a grid.",
                        example: "codes C = encode pix with D omp sparsity 5"), EncodeRequest(), [
            .name("data", \.data, dataArgument, placeholder: "DATA", "the signals"),
            .name("with", \.with, .reference(.objects(SessionDictionary.self, ModelState.self)), positional: false, placeholder: "DICT",
                  "the dictionary, or a model ending in `lista` (its outputs kept as codes, their error measured through the dictionary it started from)"),
        ] + coderFields(\.coder, "the coder (default: threshold when `threshold X` is given, lasso with `alpha`, else omp)") + [
            .flag("patches", \.patches, "code whole images by their patches, pooled over a grid of regions (Coates and Ng): "
                  + "the codes become a data set of grid·grid·atoms features an image, with the images' labels"),
            .optionalInteger("size", \.size, in: 1...1_000, placeholder: "S", "patches: the patches' side, S·S·channels being the atoms' length"),
            .optionalInteger("stride", \.stride, in: 1...1_000, placeholder: "T", "patches: the step between patches, across and down (default 1)"),
            .optionalChoice("pool", \.pool, "patches: `max` keeps each atom's largest |code| in a region (the default), `sum` adds its codes"),
            .optionalInteger("grid", \.grid, in: 1...100, placeholder: "G", "patches: pool over G×G regions of the image (default 2)"),
        ]) { e, a throws(LoomError) in try e.encode(a) },
        .bind(Signature("show", "atoms", .sparse, summary: "A dictionary's atoms as an image grid, the most used first once codes "
                            + "have been made with it; or a dense layer's weights as images of the input (an encoder's units, a decoder's inputs).",
                        example: "show atoms D"), AtomsRequest(), [
            .name("source", \.source, .reference(.objects(SessionDictionary.self, ModelState.self)), placeholder: "D|M.LAYER",
                  "a dictionary, or a dense layer on the model's input (its units' weights) or with outputs of the input's size "
                  + "(its inputs' weights)"),
            .integer("first", \.first, in: 1...100_000, default: 49, "how many atoms to draw"),
        ]) { e, a throws(LoomError) in e.show(try e.showAtoms(a)) },
        .bind(Signature("show", "codes", .sparse, summary: "Relative error, nonzeros, atom usage, a spy plot and the learning curve of sparse codes.",
                        example: "show codes C"), CodesRequest(), [
            .name("codes", \.codes, .reference(.object(SessionCodes.self)), "sparse codes"),
            .optionalInteger("sample", \.sample, in: 1...1_000_000_000, narrowed: true, placeholder: "I",
                             "one sample (from 1): original, rebuilt, and its atoms with their weights"),
        ]) { e, a throws(LoomError) in e.show(try e.showCodes(a)) },
    ]

    /// The options that choose a coder over a dictionary, `encode`'s and
    /// `compare`'s: `method`'s doc says what happens when none is named.
    static func coderFields<S>(_ root: WritableKeyPath<S, CoderChoice> & Sendable, _ methodDoc: String) -> [Field<S>] {
        let fields: [Field<CoderChoice>] = [
            .optionalChoice("method", \.method, positional: true, methodDoc),
            .optionalInteger("sparsity", \.sparsity, in: 1...100_000, placeholder: "T", "omp: nonzeros per code"),
            .optionalNumber("error", \.error, placeholder: "E", "omp: stop a code once its relative error ‖x − αD‖/‖x‖ is this small"),
            .optionalNumber("alpha", \.alpha, in: .nonNegative, placeholder: "A", "lasso, ista, fista: the L1 penalty in ½‖x − αD‖² + alpha‖α‖₁"),
            .optionalInteger("iterations", \.iterations, in: 1...1_000_000, placeholder: "T",
                             "ista, fista: at most this many iterations (default \(Evaluator.proximalIterations))"),
            .optionalNumber("tolerance", \.tolerance, in: .belowOne, placeholder: "E",
                            "ista, fista: each sample stops once an iteration changes its objective by at most this share of it, or once an exact solve from its iterate (feature-sign steps, tried after 6 iterations and whenever its signs hold) passes the KKT conditions; 0 runs every iteration (default \(Evaluator.proximalTolerance))"),
            .optionalNumber("threshold", \.threshold, in: .nonNegative, "threshold: the cut-off for soft thresholding of Dx"),
            .flag("positive", \.positive, "lasso, ista, fista and threshold: only nonnegative coefficients"),
        ]
        return fields.map { $0.lifted(into: root, paths: CoderChoice.paths) }
    }

    /// `dictionary NAME = csv PATH …` and `npy PATH …`: atoms read from a file.
    static func dictionaryFile(_ format: String, _ pathDoc: String, summary: String) -> StatementBinding {
        .bind(Signature("dictionary", format, binds: true, .sparse, summary: summary,
                        example: "dictionary D = \(format) \"atoms.\(format)\" shape 8x8"), DictionaryFile(), [
            .string("path", \.path, pathDoc),
            .shape("shape", \.shape, "the shape of one sample, e.g. 8x8"),
            .flag("center", \.center, "the atoms code samples with their mean taken off"),
        ]) { e, a throws(LoomError) in try e.readDictionary(a) }
    }

    /// A random valid line of the form `title` (`train`, `show codes`),
    /// drawn from its fields; `given` sets some arguments' words by parameter
    /// name (nil leaves one out), as the fuzzers name what their programs
    /// define. Nil for a block form or an unknown title.
    public static func randomLine(_ title: String, given: [String: String?] = [:], random: inout SplitMix64) -> String? {
        bindings.first { $0.signature.title == title }?.lines?.draw(&random, given)
    }

    /// A line of one statement, read through its form's fields and written
    /// back: what the round-trip test compares with the line.
    public static func rewrite(_ line: String) throws(LoomError) -> String {
        guard case .command(let c)? = try Parser.parse(line).first,
              let lines = bindings.first(where: { $0.signature.title == c.signature.title })?.lines else {
            throw LoomError(.syntax, "`\(line)` is not one statement with arguments")
        }
        return try lines.rewrite(c, Evaluator(session: Session(), output: DiscardedOutput()))
    }

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

    /// The words no variable may use: those that begin statements, and
    /// layers (which may name objects, never variables).
    public static let wordsNoVariableMayUse = keywordSet.union(Layers.keywordSet)

    /// The forms of each keyword, computed once.
    static let formsByKeyword: [String: [Signature]] = Dictionary(grouping: all, by: \.keyword)
}

