/// NumPy's `.npz` archives (`numpy.savez`, `savez_compressed`, and Keras's
/// own `mnist.npz`): a zip of `.npy` arrays, one per key, read through
/// `ZipArchive` and `NPYLoader`.
public enum NPZLoader {
    /// What an archive gives: one data set, or Keras's train and test parts.
    public enum Contents: Sendable {
        case one(Dataset)
        case split(train: Dataset, test: Dataset)
    }

    /// The arrays Keras's `load_data()` archives hold, read as train and test parts.
    public static let kerasKeys = (trainSamples: "x_train", trainLabels: "y_train", testSamples: "x_test", testLabels: "y_test")

    /// Which arrays of an archive become which part of a data set, chosen
    /// before any is decompressed so the memory they need can be checked first.
    public struct Plan: Sendable {
        public let archive: ZipArchive
        let source: String
        /// Samples, labels, targets; a second triple for a test part.
        let parts: [(samples: ZipArchive.Entry, labels: ZipArchive.Entry?, targets: ZipArchive.Entry?)]
        /// Keras's layout is read as `idx` reads MNIST: one-byte images
        /// scaled to [0, 1], N×H×W given a channel (H×W×1).
        var imagesAsIDX = false

        /// The most memory reading the chosen arrays takes: each array's
        /// `.npy` bytes and four bytes a value (as many values as bytes, for
        /// one-byte types; fewer for wider ones).
        public var bytesNeeded: Int {
            let sizes = parts.flatMap { [$0.samples.size, $0.labels?.size ?? 0, $0.targets?.size ?? 0] }
            return sizes.reduce(0) { total, size in
                let (value, overflow) = size.multipliedReportingOverflow(by: 5)
                return overflow || value > Int.max - total ? Int.max : total + value
            }
        }

        /// Decompresses and reads the chosen arrays, refusing any that would
        /// expand past `limit` bytes.
        public func load(atMost limit: Int = .max) throws(DataError) -> Contents {
            var sets: [Dataset] = []
            for part in parts {
                func read(_ entry: ZipArchive.Entry?) throws(DataError) -> [UInt8]? {
                    try entry.map { e throws(DataError) in try archive.read(e, atMost: limit) }
                }
                let labelsEntry = part.labels ?? part.targets
                let samples = try read(part.samples)!
                var data = try NPYLoader.load(samples: samples, labels: try read(part.labels), targets: try read(part.targets),
                                              samplesSource: "\(source) (\(part.samples.name))",
                                              labelsSource: labelsEntry.map { "\(source) (\($0.name))" } ?? source)
                if imagesAsIDX { data.makeImages(scaled: NPYLoader.holdsBytes(samples)) }
                sets.append(data)
            }
            guard sets.count == 2 else { return .one(sets[0]) }
            return .split(train: sets[0], test: sets[1]).sharingClassCount
        }
    }

    /// The arrays an archive holds, by key (their names less `.npy`, as `numpy.load` lists them).
    public static func keys(_ archive: ZipArchive) -> [String] {
        archive.entries.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
    }

    /// The plan for `bytes`: the arrays named by `samples`, `labels` and
    /// `targets`; with none named, Keras's four arrays as train and test, or
    /// an archive's only array as samples.
    public static func plan(_ bytes: [UInt8], samples: String? = nil, labels: String? = nil, targets: String? = nil,
                            source: String) throws(DataError) -> Plan {
        guard ZipArchive.isArchive(bytes) else { throw DataError("\(source) is not an .npz archive (a zip file)") }
        let archive = try ZipArchive(bytes, source: source)
        let keys = keys(archive)
        guard !keys.isEmpty else { throw DataError("\(source) holds no arrays") }
        func entry(_ key: String, _ role: String) throws(DataError) -> ZipArchive.Entry {
            guard let index = keys.firstIndex(of: key) else {
                throw DataError("\(source) holds no array `\(key)` for the \(role); it holds \(list(keys))")
            }
            return archive.entries[index]
        }
        func optional(_ key: String?, _ role: String) throws(DataError) -> ZipArchive.Entry? {
            try key.map { k throws(DataError) in try entry(k, role) }
        }
        if labels != nil && targets != nil {
            throw DataError("give `labels` (classes) or `targets` (values), not both")
        }
        if let samples {
            return Plan(archive: archive, source: source,
                        parts: [(try entry(samples, "samples"), try optional(labels, "labels"), try optional(targets, "targets"))])
        }
        guard labels == nil && targets == nil else {
            throw DataError("name the samples too (`samples KEY`); \(source) holds \(list(keys))")
        }
        let k = kerasKeys
        if [k.trainSamples, k.trainLabels, k.testSamples, k.testLabels].allSatisfy(keys.contains) {
            return Plan(archive: archive, source: source,
                        parts: [(try entry(k.trainSamples, "samples"), try entry(k.trainLabels, "labels"), nil),
                                (try entry(k.testSamples, "samples"), try entry(k.testLabels, "labels"), nil)],
                        imagesAsIDX: true)
        }
        guard keys.count == 1 else {
            throw DataError("\(source) holds \(keys.count) arrays (\(list(keys))): pick them with "
                            + "`samples KEY` and `labels KEY` or `targets KEY`")
        }
        return Plan(archive: archive, source: source, parts: [(archive.entries[0], nil, nil)])
    }

    static func list(_ keys: [String]) -> String {
        let shown = keys.prefix(20).map { "`\($0)`" }.joined(separator: ", ")
        return keys.count > 20 ? shown + " and \(keys.count - 20) more" : shown
    }
}

extension Dataset {
    /// The samples as `idx` gives images: one-byte values scaled to
    /// [0, 1] when `scaled` (in place), N×H×W given a channel.
    mutating func makeImages(scaled: Bool) {
        if scaled { inputs.storage.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] /= 255 } } }
        if inputs.shape.count == 3 { inputs = Tensor(shape: inputs.shape + [1], storage: inputs.storage) }
    }
}

extension NPZLoader.Contents {
    /// Both parts counting the same classes (a class only one part holds
    /// would otherwise make their counts differ).
    var sharingClassCount: NPZLoader.Contents {
        guard case .split(var train, var test) = self, train.classes > 0, test.classes > 0 else { return self }
        let classes = max(train.classes, test.classes)
        train.targets = .classes(train.labels, count: classes)
        test.targets = .classes(test.labels, count: classes)
        return .split(train: train, test: test)
    }
}
