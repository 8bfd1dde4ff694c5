import LoomCore

/// What one iteration of a `parallel` loop gave: its outputs (displays at
/// their last state), the rows it recorded, and its error. Packed into bytes
/// so every rank can replay every iteration in order.
public struct IterationResult {
    public enum Event: Equatable {
        case stream(OutputStream, String)
        case display(MimeBundle)
        case clear
    }

    public var index: Int
    public var events: [Event] = []
    public var rows: [HeldRow] = []
    public var failure: LoomError?

    public func write(to packet: inout Packet) {
        packet.write(index)
        packet.write(events.count)
        for event in events {
            switch event {
            case .stream(let stream, let text):
                packet.write(0)
                packet.write(stream.rawValue)
                packet.write(text)
            case .display(let bundle):
                packet.write(1)
                packet.write(JSON.object(["data": .object(bundle.data), "metadata": .object(bundle.metadata)]).text)
            case .clear:
                packet.write(2)
            }
        }
        packet.write(rows.count)
        for row in rows {
            packet.write(row.table)
            packet.write(row.values.count)
            for (column, value) in row.values {
                packet.write(column)
                switch value {
                case .percent(let f): packet.write(1); packet.write(f)
                case .string(let s): packet.write(2); packet.write(s)
                case .number(let x): packet.write(0); packet.write(x)
                default: packet.write(2); packet.write(value.display)  // `record` keeps no other kind here
                }
            }
        }
        packet.write(failure == nil ? 0 : 1)
        if let failure {
            packet.write(failure.kind.rawValue)
            packet.write(failure.message)
            packet.write(failure.suggestion ?? "")
            let range = failure.range
            packet.write(range == nil ? 0 : 1)
            for n in [range?.line, range?.column, range?.start, range?.end] { packet.write(n ?? 0) }
        }
    }

    public init(index: Int) { self.index = index }

    public init(from packet: inout Packet) {
        index = packet.readInt()
        events = (0..<packet.readInt()).map { _ in
            switch packet.readInt() {
            case 0: return .stream(OutputStream(rawValue: packet.readString()) ?? .stdout, packet.readString())
            case 1:
                let json = try? JSON.parse(packet.readString())
                return .display(MimeBundle(data: json?["data"]?.objectValue ?? [:], metadata: json?["metadata"]?.objectValue ?? [:]))
            default: return .clear
            }
        }
        rows = (0..<packet.readInt()).map { _ in
            let table = packet.readString()
            let values = (0..<packet.readInt()).map { _ -> (column: String, value: Value) in
                let column = packet.readString()
                switch packet.readInt() {
                case 1: return (column, .percent(packet.readDouble()))
                case 2: return (column, .string(packet.readString()))
                default: return (column, .number(packet.readDouble()))
                }
            }
            return HeldRow(table: table, values: values)
        }
        if packet.readInt() == 1 {
            let kind = LoomError.Kind(rawValue: packet.readString()) ?? .value
            let message = packet.readString(), suggestion = packet.readString()
            let hasRange = packet.readInt() == 1
            let numbers = (0..<4).map { _ in packet.readInt() }
            failure = LoomError(kind, message, at: hasRange ? SourceRange(line: numbers[0], column: numbers[1], start: numbers[2], end: numbers[3]) : nil,
                                suggestion: suggestion.isEmpty ? nil : suggestion)
        }
    }
}

/// A `record` row a parallel loop holds back until every iteration is done.
public struct HeldRow {
    public var table: String
    public var values: [(column: String, value: Value)]

    public init(table: String, values: [(column: String, value: Value)]) {
        self.table = table
        self.values = values
    }
}

/// An iteration's output, kept to be shown later: a display updated in
/// place is kept at its last state.
final class IterationOutput: OutputSink {
    private(set) var events: [IterationResult.Event] = []
    private var displayed: [String: Int] = [:]

    func stream(_ stream: OutputStream, _ text: String) { events.append(.stream(stream, text)) }
    func display(_ bundle: MimeBundle, displayID: String?, update: Bool) {
        if let displayID, let at = displayed[displayID] {
            events[at] = .display(bundle)
        } else if !update {
            if let displayID { displayed[displayID] = events.count }
            events.append(.display(bundle))
        }
    }
    func clearOutput(wait: Bool) { events.append(.clear) }
}
