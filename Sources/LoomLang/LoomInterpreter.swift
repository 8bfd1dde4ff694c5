import LoomCore
import LoomEngine

/// The Loom language behind the `Interpreter` protocol: the Jupyter kernel,
/// `loom eval` and the notebook runner all drive this one type.
public final class LoomInterpreter: Interpreter {
    public let session: Session
    public static let version = LoomLangVersion.value

    /// `frontEnd` says where output is shown: `set plots auto` draws SVG
    /// figures for notebooks and text alone for a terminal.
    public init(frontEnd: FrontEnd = .notebook) {
        session = Session(frontEnd: frontEnd)
    }

    public var languageInfo: LanguageInfo {
        LanguageInfo(name: "loom", version: LoomInterpreter.version, mimetype: "text/x-loom", fileExtension: ".loom",
                     pygmentsLexer: "loom", codemirrorMode: "python", nbconvertExporter: "script")
    }

    public var banner: String {
        "Loom \(LoomInterpreter.version): parameter sharing and sparse learning, in notebook cells.\n"
            + "BLAS core: \(BLAS.coreName), \(BLAS.threads) thread(s). Type `help` for the statements."
    }

    public var helpLinks: [(text: String, url: String)] {
        [("Loom language reference", "https://github.com/loom-notebook/loom/blob/main/docs/language.md")]
    }

    public func execute(_ code: String, output: OutputSink) -> ExecutionResult {
        let result = run(code, output: output)
        RankAgreement.check(result)
        return result
    }

    private func run(_ code: String, output: OutputSink) -> ExecutionResult {
        interruptFlag.store(false, ordering: .relaxed)
        do {
            if let request = PagedHelp.request(in: code) {
                output.page(try Help.bundle(for: request.topic, width: session.width, range: request.range))
                return .ok(nil)
            }
            let statements = try Parser.parse(code, interruptible: true)
            return .ok(try Evaluator(session: session, output: output).run(statements))
        } catch {
            return .error(ExecutionError(name: error.kind.rawValue, value: error.summary,
                                         traceback: error.render(source: code)))
        }
    }

    public func evaluate(expression: String) -> ExecutionResult {
        do throws(LoomError) {
            var parser = Parser(tokens: try Lexer.tokenize(expression))
            let expr = try parser.parseExpression()
            guard parser.peek.kind == .end || parser.peek.kind == .newline else {
                throw Parser.stray(parser.peek, after: "the expression")
            }
            let value = try Evaluator(session: session, output: DiscardedOutput()).evaluate(expr)
            return .ok(MimeBundle(text: value.display))
        } catch {
            return .error(ExecutionError(name: error.kind.rawValue, value: error.summary,
                                         traceback: error.render(source: expression)))
        }
    }

    public func complete(_ code: String, cursor: Int) -> Completion {
        Completer.complete(code, cursor: cursor, session: session)
    }

    public func inspect(_ code: String, cursor: Int, detailLevel: Int) -> MimeBundle? {
        Inspector.inspect(code, cursor: cursor, session: session)
    }

    public func isComplete(_ code: String) -> Completeness {
        PagedHelp.request(in: code) != nil ? .complete : CompletenessCheck.check(code)
    }
}

/// The version of Loom, shown by `loom --version` and in kernel_info.
public enum LoomLangVersion {
    public static let value = "0.1.0"
}
