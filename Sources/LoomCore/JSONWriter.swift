extension JSON {
    /// Compact UTF-8 text, keys in the object's order.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: nil, level: 0, sortKeys: false)
        return out
    }

    public var text: String { String(decoding: serialized(), as: UTF8.self) }

    /// Text as nbformat writes notebooks: keys sorted, `indent` spaces a level,
    /// non-ASCII characters kept as they are.
    public func prettyText(indent: Int = 1, sortKeys: Bool = true) -> String {
        var out: [UInt8] = []
        write(to: &out, indent: indent, level: 0, sortKeys: sortKeys)
        return String(decoding: out, as: UTF8.self)
    }

    func write(to out: inout [UInt8], indent: Int?, level: Int, sortKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: JSON.format(d).utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: [0x5B, 0x5D]); return }
            out.append(0x5B)
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(0x2C) }
                JSON.newline(&out, indent: indent, level: level + 1)
                item.write(to: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            JSON.newline(&out, indent: indent, level: level)
            out.append(0x5D)
        case .object(let object):
            if object.isEmpty { out.append(contentsOf: [0x7B, 0x7D]); return }
            out.append(0x7B)
            let members = sortKeys ? object.members.sorted { $0.key < $1.key } : object.members
            for (n, member) in members.enumerated() {
                if n > 0 { out.append(0x2C) }
                JSON.newline(&out, indent: indent, level: level + 1)
                JSON.writeString(member.key, to: &out)
                out.append(0x3A)
                if indent != nil { out.append(0x20) }
                member.value.write(to: &out, indent: indent, level: level + 1, sortKeys: sortKeys)
            }
            JSON.newline(&out, indent: indent, level: level)
            out.append(0x7D)
        }
    }

    static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    /// Doubles as the shortest text that reads back the same; JSON has no
    /// NaN or infinity, so those become null.
    static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) + ".0" }
        return String(d)
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            // Copy runs that need no escape in one go; escape the rest.
            var runStart = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0x08: out.append(contentsOf: [0x5C, 0x62])
                case 0x0C: out.append(contentsOf: [0x5C, 0x66])
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(0x22)
    }
}
