import Jupyter
import LoomCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// An interpreter that answers from a script, so the dispatcher is tested
/// alone (as xeus tests its kernel core).
final class ScriptedInterpreter: Interpreter {
    var languageInfo: LanguageInfo {
        LanguageInfo(name: "mock", version: "1", mimetype: "text/x-mock", fileExtension: ".mock",
                     pygmentsLexer: "text", codemirrorMode: "text", nbconvertExporter: "script")
    }
    var banner: String { "mock" }
    var helpLinks: [(text: String, url: String)] { [] }
    var executed: [String] = []

    func execute(_ code: String, output: OutputSink) -> ExecutionResult {
        executed.append(code)
        if code == "fail" { return .error(ExecutionError(name: "Boom", value: "it failed", traceback: ["line 1"])) }
        if code == "exit" { output.askExit() }
        if code == "live" {
            output.stream(.stdout, "\(output.liveDisplays)")
            return .ok(nil)
        }
        output.stream(.stdout, "ran \(code)\n")
        output.display(MimeBundle(text: "shown"), displayID: "d1", update: false)
        output.display(MimeBundle(text: "updated"), displayID: "d1", update: true)
        return .ok(MimeBundle(text: "result of \(code)"))
    }
    func evaluate(expression: String) -> ExecutionResult { .ok(MimeBundle(text: "<\(expression)>")) }
    func complete(_ code: String, cursor: Int) -> Completion { Completion(matches: ["x"], cursorStart: 0, cursorEnd: cursor) }
    func inspect(_ code: String, cursor: Int, detailLevel: Int) -> MimeBundle? { code == "x" ? MimeBundle(text: "doc") : nil }
    func isComplete(_ code: String) -> Completeness { code.hasSuffix("{") ? .incomplete(indent: "  ") : .complete }
}

final class RecordingTransport: KernelTransport {
    var replies: [(OutgoingMessage, Channel)] = []
    var published: [OutgoingMessage] = []
    var queued: [Message] = []
    var onReply: ((OutgoingMessage) -> Void)?

    func reply(_ message: OutgoingMessage, on channel: Channel) {
        onReply?(message)
        replies.append((message, channel))
    }
    func publish(_ message: OutgoingMessage) { published.append(message) }
    func takeQueuedShellRequests() -> [Message] {
        defer { queued = [] }
        return queued
    }
    var publishedTypes: [String] { published.map(\.type) }
}

final class DispatcherTests: XCTestCase {
    var transport: RecordingTransport!
    var interpreter: ScriptedInterpreter!
    var dispatcher: Dispatcher!

    override func setUp() {
        transport = RecordingTransport()
        interpreter = ScriptedInterpreter()
        dispatcher = Dispatcher(interpreter: interpreter, transport: transport, history: HistoryStore(path: nil),
                                builder: MessageBuilder(session: "kernel-session"), implementationVersion: "9")
    }

    func request(_ type: String, _ content: JSONObject = [:], metadata: JSONObject = [:], identity: String = "client") -> Message {
        Message(identities: [Array(identity.utf8)],
                header: ["msg_id": .string("id-\(type)"), "msg_type": .string(type), "session": "s", "username": "u",
                         "date": "2026-01-01T00:00:00.000000Z", "version": "5.3"],
                metadata: metadata, content: content)
    }

    /// Progress updates a display in place only where the front end does:
    /// a request that takes input and names no cell comes from a console,
    /// which prints a display once and drops its updates.
    func testTheRequestTellsWhetherDisplaysUpdateInPlace() {
        func live(_ content: JSONObject, _ metadata: JSONObject = [:]) -> String {
            transport.published = []
            var content = content
            content["code"] = "live"
            handle(request("execute_request", content, metadata: metadata))
            return transport.published.filter { $0.type == "stream" }.compactMap { $0.content["text"]?.stringValue }.joined()
        }
        XCTAssertEqual(live(["allow_stdin": true]), "shownOnce", "jupyter console")
        XCTAssertEqual(live(["allow_stdin": true], ["cellId": "c1"]), "updatedInPlace", "JupyterLab")
        XCTAssertEqual(live(["allow_stdin": false]), "updatedInPlace", "nbclient (papermill, nbconvert)")
        XCTAssertEqual(live([:]), "updatedInPlace")
    }

