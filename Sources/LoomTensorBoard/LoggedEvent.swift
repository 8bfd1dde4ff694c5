import LoomCore
import SwiftProtobuf

/// An event read back from an event file: what `EventFile` writes, for
/// checking a log (TensorBoard itself reads the same records).
public struct LoggedEvent: Equatable, Sendable {
    public var wallTime: Double
    public var step: Int
    /// `brain.Event:2` on a file's first event, nil on the others.
    public var fileVersion: String?
    public var scalars: [String: Float] = [:]
    public var histograms: [String: Histogram] = [:]

    /// Every event in an event file's bytes, in order.
    public static func events(in bytes: [UInt8], source: String) throws(FileError) -> [LoggedEvent] {
        let records: [[UInt8]]
        do { records = try TFRecord.records(in: bytes) } catch {
            throw FileError(path: source, reason: "not whole TFRecords (\(error))")
        }
        var events: [LoggedEvent] = []
        for record in records {
            let event: Tensorboard_Event
            do { event = try Tensorboard_Event(serializedBytes: record) } catch {
                throw FileError(path: source, reason: "record \(events.count) is not an event: \(error)")
            }
            var logged = LoggedEvent(wallTime: event.wallTime, step: Int(event.step),
                                     fileVersion: event.what.flatMap { if case .fileVersion(let v) = $0 { v } else { nil } })
            for value in event.summary.value {
                switch value.value {
                case .simpleValue(let x): logged.scalars[value.tag] = x
                case .histo(let h): logged.histograms[value.tag] = Histogram(h)
                default: break
                }
            }
            events.append(logged)
        }
        return events
    }
}
