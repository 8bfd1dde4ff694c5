/// One output in several representations, keyed by MIME type, as Jupyter
/// displays it: `text/plain` always, `text/html` and `image/svg+xml` where a
/// richer view exists.
public struct MimeBundle: Sendable, Equatable {
    public var data: JSONObject
    public var metadata: JSONObject

    public init(data: JSONObject = [:], metadata: JSONObject = [:]) {
        self.data = data
        self.metadata = metadata
    }

    /// A bundle with a plain-text view only.
    public init(text: String) {
        self.init(data: ["text/plain": .string(text)])
    }

    /// A bundle from text representations, in the order given.
    public init(_ representations: [(mime: String, content: String)]) {
        var data = JSONObject()
        for r in representations { data[r.mime] = .string(r.content) }
        self.init(data: data)
    }

    public var plainText: String? { data["text/plain"]?.stringValue }

    public subscript(mime: String) -> String? {
        get { data[mime]?.stringValue }
        set { data[mime] = newValue.map(JSON.string) }
    }
}
