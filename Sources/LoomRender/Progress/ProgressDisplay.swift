import LoomCore

/// Shows a `ProgressBar` as a display that updates in place, at most a few
/// times a second, so a fast loop does not flood the front end; or, for
/// terminals that ignore display updates (`jupyter console`), as a line on
/// standard error at each milestone (an epoch's end), as tqdm does there.
public final class ProgressDisplay {
    public enum Mode: String, Sendable, CaseIterable { case display, stream, off }

    let output: OutputSink
    let displayID: String
    let width: Int
    let mode: Mode
    /// The shortest time between two updates, in seconds.
    let interval: Double
    private var lastShown: Double?
    public private(set) var updatesSent = 0

    public init(output: OutputSink, displayID: String, width: Int, interval: Double = 0.25, mode: Mode = .display) {
        self.output = output
        self.displayID = displayID
        self.width = width
        self.interval = interval
        self.mode = mode
    }

    /// Shows `bar` if enough time has passed since the last update (by the
    /// bar's own clock), or if `force` (the first and last states).
    public func show(_ bar: ProgressBar, force: Bool = false) {
        switch mode {
        case .off: return
        case .stream:
            // The milestones only, each a line of its own.
            guard force, lastShown != nil || bar.completed > 0 else { lastShown = bar.elapsed; return }
            output.stream(.stderr, bar.text(width: width) + "\n")
            lastShown = bar.elapsed
            updatesSent += 1
            return
        case .display: break
        }
        if !force, let last = lastShown, bar.elapsed - last < interval { return }
        let bundle = MimeBundle([("text/plain", bar.text(width: width)), ("text/html", bar.html())])
        output.display(bundle, displayID: displayID, update: lastShown != nil)
        lastShown = bar.elapsed
        updatesSent += 1
    }
}
