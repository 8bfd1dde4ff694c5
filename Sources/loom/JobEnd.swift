import Jupyter
import LoomCore
import LoomEngine
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's rank 0 under mpirun, when the job ends under a running cell:
/// mpirun stops every rank (SIGTERM, then SIGKILL a second later) when one
/// dies, and a rank stops them all when the ranks disagree about a cell.
/// Either way the front end gets the cell's error reply first, never silence.
enum JobEnd {
    /// A pipe the SIGTERM handler writes one byte to (all it may safely do).
    nonisolated(unsafe) static var signalled: (read: Int32, write: Int32) = (-1, -1)
    /// How long ZeroMQ's I/O thread gets to send the reply before the process ends.
    static let deliveryTime: useconds_t = 300_000

    static func watch(_ server: KernelServer) {
        Ranks.beforeAbort = { message in
            let lines = message.split(separator: "\n").map(String.init)
            if server.abandonRunningCell(ExecutionError(name: "RanksDisagree", value: lines.last ?? message, traceback: lines)) {
                usleep(deliveryTime)
            }
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            KernelLog.warning("a cell running when mpirun stops the job will get no reply: \(String(cString: strerror(errno)))")
            return
        }
        signalled = (fds[0], fds[1])
        do {
            _ = try BackgroundThread {
                var byte: UInt8 = 0
                while read(signalled.read, &byte, 1) < 0 && errno == EINTR {}
                if server.abandonRunningCell(stopped) { usleep(deliveryTime) }
                KernelLog.warning("mpirun stopped this rank; exiting")
                _exit(1)
            }
        } catch {
            KernelLog.warning("a cell running when mpirun stops the job will get no reply: \(error)")
            return
        }
        signal(SIGTERM) { _ in
            var byte: UInt8 = 1
            _ = write(JobEnd.signalled.write, &byte, 1)
        }
    }

    static let stopped = ExecutionError(
        name: "RankStopped",
        value: "mpirun is stopping every rank of this kernel: it does so when one rank dies, or when the kernel is shut down",
        traceback: ["RankStopped: mpirun is stopping every rank of this kernel.",
                    "It does so when one rank dies (killed, or out of memory) or when the kernel is shut down;",
                    "the kernel's log (mpirun's messages) names the rank. The session's state is lost: restart the kernel."])
}
