import LoomEngine

/// Something a session holds under a name besides a plain value: a data set,
/// a model, and whatever kind comes next (a dictionary, codes). `list`, bare
/// names, type errors and `save` work from this alone, so a new kind of
/// object is one type conforming here (and to `SavedKind` to be loaded).
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
    /// What `save` writes; nil when this kind is not saved.
    var saved: SavedObject? { get }
    /// The facts `NAME.FIELD` reads (`m.params`, `r.accuracy`), for messages and completion.
    var fieldNames: [String] { get }
    func field(_ name: String) -> Value?
}

extension SessionObject {
    public static var noun: String { kind }
    public var fieldNames: [String] { [] }
    public func field(_ name: String) -> Value? { nil }
    var kindName: String { Self.kind }
    var kindNoun: String { Self.noun }
}

/// An object as a safetensors file holds it: its tensors by name, metadata,
/// and the format that says which kind reads it back.
public struct SavedObject {
    public var format: String
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [(String, String)]
    /// The line `save` prints: what was saved, without the path.
    public var summary: String
}

/// A kind `load` can rebuild from a file `save` wrote.
protocol SavedKind: SessionObject {
    /// The value of the file's `loom.format` metadata for this kind.
    static var format: String { get }
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
}
