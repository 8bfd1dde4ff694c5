import LoomCore

/// Where downloaded data sets live: `$LOOM_DATA`, else
/// `~/.cache/loom/datasets`, with a folder per data set (`mnist/`).
public enum DataCache {
    /// The cache's root folder, from the environment `lookup` reads.
    public static func root(_ lookup: (String) -> String? = Files.environment) -> String {
        if let chosen = lookup("LOOM_DATA"), !chosen.isEmpty { return trimmed(chosen) }
        let home = lookup("HOME").flatMap { $0.isEmpty ? nil : trimmed($0) } ?? "."
        return home + "/.cache/loom/datasets"
    }

    /// The folder `entry`'s files are cached in.
    public static func folder(of entry: CatalogEntry, _ lookup: (String) -> String? = Files.environment) -> String {
        root(lookup) + "/" + entry.folder
    }

    /// `name` in `folder` as it is published (`train-images-idx3-ubyte.gz`),
    /// else uncompressed (`train-images-idx3-ubyte`); nil when neither is there.
    public static func locate(_ name: String, in folder: String) -> String? {
        let candidates = [name] + (name.hasSuffix(".gz") ? [String(name.dropLast(3))] : [])
        return candidates.map { trimmed(folder) + "/" + $0 }.first(where: Files.exists)
    }

    /// `path` without trailing slashes (`/` stays).
    static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
