/// Why a data file could not be loaded: the file, and where in it.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Loading stopped because its `shouldStop` said so (the user interrupted).
    public static let interrupted = DataError("interrupted while loading")
    public var isInterrupted: Bool { self == DataError.interrupted }
}
