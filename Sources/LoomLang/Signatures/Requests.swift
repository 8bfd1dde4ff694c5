import LoomEngine
import LoomRender

// What each statement form's fields fill (see `Statements`): one small
// struct per shape of arguments, shared by the forms that take it. The
// values here are blanks that reading a line overwrites; defaults are
// declared once, on the fields.

/// `print`, `warn`: values, evaluated in order when written.
struct Values: Sendable { var values: [Expr] = [] }
/// One setting or number: `seed N`, `set width N`, `sleep X`.
struct Setting<V: Sendable>: Sendable { var value: V }
struct Topic: Sendable { var topic: Name? }
/// `delete NAME`, `show NAME`.
struct NameRequest: Sendable { var name = Name() }
struct RecordRequest: Sendable { var table = Name(), values: [Expr] = [] }

/// `data … = csv`, `idx` and `npy`: a file of samples, and perhaps of labels or targets.
struct FileData: Sendable {
    var path = "", labels: String?, targets: String?
    var label = CSVLoader.LabelColumn.last, shape: [Int]?, scale = 0.0
}

/// `npz`: an archive of arrays, picked by key.
struct ArchiveData: Sendable { var path = "", samples: String?, labels: String?, targets: String? }

/// `glyphs`: square images.
struct Images: Sendable { var n = 0, size = 0, noise = 0.0 }
/// `patches`: synthetic, or cut from photographs (`from`).
struct PatchData: Sendable {
    var from: [String]?, n = 0, size = 0, stride: Int?, noise = 0.0, center = false, whiten = false, colour = false
}
/// `images`: a folder of photographs, a subfolder per class.
struct ImageFolderData: Sendable { var path = "", size: [Int]?, colour = false }
/// `sines`, `adding`: sequences.
struct SequenceData: Sendable { var n = 0, steps = 0, classes = 0, noise = 0.0, target = Sequences.SineTarget.classes }
struct SplitRequest: Sendable { var data = Name(), train = 0.0 }
/// `mnist`: a published data set from a folder, the cache or its mirrors.
struct PublishedData: Sendable { var fashion = false, n: Int?, path: String? }

/// `summary`, `rewind`, `show pruning`.
struct ModelRequest: Sendable { var model = Name() }
struct CopyRequest: Sendable { var model = Name(), fresh = false }

/// `target inputs`: measure (or train on) reconstructions of the inputs.
enum TargetChoice: String, Sendable, CaseIterable { case inputs }

struct TrainRequest: Sendable {
    var model = Name(), on = Name(), epochs = 0, batch = 0, optimizer = OptimizerKind.adam, lr: Double?
    /// AdamW's decoupled weight decay (`decay WD`), nil for its default.
    var decay: Double?
    /// `inputs` (a reconstruction) or the name of codes to match.
    var loss = Loss.crossentropy, target: Name?, validate: Name?
    var patience: Int?, monitor = Monitor.loss, restore = false, checkpoint: String?, schedule: LearningRateSchedule?
    var prune: GradualPruneRequest?, keep: [Int]?
    var rewire: Rewiring?
    /// A TensorBoard log folder, and how often (in epochs) it gets the weights' histograms.
    var log: String?, histograms: Int?
}

/// `prune to P% [from E1] [to E2] [every N] [global]` on `train`: gradual
/// magnitude pruning (see `GradualPruning`); epochs of this `train`, from 1.
struct GradualPruneRequest: Sendable, Equatable {
    var target = 0.0, from: Int?, to: Int?, every: Int?, global = false
}

/// `rewind M [to epoch E]`.
struct RewindRequest: Sendable { var model = Name(), to: Int? }

/// `evaluate`, `predict`: a model on data (`noise`: the share of each sample's values replaced, see `InputNoise`).
struct MeasureRequest: Sendable { var model = Name(), on = Name(), first = 0, mistakes = false, target: TargetChoice?, noise = 0.0 }
/// `compare`: models, or sparse coders with `encode`'s coder options for their dictionaries.
struct CompareRequest: Sendable {
    var models: [Name] = [], on = Name(), target: TargetChoice?, noise = 0.0, coder = CoderChoice()
}
struct PruneRequest: Sendable {
    var model = Name(), amount = PruneAmount.share(0), structure: PruneStructure?, layer: Name?, global = false
}

/// What structured pruning removes whole: dense units or conv2d filters.
enum PruneStructure: String, Sendable, CaseIterable { case units, filters }
/// `cluster`: a model's kernels (or one layer's) to `count` shared values each.
struct ClusterRequest: Sendable { var model = Name(), count = 2, layer: Name? }

/// What `prune` takes: a share of the weights to zero (`80%`), or an N:M
/// pattern (`2:4`: N kept of every M consecutive inputs of each unit).
enum PruneAmount: Sendable, Equatable {
    case share(Double)
    case pattern(kept: Int, block: Int)

    /// The widest block a pattern takes.
    static let largestBlock = BlockPattern.largestBlock

    /// As a line writes it: `0.8`, `2:4`.
    var text: String {
        switch self {
        case .share(let f): return Field<Int>.numberText(f)
        case .pattern(let n, let m): return "\(n):\(m)"
        }
    }
}
/// `save`, `load`: a name and a file.
struct FileRequest: Sendable { var name = Name(), path = "" }

/// `export`: a model and the file it is written to.
struct ExportRequest: Sendable { var model = Name(), path = "" }

/// `show weights`, `filters`, `histogram`: a model's layer.
struct LayerRequest: Sendable { var layer = Name() }
struct SparsityRequest: Sendable { var model = Name(), on: Name? }
struct TableRequest: Sendable { var table = Name(), x: Name?, y: Name?, by: Name? }
struct ActivationsRequest: Sendable { var layer = Name(), on = Name(), first = 0 }

struct LearnRequest: Sendable {
    var data = Name(), atoms = 0, sparsity: Int?, alpha: Double?, method = DictionaryLearning.Method.ksvd
    var iterations = 0, batch = 0, tolerance = 0.0, center = false
}

/// `dictionary … = csv` and `npy`: atoms from a file.
struct DictionaryFile: Sendable { var path = "", shape: [Int]?, center = false }

/// How a dictionary codes, as `encode` and `compare` take it: the coder
/// and its options, declared once for both (`Statements.coderFields`).
struct CoderChoice: Sendable, Equatable {
    var method: SparseMethod?, sparsity: Int?, error: Double?, alpha: Double?, threshold: Double?, positive = false
    var iterations: Int?, tolerance: Double?

    /// Every option's key path: a request's key paths through its `CoderChoice` are recognised by them.
    static let paths: [PartialKeyPath<CoderChoice> & Sendable] = [\.method, \.sparsity, \.error, \.alpha, \.threshold,
                                                                   \.positive, \.iterations, \.tolerance]
}

struct EncodeRequest: Sendable {
    var data = Name(), with = Name(), coder = CoderChoice()
    /// `patches size S [stride T] [pool max|sum] [grid G]`: pooled patch codes of whole images.
    var patches = false, size: Int?, stride: Int?, pool: PatchPooling.Pool?, grid: Int?
}

/// `show atoms D` or `show atoms M.LAYER`.
struct AtomsRequest: Sendable { var source = Name(), first = 0 }
/// `show reconstructions M on DATA`.
struct ReconstructionsRequest: Sendable { var model = Name(), on = Name(), first = 0 }
struct CodesRequest: Sendable { var codes = Name(), sample: Int? }
