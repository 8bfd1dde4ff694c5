// A Jupyter client in Swift for `make bench`: starts a kernel from its
// kernelspec, measures start to the first kernel_info_reply and executes to
// idle, and prints the figures as JSON. A compiled client keeps the client's
// own cost out of the kernel's figures; the same client drives every kernel.
import CZeroMQ
import Jupyter
import LoomCore
#if canImport(Glibc)
import Glibc
#endif


func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

struct Client {
    let process: pid_t
    let shell: ZeroMQSocket
    let iopub: ZeroMQSocket
    let signer: Signer
    let builder = MessageBuilder(session: Identifiers.uuid(), username: "bench")

    init(argv template: [String], environment: [(String, String)], context: ZeroMQContext, directory: String) throws {
        let key = Identifiers.uuid()
        let info = ConnectionInfo(shellPort: freePort(), iopubPort: freePort(), stdinPort: freePort(), controlPort: freePort(),
                                  heartbeatPort: freePort(), key: key)
        let path = "\(directory)/bench-\(getpid())-\(Identifiers.uuid()).json"
        try info.write(to: path)
        signer = Signer(key: key)
        shell = try ZeroMQSocket(context, .dealer)
        iopub = try ZeroMQSocket(context, .sub)
        for s in [shell, iopub] { s.setOption(ZMQ_RECONNECT_IVL, Int32(2)) }
        iopub.setOption(ZMQ_SUBSCRIBE, bytes: [])
        let argv = template.map { $0 == "{connection_file}" ? path : $0 }
        for (k, v) in environment { setenv(k, v, 1) }
        var pid: pid_t = 0
        var cArgs = argv.map { strdup($0) } + [nil]
        let devNull = open("/dev/null", O_WRONLY)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, devNull, 1)
        posix_spawn_file_actions_adddup2(&actions, devNull, 2)
        guard posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { throw BenchError.spawn(argv[0]) }
        process = pid
        try shell.connect(info.endpoint(info.shellPort))
        try iopub.connect(info.endpoint(info.iopubPort))
    }

    func request(_ type: String, _ content: JSONObject) throws -> String {
        let header = builder.broadcast(type, content: content, parent: nil).header
        let message = OutgoingMessage(identities: [], header: header, parentHeader: Array("{}".utf8), metadata: [:], content: content)
        try shell.send(frames: message.wire(signedBy: signer).frames)
        return header["msg_id"]!.stringValue!
    }

    func reply() throws {
        guard try shell.poll(timeoutMilliseconds: 30_000), try shell.receiveFrames() != nil else { throw BenchError.timeout }
    }

    func waitIdle(_ id: String) throws {
        while true {
            guard try iopub.poll(timeoutMilliseconds: 30_000), let frames = try iopub.receiveFrames() else { throw BenchError.timeout }
            let wire = try WireMessage(frames: frames)
            guard let parent = try? JSON.parse(wire.parentHeader), parent["msg_id"]?.stringValue == id,
                  let header = try? JSON.parse(wire.header), header["msg_type"]?.stringValue == "status",
                  let content = try? JSON.parse(wire.content), content["execution_state"]?.stringValue == "idle"
            else { continue }
            return
        }
    }

    func execute(_ code: String) throws {
        let id = try request("execute_request", ["code": .string(code), "silent": false, "store_history": true,
                                                 "user_expressions": [:], "allow_stdin": false, "stop_on_error": true])
        try reply()
        try waitIdle(id)
    }

    func stop() {
        kill(process, SIGTERM)
        var status: Int32 = 0
        waitpid(process, &status, 0)
        shell.close()
        iopub.close()
    }
}

enum BenchError: Error { case spawn(String), timeout, usage }

// Usage: kernel-bench KERNEL_JSON CODE STARTS EXECUTES
let args = CommandLine.arguments
guard args.count == 5, let starts = Int(args[3]), let executes = Int(args[4]) else {
    print("usage: kernel-bench KERNEL_JSON CODE STARTS EXECUTES")
    exit(2)
}
let spec = try JSON.parse(Files.read(args[1]))
var argv = spec["argv"]!.arrayValue!.compactMap(\.stringValue)
if argv[0] == "python" { argv[0] = Files.environment("BENCH_PYTHON") ?? "python3" }
let environment = (spec["env"]?.objectValue?.members ?? []).compactMap { m in m.value.stringValue.map { (m.key, $0) } }
let context = ZeroMQContext()
let directory = Files.environment("TMPDIR") ?? "/tmp"

var startTimes: [Double] = []
for _ in 0..<starts {
    let t = Monotonic.now
    let client = try Client(argv: argv, environment: environment, context: context, directory: directory)
    _ = try client.request("kernel_info_request", [:])
    try client.reply()
    startTimes.append(Monotonic.now - t)
    client.stop()
}
let client = try Client(argv: argv, environment: environment, context: context, directory: directory)
_ = try client.request("kernel_info_request", [:])
try client.reply()
for _ in 0..<20 { try client.execute(args[2]) }
var times: [Double] = []
let began = Monotonic.now
for _ in 0..<executes {
    let t = Monotonic.now
    try client.execute(args[2])
    times.append(Monotonic.now - t)
}
let total = Monotonic.now - began
client.stop()
func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
print(JSON.object(["start_ms": .double(median(startTimes) * 1000), "execute_ms": .double(median(times) * 1000),
                   "cells_per_s": .double(Double(executes) / total)]).text)
