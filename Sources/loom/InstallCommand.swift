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
    @Flag(help: "Remove the kernelspec instead (from where the other options say it is).") var uninstall = false
    @Option(help: ArgumentHelp("Write the kernelspec as the repository keeps it (`loom` found on PATH, no environment) into DIR.",
                               valueName: "DIR"))
    var template: String?

    /// The files beside kernel.json.
    static var logos: [(String, [UInt8])] {
        [("logo-32x32.png", Logo.png(size: 32)), ("logo-64x64.png", Logo.png(size: 64)), ("logo-svg.svg", Array(Logo.svg().utf8))]
    }

    func run() throws {
        if let template {
            let spec = KernelSpec(argv: ["loom", "kernel", "-f", "{connection_file}"], displayName: displayName, language: "loom")
            try spec.install(into: template, files: Self.logos)
            print("Wrote the kernelspec template to \(template)")
            return
        }
        var chosenPrefix = prefix
        if sysPrefix {
            guard let p = Files.environment("VIRTUAL_ENV") ?? Files.environment("CONDA_PREFIX") else {
                throw ValidationError("--sys-prefix needs an active virtualenv or conda environment (VIRTUAL_ENV)")
            }
            chosenPrefix = p
        }
        let useUser = user || chosenPrefix == nil
        if uninstall {
            let directory = KernelSpec.directory(name: name, user: useUser, prefix: chosenPrefix)
            guard Files.exists(directory + "/kernel.json") else {
                print("No kernelspec \(name) in \(directory)")
                return
            }
            for file in ["kernel.json"] + Self.logos.map(\.0) { _ = unlink(directory + "/" + file) }
            guard rmdir(directory) == 0 else {
                throw ValidationError("removed the kernelspec's files; \(directory) holds others and was kept")
            }
            print("Removed kernelspec \(name) from \(directory)")
            return
        }
        var environment: [(String, String)] = []
        // Only when OpenBLAS would otherwise fall back to its slow generic
        // kernel (or the caller chose one): its own choice is kept otherwise.
        if let core = Files.environment("OPENBLAS_CORETYPE") ?? (BLAS.isOnSlowKernel ? BLAS.preferredCoreType : nil) {
            environment.append(("OPENBLAS_CORETYPE", core))
        }
        let spec = KernelSpec(argv: [executablePath(), "kernel", "-f", "{connection_file}"], displayName: displayName,
                              language: "loom", interruptMode: "signal", environment: environment)
        let directory = KernelSpec.directory(name: name, user: useUser, prefix: chosenPrefix)
        try spec.install(into: directory, files: Self.logos)
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
