import LoomCore

/// A tensor as a safetensors file stores it: 32-bit floats (`F32`), or bytes
/// (`U8`, the packed indices of the compact layout, see `CompactWeights`).
public enum StoredTensor: Sendable, Equatable {
    case floats(Tensor)
    case bytes([UInt8])

    /// The safetensors dtype.
    public var dtype: String {
        switch self {
        case .floats: return "F32"
        case .bytes: return "U8"
        }
    }

    public var shape: [Int] {
        switch self {
        case .floats(let t): return t.shape
        case .bytes(let b): return [b.count]
        }
    }

    /// Bytes of data in the file.
    public var byteCount: Int {
        switch self {
        case .floats(let t): return t.count * 4
        case .bytes(let b): return b.count
        }
    }
}

/// The safetensors format: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, free-form string
/// metadata under `__metadata__`, then the raw little-endian data.
public enum SafeTensors {
    /// The file's bytes for float `tensors` (written in the order given) and `metadata`.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [(String, String)]) -> [UInt8] {
        encode(stored: tensors.map { ($0.name, .floats($0.tensor)) }, metadata: metadata)
    }

    /// The file's bytes for `tensors` of any dtype Loom writes, in the order given.
    public static func encode(stored tensors: [(name: String, tensor: StoredTensor)], metadata: [(String, String)]) -> [UInt8] {
        let (headerBytes, dataSize) = header(tensors, metadata: metadata)
        let n = UInt64(headerBytes.count)
        var out = (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + headerBytes
        out.reserveCapacity(out.count + dataSize)
        for (_, tensor) in tensors {
            switch tensor {
            // Float32, little-endian on every target Loom builds for.
            case .floats(let t): t.storage.withUnsafeBytes { out.append(contentsOf: $0) }
            case .bytes(let b): out.append(contentsOf: b)
            }
        }
        return out
    }

    /// The size of the file `encode` writes for the same tensors, counted
    /// without copying their data.
    public static func fileSize(stored tensors: [(name: String, tensor: StoredTensor)], metadata: [(String, String)]) -> Int {
        let (headerBytes, dataSize) = header(tensors, metadata: metadata)
        return 8 + headerBytes.count + dataSize
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes, and the bytes of data it describes.
    private static func header(_ tensors: [(name: String, tensor: StoredTensor)], metadata: [(String, String)]) -> ([UInt8], Int) {
        var header = JSONObject()
        var offset = 0
        for (name, tensor) in tensors {
            let size = tensor.byteCount
            header[name] = ["dtype": .string(tensor.dtype), "shape": .array(tensor.shape.map { .int($0) }),
                            "data_offsets": [.int(offset), .int(offset + size)]]
            offset += size
        }
        header["__metadata__"] = .object(JSONObject(metadata.map { ($0.0, JSON.string($0.1)) }))
        var headerBytes = JSON.object(header).serialized()
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        return (headerBytes, offset)
    }

    /// Float tensors by name and the metadata, with weights stored in the
    /// compact layout made whole again (`CompactWeights.unpack`) and the
    /// layout left out of the metadata, which now describes whole tensors;
    /// every range, shape and index is checked.
    public static func decode(_ bytes: [UInt8], source: String) throws(DataError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try read(bytes, source: source)
        var metadata = file.metadata
        metadata[CompactWeights.layoutKey] = nil
        return (try CompactWeights.unpack(file.tensors, metadata: file.metadata, source: source), metadata)
    }

    /// The tensors as stored (`F32` and `U8`) and the metadata; every range
    /// and shape is checked.
    public static func read(_ bytes: [UInt8], source: String) throws(DataError) -> (tensors: [String: StoredTensor], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw DataError("\(source) is not a safetensors file (too short)") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(bytes.count - 8), n < 100_000_000 else { throw DataError("\(source): the header length is wrong") }
        let start = 8 + Int(n)
        let header: JSON
        do { header = try JSON.parse(bytes[8..<start]) } catch { throw DataError("\(source): the header is not JSON (\(error))") }
        guard case .object(let object) = header else { throw DataError("\(source): the header is not a JSON object") }
        var tensors: [String: StoredTensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(name: String, range: Range<Int>)] = []
        for (name, entry) in object.members {
            if name == "__metadata__" {
                for (k, v) in entry.objectValue?.members ?? [] { metadata[k] = v.stringValue }
                continue
            }
            let dtype = entry["dtype"]?.stringValue
            guard dtype == "F32" || dtype == "U8" else {
                throw DataError("\(source): tensor \(name) is \(dtype ?? "untyped"); Loom reads F32 (and U8 in its compact layout)")
            }
            let width = dtype == "F32" ? 4 : 1
            // Sizes are counted with overflow checks: a hostile header may
            // promise [2^32, 2^32] values or offsets near 2^63.
            guard let dims = entry["shape"]?.arrayValue, let offsetValues = entry["data_offsets"]?.arrayValue,
                  case let shape = dims.compactMap(\.intValue), shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }),
                  case let offsets = offsetValues.compactMap(\.intValue), offsets.count == 2, offsetValues.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bytes.count - start,
                  let count = Shape.count(shape), let size = Shape.count([count, width]), offsets[1] - offsets[0] == size
            else { throw DataError("\(source): tensor \(name) has a bad shape or byte range") }
            ranges.append((name, offsets[0]..<offsets[1]))
            let data = bytes[(start + offsets[0])..<(start + offsets[1])]
            if width == 1 {
                tensors[name] = .bytes(Array(data))
                continue
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                data.withUnsafeBytes { dst.copyMemory(from: $0) }
            }
            tensors[name] = .floats(Tensor(shape: shape, storage: values))
        }
        // As the reference loader requires: no two tensors share bytes.
        let sorted = ranges.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw DataError("\(source): tensors \(a.name) and \(b.name) overlap in the file")
        }
        return (tensors, metadata)
    }
}
