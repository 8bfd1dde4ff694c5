import LoomCore

/// The connection file Jupyter writes for a kernel: where to bind, and the key.
public struct ConnectionInfo: Sendable, Equatable {
    public var transport: String
    public var ip: String
    public var shellPort: Int
    public var iopubPort: Int
    public var stdinPort: Int
    public var controlPort: Int
    public var heartbeatPort: Int
    public var key: String
    public var signatureScheme: String

    public init(transport: String = "tcp", ip: String = "127.0.0.1", shellPort: Int, iopubPort: Int,
                stdinPort: Int, controlPort: Int, heartbeatPort: Int, key: String,
                signatureScheme: String = "hmac-sha256") {
        self.transport = transport
        self.ip = ip
        self.shellPort = shellPort
        self.iopubPort = iopubPort
        self.stdinPort = stdinPort
        self.controlPort = controlPort
        self.heartbeatPort = heartbeatPort
        self.key = key
        self.signatureScheme = signatureScheme
    }

    /// Reads and checks a connection file.
    public init(contentsOf path: String) throws(ConnectionError) {
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw .unreadable(error.description) }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw .invalid("\(path): \(error)") }
        try self.init(json: json)
    }

    public init(json: JSON) throws(ConnectionError) {
        func port(_ name: String) throws(ConnectionError) -> Int {
            guard let p = json[name]?.intValue, (0...65535).contains(p) else {
                throw .invalid("'\(name)' must be a port number")
            }
            return p
        }
        transport = json["transport"]?.stringValue ?? "tcp"
        guard transport == "tcp" || transport == "ipc" else { throw .invalid("unknown transport '\(transport)'") }
        ip = json["ip"]?.stringValue ?? "127.0.0.1"
        shellPort = try port("shell_port")
        iopubPort = try port("iopub_port")
        stdinPort = try port("stdin_port")
        controlPort = try port("control_port")
        heartbeatPort = try port("hb_port")
        key = json["key"]?.stringValue ?? ""
        signatureScheme = json["signature_scheme"]?.stringValue ?? "hmac-sha256"
        guard signatureScheme == "hmac-sha256" else {
            throw .invalid("signature scheme '\(signatureScheme)' is not supported (only hmac-sha256)")
        }
    }

    /// Writes the connection file readable by its owner only (mode 0600):
    /// it holds the key.
    public func write(to path: String) throws(FileError) {
        try Files.writeAtomically(json.serialized(), to: path, mode: 0o600)
    }

    /// The ZeroMQ endpoint for `port`.
    public func endpoint(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
    }

    public var json: JSON {
        [
            "transport": .string(transport), "ip": .string(ip), "shell_port": .int(shellPort),
            "iopub_port": .int(iopubPort), "stdin_port": .int(stdinPort), "control_port": .int(controlPort),
            "hb_port": .int(heartbeatPort), "key": .string(key), "signature_scheme": .string(signatureScheme),
        ]
    }
}

public enum ConnectionError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case invalid(String)
    case bindFailed(endpoint: String, reason: String)
    case noThreads(ThreadError)

    public var description: String {
        switch self {
        case .unreadable(let s): return "cannot read the connection file: \(s)"
        case .invalid(let s): return "bad connection file: \(s)"
        case .bindFailed(let endpoint, let reason): return "cannot listen on \(endpoint): \(reason)"
        case .noThreads(let error): return "the kernel needs \(KernelServer.threadsNeeded) threads: \(error)"
        }
    }
}