    @discardableResult
    func handle(_ m: Message, on channel: Channel = .shell) -> DispatchOutcome {
        dispatcher.handle(m, on: channel)
    }

    /// A SIGTERM right after the reply cannot lose the cell's entry: it is
    /// recorded (appended to the file) before the reply goes out.
    func testTheHistoryEntryIsRecordedBeforeTheReply() {
        let history = HistoryStore(path: nil)
        dispatcher = Dispatcher(interpreter: interpreter, transport: transport, history: history,
                                builder: MessageBuilder(session: "kernel-session"), implementationVersion: "9")
        var seen: [String?] = []
        transport.onReply = { reply in
            if reply.type == "execute_reply" { seen.append(history.entries.last?.input) }
        }
        handle(request("execute_request", ["code": "ok"]))
        handle(request("execute_request", ["code": "fail"]))
        XCTAssertEqual(seen, ["ok", "fail"])
    }

    func testEveryRequestIsWrappedInBusyAndIdleWithItsParent() {
        let r = request("kernel_info_request")
        handle(r)
        XCTAssertEqual(transport.publishedTypes, ["status", "status"])
        XCTAssertEqual(transport.published[0].content["execution_state"], "busy")
        XCTAssertEqual(transport.published[1].content["execution_state"], "idle")
        XCTAssertTrue(transport.published.allSatisfy { $0.parentHeader == r.rawHeader })
    }

    func testRepliesAreRoutedToTheSenderWithTheRightType() {
        handle(request("kernel_info_request", identity: "alice"))
        let (reply, channel) = transport.replies[0]
        XCTAssertEqual(channel, .shell)
        XCTAssertEqual(reply.identities, [Array("alice".utf8)])
        XCTAssertEqual(reply.type, "kernel_info_reply")
        XCTAssertEqual(reply.content["language_info"]?["name"], "mock")
        XCTAssertEqual(reply.content["implementation_version"], "9")
    }

    func testExecutePublishesInputOutputsResultThenReplies() {
        handle(request("execute_request", ["code": "a", "silent": false, "store_history": true]))
        XCTAssertEqual(transport.publishedTypes,
                       ["status", "execute_input", "stream", "display_data", "update_display_data", "execute_result", "status"])
        let display = transport.published[3]
        XCTAssertEqual(display.content["transient"]?["display_id"], "d1")
        XCTAssertEqual(transport.published[5].content["execution_count"], 1)
        let reply = transport.replies[0].0
        XCTAssertEqual(reply.content["status"], "ok")
        XCTAssertEqual(reply.content["execution_count"], 1)
        XCTAssertEqual(reply.content["payload"], [])
    }

    /// `exit` is ipykernel's: an `ask_exit` payload on the reply.
    func testAskingToExitIsAPayload() {
        handle(request("execute_request", ["code": "exit", "silent": false]))
        XCTAssertEqual(transport.replies[0].0.content["payload"], [["source": "ask_exit", "keepkernel": false]])
    }

    func testSilentExecutePublishesNothingButStatusAndKeepsTheCount() {
        handle(request("execute_request", ["code": "a", "silent": true]))
        XCTAssertEqual(transport.publishedTypes, ["status", "status"])
        XCTAssertEqual(transport.replies[0].0.content["execution_count"], 0)
        XCTAssertEqual(dispatcher.executionCount, 0)
    }

