import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// A Jupyter notebook (nbformat 4) held as its JSON, so every field Loom does
/// not know — metadata, attachments, cell ids, Markdown and raw cells — is
/// written back as it was read.
public struct Notebook: Sendable, Equatable {
    public var json: JSONObject

    public init(json: JSONObject) throws(NotebookError) {
        guard json["nbformat"]?.intValue == 4 else {
            throw .invalid("only nbformat 4 notebooks are supported (found \(json["nbformat"].map { $0.text } ?? "none"))")
        }
        guard json["cells"]?.arrayValue != nil else { throw .invalid("the notebook has no 'cells' list") }
        self.json = json
    }

    /// The largest notebook `read` takes: parsing holds several times a
    /// file's size, and Jupyter's server takes no larger upload.
    public static let maximumBytes = 512 << 20

    /// Reads a regular file only, checked before it is opened (a FIFO would
    /// block, a device like /dev/zero never ends), of `maximumBytes` at most.
    public static func read(_ path: String) throws(NotebookError) -> Notebook {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) > maximumBytes {
            throw .unreadable("\(path): \(Int(info.st_size) >> 20) MiB, larger than the \(maximumBytes >> 20) MiB a notebook may be")
        }
        let bytes: [UInt8]
        do { bytes = try Files.read(path, atMost: maximumBytes) } catch { throw .unreadable(error.description) }
        let value: JSON
        do { value = try JSON.parse(bytes) } catch { throw .invalid("\(path): \(error)") }
        guard case .object(let object) = value else { throw .invalid("\(path): not a JSON object") }
        return try Notebook(json: object)
    }

    /// Writes as nbformat does (sorted keys, one-space indent, multi-line
    /// text as lists of lines), through a temporary file and a rename, so a
    /// failed or killed run never leaves half a notebook.
    public func write(to path: String) throws(NotebookError) {
        let text = JSON.object(Notebook.splittingLines(json)).prettyText(indent: 1, sortKeys: true) + "\n"
        do { try Files.writeAtomically(Array(text.utf8), to: path) } catch { throw .unwritable(error.description) }
    }

    public var cells: [JSONObject] {
        get { json["cells"]?.arrayValue?.compactMap(\.objectValue) ?? [] }
        set { json["cells"] = .array(newValue.map(JSON.object)) }
    }

    public var metadata: JSONObject {
        get { json["metadata"]?.objectValue ?? [:] }
        set { json["metadata"] = .object(newValue) }
    }

    /// A cell's source as one string (nbformat allows a list of lines).
    public static func text(_ value: JSON?) -> String {
        switch value {
        case .string(let s)?: return s
        case .array(let lines)?: return lines.compactMap(\.stringValue).joined()
        default: return ""
        }
    }

    /// A cell's tags.
    public static func tags(_ cell: JSONObject) -> [String] {
        cell["metadata"]?["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// `s` as nbformat stores multi-line text: a list of lines, each but the
    /// last keeping its newline.
    static func lines(_ s: String) -> JSON {
        var out: [JSON] = []
        var current = ""
        for c in s {
            current.append(c)
            if c == "\n" { out.append(.string(current)); current = "" }
        }
        if !current.isEmpty { out.append(.string(current)) }
        return .array(out)
    }

    /// nbformat's `split_lines`: sources, stream text and textual MIME data.
    static func splittingLines(_ notebook: JSONObject) -> JSONObject {
        var nb = notebook
        nb["cells"] = nb["cells"]?.arrayValue.map { cells in
            .array(cells.map { cell -> JSON in
                guard var c = cell.objectValue else { return cell }
                if case .string(let s)? = c["source"] { c["source"] = lines(s) }
                if let outputs = c["outputs"]?.arrayValue {
                    c["outputs"] = .array(outputs.map { output -> JSON in
                        guard var o = output.objectValue else { return output }
                        if case .string(let s)? = o["text"] { o["text"] = lines(s) }
                        if var data = o["data"]?.objectValue {
                            for key in data.keys where !isJSONMime(key) {
                                if case .string(let s)? = data[key] { data[key] = lines(s) }
                            }
                            o["data"] = .object(data)
                        }
                        return .object(o)
                    })
                }
                return .object(c)
            })
        }
        return nb
    }

    static func isJSONMime(_ mime: String) -> Bool { mime == "application/json" || mime.hasSuffix("+json") }
}

public enum NotebookError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case invalid(String)
    case unwritable(String)

    public var description: String {
        switch self {
        case .unreadable(let s): return "cannot read the notebook: \(s)"
        case .invalid(let s): return "not a notebook Loom can run: \(s)"
        case .unwritable(let s): return "cannot write the notebook: \(s)"
        }
    }
}
