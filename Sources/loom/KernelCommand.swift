import ArgumentParser
import Jupyter
import LoomCore
import LoomEngine
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
        // Under mpirun (`loom install --mpi N`), rank 0 serves the front end
        // and the other ranks run the cells it hands them.
        let ranks: any Collective
        do { ranks = try Ranks.start() } catch {
            KernelLog.error(error.description)
            throw ExitCode(2)
        }
        defer { ranks.finish() }
        if ranks.rank > 0 {
            CellRelay.follow(LoomInterpreter(), ranks: ranks)
            return
        }
        let server: KernelServer
        do {
            let connection = try ConnectionInfo(contentsOf: connectionFile)
            server = try KernelServer(connection: connection)
        } catch {
            KernelLog.error(error.description)
            if ranks.size > 1 { ranks.abort("loom kernel: rank 0 cannot serve, so no rank can: \(error.description)") }
            throw ExitCode(2)
        }
        KernelLog.info("Loom \(LoomVersion.text) listening; connection file \(connectionFile)"
                       + (ranks.size > 1 ? "; \(ranks.size) ranks" : ""))
        watchParent()
        let interpreter = LoomInterpreter()
        let relay = ranks.size > 1 ? CellRelay(interpreter, ranks: ranks) : nil
        if relay != nil { JobEnd.watch(server) }
        let status = server.run(interpreter: relay ?? interpreter, history: HistoryStore(path: HistoryStore.defaultPath),
                                implementationVersion: LoomInterpreter.version)
        relay?.stop()
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
