import LoomCore
import LoomLang
import XCTest

/// Output recorded for assertions.
final class CapturedOutput: OutputSink {
    var streams: [(LoomCore.OutputStream, String)] = []
    var displays: [MimeBundle] = []
    var clears = 0
    var pages: [MimeBundle] = []
    func page(_ bundle: MimeBundle) { pages.append(bundle) }
    func stream(_ stream: LoomCore.OutputStream, _ text: String) { streams.append((stream, text)) }
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) { displays.append(bundle) }
    func clearOutput(wait: Bool) { clears += 1 }
    var stdout: String { streams.filter { $0.0 == .stdout }.map(\.1).joined() }
}

/// A fresh interpreter per test, and helpers to run cells on it.
class LoomTestCase: XCTestCase {
    var loom: LoomInterpreter!
    var out: CapturedOutput!

    override func setUp() {
        loom = LoomInterpreter()
        out = CapturedOutput()
    }

    @discardableResult
    func run(_ code: String) -> ExecutionResult { loom.execute(code, output: out) }

    /// The plain-text result of a cell that succeeds, or nil.
    func value(_ code: String) -> String? {
        guard case .ok(let b) = run(code) else { return nil }
        return b?.plainText
    }

    /// The error of a cell that fails, or nil.
    func error(_ code: String) -> ExecutionError? {
        guard case .error(let e) = run(code) else { return nil }
        return e
    }

    /// The text of every display so far.
    func texts() -> [String] { out.displays.compactMap(\.plainText) }
}
