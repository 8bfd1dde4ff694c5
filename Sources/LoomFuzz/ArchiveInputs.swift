import LoomEngine

/// The archive readers' fuzz inputs: how one input runs through gzip, tar
/// (and CIFAR-10's loader over it) and npz, and the small valid archives
/// the corpus starts from.
enum ArchiveInputs {
    /// The most an input may expand to: room for every seed, none for a bomb.
    static let limit = 1 << 24

    static func gzip(_ bytes: [UInt8]) -> Bool {
        (try? Gzip.decompress(bytes, atMost: limit, source: "fuzz")) != nil
    }

    /// Lists and reads every entry, then asks for CIFAR-10's files.
    static func tar(_ bytes: [UInt8]) -> Bool {
        guard let plain = try? Gzip.decompressIfNeeded(bytes, atMost: limit, source: "fuzz"),
              let archive = try? TarArchive(plain, source: "fuzz") else { return false }
        let total = archive.entries.reduce(0) { $0 + archive.read($1).count }
        precondition(total <= plain.count, "tar entries larger than the archive")
        _ = try? CIFAR10.load(archive: plain, source: "fuzz", atMost: limit)
        return true
    }

    /// Reads every entry, then the archive as a data set (Keras's layout,
    /// or its only array).
    static func npz(_ bytes: [UInt8]) -> Bool {
        guard let archive = try? ZipArchive(bytes, source: "fuzz") else { return false }
        for entry in archive.entries { _ = try? archive.read(entry, atMost: limit) }
        guard let plan = try? NPZLoader.plan(bytes, source: "fuzz") else { return false }
        return (try? plan.load(atMost: limit)) != nil
    }

    /// A ustar archive of regular files (no end blocks are needed to read it, but tar writes two).
    static func tarFile(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for file in files {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at: Int) { for (i, b) in text.utf8.enumerated() { header[at + i] = b } }
            put(file.name, at: 0)
            put("0000644", at: 100)
            put(octal(file.bytes.count, digits: 11), at: 124)
            put("00000000000", at: 136)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257)
            put("00", at: 263)
            put("        ", at: 148)
            put(octal(header.reduce(0) { $0 + Int($1) }, digits: 6), at: 148)
            out += header + file.bytes + [UInt8](repeating: 0, count: (512 - file.bytes.count % 512) % 512)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    /// A zip archive of stored files, as `numpy.savez` writes one (less its ZIP64 local fields).
    static func zipFile(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        for file in files {
            let name = Array(file.name.utf8), crc = Int(ZipArchive.crc32(file.bytes))
            let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(file.bytes.count, 4)
                + le(file.bytes.count, 4) + le(name.count, 2) + le(0, 2)
            directory += le(0x0201_4B50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(out.count, 4) + name
            out += le(0x0403_4B50, 4) + common + name + file.bytes
        }
        let end = le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(files.count, 2) + le(files.count, 2)
            + le(directory.count, 4) + le(out.count, 4) + le(0, 2)
        return out + directory + end
    }

    static func le(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func octal(_ value: Int, digits: Int) -> String {
        let text = String(value, radix: 8)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// A CIFAR-10 archive of one record per batch, with class names.
    static var cifar: [UInt8] {
        let record = { (label: UInt8) in [label] + (0..<3072).map { UInt8(truncatingIfNeeded: $0 &* 7) } }
        let names = Array("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".utf8)
        return tarFile([("cifar-10-batches-bin/batches.meta.txt", names)]
                       + CIFAR10.trainFiles.enumerated().map { ("cifar-10-batches-bin/" + $1, record(UInt8($0))) }
                       + [("cifar-10-batches-bin/" + CIFAR10.testFile, record(9))])
    }
}
