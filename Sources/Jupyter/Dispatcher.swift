import Dispatch
import LoomCore

/// The channels a request can arrive on.
public enum Channel: String, Sendable {
    case shell, control
}

/// How the dispatcher sends. Replies go back on the channel the request came
/// from, from the thread that owns that channel; `publish` may be called from
/// any thread.
public protocol KernelTransport: AnyObject {
    func reply(_ message: OutgoingMessage, on channel: Channel)
    func publish(_ message: OutgoingMessage)
    /// The shell requests that have arrived but not been handled yet, taken
    /// off the queue without waiting.
    func takeQueuedShellRequests() -> [Message]
}

/// What the server loop should do after a request.
public enum DispatchOutcome: Sendable {
    case proceed
    /// Requests taken off the queue that still need handling, in order.
    case requeue([Message])
    case shutdown(restart: Bool)
}

/// Turns requests into interpreter calls and replies: busy/idle status around
/// each, parent headers and identities from `MessageBuilder`, execution
/// counts, history. It knows no sockets, so tests drive it directly.
///
/// Shell requests are handled on one thread; control requests on another use
/// only immutable state (kernel info) and the interrupt flag.
public final class Dispatcher: @unchecked Sendable {
    let interpreter: Interpreter
    let builder: MessageBuilder
    let history: HistoryStore
    unowned let transport: KernelTransport
    let kernelInfo: JSONObject
    public private(set) var executionCount = 0
    /// The execute request whose cell is running (nil between cells), and
    /// whether `abandonRunningCell` has answered it already.
    private let running = Locked<(request: Message?, answered: Bool)>((nil, false))

    public init(interpreter: Interpreter, transport: KernelTransport, history: HistoryStore,
                builder: MessageBuilder = MessageBuilder(), implementationVersion: String) {
        self.interpreter = interpreter
        self.transport = transport
        self.history = history
        self.builder = builder
        self.kernelInfo = [
            "status": "ok",
            "protocol_version": .string(MessageBuilder.protocolVersion),
            "implementation": "loom",
            "implementation_version": .string(implementationVersion),
            "language_info": interpreter.languageInfo.json,
            "banner": .string(interpreter.banner),
            "debugger": false,
            "help_links": .array(interpreter.helpLinks.map { ["text": .string($0.text), "url": .string($0.url)] }),
        ]
    }

    /// Announces the kernel on iopub (`status: starting`).
    public func announceStarting() {
        publishStatus("starting", parent: nil)
    }

    public func handle(_ request: Message, on channel: Channel) -> DispatchOutcome {
        publishStatus("busy", parent: request)
        defer { publishStatus("idle", parent: request) }
        switch (request.type, channel) {
        case ("kernel_info_request", _):
            send(request, "kernel_info_reply", kernelInfo, on: channel)
        case ("shutdown_request", _):
            let restart = request.content["restart"]?.boolValue ?? false
            let content: JSONObject = ["status": "ok", "restart": .bool(restart)]
            send(request, "shutdown_reply", content, on: channel)
            transport.publish(builder.broadcast("shutdown_reply", content: content, parent: request))
            interruptFlag.store(true, ordering: .relaxed)
            return .shutdown(restart: restart)
        case ("interrupt_request", _):
            interruptFlag.store(true, ordering: .relaxed)
            send(request, "interrupt_reply", ["status": "ok"], on: channel)
        case ("execute_request", .shell):
            return execute(request)
        case ("complete_request", .shell):
            complete(request)
        case ("inspect_request", .shell):
            inspect(request)
        case ("is_complete_request", .shell):
            isComplete(request)
        case ("history_request", .shell):
            historyReply(request)
        case ("comm_info_request", .shell):
            send(request, "comm_info_reply", ["status": "ok", "comms": [:]], on: .shell)
        case ("comm_open", .shell):
            // No comm targets exist: close the comm at once, as the spec asks.
            let id = request.content["comm_id"] ?? ""
            transport.publish(builder.broadcast("comm_close", content: ["comm_id": id, "data": [:]], parent: request))
        case ("comm_msg", .shell), ("comm_close", .shell):
            break
        default:
            KernelLog.warning("ignored \(request.type.isEmpty ? "message without type" : request.type) on \(channel.rawValue)")
        }
        return .proceed
    }

