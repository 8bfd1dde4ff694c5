import LoomCore

/// Shows a `ProgressBar` as a display that updates in place, at most a few
/// times a second, so a fast loop does not flood the front end.
public final class ProgressDisplay {
    let output: OutputSink
    let displayID: String
    let width: Int
    /// The shortest time between two updates, in seconds.
    let interval: Double
    private var lastShown: Double?
    public private(set) var updatesSent = 0

    public init(output: OutputSink, displayID: String, width: Int, interval: Double = 0.25) {
        self.output = output
        self.displayID = displayID
        self.width = width
        self.interval = interval
    }

    /// Shows `bar` if enough time has passed since the last update (by the
    /// bar's own clock), or if `force` (the first and last states).
    public func show(_ bar: ProgressBar, force: Bool = false) {
        if !force, let last = lastShown, bar.elapsed - last < interval { return }
        let bundle = MimeBundle([("text/plain", bar.text(width: width)), ("text/html", bar.html())])
        output.display(bundle, displayID: displayID, update: lastShown != nil)
        lastShown = bar.elapsed
        updatesSent += 1
    }
}
