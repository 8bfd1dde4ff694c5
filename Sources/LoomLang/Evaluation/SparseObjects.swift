import LoomCore
import LoomEngine
import LoomRender

/// A dictionary in the session: its atoms, the shape of the samples they
/// code, and how it came to be.
public final class SessionDictionary: SessionObject {
    public let dictionary: SparseDictionary
    /// One sample's shape (`8x8x1`): atoms are drawn in it.
    public let sampleShape: [Int]
    /// Whether each sample's mean is taken off before coding (`learn … center`).
    public let centered: Bool
    /// `learned by ksvd on pix`, `read from atoms.csv`.
    public let origin: String
    /// The learning run's relative error after each iteration (empty when read from a file).
    public let costs: [Double]
    /// How many codes use each atom, in the latest codes made with it.
    public var usage: [Int]?
    /// How `learn` coded the signals (`sparsity 5`, `alpha 0.1`): the coder
    /// `compare` uses when none is stated; nil for atoms read from a file.
    public let coding: DictionaryLearning.Coding?

    init(_ dictionary: SparseDictionary, sampleShape: [Int], centered: Bool, origin: String, costs: [Double] = [],
         usage: [Int]? = nil, coding: DictionaryLearning.Coding? = nil) {
        self.dictionary = dictionary
        self.sampleShape = sampleShape
        self.centered = centered
        self.origin = origin
        self.costs = costs
        self.usage = usage
        self.coding = coding
    }

    /// The coder `coding` stands for, as a line writes it: `omp sparsity 5`, `lasso alpha 0.1`.
    var learnedCoder: (encoder: SparseEncoder, text: String)? {
        switch coding {
        case .sparsity(let t)?: return (DictionaryLearning.Coding.sparsity(t).encoder, "omp sparsity \(t)")
        case .lasso(let alpha)?: return (DictionaryLearning.Coding.lasso(alpha: alpha).encoder, "lasso alpha \(NumberFormat.short(alpha))")
        case nil: return nil
        }
    }

    public static let kind = "dictionary"
    public static let noun = "dictionary"
    public var bytes: Int { dictionary.atoms.count * 4 }
    public var describe: String {
        "\(dictionary.count) atoms of \(Shape.text(sampleShape)), \(origin)" + (centered ? ", centred" : "")
            + (costs.last.map { ", relative error \(NumberFormat.fixed($0, decimals: 4))" } ?? "")
    }
    public func display(as name: String, width: Int) -> [MimeBundle] { [line(as: name)] }
    public func savedFile(as name: String) -> SavedFile? { saved.file }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }

    /// The signals a data set's samples are for this dictionary: one row a
    /// sample, centred when the dictionary is.
    func signals(_ data: Dataset) -> Tensor {
        let x = data.inputs.reshaped([data.count, data.inputs.sampleSize])
        return centered ? Self.centering(x) : x
    }

    /// Each row minus its mean.
    static func centering(_ x: Tensor) -> Tensor {
        var x = x
        let n = x.sampleSize
        for i in 0..<x.batch {
            let mean = x.storage[(i * n)..<((i + 1) * n)].reduce(0, +) / Float(n)
            for j in (i * n)..<((i + 1) * n) { x.storage[j] -= mean }
        }
        return x
    }

    /// An atom or sample of `sampleShape` as an image (see `pictureShape`).
    var imageShape: (rows: Int, columns: Int) { pictureShape(sampleShape) }
}

/// A sample of `shape` as an image: height × width of an image shape, a
/// square for a square length, else one row.
func pictureShape(_ shape: [Int]) -> (rows: Int, columns: Int) {
    if shape.count >= 2, shape.dropFirst(2).allSatisfy({ $0 == 1 }) { return (shape[0], shape[1]) }
    let n = shape.reduce(1, *)
    let side = Int(Double(n).squareRoot().rounded())
    return side * side == n ? (side, side) : (1, n)
}

