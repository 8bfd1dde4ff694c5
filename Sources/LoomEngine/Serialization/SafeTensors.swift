import LoomCore

/// The safetensors format: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, free-form string
/// metadata under `__metadata__`, then the raw little-endian data.
public enum SafeTensors {
    /// The file's bytes for `tensors` (written in the order given) and `metadata`.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [(String, String)]) -> [UInt8] {
        var header = JSONObject()
        var offset = 0
        for (name, tensor) in tensors {
            let size = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": .array(tensor.shape.map { .int($0) }),
                            "data_offsets": [.int(offset), .int(offset + size)]]
            offset += size
        }
        header["__metadata__"] = .object(JSONObject(metadata.map { ($0.0, JSON.string($0.1)) }))
        var headerBytes = JSON.object(header).serialized()
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        let n = UInt64(headerBytes.count)
        var out = (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + headerBytes
        out.reserveCapacity(out.count + offset)
        for (_, tensor) in tensors {
            tensor.storage.withUnsafeBytes { out.append(contentsOf: $0) }  // Float32, little-endian on every target Loom builds for
        }
        return out
    }

    /// Tensors by name and the metadata; every range and shape is checked.
    public static func decode(_ bytes: [UInt8], source: String) throws(DataError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw DataError("\(source) is not a safetensors file (too short)") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(bytes.count - 8), n < 100_000_000 else { throw DataError("\(source): the header length is wrong") }
        let start = 8 + Int(n)
        let header: JSON
        do { header = try JSON.parse(bytes[8..<start]) } catch { throw DataError("\(source): the header is not JSON (\(error))") }
        guard case .object(let object) = header else { throw DataError("\(source): the header is not a JSON object") }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(name: String, range: Range<Int>)] = []
        for (name, entry) in object.members {
            if name == "__metadata__" {
                for (k, v) in entry.objectValue?.members ?? [] { metadata[k] = v.stringValue }
                continue
            }
            guard entry["dtype"]?.stringValue == "F32" else {
                throw DataError("\(source): tensor \(name) is \(entry["dtype"]?.stringValue ?? "untyped"); Loom reads F32")
            }
            // Sizes are counted with overflow checks: a hostile header may
            // promise [2^32, 2^32] values or offsets near 2^63.
            guard let dims = entry["shape"]?.arrayValue, let offsetValues = entry["data_offsets"]?.arrayValue,
                  case let shape = dims.compactMap(\.intValue), shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }),
                  case let offsets = offsetValues.compactMap(\.intValue), offsets.count == 2, offsetValues.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bytes.count - start,
                  let count = Shape.count(shape), let size = Shape.count([count, 4]), offsets[1] - offsets[0] == size
            else { throw DataError("\(source): tensor \(name) has a bad shape or byte range") }
            ranges.append((name, offsets[0]..<offsets[1]))
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(start + offsets[0])..<(start + offsets[1])]))
                }
            }
            tensors[name] = Tensor(shape: shape, storage: values)
        }
        // As the reference loader requires: no two tensors share bytes.
        let sorted = ranges.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw DataError("\(source): tensors \(a.name) and \(b.name) overlap in the file")
        }
        return (tensors, metadata)
    }
}
