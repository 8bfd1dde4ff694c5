#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Files {
    /// What a directory entry is, as `stat` sees it (links followed).
    public enum EntryKind: Sendable { case file, directory, other }

    /// What `path` is; nil when it does not exist or cannot be looked at.
    public static func kind(of path: String) -> EntryKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The names in a directory (hidden ones, starting with `.`, left out),
    /// sorted by their bytes as Python's `sorted` sorts them, so a folder's
    /// order is the same on every system.
    public static func entries(of path: String) throws(FileError) -> [String] {
        guard let dir = opendir(path) else { throw .errno(path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = entryName(entry)
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The name of `readdir`'s entry, read in place: the entry is only as
    /// long as its name, so copying the whole `d_name` array reads past it.
    static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
    }

    /// `name` inside the folder `folder`, with one `/` between them.
    public static func joined(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
