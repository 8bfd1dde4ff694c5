/// Bytes written and read back in the same order: how a parallel loop's
/// iterations travel between ranks (lengths and numbers as 8 bytes, little-endian).
public struct Packet {
    public private(set) var bytes: [UInt8] = []
    private var offset = 0

    public init() {}
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset >= bytes.count }

    mutating func write(_ n: UInt64) { bytes += (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } }
    mutating func write(_ n: Int) { write(UInt64(bitPattern: Int64(n))) }
    mutating func write(_ x: Double) { write(x.bitPattern) }
    mutating func write(_ text: String) {
        write(text.utf8.count)
        bytes += text.utf8
    }

    /// The next 8 bytes as a number; 0 past the end (the writer and the
    /// reader are the same program, so that never happens).
    mutating func readWord() -> UInt64 {
        guard offset + 8 <= bytes.count else { return 0 }
        defer { offset += 8 }
        return (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }
    mutating func readInt() -> Int { Int(Int64(bitPattern: readWord())) }
    mutating func readDouble() -> Double { Double(bitPattern: readWord()) }
    mutating func readString() -> String {
        let count = min(max(0, readInt()), bytes.count - offset)
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }
}
