import LoomEngine
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS picks its kernel before `main`, from `OPENBLAS_CORETYPE`. When it
/// picked the slow generic one on a CPU that has a fast one, the process
/// starts itself again once with the variable set.
enum BLASSetup {
    static func ensureFastKernel() {
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv("LOOM_BLAS_REEXEC") == nil,
              BLAS.isOnSlowKernel, let core = BLAS.preferredCoreType
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("LOOM_BLAS_REEXEC", "1", 1)
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
        // execv returned: carry on with the slow kernel rather than fail.
    }
}