    func testErrorWithStopOnErrorAbortsQueuedExecutesAndRequeuesTheRest() {
        transport.queued = [request("execute_request", ["code": "b"]), request("complete_request", ["code": "x"])]
        let outcome = handle(request("execute_request", ["code": "fail"]))
        XCTAssertEqual(interpreter.executed, ["fail"])
        let statuses = transport.replies.map { $0.0.content["status"] }
        XCTAssertEqual(statuses, ["error", "aborted"])
        XCTAssertEqual(transport.replies[0].0.content["ename"], "Boom")
        guard case .requeue(let rest) = outcome else { return XCTFail("expected the completion to be requeued") }
        XCTAssertEqual(rest.map(\.type), ["complete_request"])
    }

    func testErrorWithoutStopOnErrorLeavesTheQueueAlone() {
        transport.queued = [request("execute_request", ["code": "b"])]
        let outcome = handle(request("execute_request", ["code": "fail", "stop_on_error": false]))
        guard case .proceed = outcome else { return XCTFail("expected proceed") }
        XCTAssertEqual(transport.queued.count, 1)
    }

    func testExecuteWithoutCodeIsAnErrorReply() {
        handle(request("execute_request", ["code": 5]))
        XCTAssertEqual(transport.replies[0].0.content["status"], "error")
        XCTAssertTrue(interpreter.executed.isEmpty)
    }

    func testUserExpressionsAreEvaluated() {
        handle(request("execute_request", ["code": "a", "user_expressions": ["e": "1+1"]]))
        let e = transport.replies[0].0.content["user_expressions"]?["e"]
        XCTAssertEqual(e?["status"], "ok")
        XCTAssertEqual(e?["data"]?["text/plain"], "<1+1>")
    }

    func testHistoryTailRangeAndSearch() {
        for code in ["one", "two", "three"] { handle(request("execute_request", ["code": .string(code)])) }
        transport.replies = []
        handle(request("history_request", ["hist_access_type": "tail", "n": 2, "output": true]))
        XCTAssertEqual(transport.replies[0].0.content["history"],
                       [[1, 2, ["two", "result of two"]], [1, 3, ["three", "result of three"]]])
        handle(request("history_request", ["hist_access_type": "range", "session": 0, "start": 1, "stop": 2]))
        XCTAssertEqual(transport.replies[1].0.content["history"], [[1, 1, "one"]])
        handle(request("history_request", ["hist_access_type": "search", "pattern": "t*"]))
        XCTAssertEqual(transport.replies[2].0.content["history"], [[1, 2, "two"], [1, 3, "three"]])
    }

    func testShutdownRepliesBroadcastsAndAsksToStop() {
        let outcome = handle(request("shutdown_request", ["restart": true]), on: .control)
        guard case .shutdown(let restart) = outcome else { return XCTFail("expected shutdown") }
        XCTAssertTrue(restart)
        XCTAssertEqual(transport.replies[0].1, .control)
        XCTAssertEqual(transport.replies[0].0.content["restart"], true)
        XCTAssertTrue(transport.publishedTypes.contains("shutdown_reply"))
        interruptFlag.store(false, ordering: .relaxed)
    }

    func testInterruptRequestSetsTheFlag() {
        interruptFlag.store(false, ordering: .relaxed)
        handle(request("interrupt_request"), on: .control)
        XCTAssertTrue(interruptFlag.load(ordering: .relaxed))
        XCTAssertEqual(transport.replies[0].0.type, "interrupt_reply")
        interruptFlag.store(false, ordering: .relaxed)
    }

    func testShellRequestsOnControlAreIgnored() {
        handle(request("execute_request", ["code": "a"]), on: .control)
        XCTAssertTrue(interpreter.executed.isEmpty)
        XCTAssertTrue(transport.replies.isEmpty)
    }

    func testUnknownCommTargetsAreClosed() {
        handle(request("comm_open", ["comm_id": "c9", "target_name": "nope"]))
        let close = transport.published.first { $0.type == "comm_close" }
        XCTAssertEqual(close?.content["comm_id"], "c9")
    }

