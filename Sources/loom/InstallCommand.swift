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
    @Option(name: .customLong("name"), help: "The kernel's name (default: loom, or loom-mpi-N with --mpi N).")
    var nameOption: String?
    @Option(name: .customLong("display-name"), help: "The name Jupyter shows (default: Loom, or Loom (N ranks, MPI) with --mpi N).")
    var displayNameOption: String?
    @Option(help: ArgumentHelp("A kernel that runs every cell on N processes started by Open MPI's mpirun (see docs/mpi.md).",
                               valueName: "N"))
    var mpi: Int?
    @Flag(help: "Remove the kernelspec instead (from where the other options say it is).") var uninstall = false
    @Option(help: ArgumentHelp("Write the kernelspec as the repository keeps it (`loom` found on PATH, no environment) into DIR.",
                               valueName: "DIR"))
    var template: String?

    /// The files beside kernel.json.
    static var logos: [(String, [UInt8])] {
        [("logo-32x32.png", Logo.png(size: 32)), ("logo-64x64.png", Logo.png(size: 64)), ("logo-svg.svg", Array(Logo.svg().utf8))]
    }

    func validate() throws {
        if let mpi, mpi < 1 { throw ValidationError("--mpi takes a number of processes, 1 or more") }
        if mpi != nil && template != nil { throw ValidationError("give either --mpi or --template, not both") }
    }

    var name: String { nameOption ?? (mpi.map { "loom-mpi-\($0)" } ?? "loom") }
    var displayName: String { displayNameOption ?? (mpi.map { "Loom (\($0) ranks, MPI)" } ?? "Loom") }

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
        let kernel = [executablePath(), "kernel", "-f", "{connection_file}"]
        // Under mpirun, SIGINT stops the whole job: interrupts come as messages.
        let spec = try KernelSpec(argv: mpi.map { try MPILaunch.argv(ranks: $0) + kernel } ?? kernel, displayName: displayName,
                                  language: "loom", interruptMode: mpi == nil ? "signal" : "message", environment: environment)
        let directory = KernelSpec.directory(name: name, user: useUser, prefix: chosenPrefix)
        if let previous = KernelSpec.installedArgv(in: directory), previous != spec.argv {
            print("Replacing kernelspec \(name) in \(directory), which started: \(previous.joined(separator: " "))")
        }
        try spec.install(into: directory, files: Self.logos)
        print("Installed kernelspec \(name) in \(directory)" + (mpi.map { " (\($0) ranks under mpirun)" } ?? ""))
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

/// The start of an MPI kernel's command line: `mpirun -np N`, with what Open
/// MPI needs to run as root or with more processes than cores, and no
/// binding, so `set threads` can spread a rank over several cores.
enum MPILaunch {
    static func argv(ranks: Int) throws -> [String] {
        let folders = (Files.environment("PATH") ?? "/usr/bin").split(separator: ":").map(String.init)
        guard let mpirun = folders.map({ $0 + "/mpirun" }).first(where: { access($0, X_OK) == 0 }) else {
            throw ValidationError("--mpi needs Open MPI's mpirun on PATH (Debian: apt-get install openmpi-bin)")
        }
        return [mpirun, "-np", String(ranks)] + (geteuid() == 0 ? ["--allow-run-as-root"] : [])
            + (ranks > Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) ? ["--oversubscribe"] : []) + ["--bind-to", "none"]
    }
}
