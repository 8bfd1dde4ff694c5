import XCTest
import LoomEngine

/// Unsigned-byte IDX pixels become `Float(b) / 255` exactly, however many
/// there are and however many threads convert them.
final class IDXScalingTests: XCTestCase {
    func idx(_ values: [UInt8]) -> [UInt8] {
        let n = values.count
        return [0, 0, 0x08, 1, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + values
    }

    func testEveryByteIsDividedBy255() throws {
        let bytes = (0..<256).map(UInt8.init)
        let (shape, values) = try IDXLoader.array(idx(bytes), source: "t")
        XCTAssertEqual(shape, [256])
        for b in 0..<256 { XCTAssertEqual(values[b].bitPattern, (Float(b) / 255).bitPattern, "byte \(b)") }
    }

    func testLargeFilesConvertTheSameOnTwoThreads() throws {
        let old = Parallel.threads
        defer { Parallel.setThreads(old) }
        Parallel.setThreads(2)
        let bytes = (0..<9_000_001).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let values = try IDXLoader.array(idx(bytes), source: "t").values
        XCTAssertEqual(values.count, bytes.count)
        for i in stride(from: 0, to: bytes.count, by: 997) {
            XCTAssertEqual(values[i], Float(bytes[i]) / 255, "value \(i)")
        }
        XCTAssertEqual(values.last, Float(bytes.last!) / 255)
    }
}
