/// TFRecord framing, the container of TensorBoard event files: each record
/// is its length (8 bytes, little-endian), the masked CRC-32C of those 8
/// bytes, the data, and the masked CRC-32C of the data.
public enum TFRecord {
    /// `data` framed as one record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    /// The records of a file's bytes, every checksum checked; the error
    /// names the first record that is cut short or fails its checksum.
    public static func records(in bytes: [UInt8]) throws(TFRecordError) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 12 else { throw .cutShort(record: records.count) }
            let header = Array(bytes[at..<at + 8])
            guard readUInt32(bytes, at + 8) == CRC32C.masked(header) else { throw .badLengthChecksum(record: records.count) }
            let length = header.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= UInt64(bytes.count - at - 16) else { throw .cutShort(record: records.count) }
            let start = at + 12, end = start + Int(length)
            let data = Array(bytes[start..<end])
            guard readUInt32(bytes, end) == CRC32C.masked(data) else { throw .badDataChecksum(record: records.count) }
            records.append(data)
            at = end + 4
        }
        return records
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << ($1 * 8) }
    }
}

/// Why bytes are not whole TFRecords (records counted from 0).
public enum TFRecordError: Error, Equatable {
    case cutShort(record: Int)
    case badLengthChecksum(record: Int)
    case badDataChecksum(record: Int)
}
