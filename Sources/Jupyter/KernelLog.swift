import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's log: one line per event on stderr, which Jupyter keeps in its
/// own log. Messages that are dropped are always logged here.
public enum KernelLog {
    /// Whether informational lines are written (`loom kernel --debug`).
    /// Warnings and errors always are: a rejected message is worth a line.
    /// Jupyter front ends copy a kernel's standard error into what they show
    /// (`jupyter console`, nbconvert, papermill), so by default Loom, like
    /// ipykernel, keeps quiet there about things going well.
    static let verboseLines = Atomic<Bool>(false)
    public static var verbose: Bool {
        get { verboseLines.load(ordering: .relaxed) }
        set { verboseLines.store(newValue, ordering: .relaxed) }
    }

    public static func info(_ text: String) { if verbose { emit("info", text) } }
    public static func warning(_ text: String) { emit("warning", text) }
    public static func error(_ text: String) { emit("error", text) }

    static func emit(_ level: String, _ text: String) {
        let line = "[loom \(Identifiers.now()) \(level)] \(text)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
