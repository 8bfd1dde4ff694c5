import LoomCore
import LoomEngine

/// The kernel under mpirun: rank 0 speaks to the front end and hands each
/// cell to the other ranks before running it; they run it with their output
/// dropped (`follow`), as `loom run` runs every cell on every rank, and
/// `RankAgreement` keeps them in step. Completion, inspection and
/// `user_expressions` stay on rank 0, as a process alone.
public final class CellRelay: Interpreter {
    let interpreter: LoomInterpreter
    let ranks: any Collective

    /// What rank 0 hands over: a cell's code, or the end of the session.
    enum Command: Equatable {
        case cell(String)
        case stop

        var bytes: [UInt8] {
            switch self {
            case .cell(let code): return [1] + Array(code.utf8)
            case .stop: return [0]
            }
        }

        init(_ bytes: [UInt8]) {
            self = bytes.first == 1 ? .cell(String(decoding: bytes.dropFirst(), as: UTF8.self)) : .stop
        }
    }

    public init(_ interpreter: LoomInterpreter, ranks: any Collective = Ranks.current) {
        self.interpreter = interpreter
        self.ranks = ranks
    }

    public var languageInfo: LanguageInfo { interpreter.languageInfo }
    public var banner: String { interpreter.banner + "\nRunning on \(ranks.size) ranks (MPI): each cell runs on every rank." }
    public var helpLinks: [(text: String, url: String)] { interpreter.helpLinks }

    public func execute(_ code: String, output: OutputSink) -> ExecutionResult {
        send(.cell(code))
        return interpreter.execute(code, output: output)
    }

    public func evaluate(expression: String) -> ExecutionResult { Ranks.alone { interpreter.evaluate(expression: expression) } }
    public func complete(_ code: String, cursor: Int) -> Completion { interpreter.complete(code, cursor: cursor) }
    public func inspect(_ code: String, cursor: Int, detailLevel: Int) -> MimeBundle? {
        Ranks.alone { interpreter.inspect(code, cursor: cursor, detailLevel: detailLevel) }
    }
    public func isComplete(_ code: String) -> Completeness { interpreter.isComplete(code) }

    /// Ends the other ranks' `follow`: the kernel is shutting down.
    public func stop() { send(.stop) }

    func send(_ command: Command) {
        _ = ranks.broadcast(bytes: command.bytes, from: 0, idle: true)
    }

    /// A rank other than 0: runs each cell rank 0 hands over, output dropped,
    /// until rank 0 says the session ends.
    public static func follow(_ interpreter: LoomInterpreter, ranks: any Collective = Ranks.current) {
        while case .cell(let code) = Command(ranks.broadcast(bytes: [], from: 0, idle: true)) {
            _ = interpreter.execute(code, output: DiscardedOutput())
        }
    }
}
