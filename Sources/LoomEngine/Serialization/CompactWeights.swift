import LoomCore

/// The compact layout `save` writes for masked (pruned or `sparse`) and
/// clustered weights, so a file shrinks with the weights that remain.
///
/// A weight `W` that has a mask (`W.mask`) or clusters (`W.codebook` and
/// `W.codes`, see `Sequential.weightTensors`) is stored as
/// - `W.gaps` (U8, when masked): the kept weights' positions in `W`'s
///   C order, as gaps of `gap_bits` bits each (the first from −1); a gap of 0
///   is a filler that moves `2^gap_bits − 1` on and keeps nothing, so large
///   gaps need no wide fields (Deep Compression's relative indices);
/// - `W.values` (F32, not clustered): each kept weight's value, in order; or
/// - `W.codebook` (F32) and `W.codes` (U8, `code_bits` bits each): the shared
///   values and each kept weight's index into them.
/// Bits are packed from the lowest of each byte up (NumPy's
/// `unpackbits(…, bitorder="little")`). The metadata's `loom.layout` names
/// each such weight with its shape, kept count and field widths; every other
/// tensor is stored whole, as before.
public enum CompactWeights {
    public static let layoutKey = "loom.layout"

    /// What one compact weight's metadata entry holds.
    struct Entry {
        var shape: [Int]
        var kept: Int
        /// Gap entries and their width, when masked.
        var gaps: (count: Int, bits: Int)?
        /// The width of a code, when clustered.
        var codeBits: Int?
    }

    /// Tensors named as `Sequential.weightTensors` names them, as stored:
    /// masked and clustered weights in the compact layout, the rest whole;
    /// the layout's metadata value, nil when nothing is compact.
    public static func pack(_ tensors: [(name: String, tensor: Tensor)]) -> (tensors: [(name: String, tensor: StoredTensor)], layout: String?) {
        let byName = Dictionary(tensors, uniquingKeysWith: { first, _ in first })
        let compact = Set(tensors.map(\.name).filter { byName[$0 + ".mask"] != nil || byName[$0 + ".codebook"] != nil })
        let parts = Set(compact.flatMap { [$0 + ".mask", $0 + ".codebook", $0 + ".codes"] })
        var stored: [(name: String, tensor: StoredTensor)] = []
        var layout = JSONObject()
        for (name, tensor) in tensors where !parts.contains(name) {
            guard compact.contains(name) else {
                stored.append((name, .floats(tensor)))
                continue
            }
            let mask = byName[name + ".mask"]?.storage
            let positions = mask.map { m in (0..<m.count).filter { m[$0] != 0 } } ?? Array(0..<tensor.count)
            var members: [(String, JSON)] = [("layout", .string(mask == nil ? "clustered" : byName[name + ".codebook"] == nil
                                                                  ? "sparse" : "sparse clustered")),
                                             ("shape", .array(tensor.shape.map { .int($0) })), ("kept", .int(positions.count))]
            if let codebook = byName[name + ".codebook"], let codes = byName[name + ".codes"] {
                let bits = max(1, Int.bitWidth - (codebook.count - 1).leadingZeroBitCount)
                stored.append((name + ".codebook", .floats(codebook)))
                stored.append((name + ".codes", .bytes(BitPacking.pack(positions.map { UInt64(codes.storage[$0]) }, bits: bits))))
                members.append(("code_bits", .int(bits)))
            } else {
                stored.append((name + ".values", .floats(Tensor(shape: [positions.count], storage: positions.map { tensor.storage[$0] }))))
            }
            if mask != nil {
                let (gaps, bits) = GapCoding.encode(positions)
                stored.append((name + ".gaps", .bytes(BitPacking.pack(gaps, bits: bits))))
                members += [("gaps", .int(gaps.count)), ("gap_bits", .int(bits))]
            }
            layout[name] = .object(JSONObject(members))
        }
        guard !compact.isEmpty else { return (stored, nil) }
        return (stored, String(decoding: JSON.object(layout).serialized(), as: UTF8.self))
    }

    /// The bytes the compact weights take once made whole (each weight, its
    /// mask and its codes as floats); nil on overflow. Asked before `unpack`,
    /// so a small file cannot promise a huge weight unnoticed.
    public static func unpackedBytes(metadata: [String: String], source: String) throws(DataError) -> Int? {
        var total = 0
        for (_, entry) in try entries(metadata, source: source) {
            guard let n = Shape.count(entry.shape), let bytes = Shape.count([n, 12]) else { return nil }
            let sum = total.addingReportingOverflow(bytes)
            guard !sum.overflow else { return nil }
            total = sum.partialValue
        }
        return total
    }

