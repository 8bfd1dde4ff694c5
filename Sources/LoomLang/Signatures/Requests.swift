import LoomEngine
import LoomRender

// What each statement form's fields fill (see `Statements`): one small
// struct per shape of arguments. The values here are blanks that reading
// a line overwrites; defaults are declared once, on the fields.

/// `print`, `warn`: values, evaluated in order when written.
struct Values: Sendable { var values: [Expr] = [] }

/// One setting or number: `seed N`, `set width N`, `sleep X`.
struct Setting<V: Sendable>: Sendable { var value: V }

struct Topic: Sendable { var topic: Name? }

/// `delete NAME`, `show NAME`.
struct NameRequest: Sendable { var name = Name() }

struct RecordRequest: Sendable {
    var table = Name()
    var values: [Expr] = []
}

/// `data … = csv`, `idx` and `npy`: a file of samples, and perhaps of labels or targets.
struct FileData: Sendable {
    var path = ""
    var labels: String?
    var targets: String?
    var label = CSVLoader.LabelColumn.last
    var shape: [Int]?
    var scale = 0.0
}

/// `glyphs`, `patches`: square images.
struct Images: Sendable {
    var n = 0, size = 0
    var noise = 0.0
}

/// `sines`, `adding`: sequences.
struct SequenceData: Sendable {
    var n = 0, steps = 0, classes = 0
    var noise = 0.0
    var target = Sequences.SineTarget.classes
}

struct SplitRequest: Sendable {
    var data = Name()
    var train = 0.0
}

/// `summary`, `rewind`, `show pruning`.
struct ModelRequest: Sendable { var model = Name() }

struct CopyRequest: Sendable {
    var model = Name()
    var fresh = false
}

/// `target inputs`: measure (or train on) reconstructions of the inputs.
enum TargetChoice: String, Sendable, CaseIterable { case inputs }

struct TrainRequest: Sendable {
    var model = Name(), on = Name()
    var epochs = 0, batch = 0
    var optimizer = OptimizerKind.adam
    var lr: Double?
    var loss = Loss.crossentropy
    var target: TargetChoice?
    var validate: Name?
    var patience: Int?
    var monitor = Monitor.loss
    var restore = false
    var checkpoint: String?
    var schedule: LearningRateSchedule?
}

/// `evaluate`, `predict`: a model on data.
struct MeasureRequest: Sendable {
    var model = Name(), on = Name()
    var first = 0
    var mistakes = false
    var target: TargetChoice?
}

struct CompareRequest: Sendable {
    var models: [Name] = []
    var on = Name()
    var target: TargetChoice?
}

struct PruneRequest: Sendable {
    var model = Name()
    var amount = 0.0
    var layer: Name?
    var global = false
}

/// `save`, `load`: a name and a file.
struct FileRequest: Sendable {
    var name = Name()
    var path = ""
}

/// `show weights`, `filters`, `histogram`: a model's layer.
struct LayerRequest: Sendable { var layer = Name() }

struct SparsityRequest: Sendable {
    var model = Name()
    var on: Name?
}

struct TableRequest: Sendable {
    var table = Name()
    var x: Name?, y: Name?, by: Name?
}

struct ActivationsRequest: Sendable {
    var layer = Name(), on = Name()
    var first = 0
}

struct LearnRequest: Sendable {
    var data = Name()
    var atoms = 0
    var sparsity: Int?
    var alpha: Double?
    var method = DictionaryLearning.Method.ksvd
    var iterations = 0, batch = 0
    var tolerance = 0.0
    var center = false
}

/// `dictionary … = csv` and `npy`: atoms from a file.
struct DictionaryFile: Sendable {
    var path = ""
    var shape: [Int]?
    var center = false
}

struct EncodeRequest: Sendable {
    var data = Name(), with = Name()
    var method: SparseMethod?
    var sparsity: Int?
    var error: Double?, alpha: Double?, threshold: Double?
    var positive = false
}

struct AtomsRequest: Sendable {
    var dictionary = Name()
    var first = 0
}

struct CodesRequest: Sendable {
    var codes = Name()
    var sample: Int?
}
