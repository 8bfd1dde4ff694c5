import ArgumentParser
import LoomCore
import LoomLang
import LoomRender

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Prints the statement reference in Markdown, or writes it into a document's marked section.")

    @Option(help: "Replace the generated section of this Markdown file in place.")
    var update: String?

    @Option(help: "Write the rendering gallery (rendering.md and gallery/*.svg) into this folder.")
    var gallery: String?

    func run() throws {
        if let folder = gallery {
            try Files.makeDirectories(folder + "/gallery")
            for example in Gallery.examples() {
                if let svg = example.svg {
                    try Files.writeAtomically(Array((svg + "\n").utf8), to: "\(folder)/gallery/\(example.name).svg")
                }
            }
            try Files.writeAtomically(Array(Gallery.markdown(svgFolder: "gallery").utf8), to: folder + "/rendering.md")
            print("Wrote \(folder)/rendering.md and its figures")
            if update == nil { return }
        }
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
