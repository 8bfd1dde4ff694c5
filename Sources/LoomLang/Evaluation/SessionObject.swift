import LoomCore
import LoomEngine

/// Something a session holds under a name besides a plain value: a data set,
/// a model, a dictionary, codes, a results table, a kept result. `list`, bare
/// names, `show NAME`, `save`, fields, type errors and completion work from
/// this alone, so a new kind of object is one type conforming here (and to
/// `SavedKind` to be loaded). Every member is a requirement: a kind that
/// forgets one does not compile.
public protocol SessionObject: AnyObject {
    /// The kind as `list` shows it: `data`, `model`.
    static var kind: String { get }
    /// The kind as a sentence names it: `data set`.
    static var noun: String { get }
    /// One line of what it holds, for `list` and a bare name.
    var describe: String { get }
    /// The memory it holds, in bytes: what `set memory` bounds, summed over
    /// the session, and what `list` shows.
    var bytes: Int { get }
    /// What a line holding only its name shows, and `show NAME`: the last
    /// display is a bare name's result, the others are shown before it.
    func display(as name: String, width: Int) -> [MimeBundle]
    /// What `save NAME PATH` writes, or nil when this kind is not saved.
    func savedFile(as name: String) -> SavedFile?
    /// The facts `NAME.FIELD` reads (`m.params`, `r.accuracy`), for messages and completion.
    var fieldNames: [String] { get }
    func field(_ name: String) -> Value?
    /// The parts `NAME.PART` names (a model's layers: `cnn.conv1`), for
    /// completion and Shift-Tab; empty for a kind without parts.
    var partNames: [String] { get }
    /// One line on a part, for Shift-Tab; nil when there is no such part.
    func describePart(_ name: String) -> String?
}

extension SessionObject {
    var kindName: String { Self.kind }
    var kindNoun: String { Self.noun }

    /// `NAME: KIND, DESCRIPTION`: what a bare name shows of most kinds.
    func line(as name: String) -> MimeBundle { MimeBundle(text: "\(name): \(Self.kind), \(describe)") }
}

/// A file as `save` writes it, and the line it prints.
public struct SavedFile {
    public var bytes: [UInt8]
    /// What was saved, for `Saved … to PATH`.
    public var summary: String
}

/// An object as a safetensors file holds it: its tensors by name, metadata,
/// and the format that says which kind reads it back.
public struct SavedObject {
    public var format: String
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [(String, String)]
    /// The line `save` prints: what was saved, without the path.
    public var summary: String

    /// The safetensors file, its format and Loom's version in the metadata;
    /// masked and clustered weights in the compact layout (`CompactWeights`).
    var file: SavedFile {
        let (stored, metadata) = storedForm
        return SavedFile(bytes: SafeTensors.encode(stored: stored, metadata: metadata), summary: summary)
    }

    /// The size of `file`, counted without writing it.
    var fileSize: Int {
        let (stored, metadata) = storedForm
        return SafeTensors.fileSize(stored: stored, metadata: metadata)
    }

    /// The tensors as stored and the whole metadata, the layout's among it.
    private var storedForm: (tensors: [(name: String, tensor: StoredTensor)], metadata: [(String, String)]) {
        let (stored, layout) = CompactWeights.pack(tensors)
        var metadata = [(SavedKinds.formatKey, format)] + metadata + [("loom.version", LoomLangVersion.value)]
        if let layout { metadata.append((CompactWeights.layoutKey, layout)) }
        return (stored, metadata)
    }
}

/// A kind `load` can rebuild from a file `save` wrote.
protocol SavedKind: SessionObject, SendableMetatype {
    /// The value of the file's `loom.format` metadata for this kind.
    static var format: String { get }
    /// What `save` writes as safetensors.
    var saved: SavedObject { get }
    /// The object the file holds; `name` is what it will be bound to. Checks
    /// everything before returning, so a bad file binds nothing.
    static func restore(tensors: [String: Tensor], metadata: [String: String], name: String, path: String,
                        evaluator: Evaluator, at range: SourceRange) throws(LoomError) -> Self
}

/// The kinds `load` knows, by format.
enum SavedKinds {
    static let formatKey = "loom.format"
    static let all: [any SavedKind.Type] = [ModelState.self, SessionDataset.self, SessionDictionary.self]

    static func kind(for format: String) -> (any SavedKind.Type)? { all.first { $0.format == format } }
}

/// A data set in the session.
public final class SessionDataset: SessionObject {
    public let data: Dataset
    public init(_ data: Dataset) { self.data = data }

    public static let kind = "data"
    public static let noun = "data set"
    public var describe: String { "\(data.count) samples of \(Shape.text(data.sampleShape)), \(data.targets.phrase)" }
    public var bytes: Int { data.bytes }
    public func display(as name: String, width: Int) -> [MimeBundle] { [line(as: name)] }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }
}