    /// Replies `aborted` to an execute request queued behind a failed cell.
    func abort(_ request: Message) {
        publishStatus("busy", parent: request)
        if request.type == "execute_request" {
            send(request, "execute_reply", ["status": "aborted", "execution_count": .int(executionCount)], on: .shell)
        }
        publishStatus("idle", parent: request)
    }

    func send(_ request: Message, _ type: String, _ content: JSONObject, on channel: Channel) {
        transport.reply(builder.reply(to: request, type: type, content: content), on: channel)
    }

    func publishStatus(_ state: String, parent: Message?) {
        transport.publish(builder.broadcast("status", content: ["execution_state": .string(state)], parent: parent))
    }

    // MARK: execute

    func execute(_ request: Message) -> DispatchOutcome {
        guard let code = request.content["code"]?.stringValue else {
            sendError(request, ExecutionError(name: "BadRequest", value: "execute_request without 'code'", traceback: []))
            return .proceed
        }
        let silent = request.content["silent"]?.boolValue ?? false
        let storeHistory = !silent && (request.content["store_history"]?.boolValue ?? true)
        let stopOnError = request.content["stop_on_error"]?.boolValue ?? true
        if storeHistory { executionCount += 1 }
        let count = executionCount
        if !silent {
            transport.publish(builder.broadcast(
                "execute_input", content: ["code": .string(code), "execution_count": .int(count)], parent: request))
        }
        let output = IOPubOutput(request: request, builder: builder, transport: transport, silent: silent)
        running.withLock { $0 = (request, false) }
        let result = interpreter.execute(code, output: output)
        let answered = running.withLock { state in
            defer { state = (nil, false) }
            return state.answered
        }
        if answered { return .proceed }
        output.flushStreams()
        var plainOutput: String?
        switch result {
        case .ok(let value):
            if let value, !silent {
                var content: JSONObject = ["execution_count": .int(count), "data": .object(value.data),
                                           "metadata": .object(value.metadata)]
                content["transient"] = nil
                transport.publish(builder.broadcast("execute_result", content: content, parent: request))
                plainOutput = value.plainText
            }
            // The entry is on disk before the client hears the cell is done:
            // a SIGTERM right after the reply cannot lose it.
            if storeHistory { history.record(line: count, input: code, output: plainOutput) }
            var reply: JSONObject = ["status": "ok", "execution_count": .int(count)]
            reply["user_expressions"] = .object(userExpressions(request))
            reply["payload"] = .array(output.pages.map { page in
                ["source": "page", "data": .object(page.data), "start": 0]
            } + (output.exitAsked ? [["source": "ask_exit", "keepkernel": false]] : []))
            send(request, "execute_reply", reply, on: .shell)
        case .error(let error):
            if !silent {
                transport.publish(builder.broadcast("error", content: errorContent(error), parent: request))
            }
            // Requests queued before the client can know of the error are the
            // ones stop_on_error aborts; take them before replying.
            let queued = stopOnError ? transport.takeQueuedShellRequests() : []
            var reply = errorContent(error)
            reply["status"] = "error"
            reply["execution_count"] = .int(count)
            if storeHistory { history.record(line: count, input: code, output: nil) }
            send(request, "execute_reply", reply, on: .shell)
            var others: [Message] = []
            for q in queued {
                if q.type == "execute_request" { abort(q) } else { others.append(q) }
            }
            return others.isEmpty ? .proceed : .requeue(others)
        }
        return .proceed
    }

