/// Why a data file could not be loaded: the file, and where in it.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
