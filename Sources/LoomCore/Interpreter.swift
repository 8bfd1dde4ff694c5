import Synchronization

/// What a language offers a front end (the Jupyter kernel, `loom eval`, the
/// headless notebook runner). It never sees a socket or a file format.
///
/// Calls come from one thread at a time; only `interruptFlag` is touched from
/// other threads (signal handlers, the control channel).
public protocol Interpreter: AnyObject {
    var languageInfo: LanguageInfo { get }
    /// The text a front end shows when it connects.
    var banner: String { get }
    var helpLinks: [(text: String, url: String)] { get }

    /// Runs a cell. Output produced along the way goes to `output`; the value
    /// of the cell (if any) or its error is returned.
    func execute(_ code: String, output: OutputSink) -> ExecutionResult
    /// Evaluates one expression for `user_expressions`, without side effects
    /// on output.
    func evaluate(expression: String) -> ExecutionResult
    /// Completions for the word at `cursor` (a Unicode scalar offset).
    func complete(_ code: String, cursor: Int) -> Completion
    /// Help for the word at `cursor`, or nil when there is nothing to say.
    func inspect(_ code: String, cursor: Int, detailLevel: Int) -> MimeBundle?
    /// Whether `code` is ready to run as it stands.
    func isComplete(_ code: String) -> Completeness
}

/// Set to ask a running cell to stop; the interpreter clears it when a cell
/// starts and checks it between units of work (a training batch, a sleep tick).
public let interruptFlag = Atomic<Bool>(false)

/// Where a running cell sends its output as it goes.
public protocol OutputSink: AnyObject {
    func stream(_ stream: OutputStream, _ text: String)
    /// Shows `bundle`; with `displayID`, a later `update` replaces it in place.
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool)
    func clearOutput(wait: Bool)
    /// Text for the front end's pager (Jupyter's `page` payload). A front end
    /// without a pager shows it as an output (the default).
    func page(_ bundle: MimeBundle)
    /// Asks the front end to close (Jupyter's `ask_exit` payload: `jupyter
    /// console` quits; notebooks ignore it). Front ends without one ignore it.
    func askExit()
    /// What becomes of displays and their updates here: progress goes out as
    /// a display updated in place, as lines, or not at all by it.
    var liveDisplays: LiveDisplays { get }
}

extension OutputSink {
    public func page(_ bundle: MimeBundle) { display(bundle, displayID: nil, update: false) }
    public func askExit() {}
    public var liveDisplays: LiveDisplays { .updatedInPlace }
}

/// How a front end shows a display that changes as a cell runs (progress).
public enum LiveDisplays: Sendable, Equatable {
    /// An update replaces the display in place (notebooks, a terminal's line).
    case updatedInPlace
    /// The display shows once and its updates are lost (`jupyter console`).
    case shownOnce
    /// Displays are not shown at all (`quiet { … }`).
    case hidden
}

/// An output sink that drops everything: for evaluating where nothing is shown.
public final class DiscardedOutput: OutputSink {
    public init() {}
    public func stream(_ stream: OutputStream, _ text: String) {}
    public func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {}
    public func clearOutput(wait: Bool) {}
}

public enum OutputStream: String, Sendable {
    case stdout, stderr
}

public struct LanguageInfo: Sendable {
    public var name: String
    public var version: String
    public var mimetype: String
    public var fileExtension: String
    public var pygmentsLexer: String
    public var codemirrorMode: String
    public var nbconvertExporter: String

    public init(name: String, version: String, mimetype: String, fileExtension: String,
                pygmentsLexer: String, codemirrorMode: String, nbconvertExporter: String) {
        self.name = name
        self.version = version
        self.mimetype = mimetype
        self.fileExtension = fileExtension
        self.pygmentsLexer = pygmentsLexer
        self.codemirrorMode = codemirrorMode
        self.nbconvertExporter = nbconvertExporter
    }

    public var json: JSON {
        [
            "name": .string(name), "version": .string(version), "mimetype": .string(mimetype),
            "file_extension": .string(fileExtension), "pygments_lexer": .string(pygmentsLexer),
            "codemirror_mode": .string(codemirrorMode), "nbconvert_exporter": .string(nbconvertExporter),
        ]
    }
}

/// A failed cell as Jupyter reports it: a name, a one-line value and the
/// lines of a readable traceback.
public struct ExecutionError: Error, Sendable, Equatable {
    public var name: String
    public var value: String
    public var traceback: [String]

    public init(name: String, value: String, traceback: [String]) {
        self.name = name
        self.value = value
        self.traceback = traceback
    }
}

public enum ExecutionResult: Sendable, Equatable {
    /// Finished; the bundle is the cell's value, if it has one.
    case ok(MimeBundle?)
    case error(ExecutionError)
}

public struct Completion: Sendable, Equatable {
    public var matches: [String]
    public var cursorStart: Int
    public var cursorEnd: Int

    public init(matches: [String], cursorStart: Int, cursorEnd: Int) {
        self.matches = matches
        self.cursorStart = cursorStart
        self.cursorEnd = cursorEnd
    }
}

public enum Completeness: Sendable, Equatable {
    case complete
    case incomplete(indent: String)
    case invalid
    case unknown
}