    func testIsCompleteCompleteAndInspectReplies() {
        handle(request("is_complete_request", ["code": "model m {"]))
        XCTAssertEqual(transport.replies[0].0.content, ["status": "incomplete", "indent": "  "])
        handle(request("complete_request", ["code": "ab", "cursor_pos": 2]))
        XCTAssertEqual(transport.replies[1].0.content["matches"], ["x"])
        handle(request("inspect_request", ["code": "y", "cursor_pos": 1]))
        XCTAssertEqual(transport.replies[2].0.content["found"], false)
    }
}

final class HistoryStoreTests: XCTestCase {
    func testGlobMatching() {
        let store = HistoryStore(path: nil)
        for (i, input) in ["6 * 7", "print 1", "x = 67"].enumerated() { store.record(line: i + 1, input: input, output: nil) }
        XCTAssertEqual(store.search(pattern: "6 ?*", n: nil, unique: false).map(\.input), ["6 * 7"])
        XCTAssertEqual(store.search(pattern: "*6*", n: nil, unique: false).map(\.input), ["6 * 7", "x = 67"])
        XCTAssertEqual(store.search(pattern: "*", n: 1, unique: false).map(\.input), ["x = 67"])
        XCTAssertEqual(store.search(pattern: "print ?", n: nil, unique: false).count, 1)
    }

    func testUniqueKeepsTheLatestOfEqualInputs() {
        let store = HistoryStore(path: nil)
        for i in 1...3 { store.record(line: i, input: "same", output: nil) }
        XCTAssertEqual(store.search(pattern: "same", n: nil, unique: true).map(\.line), [3])
    }

    func testAFileCarriesHistoryIntoTheNextSession() throws {
        let path = "/tmp/loom-history-test-\(getpid()).jsonl"
        unlink(path)
        defer { unlink(path) }
        let first = HistoryStore(path: path)
        first.record(line: 1, input: "a = 1", output: nil)
        first.record(line: 2, input: "a", output: "1")
        let second = HistoryStore(path: path)
        XCTAssertEqual(second.session, first.session + 1)
        XCTAssertEqual(second.range(session: -1, start: 1, stop: nil).map(\.input), ["a = 1", "a"])
        XCTAssertEqual(second.range(session: -1, start: 2, stop: 3).first?.output, "1")
    }

    func testOnlyTheNewestEntriesAreKept() throws {
        let path = "/tmp/loom-history-limit-\(getpid()).jsonl"
        unlink(path)
        defer { unlink(path) }
        let first = HistoryStore(path: path, limit: 10)
        for i in 1...25 { first.record(line: i, input: "x = \(i)", output: nil) }
        XCTAssertLessThanOrEqual(first.entries.count, 11)
        XCTAssertEqual(first.entries.last?.input, "x = 25")
        let second = HistoryStore(path: path, limit: 10)
        XCTAssertEqual(second.entries.map(\.line), Array(16...25))
        XCTAssertEqual(second.session, first.session + 1)
        XCTAssertEqual(try Files.readText(path).split(separator: "\n").count, 10)
    }
}

/// What one huge cell, or years of cells, can cost the history.
final class HistoryBoundsTests: XCTestCase {
    func testAHugeCellIsKeptTruncatedWithItsLength() throws {
        let path = "/tmp/loom-history-huge-\(getpid()).jsonl"
        unlink(path)
        defer { unlink(path) }
        let store = HistoryStore(path: path, entryLimit: 1000)
        let huge = String(repeating: "x = 1\n", count: 100_000)
        store.record(line: 1, input: huge, output: String(repeating: "y", count: 5000))
        let kept = try XCTUnwrap(store.entries.last)
        XCTAssertTrue(kept.input.hasPrefix("x = 1\n"))
        XCTAssertTrue(kept.input.hasSuffix("(600000 bytes in all; the history keeps the first 1000 characters)"), String(kept.input.suffix(80)))
        XCTAssertLessThan(kept.input.utf8.count, 1200)
        XCTAssertEqual(kept.output, String(repeating: "y", count: 1000)
                       + "\n# … (5000 bytes in all; the history keeps the first 1000 characters)", "the output is kept, truncated")
        XCTAssertLessThan(try Files.read(path).count, 3000, "the file holds the truncated entry")
    }

