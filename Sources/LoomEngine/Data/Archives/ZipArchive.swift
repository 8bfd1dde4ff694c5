import CDeflate

/// A zip archive read from memory (what NumPy's `.npz` files are): its
/// entries listed from the central directory, each read whole, stored or
/// deflated, its CRC-32 checked. ZIP64 sizes and offsets are read as numpy
/// writes them for big arrays. Every size and offset is checked against the
/// archive before it is used, so a hostile archive gives an error, never a trap.
public struct ZipArchive: Sendable {
    /// One file in the archive, as the central directory describes it.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 stored, 8 deflated; others are listed but refused when read.
        public let method: Int
        public let compressedSize: Int
        /// Its size once read.
        public let size: Int
        public let crc: UInt32
        let localHeaderOffset: Int
        let encrypted: Bool
    }

    public let entries: [Entry]
    let bytes: [UInt8]
    let source: String

    /// Deflate expands at most 1032 to 1: an entry claiming more is corrupt,
    /// and refusing it keeps a forged size from allocating memory.
    static let deflateRatio = 1032

    /// Whether `bytes` start as a zip archive does (a local header, or the
    /// end record of an empty archive).
    public static func isArchive(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (3, 4)
            || bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (5, 6)
    }

    /// Reads the central directory; `source` names the file in errors.
    public init(_ bytes: [UInt8], source: String) throws(DataError) {
        self.bytes = bytes
        self.source = source
        let reader = ByteReader(bytes: bytes, source: source)
        let directory = try ZipArchive.centralDirectory(reader)
        var entries: [Entry] = []
        var at = directory.offset
        let end = directory.offset + directory.size
        for index in 0..<directory.count {
            guard at + 46 <= end, try reader.u32(at) == 0x0201_4B50 else {
                throw DataError("\(source): the zip's central directory is damaged at entry \(index + 1) of \(directory.count)")
            }
            let flags = try reader.u16(at + 8)
            let nameLength = try reader.u16(at + 28), extraLength = try reader.u16(at + 30)
            let commentLength = try reader.u16(at + 32)
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw DataError("\(source): the zip's central directory is cut short") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            var compressed = try reader.u32(at + 20), size = try reader.u32(at + 24), offset = try reader.u32(at + 42)
            // ZIP64: a field at 0xFFFFFFFF moves to the extra field, in this order.
            var extra = Zip64Fields(reader: reader, start: at + 46 + nameLength, length: extraLength)
            if size == 0xFFFF_FFFF { size = try extra.next(for: name) }
            if compressed == 0xFFFF_FFFF { compressed = try extra.next(for: name) }
            if offset == 0xFFFF_FFFF { offset = try extra.next(for: name) }
            entries.append(Entry(name: name, method: try reader.u16(at + 10), compressedSize: compressed, size: size,
                                 crc: UInt32(try reader.u32(at + 16)), localHeaderOffset: offset, encrypted: flags & 1 != 0))
            at = next
        }
        self.entries = entries
    }

    /// The entry called `name`, if there is one.
    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The bytes of `entry`, decompressed and checked against its CRC-32;
    /// refused when it would expand past `limit` bytes.
    public func read(_ entry: Entry, atMost limit: Int = .max) throws(DataError) -> [UInt8] {
        let what = "\(source): the entry \(entry.name)"
        guard !entry.encrypted else { throw DataError("\(what) is encrypted") }
        guard entry.size <= limit else { throw DataError("\(what) holds \(entry.size) bytes, more than the \(limit) allowed") }
        let reader = ByteReader(bytes: bytes, source: source)
        let at = entry.localHeaderOffset
        guard at <= bytes.count - 30, try reader.u32(at) == 0x0403_4B50 else {
            throw DataError("\(what) has no local header where the central directory says")
        }
        let start = at + 30 + (try reader.u16(at + 26)) + (try reader.u16(at + 28))
        guard entry.compressedSize <= bytes.count - start else {
            throw DataError("\(what) runs past the end of the archive (truncated file?)")
        }
        let data = bytes[start..<(start + entry.compressedSize)]
        let out: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.size else {
                throw DataError("\(what) is stored, yet its sizes differ (\(entry.compressedSize) and \(entry.size))")
            }
            out = Array(data)
        case 8:
            guard entry.size / ZipArchive.deflateRatio <= entry.compressedSize else {
                throw DataError("\(what) claims \(entry.size) bytes from \(entry.compressedSize), more than deflate can expand")
            }
            out = try Inflater.raw(data, size: entry.size, source: "\(source) (\(entry.name))")
        default:
            throw DataError("\(what) uses compression method \(entry.method); stored (0) and deflated (8) entries are read")
        }
        let crc = ZipArchive.crc32(out)
        guard crc == entry.crc else {
            throw DataError("\(what) fails its CRC-32 check (the archive is damaged)")
        }
        return out
    }

    /// zlib's CRC-32, in chunks its 32-bit length takes.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc: UInt = 0
            var at = 0
            while at < buffer.count {
                let chunk = min(buffer.count - at, 1 << 30)
                crc = CDeflate.crc32(crc, buffer.baseAddress! + at, UInt32(chunk))
                at += chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    /// Where the central directory is and how many entries it holds, from
    /// the end record (and the ZIP64 end record when there is one).
    static func centralDirectory(_ reader: ByteReader) throws(DataError) -> (offset: Int, size: Int, count: Int) {
        let bytes = reader.bytes, source = reader.source
        // The end record is 22 bytes plus a comment of at most 65,535.
        var end: Int? = nil
        var at = bytes.count - 22
        while at >= max(0, bytes.count - 22 - 65_535) {
            if try reader.u32(at) == 0x0605_4B50, at + 22 + (try reader.u16(at + 20)) == bytes.count { end = at; break }
            at -= 1
        }
        guard let end else {
            throw DataError("\(source) is not a zip archive (no end of central directory record; truncated file?)")
        }
        var count = try reader.u16(end + 10), size = try reader.u32(end + 12), offset = try reader.u32(end + 16)
        if end >= 20, try reader.u32(end - 20) == 0x0706_4B50 {
            let record = try reader.u64(end - 12)
            guard record <= end - 56, try reader.u32(record) == 0x0606_4B50 else {
                throw DataError("\(source): the zip's ZIP64 end record is missing or damaged")
            }
            count = try reader.u64(record + 32)
            size = try reader.u64(record + 40)
            offset = try reader.u64(record + 48)
        }
        guard offset <= bytes.count, size <= bytes.count - offset else {
            throw DataError("\(source): the zip's central directory lies past the end of the file (truncated file?)")
        }
        guard count <= size / 46 else {
            throw DataError("\(source): the zip claims \(count) entries in a central directory of \(size) bytes")
        }
        return (offset, size, count)
    }
}

