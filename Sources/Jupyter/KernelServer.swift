import CMalloc
import CZeroMQ
import LoomCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's sockets and threads: shell and stdin on the calling thread,
/// control and heartbeat on threads of their own, iopub behind
/// `IOPubPublisher`. Every message is verified and parsed here; what cannot
/// be is logged and dropped, and the kernel keeps serving.
public final class KernelServer: KernelTransport, @unchecked Sendable {
    let connection: ConnectionInfo
    let signer: Signer
    let builder: MessageBuilder
    let context = ZeroMQContext()
    let shell: ZeroMQSocket
    let control: ZeroMQSocket
    let stdin: ZeroMQSocket
    let heartbeat: ZeroMQSocket
    let iopub: IOPubPublisher
    let replays = ReplayGuard()
    let shellDelivery = DeliveryLog(channel: "shell")
    let controlDelivery = DeliveryLog(channel: "control")
    let stopping = Atomic<Bool>(false)
    /// ZeroMQ's I/O and reaper threads, heartbeat, control and iopub.
    static let threadsNeeded = 5
    /// Messages dropped from stdin; only the control thread touches it.
    private var stdinDropped = 0
    private var dispatcher: Dispatcher?

    /// Binds every socket of `connection`; fails with the endpoint that could
    /// not be bound (a port in use, an address not on this machine).
    public init(connection: ConnectionInfo, builder: MessageBuilder = MessageBuilder()) throws(ConnectionError) {
        // ZeroMQ aborts the process when it cannot start its own threads, so
        // they are checked for first.
        if ThreadProbe.startable(KernelServer.threadsNeeded, mapping: 0, spare: 0) < KernelServer.threadsNeeded {
            throw .noThreads(ThreadError(reason: "the system refused one"))
        }
        self.connection = connection
        self.signer = Signer(key: connection.key)
        self.builder = builder
        func bound(_ kind: ZeroMQSocket.Kind, _ port: Int, _ context: ZeroMQContext) throws(ConnectionError) -> ZeroMQSocket {
            let endpoint = connection.endpoint(port)
            do {
                let socket = try ZeroMQSocket(context, kind)
                socket.limitInbound(to: WireMessage.maximumBytes, frames: WireMessage.maximumFrames)
                try socket.bind(endpoint)
                return socket
            } catch {
                throw .bindFailed(endpoint: endpoint, reason: String(cString: zmq_strerror(error.errno)))
            }
        }
        let context = self.context
        shell = try bound(.router, connection.shellPort, context)
        control = try bound(.router, connection.controlPort, context)
        stdin = try bound(.router, connection.stdinPort, context)
        heartbeat = try bound(.router, connection.heartbeatPort, context)
        // A reply that cannot be delivered fails instead of vanishing, so it is
        // logged (the heartbeat's echo keeps ZeroMQ's silent drop).
        for socket in [shell, control] { socket.setOption(ZMQ_ROUTER_MANDATORY, Int32(1)) }
        // Loom never asks for input: what arrives on stdin is read and dropped
        // as it comes (`serveControl`), and little of it may wait meanwhile.
        stdin.setOption(ZMQ_RCVHWM, Int32(16))
        let signer = self.signer
        do {
            iopub = try IOPubPublisher(context: context, endpoint: connection.endpoint(connection.iopubPort)) { topic in
                builder.broadcast("iopub_welcome", content: ["subscription": .string(topic)], parent: nil)
                    .wire(signedBy: signer).frames
            }
        } catch {
            throw .bindFailed(endpoint: connection.endpoint(connection.iopubPort),
                              reason: String(cString: zmq_strerror(error.errno)))
        }
        if !signer.isSigning {
            KernelLog.warning("the connection file has an empty key: messages are not signed (insecure)")
        }
    }

    /// Serves until a shutdown request; returns the exit status.
    public func run(interpreter: Interpreter, history: HistoryStore, implementationVersion: String) -> Int32 {
        let dispatcher = Dispatcher(interpreter: interpreter, transport: self, history: history,
                                    builder: builder, implementationVersion: implementationVersion)
        self.dispatcher = dispatcher
        let heartbeatThread: BackgroundThread, controlThread: BackgroundThread
        do {
            try iopub.start()
            heartbeatThread = try BackgroundThread { [heartbeat] in
                heartbeat.echoForever()
                heartbeat.close()
            }
            controlThread = try BackgroundThread { [self] in serveControl(dispatcher) }
        } catch {
            KernelLog.error("the kernel cannot serve: \(error)")
            context.shutdown()  // ends whichever thread did start
            iopub.join()
            for socket in [shell, stdin, control, heartbeat] { socket.close() }
            context.terminate()
            return 1
        }
        dispatcher.announceStarting()
        serveShell(dispatcher)
        shell.close()
        controlThread.join()
        heartbeatThread.join()
        iopub.join()
        shellDelivery.finish()
        controlDelivery.finish()
        context.terminate()
        return 0
    }

    // MARK: KernelTransport

    public func reply(_ message: OutgoingMessage, on channel: Channel) {
        let (socket, delivery) = channel == .shell ? (shell, shellDelivery) : (control, controlDelivery)
        do {
            if try socket.trySend(frames: message.wire(signedBy: signer).frames) {
                delivery.delivered()
            } else {
                delivery.dropped(message.type)
            }
        } catch {
            if !error.isTerminated { KernelLog.error("\(channel.rawValue) reply not sent: \(error)") }
        }
    }

