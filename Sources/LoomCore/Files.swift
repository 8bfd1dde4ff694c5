#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be read or written; `path` and the system's reason.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    static func errno(_ path: String) -> FileError {
        FileError(path: path, reason: String(cString: strerror(Glibc.errno)))
    }

    /// The read was stopped by its `shouldStop` (the user interrupted).
    public static func interrupted(_ path: String) -> FileError { FileError(path: path, reason: interruptedReason) }
    public var isInterrupted: Bool { reason == FileError.interruptedReason }
    static let interruptedReason = "interrupted while reading"
}

/// Small file helpers on the C library, so the kernel does not need
/// Foundation (and its start-up cost) to read a connection file.
public enum Files {
    /// A regular file's bytes, checked before it is opened: anything else (a
    /// FIFO would block, a device never ends, a directory) is refused, and so
    /// is a file larger than `limit` bytes. `shouldStop` is asked every
    /// 16 MiB: a large file read stops soon after an interrupt.
    public static func read(_ path: String, atMost limit: Int, shouldStop: () -> Bool = { false }) throws(FileError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .errno(path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileError(path: path, reason: "not a regular file (a directory, FIFO or device); Loom reads files")
        }
        guard Int(info.st_size) <= limit else {
            throw FileError(path: path, reason: "\(Int(info.st_size) >> 20) MiB, more than the \(limit >> 20) MiB Loom allows "
                            + "(`set memory` raises it)")
        }
        return try read(path, expectedSize: Int(info.st_size), shouldStop: shouldStop)
    }

