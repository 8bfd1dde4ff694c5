import LoomCore

/// Shows a `ProgressBar` as a display that updates in place, at most a few
/// times a second, so a fast loop does not flood the front end; or, for
/// front ends that show a display once and drop its updates (`jupyter
/// console`), as lines on standard error at the loop's milestones (an
/// epoch's end), at most one every `lineInterval` seconds.
public final class ProgressDisplay {
    /// `auto` asks the output how it shows displays (`OutputSink.liveDisplays`).
    public enum Mode: String, Sendable, CaseIterable { case auto, display, stream, off }

    let output: OutputSink
    let displayID: String
    let width: Int
    /// The way chosen: `display`, `stream` or `off`, never `auto`.
    public let mode: Mode
    /// The shortest time between two updates in place, in seconds.
    let interval: Double
    /// The shortest time between two lines at milestones, in seconds: a run of
    /// short epochs writes a line every few seconds, not one per epoch.
    let lineInterval: Double
    /// The longest time without a line while the loop runs, in seconds: a long
    /// epoch still shows that it moves.
    let quietLimit: Double
    private var lastShown: Double?
    /// In stream mode: the latest state, when no line has shown it yet.
    private var unshown: ProgressBar?
    public private(set) var updatesSent = 0

    public init(output: OutputSink, displayID: String, width: Int, interval: Double = 0.25, mode: Mode = .display,
                lineInterval: Double = 2, quietLimit: Double = 15) {
        self.output = output
        self.displayID = displayID
        self.width = width
        self.interval = interval
        self.mode = Self.resolve(mode, output.liveDisplays)
        self.lineInterval = lineInterval
        self.quietLimit = quietLimit
    }

    /// The way `mode` takes on an output: nothing where displays are hidden
    /// (`quiet { … }`), lines where updates are dropped.
    static func resolve(_ mode: Mode, _ displays: LiveDisplays) -> Mode {
        switch (mode, displays) {
        case (_, .hidden): return .off
        case (.auto, .updatedInPlace): return .display
        case (.auto, .shownOnce): return .stream
        default: return mode
        }
    }

    /// Shows `bar` if enough time has passed since the last update (by the
    /// bar's own clock), or if `force` (the first state and the milestones).
    public func show(_ bar: ProgressBar, force: Bool = false) {
        switch mode {
        case .off: return
        case .stream: showLine(bar, milestone: force)
        case .auto, .display:
            if !force, let last = lastShown, bar.elapsed - last < interval { return }
            let bundle = MimeBundle([("text/plain", bar.text(width: width)), ("text/html", bar.html())])
            output.display(bundle, displayID: displayID, update: lastShown != nil)
            lastShown = bar.elapsed
            updatesSent += 1
        }
    }

    /// Writes the last state if no line showed it: a loop that stopped early
    /// (an interrupt, early stopping) still ends on where it got to.
    public func finish() {
        guard mode == .stream, let bar = unshown else { return }
        writeLine(bar)
    }

    private func showLine(_ bar: ProgressBar, milestone: Bool) {
        if lastShown == nil && bar.completed == 0 {
            // The start: lines begin at the first milestone.
            lastShown = bar.elapsed
            return
        }
        unshown = bar
        let done = bar.run.map { $0.completed >= $0.total } ?? (bar.completed >= bar.total)
        let since = bar.elapsed - (lastShown ?? 0)
        if (milestone && (done || since >= lineInterval)) || since >= quietLimit { writeLine(bar) }
    }

    private func writeLine(_ bar: ProgressBar) {
        output.stream(.stderr, bar.text(width: width) + "\n")
        lastShown = bar.elapsed
        unshown = nil
        updatesSent += 1
    }
}
