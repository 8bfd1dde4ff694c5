#if canImport(Glibc)
import Glibc
#endif

/// The kernel's log: one line per event on stderr, which Jupyter keeps in its
/// own log. Messages that are dropped are always logged here.
public enum KernelLog {
    public static func info(_ text: String) { emit("info", text) }
    public static func warning(_ text: String) { emit("warning", text) }
    public static func error(_ text: String) { emit("error", text) }

    static func emit(_ level: String, _ text: String) {
        let line = "[loom \(Identifiers.now()) \(level)] \(text)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