    /// Float tensors as `Sequential.load(weights:)` reads them: compact
    /// weights made whole (`W`, `W.mask`, `W.codebook`, `W.codes`), the rest
    /// as stored. Throws, naming the weight, on a bad layout: counts that do
    /// not match, a position past the weight's end, a code past the codebook,
    /// a U8 tensor outside the layout.
    public static func unpack(_ stored: [String: StoredTensor], metadata: [String: String], source: String) throws(DataError) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        var used: Set<String> = []
        for (name, entry) in try entries(metadata, source: source) {
            func part(_ suffix: String) throws(DataError) -> StoredTensor {
                guard let t = stored[name + suffix] else { throw DataError("\(source): \(name) has no tensor \(name)\(suffix)") }
                used.insert(name + suffix)
                return t
            }
            func bytes(_ suffix: String) throws(DataError) -> [UInt8] {
                guard case .bytes(let b) = try part(suffix) else { throw DataError("\(source): \(name)\(suffix) must be U8") }
                return b
            }
            func floats(_ suffix: String) throws(DataError) -> [Float] {
                guard case .floats(let t) = try part(suffix) else { throw DataError("\(source): \(name)\(suffix) must be F32") }
                return t.storage
            }
            guard stored[name] == nil else { throw DataError("\(source): \(name) is stored both whole and compact") }
            let n = Shape.count(entry.shape)!
            var positions = Array(0..<entry.kept)
            var mask: [Float]?
            if case let (count, bits)? = entry.gaps {
                let gaps = try unpackField(bytes(".gaps"), bits: bits, count: count, what: "\(name).gaps", source: source)
                positions = try GapCoding.decode(gaps, bits: bits, limit: n, what: name, source: source)
                guard positions.count == entry.kept else {
                    throw DataError("\(source): \(name).gaps keep \(positions.count) weights, its layout says \(entry.kept)")
                }
                var m = [Float](repeating: 0, count: n)
                for p in positions { m[p] = 1 }
                mask = m
            } else if entry.kept != n {
                throw DataError("\(source): \(name) keeps \(entry.kept) of \(n) weights but has no gaps saying which")
            }
            var values = [Float](repeating: 0, count: n)
            if let bits = entry.codeBits {
                let codebook = try floats(".codebook")
                guard !codebook.isEmpty, codebook.count <= 1 << bits else {
                    throw DataError("\(source): \(name).codebook holds \(codebook.count) values for codes of \(bits) bits")
                }
                let codes = try unpackField(bytes(".codes"), bits: bits, count: positions.count, what: "\(name).codes", source: source)
                var perWeight = [Float](repeating: 0, count: n)
                for (p, code) in zip(positions, codes) {
                    guard code < codebook.count else {
                        throw DataError("\(source): \(name).codes holds \(code), past its codebook of \(codebook.count) values")
                    }
                    values[p] = codebook[Int(code)]
                    perWeight[p] = Float(code)
                }
                tensors[name + ".codebook"] = Tensor(shape: [codebook.count], storage: codebook)
                tensors[name + ".codes"] = Tensor(shape: entry.shape, storage: perWeight)
            } else {
                let kept = try floats(".values")
                guard kept.count == positions.count else {
                    throw DataError("\(source): \(name).values holds \(kept.count) values for \(positions.count) kept weights")
                }
                for (p, v) in zip(positions, kept) { values[p] = v }
            }
            tensors[name] = Tensor(shape: entry.shape, storage: values)
            if let mask { tensors[name + ".mask"] = Tensor(shape: entry.shape, storage: mask) }
        }
        for (name, tensor) in stored where !used.contains(name) {
            guard case .floats(let t) = tensor else {
                throw DataError("\(source): tensor \(name) is U8 but no weight of the layout (\(layoutKey)) uses it; Loom reads F32")
            }
            tensors[name] = t
        }
        return tensors
    }

    /// The layout's entries, each checked: shape, kept count, field widths.
    private static func entries(_ metadata: [String: String], source: String) throws(DataError) -> [(String, Entry)] {
        guard let text = metadata[layoutKey] else { return [] }
        guard let json = try? JSON.parse(Array(text.utf8)), case .object(let object) = json else {
            throw DataError("\(source): its \(layoutKey) is not a JSON object")
        }
        var result: [(String, Entry)] = []
        for (name, value) in object.members {
            func bad(_ what: String) -> DataError { DataError("\(source): \(layoutKey) for \(name): \(what)") }
            guard let dims = value["shape"]?.arrayValue, case let shape = dims.compactMap(\.intValue), shape.count == dims.count,
                  shape.allSatisfy({ $0 >= 0 }), let n = Shape.count(shape) else { throw bad("a bad shape") }
            guard let kept = value["kept"]?.intValue, (0...n).contains(kept) else { throw bad("a kept count from 0 to \(n) is missing") }
            var entry = Entry(shape: shape, kept: kept)
            if let bits = value["gap_bits"] {
                guard let b = bits.intValue, (1...32).contains(b), let count = value["gaps"]?.intValue, count >= kept else {
                    throw bad("gaps need `gaps` (at least the kept count) and `gap_bits` from 1 to 32")
                }
                entry.gaps = (count, b)
            }
            if let bits = value["code_bits"] {
                guard let b = bits.intValue, (1...16).contains(b) else { throw bad("`code_bits` must be from 1 to 16") }
                entry.codeBits = b
            }
            result.append((name, entry))
        }
        return result
    }

    /// `count` fields of `bits` from `bytes`, which must be exactly long enough.
    private static func unpackField(_ bytes: [UInt8], bits: Int, count: Int, what: String, source: String) throws(DataError) -> [UInt64] {
        guard let total = Shape.count([count, bits]), bytes.count == (total + 7) / 8 else {
            throw DataError("\(source): \(what) has \(bytes.count) bytes; \(count) fields of \(bits) bits take \((count * bits + 7) / 8)")
        }
        return BitPacking.unpack(bytes, bits: bits, count: count)
    }
}