/// Codes of a data set over a dictionary, with what made them.
public final class SessionCodes: SessionObject {
    public let codes: SparseCodes
    public let dictionary: SessionDictionary
    public let dictionaryName: String
    public let dataName: String
    /// The signals coded (centred when the dictionary is), for errors and reconstructions.
    public let signals: Tensor
    /// The coder as written: `omp sparsity 5`.
    public let coder: String
    public let seconds: Double
    /// The targets of the data coded, a sample's beside its code, so the
    /// codes can be trained and measured on as a data set (`data`).
    public let targets: Targets
    public let classNames: [String]?

    init(_ codes: SparseCodes, dictionary: SessionDictionary, dictionaryName: String, dataName: String, signals: Tensor,
         coder: String, seconds: Double, of data: Dataset) {
        self.codes = codes
        self.dictionary = dictionary
        self.dictionaryName = dictionaryName
        self.dataName = dataName
        self.signals = signals
        self.coder = coder
        self.seconds = seconds
        // A reconstruction's targets were the data's inputs, not the codes': none are kept.
        if case .inputs = data.targets { targets = .none } else { targets = data.targets }
        classNames = data.classNames
    }

    /// The codes as a data set: one sample a code (`[samples, atoms]`, the
    /// codes' storage shared), with the labels or values of the data coded.
    public var data: Dataset {
        var data = Dataset(inputs: Tensor(shape: [codes.samples, codes.atoms], storage: codes.values), targets: targets)
        data.classNames = classNames
        return data
    }

    /// The codes of samples `indices` with their signals and targets, made
    /// the same way (`split C`); `dataName` names the part they came from.
    func subset(_ indices: [Int], dataName: String) -> SessionCodes {
        let part = data.subset(indices)
        return SessionCodes(codes.subset(indices), dictionary: dictionary, dictionaryName: dictionaryName, dataName: dataName,
                            signals: signals.gathering(samples: indices), coder: coder, seconds: seconds, of: part)
    }

    public static let kind = "codes"
    /// The codes and the signals they code (which may share a data set's storage: counted anyway).
    public var bytes: Int { codes.values.count * 4 + signals.storage.count * 4 }
    public static let noun = "set of codes"

    public lazy var relativeError: Double = SparseCoding.relativeError(signals, codes, dictionary.dictionary)
    public var meanNonzeros: Double { codes.meanNonzeros }

    public var describe: String {
        "\(NumberFormat.grouped(codes.samples)) codes of \(dataName) over \(dictionaryName) (\(coder)): "
            + "\(NumberFormat.fixed(meanNonzeros, decimals: 1)) nonzeros each, relative error \(NumberFormat.fixed(relativeError, decimals: 4))"
    }

    public func display(as name: String, width: Int) -> [MimeBundle] { [line(as: name)] }
    /// The codes as the data set `data` is (`load` reads it back as one), so
    /// that other programs can compare them with a solver's.
    public func savedFile(as name: String) -> SavedFile? {
        guard let file = SessionDataset(data).savedFile(as: name) else { return nil }
        return SavedFile(bytes: file.bytes, summary: "\(NumberFormat.grouped(codes.samples)) codes over \(dictionaryName) as a data set")
    }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }
}

extension SessionDictionary: SavedKind {
    static let format = "loom-dictionary-1"

    /// The atoms as `atoms` (atoms × values, scikit-learn's `components_`),
    /// the sample shape, centring, origin and learning curve in the metadata.
    var saved: SavedObject {
        SavedObject(format: Self.format,
                    tensors: [("atoms", Tensor(shape: [dictionary.count, dictionary.length], storage: dictionary.atoms))],
                    metadata: [("loom.shape", Shape.text(sampleShape)), ("loom.centered", centered ? "true" : "false"),
                               ("loom.origin", origin), ("loom.costs", costs.map { String($0) }.joined(separator: ","))]
                        + (coding.map { [("loom.coding", Self.codingText($0))] } ?? []),
                    summary: "\(dictionary.count) atoms of \(Shape.text(sampleShape))")
    }