    public func publish(_ message: OutgoingMessage) {
        iopub.send(message.wire(signedBy: signer).frames)
    }

    // MARK: loops

    func serveShell(_ dispatcher: Dispatcher) {
        var pending: [Message] = []
        while !stopping.load(ordering: .relaxed) {
            let next: Message
            if pending.isEmpty {
                guard let request = receive(on: shell, .shell, wait: true) else { continue }
                next = request
            } else {
                next = pending.removeFirst()
            }
            switch dispatcher.handle(next, on: .shell) {
            case .proceed: break
            case .requeue(let messages): pending = messages + pending
            case .shutdown: beginShutdown()
            }
        }
    }

    /// Answers control requests and empties stdin, both on this thread, so
    /// neither waits for a running cell.
    func serveControl(_ dispatcher: Dispatcher) {
        defer {
            control.close()
            stdin.close()
        }
        while !stopping.load(ordering: .relaxed) {
            let ready: [Bool]
            do { ready = try ZeroMQSocket.poll([control, stdin], timeoutMilliseconds: -1) } catch {
                if error.isTerminated { stopping.store(true, ordering: .relaxed) } else { KernelLog.error("control: \(error)") }
                continue
            }
            if ready[1] { discardStdin() }
            guard ready[0], let request = receive(on: control, .control, wait: false) else { continue }
            if case .shutdown = dispatcher.handle(request, on: .control) { beginShutdown() }
        }
    }

    /// Drops what a client sent on stdin: this kernel sends no
    /// `input_request`, so nothing there answers anything, and kept unread
    /// it would stay in memory after the client left.
    func discardStdin() {
        do {
            let (messages, bytes) = try stdin.discardQueued()
            guard messages > 0 else { return }
            let before = stdinDropped
            stdinDropped += messages
            if before == 0 || before / 1000 != stdinDropped / 1000 {  // the first, then one line per thousand
                KernelLog.warning("stdin: dropped \(stdinDropped) message(s) so far, \(bytes) bytes just now (this kernel asks for no input)")
            }
            if bytes >= 1 << 20 { malloc_trim(0) }
        } catch {
            if error.isTerminated { stopping.store(true, ordering: .relaxed) } else { KernelLog.error("stdin: \(error)") }
        }
    }

    public func takeQueuedShellRequests() -> [Message] {
        var out: [Message] = []
        while true {
            do {
                guard let frames = try shell.receiveFrames(wait: false) else { break }
                if let message = try? decodeLogging(frames, .shell) { out.append(message) }
            } catch {
                guard error.errno == EMSGSIZE else { break }  // the shell loop meets and reports the rest
                logFailedReceive(error, .shell)
            }
        }
        return out
    }

    /// One verified, parsed message, or nil (dropped and logged, or the
    /// context is shutting down).
    func receive(on socket: ZeroMQSocket, _ channel: Channel, wait: Bool) -> Message? {
        let frames: [[UInt8]]
        do {
            guard let f = try socket.receiveFrames(wait: wait) else { return nil }
            frames = f
        } catch {
            if error.isTerminated { stopping.store(true, ordering: .relaxed) } else { logFailedReceive(error, channel) }
            return nil
        }
        return try? decodeLogging(frames, channel)
    }

    /// Logs a receive that failed; after a message dropped for its size, hands
    /// back to the system the memory ZeroMQ held it in.
    func logFailedReceive(_ error: ZeroMQError, _ channel: Channel) {
        KernelLog.error("\(channel.rawValue): \(error)")
        if error.errno == EMSGSIZE { malloc_trim(0) }
    }

    func decodeLogging(_ frames: [[UInt8]], _ channel: Channel) throws(WireError) -> Message {
        do {
            return try decode(frames)
        } catch {
            KernelLog.warning("dropped a message on \(channel.rawValue): \(error)")
            throw error
        }
    }

    /// Checks the signature (constant time, never seen before) and parses.
    func decode(_ frames: [[UInt8]]) throws(WireError) -> Message {
        let wire = try WireMessage(frames: frames)
        guard signer.verify(wire.signature, parts: wire.signedParts) else { throw .badSignature }
        if signer.isSigning && !replays.admit(wire.signature) { throw .replayedSignature }
        return try Message(wire: wire)
    }

    /// Answers the running cell with `error` from any thread, and waits for
    /// iopub to send it: the process is about to end under the cell (see
    /// `Dispatcher.abandonRunningCell`). False when no cell runs.
    public func abandonRunningCell(_ error: ExecutionError) -> Bool {
        guard let dispatcher, dispatcher.abandonRunningCell(error) else { return false }
        iopub.flush()
        return true
    }

    /// Stops every loop: flushes iopub, asks a running cell to stop, and ends
    /// the process if the cell does not return within a few seconds.
    func beginShutdown() {
        iopub.flush()
        stopping.store(true, ordering: .relaxed)
        interruptFlag.store(true, ordering: .relaxed)
        context.shutdown()
        do {
            _ = try BackgroundThread {
                sleep(5)
                KernelLog.warning("a cell did not stop within 5 s of shutdown; exiting")
                _exit(0)
            }
        } catch {
            KernelLog.warning("a cell that does not stop will keep the kernel from exiting: \(error)")
        }
    }
}
