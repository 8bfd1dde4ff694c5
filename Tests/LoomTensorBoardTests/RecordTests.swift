import LoomTensorBoard
import XCTest

/// CRC-32C and TFRecord framing against published vectors and against
/// TensorBoard's own Python writer.
final class RecordTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        stride(from: 0, to: s.count, by: 2).map { UInt8(s.dropFirst($0).prefix(2), radix: 16)! }
    }

    func testCRC32CMatchesThePublishedVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        // RFC 3720, appendix B.4.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    /// Values from `tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c`.
    func testMaskedCRCMatchesTensorBoards() {
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.masked([UInt8]()), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked([5, 0, 0, 0, 0, 0, 0, 0]), 0x3E04_B2EA)
    }

    /// `RecordWriter(BytesIO()).write(b"hello")` in tensorboard.summary.writer.record_writer.
    func testAFramedRecordIsTensorBoardsBytes() {
        XCTAssertEqual(TFRecord.frame(Array("hello".utf8)), hex("0500000000000000eab2043e68656c6c6fbb1f1c19"))
    }

    func testRecordsReadBackAndDamageIsNamed() throws {
        let records: [[UInt8]] = [Array("first".utf8), [], Array(repeating: 7, count: 300)]
        let bytes = records.flatMap(TFRecord.frame)
        XCTAssertEqual(try TFRecord.records(in: bytes), records)
        var damaged = bytes
        damaged[14] ^= 1  // the first record's data
        XCTAssertThrowsError(try TFRecord.records(in: damaged)) { XCTAssertEqual($0 as? TFRecordError, .badDataChecksum(record: 0)) }
        damaged = bytes
        damaged[21 + 2] ^= 1  // the second record's length
        XCTAssertThrowsError(try TFRecord.records(in: damaged)) { XCTAssertEqual($0 as? TFRecordError, .badLengthChecksum(record: 1)) }
        XCTAssertThrowsError(try TFRecord.records(in: Array(bytes.dropLast()))) {
            XCTAssertEqual($0 as? TFRecordError, .cutShort(record: 2))
        }
    }
}