    func testTheFileStaysWithinItsByteLimitAndStartReadsOnlyTheTail() throws {
        let path = "/tmp/loom-history-bytes-\(getpid()).jsonl"
        unlink(path)
        defer { unlink(path) }
        let store = HistoryStore(path: path, byteLimit: 4096)
        for i in 1...200 { store.record(line: i, input: "value = \(i) # " + String(repeating: "z", count: 60), output: nil) }
        XCTAssertLessThanOrEqual(try Files.read(path).count, 4096 + 410)
        XCTAssertEqual(store.entries.last?.line, 200)
        // A file grown past the limit (by another kernel, say) is read from its tail only.
        var text = ""
        for i in 1...5000 { text += "{\"session\":1,\"line\":\(i),\"input\":\"a = \(i)\"}\n" }
        try Files.writeAtomically(Array(text.utf8), to: path)
        let next = HistoryStore(path: path, byteLimit: 4096)
        XCTAssertLessThan(next.entries.count, 200)
        XCTAssertEqual(next.entries.last?.line, 5000)
        XCTAssertTrue(next.entries.allSatisfy { $0.input == "a = \($0.line)" }, "no entry is read from half a line")
        XCTAssertEqual(next.session, 2)
    }

    /// A full disk (here a file-size limit, which cuts a write short the same
    /// way): the entry is kept and written with the next one, and no half
    /// line is left to swallow it.
    func testAnEntryCutShortByAFullDiskIsWrittenWithTheNext() throws {
        let path = "/tmp/loom-history-full-\(getpid()).jsonl"
        unlink(path)
        defer { unlink(path) }
        let store = HistoryStore(path: path)
        store.record(line: 1, input: "a = 1", output: nil)
        let size = try Files.read(path).count
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        var tight = saved
        tight.rlim_cur = rlim_t(size + 10)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &tight)
        store.record(line: 2, input: "b = " + String(repeating: "2", count: 100), output: nil)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        signal(SIGXFSZ, oldHandler)
        XCTAssertEqual(try Files.read(path).count, size, "the cut-short write was cut back off")
        store.record(line: 3, input: "c = 3", output: nil)
        let reread = HistoryStore(path: path)
        XCTAssertEqual(reread.entries.map(\.line), [1, 2, 3])
        XCTAssertEqual(reread.entries[1].input, "b = " + String(repeating: "2", count: 100))
    }
}

final class ConnectionInfoTests: XCTestCase {
    func testReadsPortsKeyAndEndpoints() throws {
        let json = try JSON.parse(#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, "ip": "127.0.0.1", "key": "k", "transport": "tcp", "signature_scheme": "hmac-sha256"}"#)
        let info = try ConnectionInfo(json: json)
        XCTAssertEqual(info.endpoint(info.controlPort), "tcp://127.0.0.1:4")
        XCTAssertEqual(info.key, "k")
    }

    func testConnectionFilesAreWrittenForTheOwnerOnly() throws {
        let path = "/tmp/loom-connection-\(getpid()).json"
        defer { unlink(path) }
        let info = ConnectionInfo(shellPort: 1, iopubPort: 2, stdinPort: 3, controlPort: 4, heartbeatPort: 5, key: "secret")
        try info.write(to: path)
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(try ConnectionInfo(contentsOf: path), info)
    }

    func testRejectsBadPortsSchemesAndTransports() throws {
        let base = #""iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5"#
        for bad in [#"{"shell_port": "1", \#(base)}"#, #"{"shell_port": 70000, \#(base)}"#,
                    #"{"shell_port": 1, \#(base), "signature_scheme": "hmac-md5"}"#,
                    #"{"shell_port": 1, \#(base), "transport": "udp"}"#, #"{\#(base)}"#] {
            XCTAssertThrowsError(try ConnectionInfo(json: try JSON.parse(bad)), bad)
        }
    }
}
