import LoomCore
import LoomEngine
import LoomRender

/// `data … = patches` and `data … = images`: photographs read from PNG and
/// PGM files (or synthetic patches), every size checked against memory
/// before anything is decoded.
extension Evaluator {
    /// `data NAME = patches [from PATHS] [n N] [size S] [stride N] [noise X] [center] [whiten] [colour]`
    func makePatches(_ a: Request<PatchData>) throws(LoomError) {
        var data: Dataset
        if let paths = a.from {
            if a.given(\.noise) {
                throw LoomError(.value, "noise makes synthetic patches noisy; photographs bring their own", at: a.range(of: \.noise))
            }
            data = try photoPatches(a, paths)
        } else {
            if a.given(\.stride) || a.colour {
                throw LoomError(.value, "\(a.given(\.stride) ? "stride" : "colour") is for patches cut from photographs "
                                + "(`patches from \"photo.png\" …`)", at: a.range(of: a.given(\.stride) ? \.stride : \.colour))
            }
            data = try makeImages(n: a.n, size: a.size, noise: a.noise, noun: "patches", at: a.range) { n, size, noise, random, stop in
                Patches.make(count: n, size: size, noise: noise, random: &random, shouldStop: stop)
            }
        }
        if a.center { PhotoPatches.centre(&data.inputs) }
        if a.whiten { try whiten(&data, at: a.range(of: \.whiten)) }
        try define(a, data)
    }

    /// Every patch of the photographs at `paths` (files or folders), or `n` at random.
    func photoPatches(_ a: Request<PatchData>, _ paths: [String]) throws(LoomError) -> Dataset {
        let range = a.range(of: \.from)
        let size = a.size, stride = a.stride ?? 1, channels = a.colour ? 3 : 1
        var files: [(path: String, bytes: [UInt8], header: PictureHeader)] = []
        for path in try photoFiles(paths, at: range) {
            let (bytes, _) = try fileBytes(path, at: range)
            let header = try reading(at: range) { () throws(DataError) in try PictureFile.header(bytes, source: path) }
            guard header.width >= size, header.height >= size else {
                throw LoomError(.value, "\(path): \(header.width)x\(header.height) pixels, smaller than a patch of \(size)x\(size)", at: range)
            }
            files.append((path, bytes, header))
        }
        let total = files.reduce(0) { $0 + PhotoPatches.count(width: $1.header.width, height: $1.header.height, size: size, stride: stride) }
        let n = a.given(\.n) ? a.n : total
        guard n <= total else {
            throw LoomError(.value, "n is \(NumberFormat.grouped(n)), but the photographs hold \(NumberFormat.grouped(total)) patches "
                            + "of \(size)x\(size) at stride \(stride)", at: a.range(of: \.n))
        }
        let decoded = files.reduce(0) { MemoryAccount.sum($0, PictureFile.decodingBytes($1.header, channels: channels)) }
        try checkMemory(bytes: MemoryAccount.sum(MemoryAccount.product(n, size, size, channels, 4), decoded),
                        what: "\(NumberFormat.grouped(n)) patches of \(size)x\(size)x\(channels) from \(files.count) photographs",
                        at: a.range)
        let positions = a.given(\.n) ? PhotoPatches.choose(n, of: total, random: &session.random) : nil
        var pictures: [Picture] = []
        for file in files {
            if Evaluator.interrupted() {
                throw LoomError(.interrupted, "interrupted by the user while decoding \(file.path); nothing was defined", at: range)
            }
            pictures.append(try reading(at: range) { () throws(DataError) in
                try PictureFile.decode(file.bytes, channels: channels, atMost: memoryBudget, source: file.path)
            })
        }
        return Dataset(inputs: PhotoPatches.extract(from: pictures, size: size, stride: stride, positions: positions), targets: .none)
    }

    /// The files `paths` name: a folder gives its PNG and PGM files, sorted by name.
    func photoFiles(_ paths: [String], at range: SourceRange) throws(LoomError) -> [String] {
        var files: [String] = []
        for path in paths {
            guard Files.kind(of: path) == .directory else { files.append(path); continue }
            let images = try folderEntries(path, at: range).filter(PictureFormat.isImageName).map { Files.joined(path, $0) }
            guard !images.isEmpty else { throw LoomError(.value, "\(path) holds no PNG or PGM files", at: range) }
            files += images
        }
        return files
    }