    static func restore(tensors: [String: Tensor], metadata: [String: String], name: String, path: String,
                        evaluator: Evaluator, at range: SourceRange) throws(LoomError) -> SessionDictionary {
        guard let atoms = tensors["atoms"], atoms.shape.count == 2, atoms.shape[0] > 0, atoms.shape[1] > 0 else {
            throw LoomError(.value, "\(path) does not hold a dictionary's atoms (a 2-D tensor `atoms`)", at: range)
        }
        let shape = try sampleShape(metadata["loom.shape"], length: atoms.shape[1], source: path, at: range)
        let dictionary = try checkedDictionary(atoms.storage, count: atoms.shape[0], length: atoms.shape[1], source: path,
                                               at: range, evaluator: evaluator)
        // A learning curve holds relative errors: finite and not negative.
        let costs = (metadata["loom.costs"] ?? "").split(separator: ",").compactMap { Double($0) }.filter { $0.isFinite && $0 >= 0 }
        return SessionDictionary(dictionary, sampleShape: shape, centered: metadata["loom.centered"] == "true",
                                 origin: metadata["loom.origin"] ?? "loaded from \(path)", costs: costs,
                                 coding: metadata["loom.coding"].flatMap(codingRead))
    }

    /// `loom.coding` as `save` writes it: `sparsity 5` or `alpha 0.1`.
    static func codingText(_ coding: DictionaryLearning.Coding) -> String {
        switch coding {
        case .sparsity(let t): return "sparsity \(t)"
        case .lasso(let alpha): return "alpha \(alpha)"
        }
    }

    /// The coding a saved `loom.coding` names; nil for anything else (the
    /// dictionary then has no coder of its own, as one read from a file).
    static func codingRead(_ text: String) -> DictionaryLearning.Coding? {
        let words = text.split(separator: " ")
        guard words.count == 2 else { return nil }
        if words[0] == "sparsity", let t = Int(words[1]), t > 0, t <= 100_000 { return .sparsity(t) }
        if words[0] == "alpha", let alpha = Double(words[1]), alpha.isFinite, alpha > 0 { return .lasso(alpha: alpha) }
        return nil
    }

    /// The sample shape a saved dictionary's `loom.shape` names: positive
    /// sizes holding `length` values in all; one row of `length` when absent.
    static func sampleShape(_ text: String?, length: Int, source: String, at range: SourceRange) throws(LoomError) -> [Int] {
        guard let text, !text.isEmpty else { return [length] }
        let dims = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        guard dims.allSatisfy({ $0 > 0 }), Shape.count(dims) == length else {
            throw LoomError(.value, "\(source): loom.shape `\(text.prefix(40))` is not a shape of positive sizes holding the "
                            + "\(length) values of an atom", at: range)
        }
        return dims
    }

    /// Atoms from outside, checked: some atoms of some values, all finite,
    /// none all zeros; scaled to unit norm with a note when they were not.
    static func checkedDictionary(_ values: [Float], count: Int, length: Int, source: String, at range: SourceRange,
                                  evaluator: Evaluator) throws(LoomError) -> SparseDictionary {
        guard count > 0, length > 0, values.count == count * length else {
            throw LoomError(.value, "\(source) holds \(count) atoms of \(length) values: a dictionary needs atoms with values",
                            at: range)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw LoomError(.value, "\(source): atom \(bad / length + 1) holds a value that is not a finite number", at: range)
        }
        var dictionary = SparseDictionary(atoms: values, count: count, length: length)
        if let zero = dictionary.norms.firstIndex(of: 0) {
            throw LoomError(.value, "\(source): atom \(zero + 1) is all zeros, so it cannot be scaled to unit norm", at: range)
        }
        // Atoms already of unit norm (as `save` writes them) are kept bit for bit.
        var scaled = 0
        if dictionary.norms.contains(where: { abs($0 - 1) > 1e-5 }) {
            guard let count = dictionary.normalize() else {
                throw LoomError(.value, "\(source): an atom cannot be scaled to unit norm", at: range)
            }
            scaled = count
        }
        if scaled > 0 {
            evaluator.output.stream(.stderr, "note: \(scaled) of the \(count) atoms in \(source) were not of unit norm; "
                                    + "they were scaled to it\n")
        }
        guard let coherence = dictionary.coherence(shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "interrupted by the user while comparing the atoms of \(source); nothing was defined", at: range)
        }
        if count > 1, coherence > 0.9999 {
            evaluator.output.stream(.stderr, "note: two atoms in \(source) are the same up to sign; OMP will use at most one of them\n")
        }
        return dictionary
    }
}
