import LoomCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Executes a notebook's code cells in order through an `Interpreter`, in
/// process, and records outputs exactly as a Jupyter client records what the
/// kernel sends: streams, displays (updated in place by display id),
/// results, errors, clears and execution counts.
public final class NotebookRunner {
    public struct Options: Sendable {
        public var allowErrors = false
        /// Seconds a cell may run before it is interrupted (nil: no limit).
        public var timeout: Double?
        public init(allowErrors: Bool = false, timeout: Double? = nil) {
            self.allowErrors = allowErrors
            self.timeout = timeout
        }
    }

    /// A cell that failed: its position among all cells and the error.
    public struct CellFailure: Sendable, Equatable {
        public var cellIndex: Int
        public var codeCellNumber: Int
        public var error: ExecutionError
    }

    let interpreter: Interpreter
    let languageMetadata: JSONObject
    let kernelspecMetadata: JSONObject

    public init(interpreter: Interpreter, kernelName: String = "loom", displayName: String = "Loom") {
        self.interpreter = interpreter
        languageMetadata = interpreter.languageInfo.json.objectValue ?? [:]
        kernelspecMetadata = ["display_name": .string(displayName), "language": .string(interpreter.languageInfo.name),
                              "name": .string(kernelName)]
    }

    /// Runs every code cell; stops at the first error unless errors are
    /// allowed or the cell is tagged `raises-exception`. `progress` hears
    /// each code cell as it finishes: its number, the count, the seconds it
    /// took, and the cell with its outputs.
    public func run(_ notebook: inout Notebook, options: Options = Options(),
                    progress: (Int, Int, Double, JSONObject) -> Void = { _, _, _, _ in }) -> [CellFailure] {
        var metadata = notebook.metadata
        metadata["kernelspec"] = .object(kernelspecMetadata)
        metadata["language_info"] = .object(languageMetadata)
        notebook.metadata = metadata

        var cells = notebook.cells
        let codeCells = cells.indices.filter { cells[$0]["cell_type"]?.stringValue == "code" }
        var failures: [CellFailure] = []
        var executionCount = 0
        for (n, index) in codeCells.enumerated() {
            let started = Monotonic.now
            executionCount += 1
            let source = Notebook.text(cells[index]["source"])
            let recorder = OutputRecorder()
            let result = withTimeout(options.timeout) { interpreter.execute(source, output: recorder) }
            switch result {
            case .ok(let value):
                if let value {
                    recorder.append(["output_type": "execute_result", "execution_count": .int(executionCount),
                                     "data": .object(value.data), "metadata": .object(value.metadata)])
                }
            case .error(var error):
                if timedOut { error = timeoutError(error, seconds: options.timeout ?? 0) }
                recorder.append(["output_type": "error", "ename": .string(error.name), "evalue": .string(error.value),
                                 "traceback": .array(error.traceback.map(JSON.string))])
                // A cell tagged raises-exception is meant to fail (nbclient's rule).
                if !Notebook.tags(cells[index]).contains("raises-exception") {
                    failures.append(CellFailure(cellIndex: index, codeCellNumber: n + 1, error: error))
                }
            }
            cells[index]["outputs"] = .array(recorder.outputs.map(JSON.object))
            cells[index]["execution_count"] = .int(executionCount)
            progress(n + 1, codeCells.count, Monotonic.now - started, cells[index])
            if !failures.isEmpty && !options.allowErrors { break }
        }
        notebook.cells = cells
        return failures
    }

    private var timedOut = false

    /// Runs `body`, setting the interrupt flag if it outlasts `seconds`.
    func withTimeout(_ seconds: Double?, _ body: () -> ExecutionResult) -> ExecutionResult {
        timedOut = false
        guard let seconds, seconds > 0 else { return body() }
        let done = Atomic<Bool>(false)
        let fired = Atomic<Bool>(false)
        let watchdog: BackgroundThread
        do {
            watchdog = try BackgroundThread {
                let deadline = Monotonic.now + seconds
                while !done.load(ordering: .relaxed) {
                    if Monotonic.now >= deadline {
                        fired.store(true, ordering: .relaxed)
                        interruptFlag.store(true, ordering: .relaxed)
                        return
                    }
                    var ts = timespec(tv_sec: 0, tv_nsec: 5_000_000)
                    nanosleep(&ts, nil)
                }
            }
        } catch {
            // A cell given a timeout runs only while it can be timed.
            let message = "the cell's timeout cannot be kept: \(error)"
            return .error(ExecutionError(name: "CellTimeoutError", value: message, traceback: ["CellTimeoutError: " + message]))
        }
        let result = body()
        done.store(true, ordering: .relaxed)
        watchdog.join()
        timedOut = fired.load(ordering: .relaxed)
        return result
    }

    func timeoutError(_ error: ExecutionError, seconds: Double) -> ExecutionError {
        ExecutionError(name: "CellTimeoutError", value: "the cell ran longer than the \(seconds) s timeout",
                       traceback: ["CellTimeoutError: the cell ran longer than the \(seconds) s timeout"] + error.traceback.dropFirst())
    }
}

/// Collects a cell's outputs as nbformat output objects. Consecutive writes
/// to one stream are one output, as the kernel sends them coalesced (until
/// any other message of the cell): a million prints are one text, not a
/// million outputs.
final class OutputRecorder: OutputSink {
    private var recorded: [JSONObject] = []
    private var clearBeforeNext = false
    private var displays: [String: [Int]] = [:]
    /// The stream the last output is, while writes to it go on; its text is
    /// kept apart and grows in place until another output closes it.
    private var openStream: LoomCore.OutputStream?
    private var openText = ""

    var outputs: [JSONObject] {
        closeStream()
        return recorded
    }

    func append(_ output: JSONObject, displayID: String? = nil) {
        closeStream()
        if clearBeforeNext { recorded = []; displays = [:]; clearBeforeNext = false }
        if let displayID { displays[displayID, default: []].append(recorded.count) }
        recorded.append(output)
    }

    private func closeStream() {
        guard openStream != nil else { return }
        recorded[recorded.count - 1]["text"] = .string(openText)
        openStream = nil
        openText = ""
    }

    /// nbclient records no pager payloads, so neither does a headless run.
    func page(_ bundle: MimeBundle) {}

    func stream(_ stream: LoomCore.OutputStream, _ text: String) {
        if openStream == stream && !clearBeforeNext {
            openText += text
            return
        }
        append(["output_type": "stream", "name": .string(stream.rawValue), "text": ""])
        openStream = stream
        openText = text
    }

    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        if update, let displayID {
            // An update replaces every output shown under that id, in place.
            // It ends a run of writes, as the kernel sends the text before it.
            closeStream()
            for i in displays[displayID] ?? [] {
                recorded[i]["data"] = .object(bundle.data)
                recorded[i]["metadata"] = .object(bundle.metadata)
            }
            return
        }
        append(["output_type": "display_data", "data": .object(bundle.data), "metadata": .object(bundle.metadata)],
               displayID: displayID)
    }

    func clearOutput(wait: Bool) {
        if wait { clearBeforeNext = true } else { closeStream(); recorded = []; displays = [:] }
    }
}
