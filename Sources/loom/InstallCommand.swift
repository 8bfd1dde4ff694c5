import ArgumentParser
import Jupyter
import LoomCore
import LoomEngine
#if canImport(Glibc)
import Glibc
#endif

struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install", abstract: "Installs the kernelspec so Jupyter can start Loom.")

    @Flag(help: "Install for this user (the default).") var user = false
    @Flag(help: "Install into the current Python environment (sys.prefix).") var sysPrefix = false
    @Option(help: "Install into DIR/share/jupyter/kernels.") var prefix: String?
    @Option(help: "The kernel's name.") var name = "loom"
    @Option(help: "The name Jupyter shows.") var displayName = "Loom"

    func run() throws {
        var chosenPrefix = prefix
        if sysPrefix {
            guard let p = Files.environment("VIRTUAL_ENV") ?? Files.environment("CONDA_PREFIX") else {
                throw ValidationError("--sys-prefix needs an active virtualenv or conda environment (VIRTUAL_ENV)")
            }
            chosenPrefix = p
        }
        let useUser = user || chosenPrefix == nil
        var environment: [(String, String)] = []
        // Only when OpenBLAS would otherwise fall back to its slow generic
        // kernel (or the caller chose one): its own choice is kept otherwise.
        if let core = Files.environment("OPENBLAS_CORETYPE") ?? (BLAS.isOnSlowKernel ? BLAS.preferredCoreType : nil) {
            environment.append(("OPENBLAS_CORETYPE", core))
        }
        let spec = KernelSpec(argv: [executablePath(), "kernel", "-f", "{connection_file}"], displayName: displayName,
                              language: "loom", interruptMode: "signal", environment: environment)
        let directory = KernelSpec.directory(name: name, user: useUser, prefix: chosenPrefix)
        try spec.install(into: directory, files: [("logo-32x32.png", Logo.png(size: 32)),
                                                  ("logo-64x64.png", Logo.png(size: 64))])
        print("Installed kernelspec \(name) in \(directory)")
        print("For papermill parameters and highlighting in nbconvert, also install Loom's Python companion into the "
              + "environment that runs them: pip install ./python (from the Loom checkout)")
    }

    /// The absolute path of this binary, so Jupyter can start it from anywhere.
    func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