    /// Ends the running cell for the front end from another thread, when the
    /// process is about to be stopped under it (under mpirun, when another
    /// rank died): its error, its `execute_reply` and idle. The cell's thread
    /// is then blocked where it cannot touch the shell socket, and sends
    /// nothing more for that cell if it ever returns. False when no cell runs.
    public func abandonRunningCell(_ error: ExecutionError) -> Bool {
        let request = running.withLock { state -> Message? in
            guard let request = state.request, !state.answered else { return nil }
            state.answered = true
            return request
        }
        guard let request else { return false }
        if !(request.content["silent"]?.boolValue ?? false) {
            transport.publish(builder.broadcast("error", content: errorContent(error), parent: request))
        }
        sendError(request, error)
        publishStatus("idle", parent: request)
        return true
    }

    func sendError(_ request: Message, _ error: ExecutionError) {
        var reply = errorContent(error)
        reply["status"] = "error"
        reply["execution_count"] = .int(executionCount)
        send(request, "execute_reply", reply, on: .shell)
    }

    func errorContent(_ error: ExecutionError) -> JSONObject {
        ["ename": .string(error.name), "evalue": .string(error.value),
         "traceback": .array(error.traceback.map(JSON.string))]
    }

    func userExpressions(_ request: Message) -> JSONObject {
        var out = JSONObject()
        guard let expressions = request.content["user_expressions"]?.objectValue else { return out }
        for (name, value) in expressions.members {
            guard let expression = value.stringValue else { continue }
            switch interpreter.evaluate(expression: expression) {
            case .ok(let bundle):
                let b = bundle ?? MimeBundle(text: "")
                out[name] = ["status": "ok", "data": .object(b.data), "metadata": .object(b.metadata)]
            case .error(let e):
                var c = errorContent(e)
                c["status"] = "error"
                out[name] = .object(c)
            }
        }
        return out
    }

    // MARK: introspection

    func complete(_ request: Message) {
        let code = request.content["code"]?.stringValue ?? ""
        let cursor = request.content["cursor_pos"]?.intValue ?? code.unicodeScalars.count
        let c = interpreter.complete(code, cursor: cursor)
        send(request, "complete_reply", [
            "status": "ok", "matches": .array(c.matches.map(JSON.string)),
            "cursor_start": .int(c.cursorStart), "cursor_end": .int(c.cursorEnd), "metadata": [:],
        ], on: .shell)
    }

    func inspect(_ request: Message) {
        let code = request.content["code"]?.stringValue ?? ""
        let cursor = request.content["cursor_pos"]?.intValue ?? code.unicodeScalars.count
        let level = request.content["detail_level"]?.intValue ?? 0
        let bundle = interpreter.inspect(code, cursor: cursor, detailLevel: level)
        send(request, "inspect_reply", [
            "status": "ok", "found": .bool(bundle != nil),
            "data": .object(bundle?.data ?? [:]), "metadata": .object(bundle?.metadata ?? [:]),
        ], on: .shell)
    }

    func isComplete(_ request: Message) {
        let code = request.content["code"]?.stringValue ?? ""
        let content: JSONObject
        switch interpreter.isComplete(code) {
        case .complete: content = ["status": "complete"]
        case .incomplete(let indent): content = ["status": "incomplete", "indent": .string(indent)]
        case .invalid: content = ["status": "invalid"]
        case .unknown: content = ["status": "unknown"]
        }
        send(request, "is_complete_reply", content, on: .shell)
    }

    func historyReply(_ request: Message) {
        let c = request.content
        let withOutput = c["output"]?.boolValue ?? false
        let entries: [HistoryStore.Entry]
        switch c["hist_access_type"]?.stringValue ?? "tail" {
        case "range":
            entries = history.range(session: c["session"]?.intValue ?? 0, start: c["start"]?.intValue ?? 0,
                                    stop: c["stop"]?.intValue)
        case "search":
            entries = history.search(pattern: c["pattern"]?.stringValue ?? "*", n: c["n"]?.intValue,
                                     unique: c["unique"]?.boolValue ?? false)
        default:
            entries = history.tail(c["n"]?.intValue ?? 10)
        }
        let items: [JSON] = entries.map { e in
            let third: JSON = withOutput ? [.string(e.input), e.output.map(JSON.string) ?? .null] : .string(e.input)
            return [.int(e.session), .int(e.line), third]
        }
        send(request, "history_reply", ["status": "ok", "history": .array(items)], on: .shell)
    }
}

