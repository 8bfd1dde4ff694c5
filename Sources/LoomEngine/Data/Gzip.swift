import CDeflate

/// gzip files (`.gz`) read through zlib, so every reader takes what people
/// have on disk: IDX, CSV and NPY files compressed or not.
public enum Gzip {
    /// Whether `bytes` start with gzip's magic number (1F 8B).
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The bytes a gzip file holds (every member of a concatenated file, as
    /// `gunzip` reads it), refused past `limit` bytes so a small hostile file
    /// cannot expand to fill memory; `shouldStop` is asked between chunks.
    public static func decompress(_ bytes: [UInt8], atMost limit: Int = .max, source: String,
                                  shouldStop: () -> Bool = { false }) throws(DataError) -> [UInt8] {
        try Inflater.run(bytes, windowBits: 15 + 16, atMost: limit, source: source, what: "gzip",
                         membersMayFollow: true, shouldStop: shouldStop)
    }

    /// `bytes` as they are, or decompressed when they are gzip.
    public static func decompressIfNeeded(_ bytes: [UInt8], atMost limit: Int = .max, source: String,
                                          shouldStop: () -> Bool = { false }) throws(DataError) -> [UInt8] {
        isCompressed(bytes) ? try decompress(bytes, atMost: limit, source: source, shouldStop: shouldStop) : bytes
    }

    /// The size the last member's trailer records (modulo 2³²): a first guess
    /// for the output's size, never trusted beyond that.
    static func recordedSize(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 18 else { return 0 }
        return (1...4).reduce(0) { $0 << 8 | Int(bytes[bytes.count - $1]) }
    }
}

/// zlib's inflate over a whole buffer: gzip (`windowBits` 31) or raw deflate
/// (−15, as zip archives store it), growing the output as it fills.
public enum Inflater {
    /// Deflate expands at most 1032 to 1 (258 bytes from each 2-bit code).
    public static let maximumRatio = 1032

    /// Raw deflate data (a zip entry) expected to expand to `size` bytes.
    public static func raw(_ bytes: ArraySlice<UInt8>, size: Int, source: String) throws(DataError) -> [UInt8] {
        let out = try run(Array(bytes), windowBits: -15, atMost: size, source: source, what: "deflate",
                          membersMayFollow: false, sizeHint: size)
        guard out.count == size else {
            throw DataError("\(source): expands to \(out.count) bytes, but its header says \(size)")
        }
        return out
    }

    static func run(_ bytes: [UInt8], windowBits: Int32, atMost limit: Int, source: String, what: String,
                    membersMayFollow: Bool, sizeHint: Int? = nil,
                    shouldStop: () -> Bool = { false }) throws(DataError) -> [UInt8] {
        guard !bytes.isEmpty else { throw DataError("\(source): the \(what) data is empty") }
        var stream = z_stream()
        guard loom_inflate_init(&stream, windowBits) == Z_OK else { throw DataError("\(source): zlib could not start") }
        defer { inflateEnd(&stream) }
        // A forged size cannot make the first allocation larger than the data can expand to.
        let hint = min(sizeHint ?? max(Gzip.recordedSize(bytes), 4 * bytes.count), maximumRatio * bytes.count)
        var out = zeroed(max(1 << 16, min(hint, limit)))
        var produced = 0
        var status = Z_OK
        let failure: DataError? = bytes.withUnsafeBufferPointer { input -> DataError? in
            var consumed = 0
            while true {
                if shouldStop() { return DataError.interrupted }
                if produced == out.count {
                    guard out.count < limit else {
                        return DataError("\(source): the \(what) data expands to more than \(limit) bytes")
                    }
                    out.append(contentsOf: repeatElement(0, count: min(out.count, limit - out.count)))
                }
                let chunkIn = min(input.count - consumed, 1 << 20)
                let chunkOut = min(out.count - produced, 1 << 22)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                stream.avail_in = UInt32(chunkIn)
                status = out.withUnsafeMutableBufferPointer { o in
                    stream.next_out = o.baseAddress! + produced
                    stream.avail_out = UInt32(chunkOut)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                consumed += chunkIn - Int(stream.avail_in)
                produced += chunkOut - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END:
                    // A concatenated gzip file: the next member starts here.
                    let rest = input.count - consumed
                    if membersMayFollow && rest >= 2 && input[consumed] == 0x1F && input[consumed + 1] == 0x8B {
                        inflateReset(&stream)
                        continue
                    }
                    if rest > 0 && input[consumed...].contains(where: { $0 != 0 }) {
                        return DataError("\(source): \(rest) bytes follow the end of the \(what) data")
                    }
                    return nil
                case Z_OK, Z_BUF_ERROR:
                    if consumed == input.count && stream.avail_out > 0 {
                        return DataError("\(source): the \(what) data is cut short (truncated file?)")
                    }
                case Z_NEED_DICT:
                    return DataError("\(source): the \(what) data needs a preset dictionary")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return DataError("\(source): corrupt \(what) data (\(reason))")
                }
            }
        }
        if let failure { throw failure }
        out.removeLast(out.count - produced)
        return out
    }
}

/// `count` zero bytes, on huge pages where the kernel allows (a full MNIST
/// file expands to 47 MB: touching it 4 KiB at a time cost more than zlib).
private func zeroed(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        Machine.preferHugePages(UnsafeMutableRawBufferPointer(buffer))
        buffer.initialize(repeating: 0)
        initialized = count
    }
}
