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

    static func errno(_ path: String) -> FileError {
        FileError(path: path, reason: String(cString: strerror(Glibc.errno)))
    }
}

/// Small file helpers on the C library, so the kernel does not need
/// Foundation (and its start-up cost) to read a connection file.
public enum Files {
    /// A regular file's bytes, checked before it is opened: anything else (a
    /// FIFO would block, a device never ends, a directory) is refused, and so
    /// is a file larger than `limit` bytes.
    public static func read(_ path: String, atMost limit: Int) throws(FileError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .errno(path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileError(path: path, reason: "not a regular file (a directory, FIFO or device); Loom reads files")
        }
        guard Int(info.st_size) <= limit else {
            throw FileError(path: path, reason: "\(Int(info.st_size) >> 20) MiB, more than the \(limit >> 20) MiB Loom allows "
                            + "(`set memory` raises it)")
        }
        return try read(path)
    }

    public static func read(_ path: String) throws(FileError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw .errno(path) }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n > 0 { out.append(contentsOf: buffer[0..<n]) }
            if n < 65536 {
                if ferror(f) != 0 { throw .errno(path) }
                break
            }
        }
        return out
    }

    public static func readText(_ path: String) throws(FileError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes to a temporary file beside `path`, then renames it over `path`,
    /// so a reader never sees half a file. `mode` sets the permissions.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw .errno(temporary) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                let error = FileError.errno(temporary)
                close(fd); unlink(temporary)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 || close(fd) != 0 { let e = FileError.errno(temporary); unlink(temporary); throw e }
        if rename(temporary, path) != 0 { let e = FileError.errno(path); unlink(temporary); throw e }
    }

    /// Appends to `path`, creating it if needed.
    public static func append(_ bytes: [UInt8], to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw .errno(path) }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
        if n != bytes.count { throw .errno(path) }
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