/// Output of a running cell, published on iopub with the request as parent.
/// Stream text is coalesced, as ipykernel's OutStream does: a loop printing a
/// line at a time would otherwise send a message per line. Text waits at
/// most `streamDelay`, is sent at once past `streamChunk` bytes, and always
/// before any other message of the cell, so the order is kept.
final class IOPubOutput: OutputSink, @unchecked Sendable {
    static let streamDelay = DispatchTimeInterval.milliseconds(50)
    static let streamChunk = 64 << 10

    /// Stream text not yet published, and whether a flush is scheduled.
    private struct PendingStream {
        var name: String?
        var text = ""
        var flushScheduled = false
    }
    private let pending = Locked(PendingStream())
    let request: Message
    let builder: MessageBuilder
    unowned let transport: KernelTransport
    let silent: Bool
    /// What the cell sent to the pager: the execute_reply's `page` payloads.
    private(set) var pages: [MimeBundle] = []
    /// Whether the cell asked the front end to close (`exit`).
    private(set) var exitAsked = false

    let liveDisplays: LiveDisplays

    init(request: Message, builder: MessageBuilder, transport: KernelTransport, silent: Bool) {
        self.request = request
        self.builder = builder
        self.transport = transport
        self.silent = silent
        self.liveDisplays = IOPubOutput.liveDisplays(of: request)
    }

    /// What the requesting front end does with display updates. Jupyter has
    /// no message that says, so the request's shape tells: notebook front
    /// ends name the cell (JupyterLab and Notebook 7 send `cellId` in the
    /// metadata) and replace displays in place, as do recorders that
    /// take no input (nbclient: papermill, nbconvert); a front end that
    /// takes input but names no cell is a console (`jupyter console`, which
    /// prints a display once and drops its updates).
    static func liveDisplays(of request: Message) -> LiveDisplays {
        let takesInput = request.content["allow_stdin"]?.boolValue ?? false
        let namesACell = request.metadata["cellId"] != nil
        return takesInput && !namesACell ? .shownOnce : .updatedInPlace
    }

    func stream(_ stream: LoomCore.OutputStream, _ text: String) {
        guard !silent, !text.isEmpty else { return }
        pending.withLock { p in
            if p.name != stream.rawValue { send(&p) }
            p.name = stream.rawValue
            p.text += text
            if p.text.utf8.count >= IOPubOutput.streamChunk {
                send(&p)
            } else if !p.flushScheduled {
                p.flushScheduled = true
                DispatchQueue.global().asyncAfter(deadline: .now() + IOPubOutput.streamDelay) { [weak self] in
                    self?.flushStreams()
                }
            }
        }
    }

    /// Publishes the stream text still waiting.
    func flushStreams() {
        pending.withLock { send(&$0) }
    }

    private func send(_ p: inout PendingStream) {
        if let name = p.name, !p.text.isEmpty {
            transport.publish(builder.broadcast("stream", content: ["name": .string(name), "text": .string(p.text)],
                                                parent: request))
        }
        p = PendingStream()
    }

    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        var content: JSONObject = ["data": .object(bundle.data), "metadata": .object(bundle.metadata)]
        content["transient"] = displayID.map { ["display_id": .string($0)] } ?? [:]
        publish(update && displayID != nil ? "update_display_data" : "display_data", content)
    }

    func clearOutput(wait: Bool) {
        publish("clear_output", ["wait": .bool(wait)])
    }

    func page(_ bundle: MimeBundle) {
        if !silent { pages.append(bundle) }
    }

    func askExit() {
        if !silent { exitAsked = true }
    }

    func publish(_ type: String, _ content: JSONObject) {
        guard !silent else { return }
        pending.withLock { p in
            send(&p)
            transport.publish(builder.broadcast(type, content: content, parent: request))
        }
    }
}
