import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A ZeroMQ call failed; `errno` names why.
public struct ZeroMQError: Error, CustomStringConvertible {
    public let operation: String
    public let errno: Int32
    public var description: String { "\(operation): \(String(cString: zmq_strerror(errno)))" }
    /// The context is shutting down, or the socket was closed for it.
    public var isTerminated: Bool { errno == ETERM || errno == ENOTSOCK }
}

/// A ZeroMQ context. Contexts are thread-safe.
public final class ZeroMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        handle = zmq_ctx_new()
    }

    /// Makes every blocking call on this context's sockets return ETERM.
    public func shutdown() { zmq_ctx_shutdown(handle) }

    /// Waits until every socket is closed, then frees the context.
    public func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

/// One ZeroMQ socket. A socket is not thread-safe: each is used by one thread
/// at a time, and handing it to another thread needs a lock (a memory barrier).
public final class ZeroMQSocket: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    public private(set) var isClosed = false
    /// The most bytes one received message may hold, over all its frames.
    public private(set) var inboundLimit = Int.max
    /// The most frames one received message may have.
    public private(set) var inboundFrameLimit = Int.max

    public enum Kind {
        case router, pub, xpub, sub, dealer, req, rep, push, pull
        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .pub: ZMQ_PUB
            case .xpub: ZMQ_XPUB
            case .sub: ZMQ_SUB
            case .dealer: ZMQ_DEALER
            case .req: ZMQ_REQ
            case .rep: ZMQ_REP
            case .push: ZMQ_PUSH
            case .pull: ZMQ_PULL
            }
        }
    }

    public init(_ context: ZeroMQContext, _ kind: Kind) throws(ZeroMQError) {
        guard let h = zmq_socket(context.handle, kind.raw) else { throw ZeroMQError(operation: "zmq_socket", errno: zmq_errno()) }
        handle = h
        setOption(ZMQ_LINGER, Int32(1000))
    }

    public func setOption(_ option: Int32, _ value: Int32) {
        var v = value
        zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size)
    }

    public func setOption(_ option: Int32, _ value: Int64) {
        var v = value
        zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size)
    }

    public func setOption(_ option: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
    }

    /// Bounds what a peer can make this socket hold: a frame over `bytes`
    /// disconnects its sender (ZeroMQ's `ZMQ_MAXMSGSIZE`, checked before the
    /// frame is stored), and `receiveFrames` drops a message of more than
    /// `frames` frames or whose frames together exceed `bytes`, reading the
    /// rest one frame at a time and keeping none of it.
    public func limitInbound(to bytes: Int, frames: Int) {
        inboundLimit = bytes
        inboundFrameLimit = frames
        setOption(ZMQ_MAXMSGSIZE, Int64(bytes))
    }

    public func bind(_ endpoint: String) throws(ZeroMQError) {
        if zmq_bind(handle, endpoint) != 0 { throw ZeroMQError(operation: "bind \(endpoint)", errno: zmq_errno()) }
    }

    public func connect(_ endpoint: String) throws(ZeroMQError) {
        if zmq_connect(handle, endpoint) != 0 { throw ZeroMQError(operation: "connect \(endpoint)", errno: zmq_errno()) }
    }

    /// The endpoint actually bound (useful after binding port 0 or `*`).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Receives every frame of one message. With `wait: false`, returns nil
    /// when nothing is queued. Interrupted calls (EINTR) are retried. A
    /// message over `inboundFrameLimit` frames or `inboundLimit` bytes is
    /// read to its end, each frame freed as it is read, and reported as
    /// `EMSGSIZE`.
    public func receiveFrames(wait: Bool = true) throws(ZeroMQError) -> [[UInt8]]? {
        guard !isClosed else { throw ZeroMQError(operation: "receive", errno: ENOTSOCK) }
        var frames: [[UInt8]] = []
        var more = true
        var first = true
        var count = 0, total = 0
        var over = false
        while more {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let flags: Int32 = (wait || !first) ? 0 : ZMQ_DONTWAIT
            var rc = zmq_msg_recv(&message, handle, flags)
            while rc < 0 && zmq_errno() == EINTR { rc = zmq_msg_recv(&message, handle, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN && first { return nil }
                throw ZeroMQError(operation: "receive", errno: e)
            }
            let size = zmq_msg_size(&message)
            count += 1
            total += size
            if !over && (count > inboundFrameLimit || total > inboundLimit) {
                over = true
                frames = []
            }
            if !over {  // else kept nowhere: the frame is freed as the loop moves on
                frames.append(size > 0 ? Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size)) : [])
            }
            more = zmq_msg_more(&message) != 0
            first = false
        }
        if over {
            throw ZeroMQError(operation: "received a message of \(count) frames and \(total) bytes, over the limit of "
                                  + "\(inboundFrameLimit) frames or \(inboundLimit) bytes; dropped", errno: EMSGSIZE)
        }
        return frames
    }

    /// Reads every message queued now, frame by frame, keeping none; returns
    /// how many messages and bytes there were. For a channel whose messages
    /// the kernel never asks for.
    public func discardQueued() throws(ZeroMQError) -> (messages: Int, bytes: Int) {
        guard !isClosed else { throw ZeroMQError(operation: "receive", errno: ENOTSOCK) }
        var messages = 0, bytes = 0
        var more = false
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            // The rest of a message is waited for; a new one is not.
            let flags: Int32 = more ? 0 : ZMQ_DONTWAIT
            var rc = zmq_msg_recv(&message, handle, flags)
            while rc < 0 && zmq_errno() == EINTR { rc = zmq_msg_recv(&message, handle, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN && !more { return (messages, bytes) }
                throw ZeroMQError(operation: "receive", errno: e)
            }
            bytes += zmq_msg_size(&message)
            more = zmq_msg_more(&message) != 0
            if !more { messages += 1 }
        }
    }

    /// Sends one message, waiting while the socket's queue is full. A closed
    /// socket is never handed to ZeroMQ again (its handle is freed).
    public func send(frames: [[UInt8]]) throws(ZeroMQError) {
        guard !isClosed else { throw ZeroMQError(operation: "send", errno: ENOTSOCK) }
        try send(frames: frames[...])
    }

    private func send(frames: ArraySlice<[UInt8]>) throws(ZeroMQError) {
        for (i, frame) in zip(frames.indices, frames) {
            let flags: Int32 = i < frames.endIndex - 1 ? ZMQ_SNDMORE : 0
            var rc: Int32
            repeat {
                rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            } while rc < 0 && zmq_errno() == EINTR
            if rc < 0 { throw ZeroMQError(operation: "send", errno: zmq_errno()) }
        }
    }

    /// Sends one message unless the peer cannot take it now: false, and
    /// nothing sent, when its queue is full or (a ROUTER with
    /// `ZMQ_ROUTER_MANDATORY`) no peer has that identity.
    public func trySend(frames: [[UInt8]]) throws(ZeroMQError) -> Bool {
        guard let first = frames.first else { return true }
        guard !isClosed else { throw ZeroMQError(operation: "send", errno: ENOTSOCK) }
        var rc: Int32
        repeat {
            rc = first.withUnsafeBytes {
                zmq_send(handle, $0.baseAddress, $0.count, ZMQ_DONTWAIT | (frames.count > 1 ? ZMQ_SNDMORE : 0))
            }
        } while rc < 0 && zmq_errno() == EINTR
        if rc < 0 {
            let e = zmq_errno()
            if e == EAGAIN || e == EHOSTUNREACH { return false }
            throw ZeroMQError(operation: "send", errno: e)
        }
        try send(frames: frames.dropFirst())
        return true
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for a message.
    public func poll(timeoutMilliseconds: Int) throws(ZeroMQError) -> Bool {
        try ZeroMQSocket.poll([self], timeoutMilliseconds: timeoutMilliseconds).first ?? false
    }

    /// Waits on several sockets; returns which have a message ready.
    public static func poll(_ sockets: [ZeroMQSocket], timeoutMilliseconds: Int) throws(ZeroMQError) -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        var rc: Int32
        repeat {
            rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        } while rc < 0 && zmq_errno() == EINTR
        if rc < 0 { throw ZeroMQError(operation: "poll", errno: zmq_errno()) }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    /// Echoes every message back to its sender until the context shuts down
    /// (the heartbeat).
    public func echoForever() {
        zmq_proxy(handle, handle, nil)
    }
}