/// The ZIP64 extended-information extra field (id 1) of one entry: its
/// 8-byte values, taken in order for each field left at 0xFFFFFFFF.
struct Zip64Fields {
    let reader: ByteReader
    var values: [Int] = []

    init(reader: ByteReader, start: Int, length: Int) {
        self.reader = reader
        var at = start
        while at + 4 <= start + length {
            guard let id = try? reader.u16(at), let size = try? reader.u16(at + 2), at + 4 + size <= start + length else { break }
            if id == 1 {
                var field = at + 4
                while field + 8 <= at + 4 + size, let value = try? reader.u64(field) {
                    values.append(value)
                    field += 8
                }
                break
            }
            at += 4 + size
        }
        values.reverse()
    }

    mutating func next(for name: String) throws(DataError) -> Int {
        guard let value = values.popLast() else {
            throw DataError("\(reader.source): the entry \(name) lacks the ZIP64 sizes its header points to")
        }
        return value
    }
}

/// Little-endian fields of a byte array, each checked to lie inside it.
struct ByteReader {
    let bytes: [UInt8]
    let source: String

    func u16(_ at: Int) throws(DataError) -> Int { try field(at, 2) }
    func u32(_ at: Int) throws(DataError) -> Int { try field(at, 4) }
    /// Eight bytes, refused when they exceed Int's range (no archive is that large).
    func u64(_ at: Int) throws(DataError) -> Int {
        let low = try field(at, 4), high = try field(at + 4, 4)
        guard high < 0x8000_0000 else { throw DataError("\(source): a ZIP64 size or offset is beyond any file's") }
        return high << 32 | low
    }

    private func field(_ at: Int, _ width: Int) throws(DataError) -> Int {
        guard at >= 0, at <= bytes.count - width else {
            throw DataError("\(source): a field lies past the end of the file (truncated file?)")
        }
        return (0..<width).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
    }
}
