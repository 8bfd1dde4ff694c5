import ArgumentParser
import LoomEngine
import LoomLang
#if canImport(Glibc)
import Glibc
#endif

@main
struct Loom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loom",
        abstract: "A Jupyter kernel for parameter sharing and sparse learning.",
        version: "loom \(LoomVersion.text)",
        subcommands: [KernelCommand.self, InstallCommand.self, EvalCommand.self, RunCommand.self, ReferenceCommand.self])

    static func main() {
        BLASSetup.ensureFastKernel()
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

enum LoomVersion {
    static var text: String {
        "\(LoomLangVersion.value) (BLAS core \(BLAS.coreName), \(BLAS.threads) thread(s))"
    }
}
