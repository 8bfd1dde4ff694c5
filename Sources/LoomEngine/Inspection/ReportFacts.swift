/// What a layer shows of itself in reports, as values: the language draws
/// them (`show weights`, `show filters`, `show activations`) and computes
/// nothing. Every layer has the defaults below; a layer with more to show
/// (a convolution's filters, a recurrent cell's gates, k-winners' duty
/// cycles) states it beside its forward and backward.
public protocol ReportFacts {
    /// The grids `show weights` draws, in order, each with its title;
    /// empty for a layer without weights.
    var weightGrids: [ReportGrid] { get }
    /// Its filters as small images (`show filters`): one set, or one per
    /// position drawn for a layer with filters of its own at every position
    /// (locally connected); empty for a layer without.
    var filterImages: [FilterImages] { get }
    /// How often each unit has won in training; nil for a layer that does
    /// not track it.
    var dutyCycleSummary: DutyCycleSummary? { get }
    /// Its steps on `x` (the block's input) added to `earlier` (the trace
    /// of the samples before, or none): the hidden states, kept until `kept`
    /// samples are held, and each gate's mean at every step; nil for a layer
    /// without steps.
    func trace(_ x: Tensor, after earlier: RecurrentTrace?, keepingStatesOf kept: Int) -> RecurrentTrace?
    /// Whether its unshared count is its weights copied to every step of a
    /// sequence (a recurrent layer unrolled), as the sharing summary explains.
    var unrollsOverSteps: Bool { get }
    /// What its sharing is beyond the counts (an unshared twin, hashed
    /// weights), for the note under `summary`; nil for most layers.
    var sharingForm: SharingForm? { get }
    /// What a full conv2d between the same shapes would cost, for a layer
    /// that convolves channels in groups (grouped, depthwise, separable);
    /// nil for every other layer.
    var fullConvolution: FullConvolutionCost? { get }
}

/// A matrix a report draws, with its title: weights as a heatmap, or a
/// pattern (which entries are nonzero: a mask) as a spy plot.
public struct ReportGrid: Sendable, Equatable {
    public enum Kind: Sendable { case values, pattern }
    public let title: String
    public let kind: Kind
    public let rows: Int
    public let columns: Int
    /// `rows × columns`, row-major.
    public let values: [Double]

    public init(title: String, kind: Kind = .values, rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "ReportGrid: \(values.count) values for \(rows)x\(columns)")
        self.title = title
        self.kind = kind
        self.rows = rows
        self.columns = columns
        self.values = values
    }
}

extension ReportGrid {
    /// A weight as `rows` rows, titled for `layer` (and `label`, for a
    /// layer with several kernels), then, where it is pruned or sparse, its
    /// mask: the weights that train.
    public static func grids(of weight: Parameter, layer: String, label: String = "weights", rows: Int) -> [ReportGrid] {
        let columns = weight.value.count / rows
        let weights = ReportGrid(title: "\(layer) \(label), \(Shape.text(weight.value.shape))", rows: rows, columns: columns,
                                 values: weight.value.storage.map(Double.init))
        guard let mask = weight.mask else { return [weights] }
        let what = label == "weights" ? "the weights" : "the \(label)"
        return [weights, ReportGrid(title: "\(layer)'s mask: \(what) that train", kind: .pattern, rows: rows, columns: columns,
                                    values: mask.map(Double.init))]
    }
}

extension Layer {
    /// The first parameter (the kernel) as rows × its last dimension (a
    /// convolution's kernel: a row per kh·kw·C, a column per filter), then,
    /// where it is pruned or sparse, its mask: the weights that train.
    public var weightGrids: [ReportGrid] {
        guard let kernel = parameters.first else { return [] }
        return ReportGrid.grids(of: kernel, layer: name, rows: kernel.value.count / kernel.value.shape.last!)
    }
    public var filterImages: [FilterImages] { [] }
    public var dutyCycleSummary: DutyCycleSummary? { nil }
    public func trace(_ x: Tensor, after earlier: RecurrentTrace?, keepingStatesOf kept: Int) -> RecurrentTrace? { nil }
    public var unrollsOverSteps: Bool { false }
    public var sharingForm: SharingForm? { nil }
    public var fullConvolution: FullConvolutionCost? { nil }
}
