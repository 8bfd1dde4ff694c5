import ArgumentParser
import LoomCore
import LoomLang

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Prints the statement reference in Markdown, or writes it into a document's marked section.")

    @Option(help: "Replace the generated section of this Markdown file in place.")
    var update: String?

    func run() throws {
        guard let path = update else {
            print(Reference.markdown())
            return
        }
        let document = try Files.readText(path)
        guard let updated = Reference.splice(into: document) else {
            throw ValidationError("\(path) has no \(Reference.beginMarker) … \(Reference.endMarker) section")
        }
        try Files.writeAtomically(Array(updated.utf8), to: path)
        print("Updated the reference in \(path)")
    }
}
