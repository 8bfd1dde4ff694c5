import LoomCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches a data set's published files into its cache folder: the mirrors
/// in turn, each file streamed into a temporary file beside its place,
/// hashed as it arrives, and renamed into place only when its size and
/// SHA-256 are the published ones. Whatever stops a download (a failure on
/// every mirror, a mismatch, an interrupt) leaves nothing behind.
public enum Downloader {
    /// One mirror's try at a file, and why it failed.
    public struct Attempt: Sendable, Equatable {
        public let url: String
        public let failure: String
    }

    public enum Failure: Error, Equatable {
        /// The user interrupted; the partial file was deleted.
        case interrupted
        /// No download could start: libcurl missing, the folder not writable.
        case unavailable(String)
        /// Every mirror failed, for the reasons listed.
        case everyMirrorFailed([Attempt])
    }

    /// `file` fetched from the first of `mirrors` that serves it whole with
    /// its published SHA-256, into `folder` (made if need be); its path.
    /// `progress` gets the bytes received so far and the published size.
    public static func fetch(_ file: PublishedFile, from mirrors: [String], into folder: String,
                             progress: (_ received: Int, _ total: Int) -> Void = { _, _ in },
                             shouldStop: () -> Bool = { false }) throws(Failure) -> String {
        let curl: Curl
        switch Curl.loaded {
        case .success(let loaded): curl = loaded
        case .failure(let failure): throw .unavailable(failure.reason)
        }
        let target = folder + "/" + file.name
        do { try Files.makeDirectories(folder) } catch { throw .unavailable("cannot make the folder \(error)") }
        var attempts: [Attempt] = []
        for base in mirrors {
            let url = (base.hasSuffix("/") ? base : base + "/") + file.name
            let temporary: (fd: Int32, path: String)
            do { temporary = try Files.makeTemporary(beside: target) } catch { throw .unavailable("cannot write \(error)") }
            let outcome = Transfer.get(url, into: temporary.fd, limit: file.bytes, curl: curl,
                                       report: { progress($0, file.bytes) }, shouldStop: shouldStop)
            let problem: String?
            switch outcome {
            case .interrupted:
                Files.discard(temporary)
                throw .interrupted
            case .failed(let reason):
                problem = reason
            case .complete(let bytes, _) where bytes != file.bytes:
                problem = "the file ended after \(bytes) of its \(file.bytes) bytes"
            case .complete(_, let sha256) where sha256 != file.sha256:
                problem = "its SHA-256 is \(sha256), not the published \(file.sha256)"
            case .complete:
                if let failure = keep(temporary, as: target) {  // the temporary is gone
                    attempts.append(Attempt(url: url, failure: failure))
                    continue
                }
                return target
            }
            Files.discard(temporary)
            attempts.append(Attempt(url: url, failure: problem ?? ""))
        }
        throw .everyMirrorFailed(attempts)
    }

    /// Puts the temporary file in place as `target` (readable by all, as
    /// other cached files are; synced, renamed, its folder synced); why not,
    /// or nil when it is in place. The temporary is gone either way.
    static func keep(_ temporary: (fd: Int32, path: String), as target: String) -> String? {
        let mask = umask(0o022)
        umask(mask)
        guard fchmod(temporary.fd, 0o644 & ~mask) == 0 else {
            let reason = String(cString: strerror(errno))
            Files.discard(temporary)
            return "cannot keep \(target): \(reason)"
        }
        do { try Files.putInPlace(temporary, as: target) } catch { return "cannot keep \(target): \(error.reason)" }
        return nil
    }

    /// The mirrors to try: `$LOOM_DATA_MIRRORS` (base URLs separated by
    /// spaces, which replace the published list), else `entry`'s own. Only
    /// http and https are taken; another scheme is an error that names it.
    public static func mirrors(of entry: CatalogEntry,
                               _ lookup: (String) -> String? = Files.environment) throws(DataError) -> [String] {
        guard let chosen = lookup("LOOM_DATA_MIRRORS") else { return entry.mirrors }
        let bases = chosen.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard !bases.isEmpty else { throw DataError("$LOOM_DATA_MIRRORS is set but names no mirror") }
        for base in bases {
            let lower = base.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), base.count > 8 else {
                throw DataError("$LOOM_DATA_MIRRORS: `\(base)` is not an http:// or https:// URL")
            }
        }
        return bases
    }
}
