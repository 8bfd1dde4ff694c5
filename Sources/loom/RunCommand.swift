import ArgumentParser
import LoomCore
import LoomEngine
import LoomLang
import LoomNotebook
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Executes a notebook headlessly, in process, and writes its outputs.",
        discussion: """
            Outputs are recorded exactly as a Jupyter client records the kernel's messages. The notebook is \
            written through a temporary file and a rename, so a failed or killed run never leaves half a \
            notebook; with -o the source is never touched. Cells run in the notebook's folder (as Jupyter, \
            nbconvert and papermill run them), so relative paths in cells mean the same everywhere; --cwd \
            chooses another. Exits with status 1 when a cell fails. Under mpirun every rank runs every cell \
            and training splits each batch across the ranks; rank 0 alone prints, writes files and the notebook.
            """)

    @Argument(help: "The notebook to run (.ipynb, nbformat 4).")
    var notebook: String

    @Option(name: .customShort("o"), help: "Write the executed notebook here.")
    var output: String?

    @Flag(help: "Write the executed notebook over the source.")
    var inplace = false

    @Option(name: .customShort("p"), parsing: .upToNextOption,
            help: ArgumentHelp("A parameter, as NAME VALUE; repeat for more.", valueName: "NAME VALUE"))
    var parameter: [String] = []

    @Flag(help: "Record a failing cell's error and go on with the next cells.")
    var allowErrors = false

    @Option(help: "Interrupt a cell that runs longer than this many seconds.")
    var timeout: Double?

    @Flag(name: .customShort("q"), help: "No progress on stderr.")
    var quiet = false

    @Flag(help: "Print each code cell and the text of its outputs on stdout as it runs.")
    var showOutputs = false

    @Option(help: ArgumentHelp("Run the cells in this folder instead of the notebook's.", valueName: "FOLDER"))
    var cwd: String?

    func validate() throws {
        if output != nil && inplace { throw ValidationError("give either -o or --inplace, not both") }
        if parameter.count % 2 != 0 { throw ValidationError("-p takes a NAME and a VALUE") }
        do { try Parameters.check(parameters, reserved: reservedWords) } catch { throw ValidationError(error.description) }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        signal(SIGINT) { _ in interruptFlag.store(true, ordering: .relaxed) }
        let ranks: any Collective
        do { ranks = try Ranks.start() } catch {
            TerminalOutput.write(2, "loom run: \(error)\n")
            throw ExitCode(2)
        }
        defer { ranks.finish() }
        // Every rank runs the cells; rank 0 alone speaks and writes the notebook.
        let leader = ranks.rank == 0
        let quiet = self.quiet || !leader, showOutputs = self.showOutputs && leader
        func report(_ text: String) { if leader { TerminalOutput.write(2, text) } }
        var book: Notebook
        do { book = try Notebook.read(notebook) } catch {
            report("loom run: \(error)\n")
            throw ExitCode(2)
        }
        if !parameters.isEmpty, !Parameters.hasParametersCell(book) {
            report("loom run: warning: input notebook \(notebook) does not contain a cell with tag 'parameters'; "
                                 + "the parameters are set in a cell injected at the top\n")
        }
        for name in Parameters.unknown(parameters, in: book) {
            report("loom run: warning: the parameters cell does not define `\(name)`; it is set anyway\n")
        }
        do { try Parameters.inject(parameters, into: &book, reserved: reservedWords) } catch {
            report("loom run: \(error)\n")
            throw ExitCode(2)
        }
        let runner = NotebookRunner(interpreter: LoomInterpreter())
        // The cells see the notebook's folder as their working directory; the
        // caller's is back before the notebook is written.
        let callers = currentDirectory()
        let folder = cwd ?? parentFolder(of: notebook)
        guard chdir(folder) == 0 else {
            report("loom run: cannot run the cells in \(folder): \(String(cString: strerror(errno)))\n")
            throw ExitCode(2)
        }
        defer { _ = chdir(callers) }
        let started = Monotonic.now
        let failures = runner.run(&book, options: .init(allowErrors: allowErrors, timeout: timeout)) { n, total, seconds, cell in
            if showOutputs { TerminalOutput.write(1, CellText.render(cell, number: n)) }
            if !quiet {
                TerminalOutput.write(2, "loom run: cell \(n) of \(total) done in \(format(seconds)) s "
                                     + "(\(format(Monotonic.now - started)) s in all)\n")
            }
        }
        _ = chdir(callers)
        for failure in failures {
            report("loom run: code cell \(failure.codeCellNumber) (cell \(failure.cellIndex + 1) of the notebook) failed:\n"
                   + failure.error.traceback.map { "    " + $0 }.joined(separator: "\n") + "\n")
        }
        if let target = inplace ? notebook : output, leader {
            do { try book.write(to: target) } catch {
                TerminalOutput.write(2, "loom run: \(error)\n")
                throw ExitCode(2)
            }
            if !quiet { TerminalOutput.write(2, "loom run: wrote \(target)\n") }
        } else if !quiet {
            TerminalOutput.write(2, "loom run: outputs not saved (use -o FILE or --inplace)\n")
        }
        if !failures.isEmpty && !allowErrors { throw ExitCode(1) }
    }

    /// The `-p NAME VALUE` pairs.
    var parameters: [(name: String, value: String)] {
        stride(from: 0, to: parameter.count - 1, by: 2).map { (name: parameter[$0], value: parameter[$0 + 1]) }
    }

    /// Words that begin statements and layers cannot name a parameter.
    var reservedWords: Set<String> { Statements.wordsNoVariableMayUse }

    func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }

    /// `a/b/x.ipynb` → `a/b`; a bare file name → `.`.
    func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 100).rounded())
        return "\(tenths / 100).\(tenths % 100 < 10 ? "0" : "")\(tenths % 100)"
    }
}

/// A code cell as text, for `--show-outputs`: its source after `In [n]:`,
/// then the plain text of each output.
enum CellText {
    static func render(_ cell: JSONObject, number: Int) -> String {
        var out = "In [\(number)]:\n" + Notebook.text(cell["source"]).split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    " + $0 }.joined(separator: "\n") + "\n"
        for output in cell["outputs"]?.arrayValue ?? [] {
            switch output["output_type"]?.stringValue {
            case "stream": out += Notebook.text(output["text"])
            case "error": out += (output["traceback"]?.arrayValue?.compactMap(\.stringValue) ?? []).joined(separator: "\n") + "\n"
            default:
                let text = Notebook.text(output["data"]?["text/plain"])
                out += text.hasSuffix("\n") || text.isEmpty ? text : text + "\n"
            }
        }
        return out + "\n"
    }
}