    /// ZCA whitening of a data set's samples, its memory checked first.
    func whiten(_ data: inout Dataset, at range: SourceRange) throws(LoomError) {
        let (n, d) = (data.count, data.inputs.sampleSize)
        guard d <= 1024 else {
            throw LoomError(.value, "whiten takes samples of up to 1,024 values (32x32 grey); these have \(NumberFormat.grouped(d))",
                            at: range)
        }
        // The samples in hand are bound to no name yet, so they are counted here.
        try checkMemory(bytes: MemoryAccount.sum(data.bytes, Whitening.bytes(samples: n, features: d)),
                        what: "whitening \(NumberFormat.grouped(n)) samples", at: range)
        try reading(at: range) { () throws(DataError) in try Whitening.zca(&data.inputs.storage, samples: n, features: d) }
    }

    /// `data NAME = images FOLDER [size WxH] [colour]`: one class per subfolder.
    func loadImageFolder(_ a: Request<ImageFolderData>) throws(LoomError) {
        let range = a.range(of: \.path), folder = a.path
        guard Files.kind(of: folder) == .directory else {
            throw LoomError(.io, "\(folder) is not a folder; `images` takes a folder with one subfolder per class", at: range)
        }
        let classes = try folderEntries(folder, at: range).filter { Files.kind(of: Files.joined(folder, $0)) == .directory }
        guard !classes.isEmpty else {
            throw LoomError(.value, "\(folder) has no subfolders; `images` takes one subfolder per class "
                            + "(\(Files.joined(folder, "cats/…")), \(Files.joined(folder, "dogs/…")))", at: range)
        }
        var files: [(path: String, label: Int)] = []
        for (label, name) in classes.enumerated() {
            let classFolder = Files.joined(folder, name)
            let names = try folderEntries(classFolder, at: range).filter(PictureFormat.isImageName)
            guard !names.isEmpty else { throw LoomError(.value, "\(classFolder) holds no PNG or PGM files", at: range) }
            files += names.map { (Files.joined(classFolder, $0), label) }
        }
        let channels = a.colour ? 3 : 1
        var width = 0, height = 0, pixels: [Float] = [], reserved = 0
        for (i, file) in files.enumerated() {
            if Evaluator.interrupted() {
                throw LoomError(.interrupted, "interrupted by the user while reading \(file.path); nothing was defined", at: range)
            }
            let (bytes, _) = try fileBytes(file.path, at: range)
            let header = try reading(at: range) { () throws(DataError) in try PictureFile.header(bytes, source: file.path) }
            if i == 0 {
                (width, height) = try imageSize(a, first: header)
                reserved = MemoryAccount.product(files.count, width, height, channels, 4)
                try checkMemory(bytes: reserved, what: "\(NumberFormat.grouped(files.count)) images of \(width)x\(height)x\(channels)",
                                at: a.range)
                pixels.reserveCapacity(files.count * width * height * channels)
            } else if a.size == nil, header.width != width || header.height != height {
                throw LoomError(.value, "\(file.path) is \(header.width)x\(header.height), but \(files[0].path) is \(width)x\(height): "
                                + "give `size WxH` to resize them all", at: range)
            }
            let picture = try reading(at: range) { () throws(DataError) in
                try PictureFile.decode(bytes, channels: channels, atMost: max(0, memoryBudget - reserved), source: file.path)
            }
            pixels += picture.resized(width: width, height: height).pixels
        }
        var data = Dataset(inputs: Tensor(shape: [files.count, height, width, channels], storage: pixels),
                           labels: files.map(\.label), classes: classes.count)
        data.classNames = classes
        try define(a, data)
    }

    /// The images' width and height: `size WxH` (or one side for a square), else the first image's.
    func imageSize(_ a: Request<ImageFolderData>, first: PictureHeader) throws(LoomError) -> (Int, Int) {
        guard let size = a.size else { return (first.width, first.height) }
        guard size.count <= 2, size.allSatisfy({ $0 <= 65536 }) else {
            throw LoomError(.value, "size takes a width and a height of up to 65536, like 64x48", at: a.range(of: \.size))
        }
        return (size[0], size.count == 2 ? size[1] : size[0])
    }

    /// A folder's entries, sorted; a readable error when it cannot be listed.
    func folderEntries(_ folder: String, at range: SourceRange) throws(LoomError) -> [String] {
        do { return try Files.entries(of: folder) } catch { throw LoomError(.io, "cannot read \(error.description)", at: range) }
    }

    /// `body`'s result, a data error becoming a value error at `range`.
    func reading<T>(at range: SourceRange, _ body: () throws(DataError) -> T) throws(LoomError) -> T {
        do { return try body() } catch { throw LoomError(.value, error.message, at: range) }
    }
}
