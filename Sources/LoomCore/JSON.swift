/// A JSON value that keeps object keys in the order they were read.
///
/// Loom parses and writes JSON itself rather than through Foundation: integers,
/// doubles and booleans stay distinct (Foundation casts a JSON `1` to `true`),
/// `/` is never escaped, and a notebook read and written again keeps its keys.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    /// A number kept as its text, because neither `int` nor `double` holds
    /// it: an integer past 64 bits (12345678901234567890123, 2^64−1) or a
    /// number past a double's range (1E400). A notebook's metadata is written
    /// back as it came (Python's json keeps such integers exactly too).
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int(d)
        case .number(let text): return Int(text) ?? Double(text).flatMap { JSON.double($0).intValue }
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .number(let text): return Double(text)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
}

/// An ordered JSON object: members in insertion order, looked up by key.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: JSON)] = []
    /// Each key's place in `members`: lookups and updates stay O(1), so a
    /// 160,000-entry header parses in linear time.
    private var positions: [String: Int] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, JSON)...) {
        for (k, v) in elements { self[k] = v }
    }

    public init(_ pairs: [(String, JSON)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }

    /// Setting a key keeps its place; setting nil removes it.
    public subscript(key: String) -> JSON? {
        get { positions[key].map { members[$0].value } }
        set {
            switch (positions[key], newValue) {
            case let (i?, v?): members[i].value = v
            case let (i?, nil):
                members.remove(at: i)
                positions[key] = nil
                for j in i..<members.count { positions[members[j].key] = j }
            case let (nil, v?):
                positions[key] = members.count
                members.append((key, v))
            case (nil, nil): break
            }
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && a.members.allSatisfy { b[$0.key] == $0.value }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements.map { ($0.0, $0.1) }))
    }
}
