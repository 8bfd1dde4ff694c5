import ArgumentParser
import Jupyter
import LoomCore
import LoomLang
#if canImport(Glibc)
import Glibc
#endif

struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel", abstract: "Runs the Jupyter kernel (Jupyter starts this).")

    @Option(name: .customShort("f"), help: "The connection file Jupyter wrote.")
    var connectionFile: String

    @Flag(help: "Also log informational lines (start-up, shutdown) on standard error; warnings and errors always are.")
    var debug = false

    func run() throws {
        signal(SIGINT) { _ in interruptFlag.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
        KernelLog.verbose = debug
        let server: KernelServer
        do {
            let connection = try ConnectionInfo(contentsOf: connectionFile)
            server = try KernelServer(connection: connection)
        } catch {
            KernelLog.error(error.description)
            throw ExitCode(2)
        }
        KernelLog.info("Loom \(LoomVersion.text) listening; connection file \(connectionFile)")
        watchParent()
        let status = server.run(interpreter: LoomInterpreter(), history: HistoryStore(path: HistoryStore.defaultPath),
                                implementationVersion: LoomInterpreter.version)
        if status != 0 { throw ExitCode(status) }
    }

    /// Jupyter sets JPY_PARENT_PID when it starts a kernel; if that process
    /// goes away (killed, crashed), the kernel would run on with nobody to
    /// talk to. Checked once a second, as ipykernel does.
    func watchParent() {
        guard getenv("JPY_PARENT_PID") != nil else { return }
        let parent = getppid()
        do {
            _ = try BackgroundThread {
                while true {
                    sleep(1)
                    if getppid() != parent {
                        KernelLog.warning("the process that started the kernel is gone; exiting")
                        _exit(0)
                    }
                }
            }
        } catch {
            KernelLog.warning("the kernel will not notice if the process that started it dies: \(error)")
        }
    }
}