/// Unsigned fields of a few bits each, packed from the lowest bit of each
/// byte up (NumPy's `packbits(…, bitorder="little")` of each field's bits,
/// lowest first).
enum BitPacking {
    static func pack(_ values: [UInt64], bits: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (values.count * bits + 7) / 8)
        var at = 0
        for v in values {
            for b in 0..<bits where v >> UInt64(b) & 1 == 1 { out[(at + b) >> 3] |= 1 << UInt8((at + b) & 7) }
            at += bits
        }
        return out
    }

    static func unpack(_ bytes: [UInt8], bits: Int, count: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: count)
        var at = 0
        for i in 0..<count {
            var v: UInt64 = 0
            for b in 0..<bits where bytes[(at + b) >> 3] >> UInt8((at + b) & 7) & 1 == 1 { v |= 1 << UInt64(b) }
            out[i] = v
            at += bits
        }
        return out
    }
}

/// Ascending positions as gaps of a few bits (the first from −1), with
/// fillers (0) for gaps wider than the field, at the width that stores them
/// in the fewest bits.
enum GapCoding {
    /// The gap fields and their width.
    static func encode(_ positions: [Int]) -> (gaps: [UInt64], bits: Int) {
        var gaps: [Int] = []
        var last = -1
        for p in positions {
            gaps.append(p - last)
            last = p
        }
        let costs = (1...32).map { cost(gaps, bits: $0) }
        let bits = 1 + costs.indices.min { costs[$0] < costs[$1] }!
        let span = (1 << bits) - 1
        var fields: [UInt64] = []
        fields.reserveCapacity(gaps.count)
        for g in gaps {
            let fillers = (g - 1) / span
            fields += repeatElement(0, count: fillers)
            fields.append(UInt64(g - fillers * span))
        }
        return (fields, bits)
    }

    /// Bits the gaps take at a width: each gap's field and its fillers.
    private static func cost(_ gaps: [Int], bits: Int) -> Int {
        let span = (1 << bits) - 1
        return gaps.reduce(0) { $0 + 1 + ($1 - 1) / span } * bits
    }

    /// The positions the fields name; throws when one is at or past `limit`.
    static func decode(_ fields: [UInt64], bits: Int, limit: Int, what: String, source: String) throws(DataError) -> [Int] {
        let span = (1 << bits) - 1
        var positions: [Int] = []
        var at = -1
        for f in fields {
            at += f == 0 ? span : Int(f)
            guard at < limit else { throw DataError("\(source): \(what).gaps point past its \(limit) weights") }
            if f != 0 { positions.append(at) }
        }
        return positions
    }
}
