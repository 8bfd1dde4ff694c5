import LoomCore
import LoomEngine
import LoomRender

/// Data sets published under a name (MNIST, Fashion-MNIST, CIFAR-10): their
/// files found in the folder a line names, else in the cache, where missing
/// ones are downloaded.
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

    /// `data NAME = cifar10 [n N] [path DIR]`: NAME.train and NAME.test from
    /// the extracted batch files when the folder holds them, else the archive.
    func loadCIFAR10(_ a: Request<PublishedData>) throws(LoomError) {
        let entry = Catalog.cifar10
        let folder = folder(for: entry, given: a.path)
        let extracted = [folder, folder + "/cifar-10-batches-bin"].first { Files.exists($0 + "/" + CIFAR10.testFile) }
        let source: String
        if let extracted { source = extracted } else { source = try publishedFiles(entry, a)[0] }
        try checkMemory(bytes: CIFAR10.bytesNeeded, what: "CIFAR-10's images", at: a.range)
        var parts: (train: Dataset, test: Dataset)
        do { parts = try CIFAR10.load(path: source, atMost: memoryBudget, shouldStop: Evaluator.interrupted) } catch {
            if error.isInterrupted {
                throw LoomError(.interrupted, "interrupted by the user while reading \(source); nothing was defined", at: a.range)
            }
            throw LoomError(.value, error.message, at: a.range)
        }
        if let n = a.n { parts = (parts.train.firstStratified(n), parts.test.firstStratified(n)) }
        defineParts(a.defined, train: parts.train, test: parts.test, title: "\(entry.title) from \(source)")
    }

    /// The folder `entry`'s files are read from: the line's `path`, else the cache's.
    func folder(for entry: CatalogEntry, given path: String?) -> String {
        path ?? DataCache.folder(of: entry)
    }

    /// The path of each of `entry`'s files, compressed or not. Files missing
    /// from the cache are downloaded (with a progress bar); missing from the
    /// folder `path` names, they are an error naming them and the folder.
    func publishedFiles(_ entry: CatalogEntry, _ a: Request<PublishedData>) throws(LoomError) -> [String] {
        let folder = folder(for: entry, given: a.path)
        var found = entry.files.map { DataCache.locate($0.name, in: folder) }
        let missing = entry.files.indices.filter { found[$0] == nil }
        guard !missing.isEmpty else { return found.compactMap { $0 } }
        let names = missing.map { entry.files[$0].name }
        guard a.path == nil else {
            throw LoomError(.io, "\(entry.title): \(names.joined(separator: ", ")) (or the same without .gz) not found in "
                            + "\(folder), the folder `path` names", at: a.range(of: \.path))
        }
        let mirrors: [String]
        do { mirrors = try Downloader.mirrors(of: entry) } catch { throw LoomError(.value, error.message, at: a.range) }
        for (k, i) in missing.enumerated() {
            found[i] = try download(entry.files[i], of: entry, from: mirrors, into: folder,
                                    stillMissing: Array(names[k...]), at: a.range)
        }
        return found.compactMap { $0 }
    }

    /// Downloads one file into the cache with a live progress bar; the error
    /// names the files still missing, the URLs tried and why each failed,
    /// and the folder to put the files in.
    func download(_ file: PublishedFile, of entry: CatalogEntry, from mirrors: [String], into folder: String,
                  stillMissing: [String], at range: SourceRange) throws(LoomError) -> String {
        let display = ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width, mode: session.progress)
        let started = Monotonic.now
        var bar = ProgressBar(label: "downloading \(file.name)", total: (file.bytes + 1023) / 1024, unit: "KiB")
        display.show(bar, force: true)
        let put = "Put \(stillMissing.joined(separator: ", ")) (from any of those mirrors, or the same files "
            + "uncompressed) in \(folder), or name a folder that holds them with `path`"
        do {
            let path = try Downloader.fetch(file, from: mirrors, into: folder, progress: { received, _ in
                bar.completed = received / 1024
                bar.elapsed = Monotonic.now - started
                display.show(bar)
            }, shouldStop: Evaluator.interrupted)
            bar.completed = bar.total
            bar.elapsed = Monotonic.now - started
            display.show(bar, force: true)
            return path
        } catch {
            switch error {
            case .interrupted:
                throw LoomError(.interrupted, "interrupted by the user while downloading \(file.name); nothing was kept", at: range)
            case .unavailable(let reason):
                throw LoomError(.io, "\(entry.title): cannot download \(file.name): \(reason); \(put)", at: range)
            case .everyMirrorFailed(let attempts):
                let tried = attempts.map { "\n  \($0.url): \($0.failure)" }.joined()
                throw LoomError(.io, "\(entry.title): cannot download \(file.name); tried\(tried)\n\(put)", at: range)
            }
        }
    }
}
