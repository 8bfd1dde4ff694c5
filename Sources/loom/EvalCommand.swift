import ArgumentParser
import LoomCore
import LoomLang
#if canImport(Glibc)
import Glibc
#endif

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Runs Loom code in the terminal: outputs as text on stdout, errors on stderr.")

    @Argument(help: "A .loom file, or - for standard input.")
    var file: String = "-"

    func run() throws {
        signal(SIGINT) { _ in interruptFlag.store(true, ordering: .relaxed) }
        let source: String
        do {
            source = file == "-" ? readStandardInput() : try Files.readText(file)
        } catch {
            TerminalOutput.write(2, "loom eval: \(error)\n")
            throw ExitCode(2)
        }
        let interpreter = LoomInterpreter(frontEnd: .terminal)
        let output = TerminalOutput()
        let result = interpreter.execute(source, output: output)
        output.settle()
        switch result {
        case .ok(let value):
            if let text = value?.plainText { TerminalOutput.write(1, text + "\n") }
        case .error(let error):
            TerminalOutput.write(2, error.traceback.joined(separator: "\n") + "\n")
            throw ExitCode(1)
        }
    }

    func readStandardInput() -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buffer, buffer.count)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Output of `loom eval`: streams as they are, displays as their plain text.
/// A display updated in place (a progress bar) is redrawn on its line in a
/// terminal; into a pipe or file only its last state is written, before the
/// next output.
final class TerminalOutput: OutputSink {
    let interactive = isatty(1) != 0
    private var pendingUpdate: String?
    private var lastWasInPlace = false

    func stream(_ stream: LoomCore.OutputStream, _ text: String) {
        settle()
        TerminalOutput.write(stream == .stdout ? 1 : 2, text)
    }

    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        guard var text = bundle.plainText else { return }
        if text.hasSuffix("\n") { text.removeLast() }
        let oneLine = !text.contains("\n")
        if displayID != nil && oneLine {
            if interactive {
                TerminalOutput.write(1, (update && lastWasInPlace ? "\r\u{1B}[K" : (lastWasInPlace ? "\n" : "")) + text)
                lastWasInPlace = true
            } else {
                pendingUpdate = text
            }
            return
        }
        settle()
        TerminalOutput.write(1, text + "\n")
    }

    func clearOutput(wait: Bool) {}

    /// Ends an in-place line, or writes the last state of one held back.
    func settle() {
        if lastWasInPlace { TerminalOutput.write(1, "\n"); lastWasInPlace = false }
        if let pending = pendingUpdate { TerminalOutput.write(1, pending + "\n"); pendingUpdate = nil }
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        let count = bytes.count
        var offset = 0
        while offset < count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}
