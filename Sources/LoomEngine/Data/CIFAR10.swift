import LoomCore

/// CIFAR-10's binary version (`cifar-10-binary.tar.gz`, or its folder
/// `cifar-10-batches-bin/`) as Keras's `cifar10.load_data()` gives it:
/// `data_batch_1…5.bin` as train (50,000), `test_batch.bin` as test
/// (10,000), samples 32×32×3 channels-last scaled to [0, 1], class names
/// from `batches.meta.txt`.
public enum CIFAR10 {
    public static let side = 32, channels = 3
    /// A record: one label byte, then 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major.
    public static let recordBytes = 1 + side * side * channels
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFile = "test_batch.bin"
    public static let namesFile = "batches.meta.txt"
    public static let classes = 10

    /// The memory the full set takes once loaded (50,000 + 10,000 images as
    /// floats, and their labels), to check before loading.
    public static let bytesNeeded = 60_000 * (side * side * channels * 4 + MemoryLayout<Int>.size)

    /// The data sets from the bytes of the archive (gzip or plain tar),
    /// refused when it expands past `limit` bytes; `source` names it in errors.
    public static func load(archive bytes: [UInt8], source: String, atMost limit: Int = .max,
                            shouldStop: () -> Bool = { false }) throws(DataError) -> (train: Dataset, test: Dataset) {
        let tar = try TarArchive(try Gzip.decompressIfNeeded(bytes, atMost: limit, source: source, shouldStop: shouldStop),
                                 source: source)
        return try load(source: source, shouldStop: shouldStop) { name throws(DataError) in
            // The files sit in `cifar-10-batches-bin/`; any folder is taken.
            guard let entry = tar.entries.last(where: { $0.name == name || $0.name.hasSuffix("/" + name) }) else { return nil }
            return Array(tar.read(entry))
        }
    }

    /// The data sets from the extracted folder (`cifar-10-batches-bin`),
    /// refusing a file larger than `limit` bytes.
    public static func load(folder: String, atMost limit: Int = .max, shouldStop: () -> Bool = { false }) throws(DataError) -> (train: Dataset, test: Dataset) {
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        return try load(source: folder, shouldStop: shouldStop) { name throws(DataError) in
            guard Files.exists(base + name) else { return nil }
            return try read(base + name, atMost: limit, shouldStop: shouldStop)
        }
    }

    /// The data sets from `path`: the extracted folder when it holds
    /// `test_batch.bin`, else the archive.
    public static func load(path: String, atMost limit: Int = .max,
                            shouldStop: () -> Bool = { false }) throws(DataError) -> (train: Dataset, test: Dataset) {
        if Files.exists(path + "/" + testFile) { return try load(folder: path, atMost: limit, shouldStop: shouldStop) }
        return try load(archive: try read(path, atMost: limit, shouldStop: shouldStop), source: path, atMost: limit,
                        shouldStop: shouldStop)
    }

    static func read(_ path: String, atMost limit: Int, shouldStop: () -> Bool) throws(DataError) -> [UInt8] {
        do { return try Files.read(path, atMost: limit, shouldStop: shouldStop) } catch {
            throw error.isInterrupted ? DataError.interrupted : DataError("cannot read \(error.description)")
        }
    }

    /// Both parts from `file(name)`, which gives a file's bytes or nil when it is missing.
    static func load(source: String, shouldStop: () -> Bool,
                     file: (String) throws(DataError) -> [UInt8]?) throws(DataError) -> (train: Dataset, test: Dataset) {
        func batch(_ name: String) throws(DataError) -> [UInt8] {
            guard let bytes = try file(name) else {
                throw DataError("\(source) has no \(name) (CIFAR-10's binary version holds "
                                + "\((trainFiles + [testFile]).joined(separator: ", ")))")
            }
            return bytes
        }
        var names: [String]? = nil
        if let text = try file(namesFile) {
            names = try classNames(text, source: "\(source) (\(namesFile))")
        }
        var trainBatches: [[UInt8]] = []
        for name in trainFiles { trainBatches.append(try batch(name)) }
        var train = try dataset(trainBatches, names: trainFiles, source: source, shouldStop: shouldStop)
        var test = try dataset([try batch(testFile)], names: [testFile], source: source, shouldStop: shouldStop)
        train.classNames = names
        test.classNames = names
        return (train, test)
    }

    /// Records of several batch files as one data set.
    public static func dataset(_ batches: [[UInt8]], names: [String], source: String,
                               shouldStop: () -> Bool = { false }) throws(DataError) -> Dataset {
        for (bytes, name) in zip(batches, names) where bytes.isEmpty || bytes.count % recordBytes != 0 {
            throw DataError("\(source) (\(name)): \(bytes.count) bytes is not a whole number of \(recordBytes)-byte records")
        }
        let count = batches.reduce(0) { $0 + $1.count / recordBytes }
        let pixels = side * side
        var labels = [Int](repeating: 0, count: count)
        var values = [Float](repeating: 0, count: count * pixels * channels)
        var sample = 0
        for (bytes, name) in zip(batches, names) {
            for record in 0..<(bytes.count / recordBytes) {
                if record % 1000 == 0, shouldStop() { throw DataError.interrupted }
                let at = record * recordBytes
                guard Int(bytes[at]) < classes else {
                    throw DataError("\(source) (\(name)): record \(record + 1) has label \(bytes[at]); CIFAR-10 has \(classes) classes")
                }
                labels[sample] = Int(bytes[at])
                // Planes (R, G, B) to channels-last: pixel p's channel c is byte 1 + c·1024 + p.
                bytes.withUnsafeBufferPointer { input in
                    values.withUnsafeMutableBufferPointer { output in
                        let planes = input.baseAddress! + at + 1
                        let out = output.baseAddress! + sample * pixels * channels
                        for p in 0..<pixels {
                            out[3 * p] = Float(planes[p]) / 255
                            out[3 * p + 1] = Float(planes[pixels + p]) / 255
                            out[3 * p + 2] = Float(planes[2 * pixels + p]) / 255
                        }
                    }
                }
                sample += 1
            }
        }
        return Dataset(inputs: Tensor(shape: [count, side, side, channels], storage: values), labels: labels, classes: classes)
    }

    /// The ten class names, one a line (blank lines around them ignored).
    static func classNames(_ bytes: [UInt8], source: String) throws(DataError) -> [String] {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { String($0).trimmingCharacters(" \t\r") }.filter { !$0.isEmpty }
        guard lines.count == classes else {
            throw DataError("\(source) names \(lines.count) classes, not CIFAR-10's \(classes)")
        }
        return lines
    }
}