    public static func read(_ path: String, expectedSize: Int = 0, shouldStop: () -> Bool = { false }) throws(FileError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw .errno(path) }
        defer { fclose(f) }
        var out: [UInt8] = []
        out.reserveCapacity(expectedSize)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var chunks = 0
        while true {
            chunks += 1
            if chunks % 256 == 0, shouldStop() { throw .interrupted(path) }
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n > 0 { out.append(contentsOf: buffer[0..<n]) }
            if n < 65536 {
                if ferror(f) != 0 { throw .errno(path) }
                break
            }
        }
        return out
    }

    /// The last `bytes` bytes of a file as text (all of it when shorter), and
    /// whether the start was cut off.
    public static func readTail(_ path: String, bytes limit: Int) throws(FileError) -> (text: String, cut: Bool) {
        guard let f = fopen(path, "rb") else { throw .errno(path) }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let size = ftell(f)
        let start = max(0, size - limit)
        fseek(f, start, SEEK_SET)
        var out = [UInt8](repeating: 0, count: size - start)
        let n = out.withUnsafeMutableBytes { fread($0.baseAddress, 1, size - start, f) }
        if n < out.count, ferror(f) != 0 { throw .errno(path) }
        return (String(decoding: out.prefix(n), as: UTF8.self), start > 0)
    }

    public static func readText(_ path: String) throws(FileError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` so that a reader, a kill or a power cut at any
    /// moment finds either the old file or the whole new one: the bytes go to
    /// a temporary file beside the target (`mkstemp`, `O_EXCL`), are synced,
    /// the temporary is renamed over the target (removed on any failure), and
    /// the folder is synced so that the rename itself is on disk.
    /// As users' tools do, it writes through a symlink to its target, keeps an
    /// existing file's permissions (a new one gets `mode`, less the umask),
    /// and refuses what it should not replace: anything but a regular file, a
    /// read-only file, a loop of symlinks. A file with other hard links gets a
    /// new inode, as with `sed -i` and many editors' saves: the other links
    /// keep the previous bytes (rewriting in place would leave every link
    /// truncated when the write is killed). Temporaries of killed earlier
    /// writes in the folder are removed first. `after` is called after each
    /// step: what it throws fails the write there (tests inject failures so).
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644,
                                       after: (WriteStep) throws(FileError) -> Void = { _ in }) throws(FileError) {
        let target = try resolvedLinks(path)
        var info = stat()
        let exists = stat(target, &info) == 0
        if !exists, Glibc.errno != ENOENT { throw .errno(path) }
        if exists, info.st_mode & S_IFMT != S_IFREG {
            throw FileError(path: path, reason: "not a regular file (a directory, FIFO or device); Loom only replaces files")
        }
        if exists, info.st_mode & 0o222 == 0 {
            throw FileError(path: path, reason: "read-only (mode \(String(info.st_mode & 0o7777, radix: 8))); Loom does not "
                            + "replace a file protected from writing: make it writable (chmod u+w) or write elsewhere")
        }
        if exists, access(target, W_OK) != 0 { throw .errno(path) }
        let temporary = try makeTemporary(beside: target)
        let permissions = exists ? info.st_mode & 0o7777 : mode & ~currentUmask()
        var failure: FileError?
        if fchmod(temporary.fd, permissions) != 0 {
            failure = .errno(temporary.path)
        } else {
            if exists, getuid() == 0 { _ = fchown(temporary.fd, info.st_uid, info.st_gid) }
            failure = writeAll(bytes, to: temporary.fd, path: temporary.path)
        }
        if let failure {
            discard(temporary)
            throw failure
        }
        try putInPlace(temporary, as: target, after: after)
    }

    /// The steps of putting a written temporary file in place, in order.
    public enum WriteStep: Sendable, CaseIterable {
        /// Every byte is in the temporary file.
        case written
        /// The temporary's bytes are on disk (fsync) and it is closed.
        case synced
        /// The temporary has been renamed over the target.
        case renamed
        /// The folder is synced: the rename is on disk too.
        case folderSynced
    }

    /// Puts a temporary file (from `makeTemporary`, its bytes written) in
    /// place of `target`: syncs and closes it, renames it over `target`, then
    /// syncs the folder so that a power cut cannot undo the rename. On a
    /// failure before the rename the temporary is closed and removed, and the
    /// target keeps its old bytes. `after` as in `writeAtomically`.
    public static func putInPlace(_ temporary: (fd: Int32, path: String), as target: String,
                                  after: (WriteStep) throws(FileError) -> Void = { _ in }) throws(FileError) {
        do throws(FileError) {
            try after(.written)
            if fsync(temporary.fd) != 0 { throw FileError.errno(temporary.path) }
        } catch {
            discard(temporary)
            throw error
        }
        do throws(FileError) {
            if close(temporary.fd) != 0 { throw FileError.errno(temporary.path) }
            try after(.synced)
            if rename(temporary.path, target) != 0 { throw FileError.errno(target) }
        } catch {
            unlink(temporary.path)
            throw error
        }
        try after(.renamed)
        try syncFolder(of: target)
        try after(.folderSynced)
    }

    /// Closes and removes a temporary file that will not be put in place.
    public static func discard(_ temporary: (fd: Int32, path: String)) {
        close(temporary.fd)
        unlink(temporary.path)
    }

    /// Syncs the folder holding `path`, so that a rename into it (or a file
    /// or folder made in it) is on disk. A folder that cannot be opened for
    /// reading (mode `-wx`) is left as it is, as are file systems that cannot
    /// sync a folder (`EINVAL`).
    public static func syncFolder(of path: String) throws(FileError) {
        let folder = folder(of: path)
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if fsync(fd) != 0, Glibc.errno != EINVAL {
            throw FileError(path: folder, reason: "the file is in place, but syncing its folder failed: "
                            + String(cString: strerror(Glibc.errno)))
        }
    }

    /// A new, empty temporary file beside `target`, open for writing, named as
    /// `writeAtomically` names its own, so one a killed process leaves is
    /// removed by the next write in the folder (those of killed earlier writes
    /// are removed first). The caller renames it over the target or unlinks it.
    public static func makeTemporary(beside target: String) throws(FileError) -> (fd: Int32, path: String) {
        removeLeftovers(in: folder(of: target))
        var template = Array((temporaryPrefix(of: target) + "\(getpid())-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .errno(target) }
        return (fd, String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// What temporary files are called: `.NAME.loom-tmp-PID-XXXXXX` beside the
    /// target, hidden, recognisable as Loom's, and naming the process writing it.
    static let temporaryMarker = ".loom-tmp-"

    /// `FOLDER/.NAME.loom-tmp-`, the name cut short enough that the whole
    /// temporary name fits the file system's 255 bytes.
    static func temporaryPrefix(of target: String) -> String {
        let slash = target.lastIndex(of: "/")
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        var kept = String.UnicodeScalarView()
        var length = 0
        for scalar in name.unicodeScalars {
            length += String(scalar).utf8.count
            if length > 200 { break }
            kept.append(scalar)
        }
        return (slash.map { String(target[...$0]) } ?? "") + "." + String(kept) + temporaryMarker
    }

    /// The folder holding `path`: `a/b` for `a/b/c`, `/` for `/c`, `.` for `c`.
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Removes temporary files of Loom writes in `folder` that were killed:
    /// those whose process is gone, and those older than ten minutes that
    /// name no process (a write still going on is left alone).
    static func removeLeftovers(in folder: String) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        let now = time(nil)
        while let entry = readdir(dir) {
            let name = entryName(entry)
            guard name.hasPrefix("."), let marker = name.ranges(of: temporaryMarker).last else { continue }
            let full = (folder == "/" ? "" : folder) + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let writer = name[marker.upperBound...].split(separator: "-").first.flatMap { pid_t($0) }
            let abandoned: Bool
            if let writer, writer > 0 {
                abandoned = writer != getpid() && kill(writer, 0) != 0 && Glibc.errno == ESRCH
            } else {
                abandoned = now - info.st_mtim.tv_sec > 600
            }
            if abandoned { unlink(full) }
        }
    }

    /// `path` with every symlink followed (a dangling link's target is where
    /// a new file goes); a loop, or more than 40 links in a row, is an error.
    static func resolvedLinks(_ path: String) throws(FileError) -> String {
        var current = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n > 0 else { return current }
            let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("/") {
                current = link
            } else {
                current = (current.lastIndex(of: "/").map { String(current[...$0]) } ?? "") + link
            }
        }
        throw FileError(path: path, reason: "a loop of symbolic links (or more than 40 in a row) that never reaches a file")
    }

    static func currentUmask() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) -> FileError? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                return .errno(path)
            }
            written += n
        }
        return nil
    }

    /// Appends to `path`, creating it if needed.
    /// Appends all of `bytes` or none: a write cut short (a full disk, a
    /// file-size limit) is cut back off, so the next append starts on a line
    /// of its own rather than inside half of this one.
    public static func append(_ bytes: [UInt8], to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw .errno(path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .errno(path) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n > 0 else {
                let error = n < 0 ? FileError.errno(path) : FileError(path: path, reason: "nothing written")
                if info.st_mode & S_IFMT == S_IFREG { _ = ftruncate(fd, info.st_size) }
                throw error
            }
            written += n
        }
    }

    /// Makes `path` and its parents (like `mkdir -p`).
    public static func makeDirectories(_ path: String) throws(FileError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && Glibc.errno != EEXIST { throw .errno(current) }
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
