import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

/// The session's statements: output, settings, names, waiting.
extension Evaluator {
    /// `print …` and `warn …`: the values, separated by spaces.
    func write(_ stream: OutputStream, _ a: Request<Values>) throws(LoomError) {
        var parts: [String] = []
        for item in a.values { parts.append(try evaluate(item).display) }
        output.stream(stream, parts.isEmpty ? "\n" : parts.joined(separator: " ") + "\n")
    }

    func seed(_ a: Request<Setting<Int>>) throws(LoomError) {
        let n = a.value
        session.random = RandomGenerator(seed: UInt64(bitPattern: Int64(n)))
    }

    func help(_ a: Request<Topic>) throws(LoomError) {
        let topic = a.topic?.text
        show(try Help.bundle(for: topic, width: session.width, range: a.topic?.range))
        if topic == "plots" {
            for bundle in Help.plotExamples(width: session.width, svg: session.drawsSVG) { show(bundle) }
        }
    }

    /// `show NAME`: what a line holding only NAME shows, each as a display.
    /// A name nobody defined may be a misspelt form (`show filtres`).
    func showName(_ a: Request<NameRequest>) throws(LoomError) {
        let expr = a.name.expr, name = a.name.text
        let forms = Statements.forms(of: "show").compactMap(\.subword)
        if session[name] == nil, expr.name?.count == 1, let suggestion = closest(to: name, in: session.names + forms) {
            throw LoomError(.name, "unknown name `\(name)`", at: expr.range, suggestion: suggestion)
        }
        try displays(of: expr).forEach(show)
    }

    func delete(_ a: Request<NameRequest>) throws(LoomError) {
        let name = a.name.text
        guard session.delete(name) else { throw unknownName(name, at: a.name.range) }
    }

    func setPlots(_ a: Request<Setting<PlotStyle>>) throws(LoomError) { session.plotStyle = a.value }

    func setWidth(_ a: Request<Setting<Int>>) throws(LoomError) {
        session.width = a.value
    }

    func setThreads(_ a: Request<Setting<Int>>) throws(LoomError) {
        useThreads(a.value)
    }

    /// Starts `n` threads for the engine and BLAS; when the system starts
    /// fewer, the session keeps those and says so, rather than waiting.
    func useThreads(_ n: Int) {
        let got = Parallel.setThreads(n)
        session.threads = got
        if got < n {
            output.stream(.stderr, "note: only \(got) of \(n) threads could be started (the system's limit on processes "
                          + "or address space, `ulimit -u` or `ulimit -v`); using \(got)\n")
        }
    }

    func setMemory(_ a: Request<Setting<Int>>) throws(LoomError) {
        session.memoryLimit = a.value * 1_048_576
    }

    /// `sleep SECONDS`: short steps, checking the interrupt flag between
    /// them; more than a second shows its progress, updated in place.
    func sleep(_ a: Request<Setting<Double>>) throws(LoomError) {
        let seconds = a.value, range = a.range
        let steps = Int((seconds * 100).rounded())
        var bar = ProgressBar(label: "sleep", total: steps, unit: "step")
        let progress = seconds > 1 ? ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width, mode: session.progress) : nil
        progress?.show(bar, force: true)
        for step in 0..<steps {
            if Interruption.agreed() { throw LoomError(.interrupted, "interrupted by the user", at: range) }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
            bar.completed = step + 1
            bar.elapsed = Double(step + 1) / 100
            progress?.show(bar, force: step + 1 == steps)
        }
        if Interruption.agreed() { throw LoomError(.interrupted, "interrupted by the user", at: range) }
    }

    func listing() -> MimeBundle {
        var table = Table(columns: [.init("name"), .init("kind"), .init("value", wraps: true), .init("memory", .right)])
        for name in session.names {
            guard let item = session[name] else { continue }
            table.append([name, item.kindName, item.describe, NumberFormat.bytes(item.bytes)])
        }
        if session.names.isEmpty { return MimeBundle(text: "Nothing defined yet.") }
        let ranks = Ranks.current.size
        let held = ranks > 1 ? "held on each of \(ranks) ranks (\(session.threads) thread(s) each)" : "held"
        table.footer = ["", "", "\(held), of the \(NumberFormat.bytes(session.memoryLimit)) allowed (`set memory`)",
                        NumberFormat.bytes(session.heldBytes())]
        return table.bundle(width: session.width)
    }
}
