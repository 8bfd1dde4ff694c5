/// A tar archive read from memory: ustar headers, GNU long names (`L`) and
/// pax paths (`x`), as `tar` and Python's `tarfile` write them. Each header's
/// checksum is checked and each entry must lie inside the archive, so a
/// damaged or hostile file gives an error naming it. Gzip it may be: pass
/// the bytes through `Gzip.decompressIfNeeded` first.
public struct TarArchive: Sendable {
    /// One regular file: its name and where its bytes lie.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let size: Int
        let offset: Int
    }

    /// The regular files, in archive order (directories, links and the like are left out).
    public let entries: [Entry]
    let bytes: [UInt8]
    let source: String

    static let block = 512

    /// Reads every header; `source` names the file in errors.
    public init(_ bytes: [UInt8], source: String) throws(DataError) {
        self.bytes = bytes
        self.source = source
        var entries: [Entry] = []
        var at = 0
        var longName: String? = nil
        while at + TarArchive.block <= bytes.count {
            let header = bytes[at..<(at + TarArchive.block)]
            if header.allSatisfy({ $0 == 0 }) { break }  // the end: a zero block (tar writes two)
            try TarArchive.checkChecksum(header, at: at, source: source)
            let size = try TarArchive.size(header, at: at, source: source)
            let start = at + TarArchive.block
            guard size <= bytes.count - start else {
                throw DataError("\(source): the entry at byte \(at) holds \(size) bytes, past the end of the archive (truncated file?)")
            }
            let content = bytes[start..<(start + size)]
            let type = header[at + 156]
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next entry's long name
                longName = TarArchive.text(content)
            case UInt8(ascii: "x"):  // pax: the next entry's attributes, of which the path matters here
                if let path = TarArchive.paxPath(content) { longName = path }
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                entries.append(Entry(name: longName ?? TarArchive.name(header, at: at), size: size, offset: start))
                longName = nil
            case UInt8(ascii: "K"), UInt8(ascii: "g"):  // a long link name, global attributes: kept for no entry
                break
            default:  // directories, links, devices: nothing to read
                longName = nil
            }
            // Entries are padded to whole blocks; the last one's padding may be missing.
            at = start + (size + TarArchive.block - 1) / TarArchive.block * TarArchive.block
        }
        if at < bytes.count, at + TarArchive.block > bytes.count, bytes[at...].contains(where: { $0 != 0 }) {
            throw DataError("\(source): the tar archive ends inside a header (truncated file?)")
        }
        self.entries = entries
    }

    /// The last entry called `name` (a later copy replaces an earlier one, as `tar -x` does).
    public func entry(_ name: String) -> Entry? { entries.last { $0.name == name } }

    /// The bytes of `entry`.
    public func read(_ entry: Entry) -> ArraySlice<UInt8> { bytes[entry.offset..<(entry.offset + entry.size)] }

    /// The header's checksum: its bytes summed with the checksum field read
    /// as spaces (unsigned, or signed as some old tars summed them).
    static func checkChecksum(_ header: ArraySlice<UInt8>, at: Int, source: String) throws(DataError) {
        let field = header[(at + 148)..<(at + 156)]
        guard let recorded = octal(field) else {
            throw DataError("\(source): the header at byte \(at) is not a tar header (its checksum is not a number)")
        }
        var unsigned = 0, signed = 0
        for i in header.indices {
            let byte = (at + 148..<at + 156).contains(i) ? UInt8(ascii: " ") : header[i]
            unsigned += Int(byte)
            signed += Int(Int8(bitPattern: byte))
        }
        guard recorded == unsigned || recorded == signed else {
            throw DataError("\(source): the header at byte \(at) fails its checksum (a damaged or non-tar file)")
        }
    }

    /// The size field: octal digits, or GNU's base-256 for sizes past 8 GiB.
    static func size(_ header: ArraySlice<UInt8>, at: Int, source: String) throws(DataError) -> Int {
        let field = header[(at + 124)..<(at + 136)]
        if let first = field.first, first & 0x80 != 0 {
            var value = Int(first & 0x3F)
            guard first & 0x40 == 0 else { throw DataError("\(source): the entry at byte \(at) has a negative size") }
            for byte in field.dropFirst() {
                guard value < Int.max >> 8 else { throw DataError("\(source): the entry at byte \(at) has a size beyond any file's") }
                value = value << 8 | Int(byte)
            }
            return value
        }
        guard let value = octal(field) else { throw DataError("\(source): the entry at byte \(at) has no valid size") }
        return value
    }

    /// An octal field (spaces and NULs around the digits); nil when it is not one.
    static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        let digits = field.drop { $0 == UInt8(ascii: " ") }.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.count <= 21 else { return nil }
        var value = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(d - UInt8(ascii: "0"))
        }
        return value
    }

    /// ustar's name: its prefix field, a slash and the name field.
    static func name(_ header: ArraySlice<UInt8>, at: Int) -> String {
        let name = text(header[at..<(at + 100)])
        let ustar = header[(at + 257)..<(at + 262)].elementsEqual("ustar".utf8) && header[at + 262] == 0
        let prefix = ustar ? text(header[(at + 345)..<(at + 500)]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// A NUL-terminated field as text.
    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The `path` of pax records (`LENGTH path=VALUE\n`), if one is there.
    static func paxPath(_ content: ArraySlice<UInt8>) -> String? {
        var at = content.startIndex
        var path: String? = nil
        while at < content.endIndex {
            guard let space = content[at...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: content[at..<space], as: UTF8.self)),
                  length > space - at + 1, length <= content.endIndex - at else { return path }
            let record = content[(space + 1)..<(at + length - 1)]
            if record.starts(with: "path=".utf8) { path = String(decoding: record.dropFirst(5), as: UTF8.self) }
            at += length
        }
        return path
    }
}
