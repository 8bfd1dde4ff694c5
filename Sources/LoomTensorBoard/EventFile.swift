#if canImport(Glibc)
import Glibc
#endif
import LoomCore

/// One TensorBoard event file in a log folder, `events.out.tfevents.TIME.HOST`
/// as TensorBoard's own writers name it: the `brain.Event:2` version event
/// first, then a step's scalars and histograms per `write`. The new file,
/// with its version event, and the folders made for it are synced when it
/// is created, so a crash right after a run starts leaves the file in its
/// folder. Each write goes to the file at once (nothing is buffered, nothing
/// synced), so TensorBoard watching the folder sees every step as it ends
/// and an interrupted run keeps what it wrote. A new writer on the same
/// folder starts a new file beside the others, which TensorBoard reads as one run.
public final class EventFile {
    public let path: String
    private let descriptor: Int32

    /// The steps of creating an event file, in order.
    public enum CreationStep: Sendable, CaseIterable {
        /// The folders made for the log (none when it existed) are synced into their parents.
        case foldersSynced
        /// The file is created and holds the version event.
        case written
        /// The file's bytes are on disk (fsync).
        case synced
        /// The folder holding the file is synced: its name is on disk too.
        case folderSynced
    }

    /// Makes `folder` (and its parents) when missing and opens a new event
    /// file in it; a name taken already (two runs in one second) gets `.2`, `.3`…
    /// `after` is called after each step: what it throws fails the creation
    /// there, the file removed (tests inject failures so).
    public init(folder: String, wallTime: Double = EventFile.now, host: String = EventFile.hostName,
                after: (CreationStep) throws(FileError) -> Void = { _ in }) throws(FileError) {
        guard !folder.isEmpty else { throw FileError(path: folder, reason: "a log folder needs a name, not an empty one") }
        try Self.prepare(folder)
        try after(.foldersSynced)
        let base = (folder.hasSuffix("/") ? folder : folder + "/") + "events.out.tfevents.\(Int(wallTime)).\(host)"
        var attempt = 1, fd: Int32 = -1, path = base
        while true {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST || attempt == 1000 { break }
            attempt += 1
            path = base + ".\(attempt)"
        }
        guard fd >= 0 else { throw Self.systemError(path) }
        var version = Tensorboard_Event()
        version.wallTime = wallTime
        version.fileVersion = "brain.Event:2"
        do throws(FileError) {
            try Self.append(Self.records([version], path: path), to: fd, path: path)
            try after(.written)
            if fsync(fd) != 0 { throw Self.systemError(path) }
            try after(.synced)
            try Files.syncFolder(of: path)
            try after(.folderSynced)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// One step's figures: each scalar as a `simple_value`, each array of
    /// values as a histogram, in one event.
    public func write(step: Int, scalars: [(tag: String, value: Double)], histograms: [(tag: String, values: [Float])] = [],
                      wallTime: Double = EventFile.now) throws(FileError) {
        var summary = Tensorboard_Summary()
        summary.value = scalars.map { tag, value in
            var v = Tensorboard_Summary.Value()
            v.tag = tag
            v.simpleValue = Float(value)
            return v
        } + histograms.map { tag, values in
            var v = Tensorboard_Summary.Value()
            v.tag = tag
            v.histo = Histogram(values).proto
            return v
        }
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = Int64(step)
        event.summary = summary
        try append([event])
    }

    /// The events framed as records, written in one go.
    private func append(_ events: [Tensorboard_Event]) throws(FileError) {
        try Self.append(Self.records(events, path: path), to: descriptor, path: path)
    }

    /// The events framed as TFRecords, one after another.
    static func records(_ events: [Tensorboard_Event], path: String) throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events {
            do { bytes += TFRecord.frame(try event.serializedBytes()) } catch {
                throw FileError(path: path, reason: "cannot encode an event: \(error)")
            }
        }
        return bytes
    }

    /// Writes all of `bytes` at the end of `fd`; a write cut short is cut
    /// back off so the file stays whole records.
    static func append(_ bytes: [UInt8], to fd: Int32, path: String) throws(FileError) {
        let start = lseek(fd, 0, SEEK_END)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = n < 0 ? Self.systemError(path) : FileError(path: path, reason: "nothing written")
                if start >= 0 { _ = ftruncate(fd, start) }
                throw error
            }
            written += n
        }
    }

    /// `folder` made when missing; it must then be a folder that can be written.
    static func prepare(_ folder: String) throws(FileError) {
        var info = stat()
        if stat(folder, &info) != 0 {
            guard errno == ENOENT else { throw systemError(folder) }
            let missing = missingFolders(folder)
            try Files.makeDirectories(folder)
            guard stat(folder, &info) == 0 else { throw systemError(folder) }
            // Each new folder's name is on disk only once its parent is synced.
            for made in missing { try Files.syncFolder(of: made) }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw FileError(path: folder, reason: "not a folder; the log goes into a folder of event files")
        }
        guard access(folder, W_OK) == 0 else { throw FileError(path: folder, reason: "the folder is not writable") }
    }

    /// `folder` and those of its parents that do not exist, deepest first.
    static func missingFolders(_ folder: String) -> [String] {
        var missing: [String] = [], path = folder
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        var info = stat()
        while !path.isEmpty, path != "/", path != ".", stat(path, &info) != 0, errno == ENOENT {
            missing.append(path)
            guard let slash = path.lastIndex(of: "/") else { break }
            path = String(path[..<slash])
            while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        }
        return missing
    }

    static func systemError(_ path: String) -> FileError { FileError(path: path, reason: String(cString: strerror(errno))) }

    /// Seconds since 1970, as events carry them.
    public static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// This machine's name, as TensorBoard puts it in event file names.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingSlashes
    }
}

extension String {
    /// A host name fit for a file name.
    fileprivate var replacingSlashes: String { String(map { $0 == "/" ? "_" : $0 }) }
}
