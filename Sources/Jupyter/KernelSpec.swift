import LoomCore

/// The kernelspec Jupyter reads to start the kernel: `kernel.json` and logos
/// in `<data dir>/kernels/<name>/`.
public struct KernelSpec: Sendable {
    public var argv: [String]
    public var displayName: String
    public var language: String
    public var interruptMode: String
    public var environment: [(String, String)]

    public init(argv: [String], displayName: String, language: String, interruptMode: String = "signal",
                environment: [(String, String)] = []) {
        self.argv = argv
        self.displayName = displayName
        self.language = language
        self.interruptMode = interruptMode
        self.environment = environment
    }

    public var json: JSON {
        var object: JSONObject = [
            "argv": .array(argv.map(JSON.string)),
            "display_name": .string(displayName),
            "language": .string(language),
            "interrupt_mode": .string(interruptMode),
        ]
        if !environment.isEmpty {
            object["env"] = .object(JSONObject(environment.map { ($0.0, JSON.string($0.1)) }))
        }
        object["metadata"] = ["debugger": false]
        return .object(object)
    }

    /// Writes `kernel.json` and the `files` (name → bytes, e.g. logos) into
    /// `directory`, creating it; returns the directory.
    @discardableResult
    public func install(into directory: String, files: [(String, [UInt8])]) throws(FileError) -> String {
        try Files.makeDirectories(directory)
        try Files.writeAtomically(Array(json.prettyText(indent: 2, sortKeys: false).utf8) + [0x0A],
                                  to: directory + "/kernel.json")
        for (name, bytes) in files {
            try Files.writeAtomically(bytes, to: directory + "/" + name)
        }
        return directory
    }

    /// The command line of the kernelspec in `directory`, if one is there.
    public static func installedArgv(in directory: String) -> [String]? {
        guard let text = try? Files.readText(directory + "/kernel.json"), let json = try? JSON.parse(text) else { return nil }
        return json["argv"]?.arrayValue?.compactMap(\.stringValue)
    }

    /// Where `jupyter kernelspec install` would put a kernel named `name`:
    /// `--user` → the user data dir, `--prefix P` → `P/share/jupyter/kernels`.
    public static func directory(name: String, user: Bool, prefix: String?) -> String {
        if let prefix { return prefix + "/share/jupyter/kernels/" + name }
        if user {
            if let dataDir = Files.environment("JUPYTER_DATA_DIR"), !dataDir.isEmpty {
                return dataDir + "/kernels/" + name
            }
            let base = Files.environment("XDG_DATA_HOME").flatMap { $0.isEmpty ? nil : $0 }
                ?? (Files.environment("HOME") ?? ".") + "/.local/share"
            return base + "/jupyter/kernels/" + name
        }
        return "/usr/local/share/jupyter/kernels/" + name
    }
}
