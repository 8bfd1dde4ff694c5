import LoomCore
import LoomEngine

/// Data sets published under a name (MNIST, Fashion-MNIST): their files
/// found in the folder a line names, else in the cache.
extension Evaluator {
    /// `data NAME = mnist [fashion] [n N] [path DIR]`: NAME.train and NAME.test.
    func loadMNIST(_ a: Request<PublishedData>) throws(LoomError) {
        let entry = a.fashion ? Catalog.fashionMNIST : Catalog.mnist
        let paths = try publishedFiles(entry, a)
        let images = [try fileBytes(paths[0], at: a.range), try fileBytes(paths[2], at: a.range)]
        try checkMemory(bytes: MemoryAccount.product(images[0].bytes.count + images[1].bytes.count, 4),
                        what: "\(entry.title)'s images", at: a.range)
        var parts: [Dataset] = []
        for (imageFile, labelsPath) in zip(images, [paths[1], paths[3]]) {
            let labels = try fileBytes(labelsPath, at: a.range)
            do {
                var part = try IDXLoader.load(images: imageFile.bytes, labels: labels.bytes,
                                              imagesSource: imageFile.path, labelsSource: labels.path)
                if let n = a.n { part = part.firstStratified(n) }
                part.classNames = entry.classNames
                parts.append(part)
            } catch {
                throw LoomError(.value, error.message, at: a.range)
            }
        }
        defineParts(a.defined, train: parts[0], test: parts[1], title: "\(entry.title) from \(folder(for: entry, given: a.path))")
    }

    /// The folder `entry`'s files are read from: the line's `path`, else the cache's.
    func folder(for entry: CatalogEntry, given path: String?) -> String {
        path ?? DataCache.folder(of: entry)
    }

    /// The path of each of `entry`'s files, compressed or not; an error naming
    /// every missing file and the folder to put them in.
    func publishedFiles(_ entry: CatalogEntry, _ a: Request<PublishedData>) throws(LoomError) -> [String] {
        let folder = folder(for: entry, given: a.path)
        let found = entry.files.map { DataCache.locate($0.name, in: folder) }
        let missing = zip(entry.files, found).filter { $0.1 == nil }.map(\.0.name)
        guard missing.isEmpty else {
            let place = a.path != nil ? "the folder `path` names" : "the cache (`$LOOM_DATA`, else ~/.cache/loom/datasets)"
            throw LoomError(.io, "\(entry.title): \(missing.joined(separator: ", ")) (or the same without .gz) not found in "
                            + "\(folder), \(place); put the files there", at: a.range(of: \.path))
        }
        return found.compactMap { $0 }
    }
}
