import LoomCore
import LoomEngine

extension LoomError {
    /// The error with the iteration it happened in.
    func inIteration(_ name: String, _ text: String) -> LoomError {
        var error = self
        error.message += " (in the iteration `\(name) = \(text)`)"
        return error
    }
}

extension Evaluator {
    /// `for NAME in V1 V2 … parallel { … }`: a sweep whose iterations do not
    /// depend on each other. Under several ranks they are dealt in turn (rank
    /// r runs iterations r, r + N, …), each on its rank alone; then every rank
    /// gets every iteration's outputs and `record` rows and shows or appends
    /// them in iteration order, as the serial loop does. In one process the
    /// iterations run one after another with the same outputs. So that the
    /// ranks agree, each iteration starts from the names as they were before
    /// the loop and a random generator of its own (from one draw of the
    /// session's and its number), names the body defines are gone after the
    /// loop, and rows reach their tables when the loop ends. The body must not
    /// change models or tables from before the loop (under ranks each rank
    /// would change its own).
    func parallelLoop(_ name: String, over items: [(item: SessionItem, text: String)], _ body: [Statement],
                      at range: SourceRange) throws(LoomError) {
        let ranks = Ranks.current
        let saved = session.savedNames
        let seed = session.random.next()
        let generatorAfter = session.random
        var mine = Packet()
        for n in stride(from: ranks.rank, to: items.count, by: ranks.size) {
            var result = IterationResult(index: n)
            if interruptFlag.load(ordering: .relaxed) {
                result.failure = LoomError(.interrupted, "the loop was stopped by the user before `\(name) = \(items[n].text)`", at: range)
            } else {
                Ranks.alone {
                    session.restoreNames(saved)
                    session.random = RandomGenerator(seed: seed &+ UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
                    session.heldRows = []
                    session.define(name, items[n].item)
                    let output = IterationOutput()
                    do throws(LoomError) { try Evaluator(session: session, output: output).runBody(body) } catch {
                        result.failure = error.inIteration(name, items[n].text)
                    }
                    result.events = output.events
                    result.rows = session.heldRows ?? []
                }
            }
            session.heldRows = nil
            result.write(to: &mine)
            if result.failure != nil { break }  // later iterations would not be shown
        }
        session.restoreNames(saved)
        session.random = generatorAfter
        var results: [IterationResult] = []
        for part in gatherEveryRank(mine.bytes, ranks) {
            var packet = Packet(part)
            while !packet.atEnd { results.append(IterationResult(from: &packet)) }
        }
        results.sort { $0.index < $1.index }
        for (expected, result) in results.enumerated() {
            // A rank stops at its first failure: an earlier failure elsewhere ends the loop first.
            guard result.index == expected else { break }
            for event in result.events {
                switch event {
                case .stream(let stream, let text): output.stream(stream, text)
                case .display(let bundle): output.display(bundle, displayID: nil, update: false)
                case .clear: output.clearOutput(wait: false)
                }
            }
            for row in result.rows { try appendHeld(row, at: range) }
            if let failure = result.failure { throw failure }
        }
    }

    /// Every rank's bytes, in rank order, on every rank (two meetings: the
    /// sizes, then the bytes).
    func gatherEveryRank(_ bytes: [UInt8], _ ranks: any Collective) -> [[UInt8]] {
        guard ranks.size > 1 else { return [bytes] }
        var sizes = [Int](repeating: 0, count: ranks.size)
        var count = bytes.count
        withUnsafeBytes(of: &count) { mine in
            sizes.withUnsafeMutableBytes { ranks.allgather(mine, into: $0, counts: [Int](repeating: 8, count: ranks.size)) }
        }
        var all = [UInt8](repeating: 0, count: sizes.reduce(0, +))
        bytes.withUnsafeBytes { mine in all.withUnsafeMutableBytes { ranks.allgather(mine, into: $0, counts: sizes) } }
        var offset = 0
        return sizes.map { size in
            defer { offset += size }
            return Array(all[offset..<(offset + size)])
        }
    }
}
